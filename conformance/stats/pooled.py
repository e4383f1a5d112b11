"""Tests pooled over strata: the settings of the space, each with its own rate.

The checks combine decisions from many settings (shapes, dtypes, layouts, p).  Every family
here standardises each stratum by its own null law, so its size is known whatever the mix, and
each has its ``_mde`` / ``_sample_size`` siblings:

* ``excess_rate``: is a group's drop rate the *claimed* p?  (a rate test: R3's own);
* ``conditional_excess``: do marked decisions (one position, one class of input values) drop
  more or less often than the rest of *their own stratum*?  Conditional on each stratum's
  count, so a wrong rate -- which shifts every decision of a stratum alike -- cannot fail it:
  one fault, one failing check.  ``positions_test`` is its max-|z| and omnibus over many
  positions;
* ``lags``: standardised products of decisions ``k`` apart (along channels, the batch, the
  flattened order or the calls), every decision centred on its *own position's* mean over the
  stratum's calls and scaled by the stratum's observed variance, so that neither a wrong rate
  nor a rate that differs between positions (a uniformity fault) reads as dependence;
* ``flattened_lag``: the lags of each call's flattened order, every stratum on its own (a lag
  means something different in each), max over strata and lags;
* ``identical_repeats``: repeats of whole vectors or masks, against Markov's bound.

Normal approximations are used only where a statistic sums many independent terms (callers
enforce minimum sizes; the docstrings say which).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from conformance.stats import _validate as validate
from conformance.stats._scipy import special
from conformance.stats._search import ceil_count
from conformance.stats.goodness import chi2_noncentrality
from conformance.stats.normal import z_power, z_two_sided
from conformance.stats.result import StatResult, optional


def _two_sided_p(z: float) -> float:
    return float(min(1.0, special.erfc(abs(z) / math.sqrt(2.0))))


def bonferroni_p(z: float, tests: int) -> float:
    """Two-sided p-value of ``z``, Bonferroni-corrected over ``tests`` z-tests (valid under any
    dependence between them): ``min(1, tests * 2 * sf(|z|))``."""
    return float(min(1.0, tests * _two_sided_p(z)))


def bonferroni_z(alpha: float, tests: int) -> float:
    """The |z| at which :func:`bonferroni_p` reaches ``alpha``."""
    return z_two_sided(alpha / tests)


def significant(z: np.ndarray, alpha: float, most: int = 5) -> list[int]:
    """Indices of the largest |z| (at most ``most``) that reject on their own, Bonferroni over
    all of ``z``: what a failure message lists."""
    return [int(i) for i in np.argsort(-np.abs(z))[:most] if bonferroni_p(z[i], z.size) <= alpha]


def omnibus_chi2(
    z: np.ndarray, *, alpha: float, beta: float, weight: float, test: str, context: dict
) -> StatResult:
    """``sum z_i^2 ~ chi2(K)`` over K independent standard normal z's: the omnibus beside a
    max-|z|, powerful against deviations spread thinly over many of them.

    ``weight`` is the total behind the z's (pairs, or decisions at pq = 1/4) when each
    ``z_i = sqrt(w_i) * effect``: the MDE ``sqrt(lambda / weight)`` is the effect, the same in
    every term, that the test detects with power ``1 - beta``.
    """
    total = float((z * z).sum())
    lam = chi2_noncentrality(z.size, alpha, beta)
    return StatResult(
        test=test,
        statistic=total,
        p_value=float(special.chdtrc(z.size, total)),
        alpha=alpha,
        n=int(weight),
        mde=math.sqrt(lam / weight),
        estimate=total / z.size,
        context=context,
    )


# ----------------------------------------------------------------------------- excess rate


def excess_rate_test(
    k: np.ndarray, n: np.ndarray, p: np.ndarray, *, alpha: float, beta: float, label: str
) -> StatResult:
    """Is the drop rate of a group of strata p, each stratum at its own p?  Two-sided z-test.

    ``z = sum(k - n p) / sqrt(sum n p (1 - p))``: exact mean and variance under H0, and normal
    when the group holds many decisions (callers use groups of >= 10^4).  Guarantee:
    false-alarm rate ~ ``alpha``; power >= ``1 - beta`` when every stratum's rate is off by
    ``mde`` in the same direction (``excess_rate_mde``); ``relative_mde`` in the context is
    the same for a shift proportional to each stratum's ``min(p, 1 - p)``
    (``excess_rate_relative_mde``).  ``estimate`` is the excess drop rate ``sum(k - n p) /
    sum n`` with its interval at ``1 - alpha``.
    """
    alpha, beta = validate.rates(alpha, beta)
    k, n, p = (np.asarray(a, dtype=np.float64) for a in (k, n, p))
    total, var = float(n.sum()), float((n * p * (1 - p)).sum())
    if total <= 0 or var <= 0:
        raise ValueError(f"group {label!r} has no decisions of non-degenerate rate (n={total})")
    excess = float((k - n * p).sum())
    z = excess / math.sqrt(var)
    sd = math.sqrt(var) / total
    za = z_two_sided(alpha)
    return StatResult(
        test="excess-rate-z",
        statistic=z,
        p_value=_two_sided_p(z),
        alpha=alpha,
        n=int(total),
        mde=excess_rate_mde(n, p, alpha=alpha, beta=beta),
        estimate=excess / total,
        ci=(excess / total - za * sd, excess / total + za * sd),
        context={"setting": label, "settings": int(k.size), "p": None,
                 "relative_mde": excess_rate_relative_mde(n, p, alpha=alpha, beta=beta)},
    )


def excess_rate_mde(n: np.ndarray, p: np.ndarray, *, alpha: float, beta: float) -> float:
    """The common absolute rate shift that ``excess_rate_test`` detects with power
    ``1 - beta`` over strata of ``n[i]`` decisions at rates ``p[i]``:
    ``(z_{alpha/2} + z_beta) sqrt(sum n p q) / sum n``."""
    n, p = np.asarray(n, dtype=np.float64), np.asarray(p, dtype=np.float64)
    var = float((n * p * (1 - p)).sum())
    return (z_two_sided(alpha) + z_power(beta)) * math.sqrt(var) / float(n.sum())


def excess_rate_relative_mde(
    n: np.ndarray, p: np.ndarray, *, alpha: float, beta: float
) -> float:
    """The shift, relative to each stratum's ``min(p, 1 - p)``, that ``excess_rate_test``
    detects with power ``1 - beta`` (all strata on one side of 1/2: the guarantee near 0 or 1):
    ``(z_{alpha/2} + z_beta) sqrt(sum n p q) / sum n min(p, q)``."""
    n, p = np.asarray(n, dtype=np.float64), np.asarray(p, dtype=np.float64)
    var = float((n * p * (1 - p)).sum())
    edge = float((n * np.minimum(p, 1 - p)).sum())
    return (z_two_sided(alpha) + z_power(beta)) * math.sqrt(var) / edge if edge else math.inf


def excess_rate_sample_size(mde: float, p: float, *, alpha: float, beta: float) -> int:
    """Decisions at rate ``p`` for which ``excess_rate_test`` detects an absolute shift
    ``mde`` with power ``1 - beta``; inverse of ``excess_rate_mde`` for one rate."""
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)
    p = validate.open_probability("p", p)
    z = z_two_sided(alpha) + z_power(beta)
    return math.ceil((z / mde) ** 2 * p * (1 - p))


# ----------------------------------------------------------------------------- conditional


def _hypergeometric(m: np.ndarray, big_k: np.ndarray, big_m: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and variance of the drops among ``m`` marked of ``M`` decisions holding ``K`` drops
    (each stratum's count given), and the marked decisions' weight ``m (M - m) / M``."""
    m, big_k, big_m = (np.asarray(a, dtype=np.float64) for a in (m, big_k, big_m))
    rate = np.divide(big_k, big_m, out=np.zeros_like(big_k), where=big_m > 0)
    rest = np.maximum(big_m - m, 0.0)
    mean = m * rate
    var = np.divide(m * rate * (1 - rate) * rest, big_m - 1, out=np.zeros_like(mean),
                    where=big_m > 1)
    weight = np.divide(m * rest, big_m, out=np.zeros_like(mean), where=big_m > 0)
    return mean, var, weight


