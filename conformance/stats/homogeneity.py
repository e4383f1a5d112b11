"""Is the drop rate right at every entry (channel, batch index, setting)?  Max-|z| and omnibus.

An entry is e.g. channel c, batch index n, or one setting of the space; ``dropped[i]`` counts
the drops of entry ``i`` out of ``trials[i]`` independent decisions (``trials`` a scalar or
one count per entry), each claimed to drop with probability ``p`` (a scalar, or one rate per
entry when the entries are settings with their own p).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conformance.stats import _validate as validate
from conformance.stats._search import ceil_count
from conformance.stats.binomial import binomial_normal_scores, binomial_pvalues, clopper_pearson
from conformance.stats.goodness import chi2_gof_mde, chi2_gof_sample_size, chi2_result
from conformance.stats.normal import z_power, z_two_sided
from conformance.stats.result import StatResult, not_testable, optional


@dataclass(frozen=True)
class Omnibus:
    """The omnibus chi-square beside a max-|z| result, for the report (it decides nothing
    there: call ``homogeneity_chi2_test`` with its own share of the error budget for that)."""

    statistic: float
    p_value: float
    df: int
    mde_shift: float | None


@dataclass(frozen=True, kw_only=True)
class MaxAbsZResult(StatResult):
    """``max_abs_z_test``: the worst of ``entries`` exact binomial tests, at power ``1 - beta``
    (the ``worst_*`` fields: the smallest p-value's entry, ties broken by ``|z|``)."""

    beta: float
    entries: int
    alpha_per_entry: float
    worst_entry: int
    worst_p: float
    worst_rate: float
    worst_z: float
    worst_p_value: float
    omnibus: Omnibus


@dataclass(frozen=True, kw_only=True)
class HomogeneityChi2Result(StatResult):
    """``homogeneity_chi2_test``: ``sum z_i^2`` over ``entries`` entries against chi2(``df``);
    ``reason`` says why a table was not testable (then ``pearson_statistic`` is ``None``)."""

    beta: float
    entries: int
    df: int
    pearson_statistic: float | None = optional()
    reason: str | None = optional()


def _entries(
    dropped: np.ndarray, trials: np.ndarray | int, p: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ``dropped`` (m,), ``trials`` and ``p`` (scalars or (m,)); broadcast them."""
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
        raise ValueError(f"trials must be >= 1 at every entry, got min {t.min()}")
    if d.min() < 0 or np.any(d > t):
        bad = int(np.flatnonzero((d < 0) | (d > t))[0])
        raise ValueError(
            f"need 0 <= dropped <= trials, entry {bad}: dropped={d[bad]}, trials={t[bad]}"
        )
    if not isinstance(p, np.ndarray):
        p = validate.open_probability("p", p) if np.ndim(p) == 0 else p
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


def max_abs_z_test(dropped: np.ndarray, trials: np.ndarray | int, p: np.ndarray | float, *,
                   alpha: float, beta: float = 1e-3,
                   labels: Sequence[str] | None = None) -> MaxAbsZResult:
    """Is each entry's drop rate its claimed p?  Exact binomial per entry, Bonferroni.

    Rejects iff the smallest exact two-sided p-value (``scipy.stats.binomtest`` rule,
    vectorised) is <= ``alpha / m`` over the ``m`` entries.  With one p per entry (settings of
    the space) this is the test of "the rate is right in every setting" and, with many p
    values of moderate n each, of "the rate is right in a narrow band of p".

    Guarantee: false-alarm rate <= ``alpha`` (exact tests, Bonferroni, any dependence between
    entries).  Power ~ ``1 - beta`` when one entry of the median MDE is off by ``mde``
    (``max_abs_z_mde``: the median over entries of the normal-approximation MDE at the
    entry's trials and p and level ``alpha / m``; entries with fewer trials need more, and the
    faults this test is for -- a narrow band of p, one odd setting -- are larger than that).
    The approximation takes the null's variance, so it is optimistic for a shift towards 1/2
    with few trials: at 30,000 trials, level 3e-9 and ``beta = 1e-3`` the power at ``mde`` is
    0.9987 at p = 0.3 and 0.9967 at p = 0.05 (exact).
    ``statistic`` is ``max |z|``; ``p_value = min(1, m * min p-value)``; ``estimate`` the rate
    of the first entry with the smallest p-value, with its Clopper-Pearson interval at
    ``1 - alpha / m`` (the ``worst_*`` fields describe the smallest p-value's entry with ties
    broken by ``|z|``).  ``omnibus`` is the omnibus chi-square of the same counts, for the
    report.  The context names (by ``labels``, default "entry i") the first smallest p-value's
    entry as ``setting`` and, as ``failing``, up to ten entries that reject on their own
    share ``alpha / m``, smallest p-value first.
    """
    alpha, beta = validate.rates(alpha, beta)
    d, t, pa = _entries(dropped, trials, p)
    m = int(d.size)
    if labels is None:
        labels = [f"entry {i}" for i in range(m)]
    elif len(labels) != m:
        raise ValueError(f"need one label per entry ({m}), got {len(labels)}")
    pv = np.empty(m)
    for value in np.unique(pa):
        sel = pa == value
        pv[sel] = binomial_pvalues(d[sel], t[sel], float(value))
    z = (d - t * pa) / np.sqrt(t * pa * (1.0 - pa))
    # worst = smallest p-value; ties broken by |z| so the report points at the extreme one
    worst = int(np.lexsort((-np.abs(z), pv))[0])
    first = int(np.argmin(pv))
    share = alpha / m
    failing = [f"{labels[i]}: rate {d[i] / t[i]:.5g} (p-value {pv[i]:.3g})"
               for i in np.argsort(pv)[:10] if pv[i] <= share]
    omni = homogeneity_chi2_test(d, t, pa, alpha=alpha, beta=beta)
    return MaxAbsZResult(
        test="rate-homogeneity-max-z",
        statistic=float(np.max(np.abs(z))),
        p_value=float(min(1.0, m * float(pv[worst]))),
        alpha=alpha,
        n=int(t.sum()),
        mde=max_abs_z_mde(t, m, pa, alpha=alpha, beta=beta),
        estimate=float(d[first] / t[first]),
        ci=clopper_pearson(int(d[first]), int(t[first]), 1 - share),
        context={"setting": labels[first], "p": None, "failing": failing},
        beta=beta,
        entries=m,
        alpha_per_entry=alpha / m,
        worst_entry=worst,
        worst_p=float(pa[worst]),
        worst_rate=float(d[worst] / t[worst]),
        worst_z=float(z[worst]),
        worst_p_value=float(pv[worst]),
        omnibus=Omnibus(statistic=omni.statistic, p_value=omni.p_value, df=m,
                        mde_shift=omni.mde),
    )


def max_abs_z_mde(trials: np.ndarray | int, entries: int, p: np.ndarray | float, *,
                  alpha: float, beta: float) -> float:
    """Rate difference of one entry that ``max_abs_z_test`` over ``entries`` entries detects
    with power ~ ``1 - beta``: the median over the entries (``trials`` and ``p`` scalars or
    one per entry) of ``(z_{alpha / (2 entries)} + z_beta) sqrt(p (1 - p) / trials)``, the
    normal approximation of the exact test's MDE at level ``alpha / entries`` (Bonferroni)."""
    entries = validate.count("entries", entries, minimum=1)
    alpha, beta = validate.rates(alpha, beta)
    z = z_two_sided(alpha / entries) + z_power(beta)
    t, pa = np.asarray(trials), np.asarray(p, dtype=float)
    return float(np.median(z * np.sqrt(pa * (1 - pa) / t)))


def max_abs_z_sample_size(mde: float, entries: int, p: float, *, alpha: float,
                          beta: float) -> int:
    """Trials per entry (every entry alike, at rate ``p``) for which ``max_abs_z_test`` over
    ``entries`` entries detects one entry off by ``mde`` (absolute) with power ~ ``1 - beta``;
    inverse of ``max_abs_z_mde``."""
    entries = validate.count("entries", entries, minimum=1)
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)
    p = validate.open_probability("p", p)
    z = z_two_sided(alpha / entries) + z_power(beta)
    n = max(1, ceil_count((z / mde) ** 2 * p * (1 - p)))
    while max_abs_z_mde(n, entries, p, alpha=alpha, beta=beta) > mde:
        n += 1  # floating-point guard
    return n


def homogeneity_chi2_test(dropped: np.ndarray, trials: np.ndarray | int,
                          p: np.ndarray | float, *, alpha: float, beta: float = 1e-3,
                          min_expected: float = 0.0) -> HomogeneityChi2Result:
    """Omnibus chi-square over the entries: ``T = sum_i z_i^2`` against chi2(m).

    Pearson's statistic for the m x 2 (dropped, kept) table is ``X^2 = sum_i z_i^2`` with
    ``z_i = (d_i - t_i p_i) / sqrt(t_i p_i q_i)``, but its chi-square tail is liberal at small
    alphas when p is far from 1/2 (x1.3 at 1e-5 even with 200 expected drops per entry, x3
    with 20), so the decision uses ``z_i``, entry i's exact mid-p normal score under
    Binomial(t_i, p_i) (``binomial_normal_scores``), which has normal tails however skewed the
    binomial is.  Far more powerful than ``max_abs_z_test`` against a small bias shared by many
    entries (e.g. a rate off by delta across a narrow band of p); use it beside it.

    Guarantee: false-alarm rate <= ~``alpha`` (conservative: the normal scores' variance is
    slightly below 1).  ``min_expected``: a table whose smallest expected count ``t_i p_i``
    or ``t_i q_i`` falls below it is not testable (``p_value = 1``, ``reason`` set); pass 5
    to hold to the textbook rule.  Power ~ ``1 - beta`` (noncentral chi-square, large-sample,
    local alternatives) against a common standardised shift ``w = delta / sqrt(p q)`` of the
    entries, i.e. Cohen's ``w = sqrt(sum_i t_i (p_i' - p_i)^2 / (p_i q_i) / sum_i t_i)``
    >= ``mde`` (``chi2_gof_mde(sum t, m)``); ``estimate`` is the observed
    ``w = sqrt(X^2 / sum t)``.
    """
    alpha, beta = validate.rates(alpha, beta)
    d, t, pa = _entries(dropped, trials, p)
    m = int(d.size)
    total = int(t.sum())
    smallest = float(np.min(t * np.minimum(pa, 1.0 - pa)))
    if smallest < min_expected:
        return not_testable(
            HomogeneityChi2Result, test="rate-homogeneity-chi2", alpha=alpha, n=total,
            reason=f"smallest expected count {smallest:.3g} < {min_expected}",
            beta=beta, entries=m, df=m,
        )
    z = binomial_normal_scores(d, t, pa)
    stat = float(np.sum(z * z))
    pearson = float(np.sum((d - t * pa) ** 2 / (t * pa * (1.0 - pa))))
    return chi2_result(
        HomogeneityChi2Result, test="rate-homogeneity-chi2", statistic=stat, pearson=pearson,
        df=m, n=total, alpha=alpha, beta=beta, entries=m, pearson_statistic=pearson,
    )


def homogeneity_chi2_mde(trials: int, entries: int, *, alpha: float, beta: float) -> float:
    """Common standardised shift ``w = delta / sqrt(p q)`` of all ``entries`` entries
    (``trials`` decisions each) that ``homogeneity_chi2_test`` detects: Cohen's w of the
    noncentral chi-square(m) at ``m * trials`` decisions (``chi2_gof_mde``).  Multiply by
    ``sqrt(p q)`` for the absolute rate error."""
    trials = validate.count("trials", trials, minimum=1)
    entries = validate.count("entries", entries, minimum=1)
    return chi2_gof_mde(trials * entries, entries, alpha=alpha, beta=beta)


def homogeneity_chi2_sample_size(w: float, entries: int, *, alpha: float, beta: float) -> int:
    """Trials per entry for which ``homogeneity_chi2_test`` detects a common standardised
    shift ``w`` over ``entries`` entries; inverse of ``homogeneity_chi2_mde``."""
    w = validate.effect("w", w)
    entries = validate.count("entries", entries, minimum=1)
    return max(1, -(-chi2_gof_sample_size(w, entries, alpha=alpha, beta=beta) // entries))


__all__ = [
    "HomogeneityChi2Result",
    "MaxAbsZResult",
    "Omnibus",
    "homogeneity_chi2_mde",
    "homogeneity_chi2_sample_size",
    "homogeneity_chi2_test",
    "max_abs_z_mde",
    "max_abs_z_sample_size",
    "max_abs_z_test",
]
