"""Tests that pool decisions across the settings of the space (each setting its own p).

Private to the checks: they combine per-setting counts whose null rates differ, which the
single-rate tests of :mod:`conformance.stats` do not.  Every test standardises each count by
its own binomial law, so the null distribution is known whatever the mix of settings, and
states its guarantee and its MDE at the caller's ``beta``.  Normal approximations are used only
where each statistic sums many independent terms (the callers enforce minimum counts).  Each
result's ``detail`` says ``"p": None``: there is no single p (the report draws its per-p
pictures only where there is one).
"""

from __future__ import annotations

import math

import numpy as np

from conformance.stats import StatResult, chi2_noncentrality
from conformance.stats._scipy import stats  # imported on first use


def _z(q: float) -> float:
    return float(stats.norm.isf(q))


def excess_rate_test(
    k: np.ndarray, n: np.ndarray, p: np.ndarray, *, alpha: float, beta: float, label: str
) -> StatResult:
    """Is the drop rate of a group of settings p, each at its own p?  Two-sided z-test.

    ``z = sum(k - n p) / sqrt(sum n p (1 - p))``: exact mean and variance under H0, and normal
    when the group holds many decisions (callers use groups of >= 10^4).  Guarantee:
    false-alarm rate ~ ``alpha``; power >= ``1 - beta`` when every setting's rate is off by
    ``mde`` in the same direction.  ``estimate`` is the excess drop rate ``sum(k - n p) /
    sum n`` with its interval at ``1 - alpha``.
    """
    k, n, p = (np.asarray(a, dtype=np.float64) for a in (k, n, p))
    total, var = float(n.sum()), float((n * p * (1 - p)).sum())
    if total <= 0 or var <= 0:
        raise ValueError(f"group {label!r} has no decisions of non-degenerate rate (n={total})")
    excess = float((k - n * p).sum())
    z = excess / math.sqrt(var)
    sd = math.sqrt(var) / total
    za = _z(alpha / 2)
    return StatResult(
        test="excess-rate-z",
        statistic=z,
        p_value=float(min(1.0, 2 * stats.norm.sf(abs(z)))),
        alpha=alpha,
        n=int(total),
        mde=(za + _z(beta)) * sd,
        estimate=excess / total,
        ci=(excess / total - za * sd, excess / total + za * sd),
        context={"setting": label, "settings": int(k.size), "p": None},
    )


def bonferroni_p(z: float, tests: int) -> float:
    """Two-sided p-value of ``z``, Bonferroni-corrected over ``tests`` z-tests (valid under any
    dependence between them): ``min(1, tests * 2 * sf(|z|))``."""
    return float(min(1.0, tests * 2 * stats.norm.sf(abs(z))))


def bonferroni_z(alpha: float, tests: int) -> float:
    """The |z| at which :func:`bonferroni_p` reaches ``alpha``."""
    return _z(alpha / (2 * tests))


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
        p_value=float(stats.chi2.sf(total, z.size)),
        alpha=alpha,
        n=int(weight),
        mde=math.sqrt(lam / weight),
        estimate=total / z.size,
        context=context,
    )


#: complex FFT values held at once by lag_sums (16 MB): rows are transformed in chunks
FFT_CHUNK = 1 << 20


def lag_sums(x: np.ndarray, axis: int, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """(sum over i of x_i x_{i+k}, number of pairs) along ``axis`` for k = 1..max_lag, by FFT.

    Zero-padded to at least twice the length (no circular wrap); rows are transformed a chunk at
    a time so that memory stays flat whatever the shape.
    """
    x = np.moveaxis(x, axis, -1)
    length = x.shape[-1]
    lags = min(max_lag, length - 1)
    if lags < 1:
        return np.zeros(0), np.zeros(0, np.int64)
    size = 1 << (2 * length - 1).bit_length()
    rows = x.reshape(-1, length)
    step = max(1, FFT_CHUNK // size)
    power = np.zeros(size // 2 + 1)
    for start in range(0, rows.shape[0], step):
        f = np.fft.rfft(rows[start:start + step], size, axis=-1)
        power += (f.real**2 + f.imag**2).sum(axis=0)
    acf = np.fft.irfft(power, size)[1:lags + 1]
    pairs = (length - np.arange(1, lags + 1)) * rows.shape[0]
    return acf, pairs.astype(np.int64)


def lag_tests(
    sums: np.ndarray, pairs: np.ndarray, *, alpha: float, beta: float, label: str,
    min_pairs: int,
) -> tuple[StatResult, StatResult]:
    """Max over lags and omnibus over lags of pooled standardised lag products.

    ``sums[k-1]`` is the sum of ``x_i x_{i+k}`` over pairs of standardised decisions
    (``x = (d - p) / sqrt(p q)``): each product has mean 0 and variance 1 and products are
    uncorrelated, so ``z_k = sums / sqrt(pairs)`` estimates ``sqrt(pairs) * phi_k``.  Only lags
    with at least ``min_pairs`` pairs are tested (normality).  The max test rejects when any
    ``|z_k|`` exceeds the Bonferroni bound over the L lags (``mde`` is the smallest |phi| it
    detects at lag 1, its context's ``weakest_lag_mde`` at the lag with the fewest pairs); the
    omnibus ``sum z_k^2 ~ chi2(L)`` collects
    dependence spread thinly over many lags.  Each is given ``alpha``.
    """
    ok = pairs >= min_pairs
    lags = np.flatnonzero(ok) + 1
    if lags.size == 0:
        raise ValueError(f"no lag has {min_pairs} pairs ({label})")
    z = sums[ok] / np.sqrt(pairs[ok])
    worst = int(np.argmax(np.abs(z)))
    big_l = lags.size
    za = bonferroni_z(alpha, big_l)
    fewest = int(pairs[ok].min())
    phi = float(z[worst] / math.sqrt(pairs[ok][worst]))
    half = za / math.sqrt(pairs[ok][worst])
    top = [f"lag {int(lags[i])}: phi {z[i] / math.sqrt(pairs[ok][i]):.4g}"
           for i in significant(z, alpha)]
    maxed = StatResult(
        test="max-lag-z",
        statistic=float(z[worst]),
        p_value=bonferroni_p(z[worst], big_l),
        alpha=alpha,
        n=int(pairs[ok].sum()),
        mde=(za + _z(beta)) / math.sqrt(float(pairs[ok][0])),
        estimate=phi,
        ci=(phi - half, phi + half),
        context={"setting": f"{label}, worst lag {int(lags[worst])}", "lags": big_l,
                "weakest_lag_mde": (za + _z(beta)) / math.sqrt(fewest),
                "worst_lag": int(lags[worst]), "failing": top, "p": None},
    )
    omnibus = omnibus_chi2(
        z, alpha=alpha, beta=beta, weight=float(pairs[ok].sum()), test="lag-omnibus-chi2",
        context={"setting": f"{label}, lags 1..{int(lags.max())}", "lags": big_l, "p": None},
    )
    return maxed, omnibus


def identical_test(
    identical: int, expected: float, *, alpha: float, label: str, n_pairs: int
) -> StatResult:
    """Repeats of whole masks: ``P(K >= k) <= E[K] / k`` (Markov), valid under any dependence
    between the pairs.  The masks compared are long enough that ``E[K] <= alpha``, so one
    identical pair rejects: power 1 against any repeat."""
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