@dataclass(frozen=True)
class ConditionalZ:
    """Pooled conditional z-scores: ``z = sum(k - E) / sqrt(sum Var)`` per entry, with each
    entry's pooled null variance and the weight ``sum m (M - m) / M`` behind its rate shift."""

    z: np.ndarray
    var: np.ndarray
    weight: np.ndarray
    excess: np.ndarray


def conditional_z(k: np.ndarray, m: np.ndarray, big_k: np.ndarray, big_m: np.ndarray
                  ) -> ConditionalZ:
    """Entries x strata: ``k[j, s]`` drops among ``m[j, s]`` marked decisions of stratum ``s``,
    which holds ``big_k[s]`` drops among ``big_m[s]`` decisions in all.  Given each stratum's
    count, ``k`` is hypergeometric under H0 (all decisions of a stratum exchangeable), with
    mean ``m K / M`` and variance ``m (K/M) (1 - K/M) (M - m) / (M - 1)``."""
    k = np.atleast_2d(np.asarray(k, dtype=np.float64))
    mean, var, weight = _hypergeometric(np.atleast_2d(m), np.asarray(big_k)[None, :],
                                        np.asarray(big_m)[None, :])
    excess = (k - mean).sum(axis=1)
    v = var.sum(axis=1)
    z = np.divide(excess, np.sqrt(v), out=np.zeros_like(excess), where=v > 0)
    return ConditionalZ(z, v, weight.sum(axis=1), excess)


