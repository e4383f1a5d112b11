"""Is the drop rate ``p`` at every position (channel, batch index)?  Max-|z| and omnibus chi-square.

Positions are e.g. channels 0..C-1 or batch indices 0..N-1; ``dropped[i]`` counts the drops at
position ``i`` out of ``trials`` (a scalar or one count per position) independent decisions.
"""

from __future__ import annotations

import math

import numpy as np

from conformance.stats._result import StatResult
from conformance.stats._scipy import special
from conformance.stats.binomial import (
    binomial_mde,
    binomial_normal_scores,
    binomial_pvalues,
    binomial_sample_size,
    clopper_pearson,
)
from conformance.stats.goodness import MIN_EXPECTED, chi2_gof_mde, chi2_gof_sample_size
from conformance.stats.power import (
    check_count,
    check_effect,
    check_open_probability,
    check_rates,
)


def _positions(dropped: np.ndarray, trials: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Validate and broadcast ``dropped`` (P,) and ``trials`` (scalar or (P,)) to int64 arrays."""
    d = np.asarray(dropped)
    t = np.asarray(trials)
    if d.ndim != 1 or d.size == 0:
        raise ValueError(f"dropped must be a non-empty 1-D array, got shape {d.shape}")
    if not np.issubdtype(d.dtype, np.integer) or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"dropped and trials must be integers, got {d.dtype} and {t.dtype}")
    if t.ndim not in (0, 1) or (t.ndim == 1 and t.shape != d.shape):
        raise ValueError(f"trials must be a scalar or have shape {d.shape}, got {t.shape}")
    t = np.broadcast_to(t, d.shape).astype(np.int64)
    d = d.astype(np.int64)
    if t.min() < 1:
        raise ValueError(f"trials must be >= 1 at every position, got min {t.min()}")
    if d.min() < 0 or np.any(d > t):
        bad = int(np.flatnonzero((d < 0) | (d > t))[0])
        raise ValueError(
            f"need 0 <= dropped <= trials, position {bad}: dropped={d[bad]}, trials={t[bad]}"
        )
    return d, t


def max_abs_z(
    dropped: np.ndarray, trials: np.ndarray | int, p: float, *, alpha: float, beta: float = 1e-3
) -> StatResult:
    """Per-position exact binomial tests of rate ``p``, Bonferroni over the ``P`` positions.

    Rejects iff the smallest exact two-sided p-value (``scipy.stats.binomtest`` rule,
    vectorised) is <= ``alpha / P``.  Guarantee: false-alarm rate <= ``alpha`` (Bonferroni,
    exact tests); power >= ``1 - beta`` when any one position's rate is off by >= ``mde``
    (``max_abs_z_mde``; with unequal ``trials`` the smallest count is used).  ``statistic`` is
    ``max |z|``; ``p_value = min(1, P * min p-value)``; ``estimate`` is the worst position's rate
    with its Clopper-Pearson interval at level ``1 - alpha / P``.
    """
    alpha, beta = check_rates(alpha, beta)
    p = check_open_probability("p", p)
    d, t = _positions(dropped, trials)
    P = int(d.size)
    pv = binomial_pvalues(d, t, p)
    rates = d / t
    z = (d - t * p) / np.sqrt(t * p * (1.0 - p))
    # worst = smallest p-value; ties broken by |z| so the report points at the extreme one
    worst = int(np.lexsort((-np.abs(z), pv))[0])
    ci = clopper_pearson(int(d[worst]), int(t[worst]), 1.0 - alpha / P)
    return StatResult(
        test="max-abs-z-bonferroni",
        statistic=float(np.max(np.abs(z))),
        p_value=float(min(1.0, P * float(pv[worst]))),
        alpha=alpha,
        n=int(t.sum()),
        mde=max_abs_z_mde(int(t.min()), P, p, alpha=alpha, beta=beta),
        estimate=float(rates[worst]),
        ci=ci,
        detail={
            "p": p,
            "beta": beta,
            "positions": P,
            "alpha_per_position": alpha / P,
            "worst_position": worst,
            "worst_rate": float(rates[worst]),
            "worst_z": float(z[worst]),
            "worst_p_value": float(pv[worst]),
            "rates": rates.tolist(),
        },
    )


def max_abs_z_mde(trials: int, P: int, p: float, *, alpha: float, beta: float) -> float:
    """Per-position rate difference that ``max_abs_z`` detects with power >= ``1 - beta``.

    It is the exact binomial MDE (``binomial_mde``) at ``trials`` decisions and level
    ``alpha / P``: one bad position off by this much is caught with power >= 1 - beta.
    """
    P = check_count("P", P, minimum=1)
    alpha, beta = check_rates(alpha, beta)
    return binomial_mde(trials, p, alpha=alpha / P, beta=beta)


def homogeneity_sample_size(mde: float, P: int, p: float, *, alpha: float, beta: float) -> int:
    """Trials per position for which ``max_abs_z`` detects one position off by ``mde``.

    Power >= ``1 - beta`` at family level ``alpha`` over ``P`` positions; inverse of
    ``max_abs_z_mde``.
    """
    P = check_count("P", P, minimum=1)
    alpha, beta = check_rates(alpha, beta)
    return binomial_sample_size(mde, p, alpha=alpha / P, beta=beta)


def homogeneity_chi2(
    dropped: np.ndarray, trials: np.ndarray | int, p: float, *, alpha: float, beta: float = 1e-3
) -> StatResult:
    """Omnibus chi-square of the P x 2 (dropped, kept) table against the known rate ``p``.

    Pearson's statistic for this table is ``X^2 = sum_i z_i^2`` with
    ``z_i = (d_i - t_i p) / sqrt(t_i p (1 - p))``, chi-square with ``df = P`` under H0.  Its
    chi-square tail is liberal at small alphas when ``p`` is far from 1/2 (x1.3 at 1e-5 even
    with 200 expected drops per position, x3 with 20), so the decision uses ``T = sum_i z_i^2``
    with ``z_i`` the exact mid-p normal score of ``d_i`` (``binomial_normal_scores``), which has
    normal tails and is conservative.  ``X^2`` and its p-value are kept in ``detail``.

    Guarantee: false-alarm rate <= ~``alpha`` (run only when every expected count ``t_i p`` and
    ``t_i (1-p)`` is >= 5, otherwise ``p_value = 1`` and ``detail["testable"] = False``).
    Power ~ ``1 - beta`` (large-sample, local alternatives; see ``chi2_gof_mde``) against rate
    patterns with Cohen's
    ``w = sqrt(sum_i t_i (p_i - p)^2 / (p q) / sum_i t_i)`` >= ``mde`` (``chi2_gof_mde(sum t,
    P)``); ``estimate`` is the observed ``w = sqrt(X^2 / sum t)``.  Use it beside ``max_abs_z``,
    which has far more power against a single bad position.
    """
    alpha, beta = check_rates(alpha, beta)
    p = check_open_probability("p", p)
    d, t = _positions(dropped, trials)
    P = int(d.size)
    n = int(t.sum())
    detail = {"p": p, "beta": beta, "positions": P, "df": P}
    min_expected = float(t.min() * min(p, 1.0 - p))
    if min_expected < MIN_EXPECTED:
        detail |= {
            "testable": False,
            "reason": f"not testable: smallest expected count {min_expected:.3g} < {MIN_EXPECTED}",
        }
        return StatResult(
            test="chi2-homogeneity", statistic=0.0, p_value=1.0, alpha=alpha, n=n, detail=detail
        )
    pearson = float(np.sum((d - t * p) ** 2 / (t * p * (1.0 - p))))
    z = binomial_normal_scores(d, t, p)
    stat = float(np.sum(z * z))
    detail |= {
        "testable": True,
        "pearson_statistic": pearson,
        "pearson_p_value": float(special.chdtrc(P, pearson)),
    }
    return StatResult(
        test="chi2-homogeneity",
        statistic=stat,
        p_value=float(special.chdtrc(P, stat)),
        alpha=alpha,
        n=n,
        mde=chi2_gof_mde(n, P, alpha=alpha, beta=beta),
        estimate=math.sqrt(pearson / n),
        detail=detail,
    )


def _settings(
    k: np.ndarray, n: np.ndarray | int, p: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ``k`` (m,), ``n`` and ``p`` (scalars or (m,)) and broadcast them."""
    d, t = _positions(k, n)
    pa = np.asarray(p, dtype=float)
    if pa.ndim not in (0, 1) or (pa.ndim == 1 and pa.shape != d.shape):
        raise ValueError(f"p must be a scalar or have shape {d.shape}, got {pa.shape}")
    pa = np.broadcast_to(pa, d.shape).astype(float)
    if not np.all((pa > 0.0) & (pa < 1.0)):
        bad = int(np.flatnonzero(~((pa > 0.0) & (pa < 1.0)))[0])
        raise ValueError(
            f"p must lie in the open interval (0, 1) for every entry, entry {bad}: p={pa[bad]!r}"
        )
    return d, t, pa


def rate_homogeneity(
    k: np.ndarray,
    n: np.ndarray | int,
    p: np.ndarray | float,
    *,
    alpha: float,
    beta: float = 1e-3,
) -> StatResult:
    """Is each setting's drop rate its claimed p?  Exact binomial per entry, Bonferroni.

    One entry per setting (a shape, dtype, layout, a p value): ``k[i]`` drops out of ``n[i]``
    decisions, claimed rate ``p[i]`` (entries may claim different p).  Rejects iff the smallest
    exact two-sided p-value (``scipy.stats.binomtest`` rule) is <= ``alpha / m``.  This is the
    test of "the rate does not depend on the setting" and, with many p values of moderate n
    each, of "the rate is right in a narrow band of p".

    Guarantee: false-alarm rate <= ``alpha`` (exact tests, Bonferroni, any dependence between
    entries).  Power >= ``1 - beta`` when any one entry's rate is off by >= ``mde``
    (``rate_homogeneity_mde`` at the smallest n and the claimed p farthest from 0 and 1).
    ``statistic`` is ``max |z|``; ``estimate`` the worst entry's rate with its Clopper-Pearson
    interval at ``1 - alpha / m``.  ``detail["omnibus"]`` holds the omnibus chi-square (sum of
    the entries' squared exact normal scores, df = m) for reporting; to *decide* on it, call
    ``rate_homogeneity_omnibus`` with its own share of the error budget.
    """
    alpha, beta = check_rates(alpha, beta)
    d, t, pa = _settings(k, n, p)
    m = int(d.size)
    pv = np.empty(m)
    for value in np.unique(pa):
        sel = pa == value
        pv[sel] = binomial_pvalues(d[sel], t[sel], float(value))
    z = (d - t * pa) / np.sqrt(t * pa * (1.0 - pa))
    worst = int(np.lexsort((-np.abs(z), pv))[0])
    ci = clopper_pearson(int(d[worst]), int(t[worst]), 1.0 - alpha / m)
    omni = rate_homogeneity_omnibus(d, t, pa, alpha=alpha, beta=beta)
    return StatResult(
        test="rate-homogeneity-max-z",
        statistic=float(np.max(np.abs(z))),
        p_value=float(min(1.0, m * float(pv[worst]))),
        alpha=alpha,
        n=int(t.sum()),
        mde=_worst_mde(t, pa, m, alpha, beta),
        estimate=float(d[worst] / t[worst]),
        ci=ci,
        detail={
            "beta": beta,
            "entries": m,
            "alpha_per_entry": alpha / m,
            "worst_entry": worst,
            "worst_p": float(pa[worst]),
            "worst_rate": float(d[worst] / t[worst]),
            "worst_z": float(z[worst]),
            "worst_p_value": float(pv[worst]),
            "omnibus": {
                "statistic": omni.statistic,
                "p_value": omni.p_value,
                "df": m,
                "mde_shift": omni.mde,
            },
        },
    )


def _worst_mde(t: np.ndarray, pa: np.ndarray, m: int, alpha: float, beta: float) -> float:
    """Per-entry MDE at the smallest n and the p closest to 1/2 (largest variance)."""
    p_mid = float(pa[int(np.argmin(np.abs(pa - 0.5)))])
    n_min = int(t.min())
    return max(
        rate_homogeneity_mde(n_min, p_mid, m, alpha=alpha, beta=beta),
        rate_homogeneity_mde(n_min, float(pa[int(np.argmin(pa))]), m, alpha=alpha, beta=beta),
        rate_homogeneity_mde(n_min, float(pa[int(np.argmax(pa))]), m, alpha=alpha, beta=beta),
    )


def rate_homogeneity_omnibus(
    k: np.ndarray,
    n: np.ndarray | int,
    p: np.ndarray | float,
    *,
    alpha: float,
    beta: float = 1e-3,
) -> StatResult:
    """Omnibus chi-square over settings: ``T = sum_i z_i^2`` against chi2(m).

    ``z_i`` is entry i's exact mid-p normal score under Binomial(n_i, p_i) (normal tails
    however skewed the binomial, so the chi-square tail is not liberal at small alpha, unlike
    Pearson's; see ``homogeneity_chi2``).  Far more powerful than ``rate_homogeneity`` against
    a small bias shared by many entries, e.g. a rate off by delta across a narrow band of p.

    Guarantee: false-alarm rate <= ~``alpha`` (conservative: the normal scores' variance is
    slightly below 1).  Power ~ ``1 - beta`` (noncentral chi-square) against a common relative
    shift ``delta / sqrt(p q)`` of every entry with ``delta >= mde`` in units of ``sqrt(p q)``
    (``rate_homogeneity_omnibus_mde``), i.e. noncentrality ``sum n_i delta^2 >= lambda``.
    ``estimate`` is the root mean square standardised deviation ``sqrt(T_pearson / sum n)``.
    """
    alpha, beta = check_rates(alpha, beta)
    d, t, pa = _settings(k, n, p)
    m = int(d.size)
    z = binomial_normal_scores(d, t, pa)
    stat = float(np.sum(z * z))
    pearson = float(np.sum((d - t * pa) ** 2 / (t * pa * (1.0 - pa))))
    total = int(t.sum())
    return StatResult(
        test="rate-homogeneity-chi2",
        statistic=stat,
        p_value=float(special.chdtrc(m, stat)),
        alpha=alpha,
        n=total,
        mde=chi2_gof_mde(total, m, alpha=alpha, beta=beta),
        estimate=math.sqrt(pearson / total),
        detail={"beta": beta, "entries": m, "df": m, "pearson_statistic": pearson},
    )


def rate_homogeneity_mde(n: int, p: float, m: int, *, alpha: float, beta: float) -> float:
    """Absolute rate error one entry of ``rate_homogeneity`` must carry to be caught with
    power >= ``1 - beta``: the exact binomial MDE at ``n`` decisions, rate ``p``, level
    ``alpha / m`` (``m`` entries, Bonferroni)."""
    m = check_count("m", m, minimum=1)
    alpha, beta = check_rates(alpha, beta)
    return binomial_mde(n, p, alpha=alpha / m, beta=beta)


def rate_homogeneity_sample_size(
    mde: float, p: float, m: int, *, alpha: float, beta: float
) -> int:
    """Decisions per entry for which ``rate_homogeneity`` catches one of ``m`` entries off by
    ``mde`` (absolute) with power >= ``1 - beta``; inverse of ``rate_homogeneity_mde``."""
    m = check_count("m", m, minimum=1)
    alpha, beta = check_rates(alpha, beta)
    return binomial_sample_size(mde, p, alpha=alpha / m, beta=beta)


def rate_homogeneity_omnibus_mde(n: int, m: int, *, alpha: float, beta: float) -> float:
    """Common standardised shift ``w = delta / sqrt(p q)`` of all ``m`` entries (``n``
    decisions each) that ``rate_homogeneity_omnibus`` detects: Cohen's w of the noncentral
    chi-square(m) at ``m n`` decisions (``chi2_gof_mde``).  Multiply by ``sqrt(p q)`` for the
    absolute rate error."""
    n = check_count("n", n, minimum=1)
    m = check_count("m", m, minimum=1)
    return chi2_gof_mde(n * m, m, alpha=alpha, beta=beta)


def rate_homogeneity_omnibus_sample_size(w: float, m: int, *, alpha: float, beta: float) -> int:
    """Decisions per entry for which ``rate_homogeneity_omnibus`` detects a common
    standardised shift ``w`` over ``m`` entries; inverse of ``rate_homogeneity_omnibus_mde``."""
    w = check_effect("w", w)
    m = check_count("m", m, minimum=1)
    return max(1, -(-chi2_gof_sample_size(w, m, alpha=alpha, beta=beta) // m))
