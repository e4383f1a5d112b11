"""Are decisions independent at every lag?  Lag-k autocovariances of a 0/1 sequence, all by FFT.

Sequences run along one axis of a boolean array (e.g. channels of (calls, N, C), or the
flattened (n, c) order of a call, or successive calls); the other axes are independent
replicates.  Under H0 every decision is an independent Bernoulli(p) draw with the *known* p, so
centring by p (not by the sample mean) keeps each lag's statistic exactly standardised.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from conformance.stats import _validate as validate
from conformance.stats._scipy import brentq, fft, special
from conformance.stats._search import ceil_count, smallest, smallest_effect
from conformance.stats.normal import z_power, z_two_sided
from conformance.stats.result import StatResult

# Neglected (second-order) Edgeworth terms above this relative size at the critical z: the
# stated alpha is then not promised (``normal_ok`` False), same bound as expectation_test.
_MAX_EDGEWORTH = 0.1
# Rows per FFT batch: bounds the complex work array to ~64 MB whatever the input size.
_FFT_ELEMENTS = 1 << 22


@dataclass(frozen=True, kw_only=True)
class AutocorrelationResult(StatResult):
    """``autocorrelation_test``: ``replicates`` sequences of ``length`` decisions, lags 1 to
    ``max_lag`` (each lag's z in ``z``), the worst lag, and whether the normal tail promises
    ``alpha`` at this n (``normal_ok``)."""

    p: float
    beta: float
    max_lag: int
    alpha_per_lag: float
    replicates: int
    length: int
    worst_lag: int
    worst_z: float
    worst_p_value: float
    pairs_at_worst_lag: int
    z: tuple[float, ...]
    normal_ok: bool


def _moments(p: float) -> tuple[float, float, float]:
    """Per-pair standardised cumulant pieces of ``y = (d_t - p)(d_{t+k} - p)`` under H0.

    Returns ``(skew_1, kurt_1, adjacent)``: the skewness and excess kurtosis of one product
    (``(q - p)^2 / (p q)`` and ``(1 - 3pq)^2 / (pq)^2 - 3``) and the standardised covariance of
    the squares of two products that share a decision (``(q - p)^2 / (p q)``).  Products at one
    lag are uncorrelated and their third cross-moments vanish (a decision shared by two products
    appears once in each, so an odd power of the other decision remains), so the lag statistic's
    skewness is ``skew_1 / sqrt(n_k)`` exactly.
    """
    pq = p * (1.0 - p)
    skew = (1.0 - 2.0 * p) ** 2 / pq
    kurt = (1.0 - 3.0 * pq) ** 2 / (pq * pq) - 3.0
    return skew, kurt, skew


def _upper_tail(z: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """Conservative two-sided tail of a standardised sum with skewness ``gamma`` >= 0.

    One-term Edgeworth: ``P(Z > z) ~ Q(z) + phi(z) gamma (z^2 - 1) / 6``.  The right tail of a
    positively skewed sum is heavier than normal, its left tail lighter, so
    ``2 max(Q(|z|), Edgeworth right tail at |z|)`` bounds both sides.
    """
    az = np.abs(z)
    normal = special.ndtr(-az)
    edge = normal + np.exp(-0.5 * az * az) / math.sqrt(2.0 * math.pi) * gamma * (az * az - 1) / 6
    return np.minimum(1.0, 2.0 * np.maximum(normal, edge))


def _critical_z(alpha_lag: float, gamma: float) -> float:
    """Smallest |z| whose two-sided p-value (``_upper_tail``) is <= ``alpha_lag``."""
    z0 = z_two_sided(alpha_lag)
    if gamma <= 0.0 or _upper_tail(np.array(z0), np.array(gamma)) <= alpha_lag:
        return z0

    def excess(z: float) -> float:
        return float(_upper_tail(np.array(z), np.array(gamma))) - alpha_lag

    hi = z0 + 1.0
    while excess(hi) > 0.0:
        hi += 1.0
    return float(brentq(excess, z0, hi, xtol=1e-12))


def _lag_sums(x: np.ndarray, max_lag: int) -> np.ndarray:
    """``S_k = sum_r sum_t x[r, t] x[r, t + k]`` for k = 0..max_lag, by zero-padded real FFT.

    Padding to ``L + max_lag`` points keeps the circular correlation from wrapping onto the
    lags asked for; the power spectra of all replicates are summed before one inverse FFT.
    """
    rows, length = x.shape
    nfft = fft.next_fast_len(length + max_lag, real=True)
    spectrum = np.zeros(nfft // 2 + 1)
    step = max(1, _FFT_ELEMENTS // nfft)
    for start in range(0, rows, step):
        f = fft.rfft(x[start : start + step], n=nfft, axis=-1)
        spectrum += np.sum(f.real * f.real + f.imag * f.imag, axis=0)
    return fft.irfft(spectrum, n=nfft)[: max_lag + 1]


def autocorrelation_test(
    d: np.ndarray,
    p: float,
    *,
    max_lag: int,
    axis: int = -1,
    alpha: float,
    beta: float = 1e-3,
) -> AutocorrelationResult:
    """Are the decisions along ``axis`` uncorrelated at every lag 1..``max_lag``?

    ``d`` is a boolean array of decisions (True = dropped), any shape; sequences run along
    ``axis`` and every other axis holds independent replicates.  With ``x = d - p`` (the known
    rate, not the sample mean) the lag-k sum ``S_k = sum x_t x_{t+k}`` over the
    ``n_k = replicates * (L - k)`` pairs has mean 0 and variance exactly ``n_k (p q)^2`` under
    H0 (products at one lag are uncorrelated), so ``z_k = S_k / (sqrt(n_k) p q)`` is the lag-k
    sample autocorrelation scaled by ``sqrt(n_k)``.  Every ``S_k`` comes from one zero-padded
    FFT (O(n log L), any ``max_lag``).  Each lag's two-sided p-value is the normal tail widened
    by the statistic's exact skewness ``(q - p)^2 / (p q sqrt(n_k))`` (one-term Edgeworth,
    only ever made larger), and the test rejects iff the smallest is <= ``alpha / max_lag``
    (Bonferroni over lags, valid under any dependence between them).

    Guarantee: false-alarm rate <= ~``alpha`` (normal approximation with the skewness folded
    in; ``normal_ok`` is False when the neglected second-order terms exceed 10 % at
    the critical z: collect ``autocorrelation_validity_sample_size`` pairs then).  Power
    >= ``1 - beta`` when some lag k <= ``max_lag`` carries correlation ``|phi| >= mde``
    (``autocorrelation_mde`` at the fewest pairs, ``n_{max_lag}``, and this p; large-sample,
    Markov-type dependence along the lag).  ``estimate`` is the worst lag's autocorrelation
    ``S_k / (n_k p q)``; the result holds the worst lag and every lag's z.

    Catches channel c+k copying channel c (lag k along C), sample n+1 reusing sample n's mask
    shifted by a channel (lag C+1 or C-1 in the flattened (n, c) order), calls correlated at
    lag L (along the calls axis).
    """
    alpha, beta = validate.rates(alpha, beta)
    p = validate.open_probability("p", p)
    max_lag = validate.count("max_lag", max_lag, minimum=1)
    d = np.asarray(d)
    if d.dtype != np.bool_:
        raise ValueError(f"d must be a boolean array of decisions, got dtype {d.dtype}")
    if d.ndim == 0:
        raise ValueError("d must have at least one axis, got a scalar")
    if not -d.ndim <= axis < d.ndim:
        raise ValueError(f"axis {axis} is out of range for d of shape {d.shape}")
    seq = np.moveaxis(d, axis, -1)
    length = int(seq.shape[-1])
    if max_lag >= length:
        raise ValueError(
            f"need max_lag < sequence length, got max_lag={max_lag}, length={length} "
            f"(shape {d.shape}, axis {axis})"
        )
    rows = int(seq.size // length) if length else 0
    if rows == 0:
        raise ValueError(f"d has no sequences to test, shape {d.shape}")
    x = seq.reshape(rows, length).astype(np.float64) - p
    pq = p * (1.0 - p)
    sums = _lag_sums(x, max_lag)[1:]
    lags = np.arange(1, max_lag + 1)
    n_k = rows * (length - lags)
    z = sums / (np.sqrt(n_k) * pq)
    skew_1 = _moments(p)[0]
    gamma = skew_1 / np.sqrt(n_k)
    pv = _upper_tail(z, gamma)
    worst = int(np.lexsort((-np.abs(z), pv))[0])
    alpha_lag = alpha / max_lag
    n_min = int(n_k[-1])
    normal_ok = _edgeworth_residual(alpha_lag, p, n_min, length, max_lag) <= _MAX_EDGEWORTH
    return AutocorrelationResult(
        test="autocorrelation-max-z",
        statistic=float(np.abs(z[worst])),
        p_value=float(min(1.0, max_lag * float(pv[worst]))),
        alpha=alpha,
        n=int(rows * length),
        mde=autocorrelation_mde(n_min, max_lag, alpha=alpha, beta=beta, p=p),
        estimate=float(sums[worst] / (n_k[worst] * pq)),
        p=p,
        beta=beta,
        max_lag=max_lag,
        alpha_per_lag=alpha_lag,
        replicates=rows,
        length=length,
        worst_lag=worst + 1,
        worst_z=float(z[worst]),
        worst_p_value=float(pv[worst]),
        pairs_at_worst_lag=int(n_k[worst]),
        z=tuple(z.tolist()),
        normal_ok=bool(normal_ok),
    )


def _edgeworth_residual(alpha_lag: float, p: float, n_pairs: int, length: int, lag: int) -> float:
    """Relative size of the neglected Edgeworth terms at the critical z of one lag.

    ``z^4 |kurt_n| / 24 + z^6 skew_n^2 / 72`` with ``kurt_n`` the exact excess kurtosis of
    ``S_k`` (``(kurt_1 + 6 f adjacent) / n``, ``f`` the share of products that share a decision
    with the next one at that lag) and ``skew_n = skew_1 / sqrt(n)``.
    """
    skew_1, kurt_1, adjacent = _moments(p)
    share = max(0.0, (length - 2 * lag) / max(1, length - lag))
    kurt = (kurt_1 + 6.0 * share * adjacent) / n_pairs
    z = z_two_sided(alpha_lag)
    return z**4 * abs(kurt) / 24.0 + z**6 * skew_1 * skew_1 / n_pairs / 72.0


def autocorrelation_validity_sample_size(p: float, max_lag: int, *, alpha: float) -> int:
    """Pairs per lag before ``autocorrelation_test`` promises its ``alpha`` at rate ``p``.

    The smallest ``n_k`` whose neglected Edgeworth terms (see ``normal_ok``) are at
    most 10 % at the critical z of level ``alpha / max_lag`` (taking every product to share a
    decision with the next, the worst case).  Near p = 0.5 power sets n; far from it this does.
    """
    alpha = validate.error_rate("alpha", alpha)
    p = validate.open_probability("p", p)
    max_lag = validate.count("max_lag", max_lag, minimum=1)
    skew_1, kurt_1, adjacent = _moments(p)
    z = z_two_sided(alpha / max_lag)
    # residual = c / n with c = z^4 |kurt_1 + 6 adjacent| / 24 + z^6 skew_1^2 / 72
    c = z**4 * abs(kurt_1 + 6.0 * adjacent) / 24.0 + z**6 * skew_1 * skew_1 / 72.0
    return max(1, math.ceil(c / _MAX_EDGEWORTH))


@functools.lru_cache(maxsize=4096)
def _markov_sd(phi: float, p: float) -> float:
    """sd of ``sqrt(n) * (lag autocorrelation)`` when the lag chain is Markov with corr ``phi``.

    Along each chain ``d_{t+k}`` copies ``d_t`` with probability ``phi`` and is otherwise a
    fresh Bernoulli(p) draw (transition ``phi I + (1 - phi) 1 pi^T``, stationary ``pi``).  The
    products ``y_t = x_t x_{t+k}`` then have covariances ``phi^(h-1) u B w`` at distance h
    (``B`` the non-stationary projector), summed in closed form.  The larger of the long-chain
    and the single-pair variance is returned, so short chains are covered too.  ``phi = 0``
    gives 1.
    """
    q = 1.0 - p
    pi = np.array([p, q])
    xv = np.array([q, -p])  # centred decision for dropped / kept
    trans = phi * np.eye(2) + (1.0 - phi) * np.outer(np.ones(2), pi)
    dx = np.diag(xv)
    mean_y = phi * p * q
    var_y = float(pi @ (xv * xv * (trans @ (xv * xv)))) - mean_y * mean_y
    u = pi @ dx @ trans @ dx
    w = dx @ trans @ dx @ np.ones(2)
    b = np.eye(2) - np.outer(np.ones(2), pi)
    cov_sum = float(u @ b @ w) / (1.0 - phi) if phi < 1.0 else math.inf
    var = max(var_y, var_y + 2.0 * cov_sum)
    return math.sqrt(max(var, 0.0)) / (p * q)


def _markov_feasible(phi: float, p: float) -> bool:
    """Whether the copy chain has correlation ``phi`` (negative phi needs ``|phi| <= min/max``)."""
    return -min(p, 1.0 - p) / max(p, 1.0 - p) <= phi < 1.0


def _needed_root_n(phi: float, p: float | None, za: float, zb: float) -> float:
    """``sqrt(n_pairs)`` at which a lag correlation ``+-phi`` (each feasible sign) is detected."""
    if p is None:
        return (za + zb) / phi
    sd = max(
        (_markov_sd(s * phi, p) for s in (1.0, -1.0) if _markov_feasible(s * phi, p)),
        default=0.0,
    )
    return (za + zb * sd) / phi


def autocorrelation_mde(
    n_pairs: int, max_lag: int, *, alpha: float, beta: float, p: float | None = None
) -> float:
    """Smallest lag correlation ``|phi|`` that ``autocorrelation_test`` detects at one lag.

    ``n_pairs`` is the number of pairs at that lag (the fewest, ``replicates * (L - max_lag)``,
    gives a bound for every lag).  The lag's z has mean ``sqrt(n_pairs) phi`` and is compared
    with the critical z of level ``alpha / max_lag`` (with the skewness widening of the test at
    this ``p``).  Without ``p``: ``(z_crit + z_{1-beta}) / sqrt(n_pairs)``, exact for p = 1/2
    (where the alternative's sd is ``sqrt(1 - phi^2) <= 1``).  With ``p``: the alternative's sd
    for a Markov copy chain at that lag (``d_{t+k}`` equals ``d_t`` with probability phi, else a
    fresh draw), both signs of phi where feasible, so the MDE holds for skewed rates too.
    Large-sample normal approximation; returns ``inf`` when no phi < 1 qualifies.
    """
    alpha, beta = validate.rates(alpha, beta)
    n_pairs = validate.count("n_pairs", n_pairs, minimum=1)
    max_lag = validate.count("max_lag", max_lag, minimum=1)
    if p is not None:
        p = validate.open_probability("p", p)
    return _mde(n_pairs, max_lag, alpha, beta, p)


@functools.lru_cache(maxsize=4096)
def _mde(n_pairs: int, max_lag: int, alpha: float, beta: float, p: float | None) -> float:
    gamma = 0.0 if p is None else _moments(p)[0] / math.sqrt(n_pairs)
    za = _critical_z(alpha / max_lag, gamma)
    zb = z_power(beta)
    root_n = math.sqrt(n_pairs)
    phi = (za + zb) / root_n
    if phi >= 1.0:
        return math.inf
    if p is None:
        return phi

    def excess(x: float) -> float:
        return _needed_root_n(x, p, za, zb) - root_n

    # _needed_root_n(phi) falls as phi grows: bracket, then solve (a correlation stays < 1)
    return smallest_effect(excess, phi, growth=1.25, limit=1.0 - 1e-12)


def autocorrelation_sample_size(
    mde: float, max_lag: int, *, alpha: float, beta: float, p: float | None = None
) -> int:
    """Pairs per lag for which ``autocorrelation_test`` detects a lag correlation ``|phi| >= mde``
    with power >= ``1 - beta`` (inverse of ``autocorrelation_mde``, same model and ``p``).

    A sequence layout of ``R`` replicates of length ``L`` gives ``R (L - max_lag)`` pairs at
    the longest lag: choose ``R`` so that this reaches the returned number.
    """
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)
    max_lag = validate.count("max_lag", max_lag, minimum=1)
    if p is not None:
        p = validate.open_probability("p", p)
    if mde >= 1.0:
        raise ValueError(f"a lag correlation mde must be < 1, got mde={mde}")
    za, zb = z_two_sided(alpha / max_lag), z_power(beta)
    # without the skewness widening (which only raises the critical z) n is a lower bound
    lo = n = max(1, ceil_count(_needed_root_n(mde, p, za, zb) ** 2))
    while _mde(n, max_lag, alpha, beta, p) > mde:
        n = max(n + 1, math.ceil(n * (_mde(n, max_lag, alpha, beta, p) / mde) ** 2))
    # and step back to the smallest such n (the MDE falls monotonically with n)
    return smallest(lambda m: _mde(m, max_lag, alpha, beta, p) <= mde, lo, n)