def conditional_excess_test(
    k: np.ndarray, m: np.ndarray, big_k: np.ndarray, big_m: np.ndarray, *, alpha: float,
    beta: float, label: str,
) -> StatResult:
    """Do marked decisions drop at their strata's own rate?  Two-sided conditional z-test
    (Mantel-Haenszel's, pooled over strata).

    ``k[s]`` drops among ``m[s]`` marked decisions (e.g. maps of negative input) of stratum
    ``s`` (a setting), which holds ``big_k[s]`` drops in ``big_m[s]`` decisions.  Conditional on
    ``big_k``, each ``k[s]`` is hypergeometric under H0, so a rate that is wrong for a whole
    stratum cannot reject; the pooled z is normal when the summed variance is large (callers
    pool >= 10^4 marked decisions).  Guarantee: false-alarm rate ~ ``alpha``; power >=
    ``1 - beta`` against marked decisions whose rate is off their stratum's by ``mde`` (the
    others at the stratum's rate; ``conditional_excess_mde``).  ``estimate`` is that shift,
    ``sum(k - E) / sum m (M - m) / M``.
    """
    alpha, beta = validate.rates(alpha, beta)
    c = conditional_z(np.asarray(k)[None, :], np.asarray(m)[None, :], big_k, big_m)
    if c.var[0] <= 0:
        raise ValueError(f"{label!r}: no marked decisions in a stratum of non-degenerate rate")
    z, shift = float(c.z[0]), float(c.excess[0] / c.weight[0])
    half = z_two_sided(alpha) * math.sqrt(c.var[0]) / c.weight[0]
    return StatResult(
        test="conditional-excess-z",
        statistic=z,
        p_value=_two_sided_p(z),
        alpha=alpha,
        n=int(np.sum(m)),
        mde=conditional_excess_mde(float(c.var[0]), float(c.weight[0]), alpha=alpha,
                                   beta=beta),
        estimate=shift,
        ci=(shift - half, shift + half),
        context={"setting": label, "settings": int(np.size(big_m)), "p": None},
    )


def conditional_excess_mde(var: float, weight: float, *, alpha: float, beta: float,
                           tests: int = 1) -> float:
    """The rate shift of marked decisions that a conditional z-test (Bonferroni over ``tests``
    entries) detects with power ``1 - beta``: ``(z + z_beta) sqrt(var) / weight`` for the
    pooled null variance ``var`` and weight ``sum m (M - m) / M`` (see ``conditional_z``)."""
    if weight <= 0 or var <= 0:
        return math.inf
    return (bonferroni_z(alpha, tests) + z_power(beta)) * math.sqrt(var) / weight


