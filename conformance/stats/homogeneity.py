"""Is the drop rate ``p`` at every position (channel, batch index)?  Max-|z| and omnibus chi-square.

Positions are e.g. channels 0..C-1 or batch indices 0..N-1; ``dropped[i]`` counts the drops at
position ``i`` out of ``trials`` (a scalar or one count per position) independent decisions.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from conformance.stats._result import StatResult
from conformance.stats.binomial import (
    binomial_mde,
    binomial_normal_scores,
    binomial_pvalues,
    binomial_sample_size,
    clopper_pearson,
)
from conformance.stats.goodness import MIN_EXPECTED, chi2_gof_mde
from conformance.stats.power import check_count, check_open_probability, check_rates


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