def conditional_excess_sample_size(mde: float, p: float, fraction: float, *, alpha: float,
                                   beta: float, tests: int = 1) -> int:
    """Decisions (marked and unmarked) at rate ``p``, a ``fraction`` of them marked, for which
    the conditional z-test detects a shift ``mde`` of the marked ones' rate with power
    ``1 - beta``; inverse of ``conditional_excess_mde`` for one large stratum (``var ~ M f (1 -
    f) p q``, ``weight ~ M f (1 - f)``)."""
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)
    p = validate.open_probability("p", p)
    fraction = validate.open_probability("fraction", fraction)
    z = bonferroni_z(alpha, tests) + z_power(beta)
    return math.ceil((z / mde) ** 2 * p * (1 - p) / (fraction * (1 - fraction)))


@dataclass(frozen=True)
class PositionRates:
    """What the report draws of a per-position test: each position's drop rate, shown around
    the pooled rate ``p`` (its excess over its settings' own rates, added to ``p``: the settings'
    p differ), and the decisions behind each."""

    rates: tuple[float, ...]
    p: float
    trials: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class PositionsResult(StatResult):
    """``positions_test``'s max-|z|: which positions (``what``, e.g. "channel from the end"),
    how many, the Bonferroni level of each (its band in the report's plot), and, when the check
    gave them, their rates (:class:`PositionRates`)."""

    what: str
    positions: int
    alpha_per_position: float
    rates: tuple[float, ...] | None = optional()
    trials: tuple[int, ...] | None = optional()


def positions_test(
    c: ConditionalZ, *, alpha: float, beta: float, what: str,
    picture: PositionRates | None = None,
) -> tuple[PositionsResult, StatResult]:
    """Same rate at every position: the max-|z| over positions (Bonferroni; powerful against
    one bad position) and the omnibus ``sum z^2 ~ chi2(J)`` (many small deviations), each at
    ``alpha``, from conditional z's (``conditional_z`` with one row per position).

    Guarantee: each false-alarm rate ~ ``alpha``; the max detects one position whose rate is
    off its strata's by ``mde`` (at the weakest position) with power ``1 - beta``
    (``positions_mde``).  ``estimate`` is the worst position's rate shift.
    """
    ok = c.var > 0
    if not ok.any():
        raise ValueError(f"no position of {what} has decisions at a non-degenerate rate")
    z, var, weight = c.z[ok], c.var[ok], c.weight[ok]
    index = np.flatnonzero(ok)
    positions = int(ok.sum())
    worst = int(np.argmax(np.abs(z)))
    failing = [f"{what} {int(index[i])}: z {z[i]:.3g}" for i in significant(z, alpha)]
    weakest = int(np.argmin(weight))
    maxz = PositionsResult(
        test="max-abs-z-conditional",
        statistic=float(z[worst]),
        p_value=bonferroni_p(float(z[worst]), positions),
        alpha=alpha,
        n=int(4 * var.sum()),
        mde=positions_mde(float(var[weakest]), float(weight[weakest]), positions, alpha=alpha,
                          beta=beta),
        estimate=float(c.excess[ok][worst] / weight[worst]),
        what=what,
        positions=positions,
        alpha_per_position=alpha / positions,
        rates=picture.rates if picture else None,
        trials=picture.trials if picture else None,
        context={"setting": f"{what} {int(index[worst])}", "failing": failing,
                 "p": picture.p if picture else None},
    )
    omnibus = omnibus_chi2(
        z, alpha=alpha, beta=beta, weight=4 * float(var.sum()), test="positions-chi2",
        context={"setting": f"positions 0..{positions - 1} ({what})", "positions": positions,
                 "p": None},
    )
    return maxz, omnibus


def positions_mde(var: float, weight: float, positions: int, *, alpha: float,
                  beta: float) -> float:
    """The rate shift at one position that ``positions_test``'s max detects with power
    ``1 - beta`` (Bonferroni over ``positions``), for that position's pooled null variance and
    weight."""
    return conditional_excess_mde(var, weight, alpha=alpha, beta=beta, tests=positions)


def positions_sample_size(mde: float, positions: int, p: float, *, alpha: float,
                          beta: float) -> int:
    """Decisions *per position* at rate ``p`` for which ``positions_test`` detects one position
    off by ``mde`` among ``positions`` (the other positions carrying the stratum's count)."""
    total = conditional_excess_sample_size(mde, p, 1.0 / positions, alpha=alpha, beta=beta,
                                           tests=positions)
    return math.ceil(total / positions)


# ----------------------------------------------------------------------------- lags

#: complex FFT values held at once by lag sums (16 MB): rows are transformed in chunks
FFT_CHUNK = 1 << 20


def _autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sum over rows of ``x_i x_{i+k}`` along the last axis, for k = 1..max_lag, by FFT."""
    rows = x.reshape(-1, x.shape[-1])
    length = rows.shape[1]
    size = 1 << (2 * length - 1).bit_length()
    step = max(1, FFT_CHUNK // size)
    power = np.zeros(size // 2 + 1)
    for start in range(0, rows.shape[0], step):
        f = np.fft.rfft(rows[start:start + step], size, axis=-1)
        power += (f.real**2 + f.imag**2).sum(axis=0)
    return np.fft.irfft(power, size)[1:max_lag + 1]


@dataclass(frozen=True)
class LagSums:
    """Per lag k = 1..L: the sum of standardised products ``k`` apart, its null mean and null
    variance, and the number of pairs (the weight behind a lag correlation)."""

    sums: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    pairs: np.ndarray

    def __add__(self, other: LagSums) -> LagSums:
        size = max(self.sums.size, other.sums.size)

        def pad(a: np.ndarray) -> np.ndarray:
            return np.pad(a, (0, size - a.size))

        return LagSums(*(pad(getattr(self, f)) + pad(getattr(other, f))
                         for f in ("sums", "mean", "var", "pairs")))

    @staticmethod
    def empty() -> LagSums:
        return LagSums(np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))


def centred_lag_sums(dropped: np.ndarray, axis: int, max_lag: int) -> LagSums:
    """Lag sums of one stratum's decisions ``dropped`` (calls T, N, C) along ``axis`` (0 calls,
    1 batch, 2 channels; ``axis=-1`` with ``dropped`` (T, L): the flattened order).

    Every decision is centred on its own position's mean over the T calls (so a rate that is
    wrong, or differs between positions, adds nothing) and scaled by the stratum's observed
    ``sqrt(p q (T - 1) / T)``.  Under H0 (independent decisions of one rate): products of two
    positions of one call have mean 0 and, summed over the calls, variance ``pairs T / (T -
    1)`` (the position means tie the calls together); products of one position ``k`` calls
    apart have mean ``-1 / (T - 1)`` each and variance ~1 (to O(1/T): callers pool call lags
    only from strata of many calls).  A stratum of one call, or of rate 0 or 1, gives nothing.
    """
    d = np.asarray(dropped, dtype=np.float64)
    calls = d.shape[0]
    rate = float(d.mean()) if d.size else 0.0
    if calls < 2 or not 0.0 < rate < 1.0:
        return LagSums.empty()
    e = (d - d.mean(axis=0, keepdims=True)) / math.sqrt(rate * (1 - rate) * (calls - 1) / calls)
    ax = axis % d.ndim
    length = d.shape[ax]
    lags = min(max_lag, length - 1)
    if lags < 1:
        return LagSums.empty()
    sums = _autocorrelation(np.moveaxis(e, ax, -1), lags)
    pairs = (length - np.arange(1, lags + 1)) * (d.size // length)
    pairs = pairs.astype(np.float64)
    if ax == 0:
        return LagSums(sums, -pairs / (calls - 1), pairs.copy(), pairs)
    return LagSums(sums, np.zeros(lags), pairs * calls / (calls - 1), pairs)


def lag_test(
    lags: LagSums, *, alpha: float, beta: float, label: str, min_pairs: int,
) -> tuple[StatResult, StatResult]:
    """Max over lags and omnibus over lags of pooled, centred lag sums (``centred_lag_sums``).

    ``z_k = (sum_k - mean_k) / sqrt(var_k)`` estimates ``sqrt(pairs_k) * phi_k``.  Only lags
    with at least ``min_pairs`` pairs are tested (normal tails).  The max rejects when any
    ``|z_k|`` exceeds the Bonferroni bound over the L lags; the omnibus ``sum z_k^2 ~ chi2(L)``
    collects dependence spread thinly over many lags; each at ``alpha``.  Guarantee: each
    false-alarm rate ~ ``alpha``; the max detects a correlation ``mde`` at lag 1 with power
    ``1 - beta`` (``lag_mde``; ``weakest_lag_mde`` in the context at the lag with the fewest
    pairs).
    """
    ok = lags.pairs >= min_pairs
    index = np.flatnonzero(ok) + 1
    if index.size == 0:
        raise ValueError(f"no lag has {min_pairs} pairs ({label})")
    z = (lags.sums[ok] - lags.mean[ok]) / np.sqrt(lags.var[ok])
    pairs = lags.pairs[ok]
    worst = int(np.argmax(np.abs(z)))
    count = int(index.size)
    phi = float(z[worst] / math.sqrt(pairs[worst]))
    half = bonferroni_z(alpha, count) / math.sqrt(pairs[worst])
    top = [f"lag {int(index[i])}: phi {z[i] / math.sqrt(pairs[i]):.4g}"
           for i in significant(z, alpha)]
    maxed = StatResult(
        test="max-lag-z",
        statistic=float(z[worst]),
        p_value=bonferroni_p(float(z[worst]), count),
        alpha=alpha,
        n=int(pairs.sum()),
        mde=lag_mde(int(pairs[0]), count, alpha=alpha, beta=beta),
        estimate=phi,
        ci=(phi - half, phi + half),
        context={"setting": f"{label}, worst lag {int(index[worst])}", "lags": count,
                 "weakest_lag_mde": lag_mde(int(pairs.min()), count, alpha=alpha, beta=beta),
                 "worst_lag": int(index[worst]), "failing": top, "p": None},
    )
    omnibus = omnibus_chi2(
        z, alpha=alpha, beta=beta, weight=float(pairs.sum()), test="lag-omnibus-chi2",
        context={"setting": f"{label}, lags 1..{int(index.max())}", "lags": count, "p": None},
    )
    return maxed, omnibus


def lag_mde(pairs: int, lags: int, *, alpha: float, beta: float) -> float:
    """The lag correlation that ``lag_test``'s max (Bonferroni over ``lags``) detects with
    power ``1 - beta`` at a lag of ``pairs`` pairs: ``(z + z_beta) / sqrt(pairs)``.

    For strata of many calls.  Centring each position on its mean over a stratum's T calls
    leaves the expected z of a correlation ``phi`` at ``sqrt(pairs (T - 1) / T) phi`` along
    the channels or the batch, so with few calls this MDE is optimistic by up to
    ``sqrt(T / (T - 1))`` (power 0.876 for a claim of 0.9 at T = 16; tests use T = 256)."""
    if pairs <= 0:
        return math.inf
    return (bonferroni_z(alpha, lags) + z_power(beta)) / math.sqrt(pairs)


def lag_sample_size(phi: float, lags: int, *, alpha: float, beta: float) -> int:
    """Pairs at one lag for which ``lag_test`` detects a correlation ``phi``; inverse of
    ``lag_mde``."""
    alpha, beta = validate.rates(alpha, beta)
    phi = validate.effect("phi", phi)
    return math.ceil(((bonferroni_z(alpha, lags) + z_power(beta)) / phi) ** 2)


def flattened_lag_test(
    strata: Iterable[tuple[str, np.ndarray]], *, alpha: float, beta: float, max_lag: int,
    min_pairs: int,
) -> StatResult:
    """Dependence along each call's flattened order, every lag in every stratum on its own.

    ``strata`` yields ``(label, dropped)`` with ``dropped`` a stratum's decisions (calls T,
    ...), each call's decisions read in their flattened (row-major) order.  Unlike
    ``lag_test``, lags are not pooled over strata: a lag means something different in each
    (lag C +- 1 of the (n, c) order is the next sample's neighbouring channel, and C differs
    between strata).  Each stratum's lags 1..``max_lag`` with at least ``min_pairs`` pairs
    (normal tails) give ``z_k = (sum_k - mean_k) / sqrt(var_k)`` from ``centred_lag_sums``
    (centred on each position's own mean: neither a wrong rate nor a rate that differs
    between positions reads as dependence); the test is the max ``|z|`` over strata and lags,
    Bonferroni over all of them.

    Guarantee: false-alarm rate ~ ``alpha`` (normal tails, Bonferroni under any dependence);
    power >= ``1 - beta`` against a lag correlation ``mde`` at the tested lag with the fewest
    pairs (``flattened_lag_mde``; like ``lag_mde``, exact for strata of many calls and
    optimistic by up to ``sqrt(T / (T - 1))`` for strata of T calls).  ``statistic`` and
    ``estimate`` are the largest ``|z|`` (signed), ``n`` the number of lags tested; the context
    names its stratum and lag and, as ``failing``, up to ten strata whose largest ``|z|``
    rejects.  ValueError when no stratum has a lag of ``min_pairs`` pairs.
    """
    alpha, beta = validate.rates(alpha, beta)
    found = []
    for label, dropped in strata:
        lags = centred_lag_sums(dropped.reshape(dropped.shape[0], -1), -1, max_lag)
        ok = lags.pairs >= min_pairs
        if ok.any():
            z = (lags.sums[ok] - lags.mean[ok]) / np.sqrt(lags.var[ok])
            i = int(np.argmax(np.abs(z)))
            found.append((label, int(np.flatnonzero(ok)[i]) + 1, float(z[i]), int(ok.sum()),
                          int(lags.pairs[ok].min())))
    if not found:
        raise ValueError(f"no stratum has {min_pairs} pairs at any flattened lag: too few "
                         "decisions for this test")
    total = sum(f[3] for f in found)
    label, lag, z, _, _ = max(found, key=lambda f: abs(f[2]))
    fewest = min(f[4] for f in found)
    failing = [f"{where}: lag {k} z {zz:.3g}" for where, k, zz, _, _ in found
               if bonferroni_p(zz, total) <= alpha][:10]
    return StatResult(
        test="flattened-max-lag-z",
        statistic=z,
        p_value=bonferroni_p(z, total),
        alpha=alpha,
        n=total,
        mde=flattened_lag_mde(fewest, total, alpha=alpha, beta=beta),
        estimate=z,
        context={"setting": f"{label}, flattened (n, c) lag {lag}", "p": None,
                 "failing": failing, "lags": total},
    )


def flattened_lag_mde(pairs: int, lags: int, *, alpha: float, beta: float) -> float:
    """The lag correlation that ``flattened_lag_test`` (Bonferroni over ``lags`` lags of all
    strata) detects with power ``1 - beta`` at a lag of ``pairs`` pairs: the same
    ``(z + z_beta) / sqrt(pairs)`` as ``lag_mde``."""
    return lag_mde(pairs, lags, alpha=alpha, beta=beta)


def flattened_lag_sample_size(phi: float, lags: int, *, alpha: float, beta: float) -> int:
    """Pairs at one lag for which ``flattened_lag_test`` detects a correlation ``phi``;
    inverse of ``flattened_lag_mde``."""
    return lag_sample_size(phi, lags, alpha=alpha, beta=beta)


# ----------------------------------------------------------------------------- repeats


def identical_repeats_test(
    identical: int, expected: float, *, alpha: float, label: str, n_pairs: int
) -> StatResult:
    """Repeats of whole masks: ``P(K >= k) <= E[K] / k`` (Markov), valid under any dependence
    between the pairs (pairs among a set of masks share masks).

    ``identical`` pairs were found among ``n_pairs`` compared pairs whose expected number of
    chance repeats under H0 is ``expected`` (``identical_repeats_expected``, at rates from
    ``identical_repeats_rate``).  Guarantee: false-alarm rate <= ``alpha``, exactly Markov's
    (and the union bound's at one repeat).  Power 1 against any fault that makes
    ``identical_repeats_mde(expected)`` repeats -- one, for masks at least
    ``identical_repeats_sample_size`` long, the only comparisons the checks make; ``mde`` is
    ``None`` (a count of repeats, not an effect size).
    """
    pval = 1.0 if identical == 0 else min(1.0, expected / identical)
    return StatResult(
        test="identical-masks",
        statistic=float(identical),
        p_value=pval,
        alpha=alpha,
        n=int(n_pairs),
        mde=None,
        estimate=float(identical),
        context={"setting": label, "expected": expected, "p": None},
    )


def identical_repeats_mde(expected: float, *, alpha: float) -> int:
    """The fewest identical pairs that ``identical_repeats_test`` rejects on, when chance makes
    ``expected`` of them: ``ceil(expected / alpha)``, at least 1.  The count is observed, not
    sampled, so any fault that makes that many repeats is found with certainty."""
    alpha = validate.error_rate("alpha", alpha)
    return max(1, ceil_count(expected / alpha))


def identical_repeats_sample_size(n_pairs: int, p: float, *, alpha: float) -> int:
    """Shortest mask length at which one identical pair among ``n_pairs`` is significant.

    With masks of ``L`` independent Bernoulli(p) decisions, two distinct masks agree with
    probability ``q = (p^2 + (1-p)^2)^L``; Markov's bound at K = 1 (the union bound) gives
    ``P(any of n_pairs pairs identical) <= n_pairs q``, valid whatever the dependence between
    pairs.  Returns the smallest ``L`` with ``n_pairs q <= alpha``, where
    ``identical_repeats_mde`` is 1.  E.g. 1225 pairs (50 masks) at alpha = 1e-6: L = 31 at
    p = 0.5 but L = 106 at p = 0.1 or 0.9, and L = 1047 at p = 0.01: compare whole calls, not
    one sample's C channels, when C is shorter.
    """
    alpha = validate.error_rate("alpha", alpha)
    n_pairs = validate.count("n_pairs", n_pairs, minimum=1)
    p = validate.open_probability("p", p)
    per = p * p + (1.0 - p) * (1.0 - p)
    length = max(1, math.ceil(math.log(alpha / n_pairs) / math.log(per) - 1e-9))
    while n_pairs * math.exp(length * math.log(per)) > alpha:
        length += 1  # floating-point guard
    return length


def identical_pair_probability(pa: float, pb: float, length: int) -> float:
    """Probability that two independent masks of ``length`` decisions at rates ``pa`` and
    ``pb`` are identical: ``(pa pb + (1 - pa)(1 - pb))^length``."""
    return float(np.exp(length * np.log(pa * pb + (1 - pa) * (1 - pb))))


def identical_repeats_expected(pairs: Iterable[tuple[float, float, float]],
                               length: int) -> float:
    """Expected identical pairs under H0 (independent masks of ``length`` decisions) among
    classes of compared pairs: ``(count, pa, pb)`` is ``count`` pairs of masks at rates ``pa``
    and ``pb``; the sum of ``count * identical_pair_probability(pa, pb, length)``, in order."""
    expected = 0.0
    for count, pa, pb in pairs:
        expected += count * identical_pair_probability(pa, pb, length)
    return expected


def identical_repeats_rate(claimed: float, observed: float) -> float:
    """The rate at which to expect a stratum's chance repeats: its claimed or its observed
    rate, whichever is further from 1/2 (masks repeat more easily there), so that a wrong
    rate -- drop-rate's fault -- cannot read as repeated masks."""
    return observed if abs(observed - 0.5) > abs(claimed - 0.5) else claimed


__all__ = [
    "ConditionalZ",
    "LagSums",
    "PositionRates",
    "PositionsResult",
    "bonferroni_p",
    "bonferroni_z",
    "centred_lag_sums",
    "conditional_excess_mde",
    "conditional_excess_sample_size",
    "conditional_excess_test",
    "conditional_z",
    "excess_rate_mde",
    "excess_rate_relative_mde",
    "excess_rate_sample_size",
    "excess_rate_test",
    "flattened_lag_mde",
    "flattened_lag_sample_size",
    "flattened_lag_test",
    "identical_pair_probability",
    "identical_repeats_expected",
    "identical_repeats_mde",
    "identical_repeats_rate",
    "identical_repeats_sample_size",
    "identical_repeats_test",
    "lag_mde",
    "lag_sample_size",
    "lag_test",
    "omnibus_chi2",
    "positions_mde",
    "positions_sample_size",
    "positions_test",
    "significant",
]
