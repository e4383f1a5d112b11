"""Chi-square goodness of fit of dropped-channel counts per sample against Binomial(C, p)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from conformance.stats import _validate as validate
from conformance.stats._fast import binom_pmf
from conformance.stats._scipy import brentq, special, stats
from conformance.stats._search import ceil_count, smallest
from conformance.stats.binomial import binomial_normal_scores
from conformance.stats.result import StatResult, not_testable, optional

MIN_EXPECTED = 5.0  # chi-square only with every expected count >= 5

R = TypeVar("R", bound=StatResult)


@dataclass(frozen=True, kw_only=True)
class CountGofResult(StatResult):
    """``binomial_count_gof_test``: pooled bins (counts ``bin_edges[g]`` to
    ``bin_edges[g + 1] - 1``) with their observed and expected numbers of samples.  A test
    with fewer than two bins is not ``testable`` (``reason`` says why; ``df`` and the Pearson
    fields are then ``None``)."""

    C: int
    p: float
    beta: float
    bin_edges: tuple[int, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]
    testable: bool
    reason: str | None = optional()
    df: int | None = optional()
    pearson_statistic: float | None = optional()
    pearson_p_value: float | None = optional()


@functools.lru_cache(maxsize=1024)
def chi2_noncentrality(df: int, alpha: float, beta: float) -> float:
    """Noncentrality ``lam`` at which the level-``alpha`` chi-square(df) test has power 1-beta
    (the sizing of every chi-square test, the pooled ones of the checks included)."""
    crit = stats.chi2.isf(alpha, df)
    target = 1.0 - beta

    def shortfall(lam: float) -> float:
        return float(stats.ncx2.sf(crit, df, lam)) - target

    hi = 1.0
    while shortfall(hi) < 0.0:
        hi *= 2.0
    lam = brentq(shortfall, 1e-12, hi, xtol=1e-12, rtol=1e-12)
    # never optimistic: step up until the target power is met
    step = 1e-12 + 1e-12 * lam
    while shortfall(lam) < 0.0:
        lam += step
        step *= 2.0
    return float(lam)


def chi2_gof_mde(n: int, df: int, *, alpha: float, beta: float) -> float:
    """Smallest Cohen's ``w`` detected by a level-``alpha`` chi-square test with ``df`` degrees.

    ``w = sqrt(sum_i (p1_i - p0_i)^2 / p0_i)`` over the cells; the statistic is taken as
    noncentral chi-square with noncentrality ``n w^2`` and power >= ``1 - beta`` solved exactly
    in that model (``scipy.stats.ncx2``).  Guarantee: large-sample, for local alternatives
    (spread over well-filled cells).  It is optimistic for alternatives that load sparse cells,
    whose counts vary more than the model allows: for an all-or-nothing mixture at this ``w``
    with expected counts near 5 the measured miss rate is ~2-3x ``beta`` at beta = 0.1 and far
    more at beta = 1e-3.  Guaranteed power lives in the exact tests (binomial, max-|z|).
    """
    alpha, beta = validate.rates(alpha, beta)
    n = validate.count("n", n, minimum=1)
    df = validate.count("df", df, minimum=1)
    return math.sqrt(chi2_noncentrality(df, alpha, beta) / n)


def chi2_gof_sample_size(w: float, df: int, *, alpha: float, beta: float) -> int:
    """Number of observations for which the chi-square test detects Cohen's ``w`` with power
    >= ``1 - beta`` at level ``alpha`` (noncentral chi-square); inverse of ``chi2_gof_mde``.
    """
    alpha, beta = validate.rates(alpha, beta)
    w = validate.effect("w", w)
    df = validate.count("df", df, minimum=1)
    return max(1, ceil_count(chi2_noncentrality(df, alpha, beta) / (w * w)))


def chi2_result(cls: type[R], *, test: str, statistic: float, pearson: float, df: int, n: int,
                alpha: float, beta: float, **fields: Any) -> R:
    """The result of a chi-square test on ``n`` observations: p-value from chi2(``df``), the
    MDE as Cohen's ``w`` (``chi2_gof_mde``), and the observed ``w = sqrt(pearson / n)``;
    ``df`` and ``beta`` are fields of every chi-square family, ``fields`` the family's own."""
    return cls(test=test, statistic=statistic, p_value=float(special.chdtrc(df, statistic)),
               alpha=alpha, n=n, mde=chi2_gof_mde(n, df, alpha=alpha, beta=beta),
               estimate=math.sqrt(pearson / n), df=df, beta=beta, **fields)


def pool_bins(expected: np.ndarray, min_expected: float = MIN_EXPECTED) -> list[tuple[int, int]]:
    """Group adjacent bins, from the tails inward, so each group's expected count >= min.

    Returns half-open index ranges ``[start, stop)`` in order.  At each step the side whose
    outermost remaining bin is smaller grows one group until it reaches ``min_expected``; a last
    group that falls short (the two fronts met) is merged into its smaller neighbour.  A single
    group means "not testable".
    """
    e = np.asarray(expected, dtype=float)
    left: list[tuple[int, int]] = []
    right: list[tuple[int, int]] = []
    i, j = 0, len(e)
    short: tuple[int, int] | None = None
    while i < j:
        from_left = e[i] <= e[j - 1]
        total, k = 0.0, i if from_left else j
        while i < j and total < min_expected:
            if from_left:
                total += e[i]
                i += 1
            else:
                j -= 1
                total += e[j]
        group = (k, i) if from_left else (j, k)
        if total < min_expected:
            short = group
        elif from_left:
            left.append(group)
        else:
            right.append(group)
    groups = left + right[::-1]
    if short is not None:
        # the short group sits between left[-1] and right[-1]; merge it into the smaller one
        pos = len(left)
        sums = [e[a:b].sum() for a, b in groups]
        cands = [q for q in (pos - 1, pos) if 0 <= q < len(groups)]
        if not cands:
            return [short]
        q = min(cands, key=lambda c: sums[c])
        a, b = groups[q]
        groups[q] = (min(a, short[0]), max(b, short[1]))
    return groups


def binomial_count_gof_test(
    counts_per_sample: np.ndarray, C: int, p: float, *, alpha: float, beta: float = 1e-3,
    fit_rate: bool = False,
) -> CountGofResult:
    """Chi-square goodness of fit of per-sample dropped-channel counts to Binomial(C, p).

    ``counts_per_sample[i]`` is the number of the ``C`` channels dropped in sample ``i``.
    Bins are pooled from the tails inward until every expected count is >= 5; ``df = bins - 1``.

    The statistic is Pearson's with each cell's standardised deviation replaced by its exact
    normal score (``T = sum_g (1 - pi_g) z_g^2``, ``z_g`` the mid-p normal score of the bin
    count under Binomial(n, pi_g)).  It equals Pearson's ``X^2`` for large counts, but Pearson's
    own chi-square tail is liberal at the small alphas this suite uses (x1.3 to x3 at 1e-5 with
    expected counts of 5 to 20, from the skew of sparse cells); ``T`` is not (measured at
    1e-3..1e-5; see tests).  Pearson's ``X^2`` and its p-value are reported beside it.

    Guarantee: false-alarm rate <= ~``alpha`` (conservative for sparse bins); power ~
    ``1 - beta`` against local alternatives whose pooled-bin Cohen's ``w`` >= ``mde``
    (``binomial_count_gof_mde``: large-sample, optimistic for faults that load sparse tail
    bins, where the normal scores also give less power than Pearson's ``X^2``; a shifted rate
    at C = 16, p = 0.3, alpha = 0.01 is found with power 0.873 at 400 samples, 0.887 at 2,000
    and 0.90 at 10,000 for a claim of 0.9).  ``estimate``
    is the observed ``w = sqrt(X^2 / n)``.  With fewer than two pooled bins the test is not
    testable: ``p_value = 1`` and ``testable`` False.  The result holds the pooled observed /
    expected counts and bin edges for plotting.

    ``fit_rate``: test the *shape* of the distribution only, against Binomial(C, p_hat) with
    ``p_hat`` the counts' own mean rate (``p`` is then only a fallback), one more degree of
    freedom spent: a wrong rate then fails the rate checks, not this one.
    """
    alpha, beta = validate.rates(alpha, beta)
    C = validate.count("C", C, minimum=1)
    p = validate.open_probability("p", p)
    x = np.asarray(counts_per_sample)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"counts_per_sample must be a non-empty 1-D array, got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.integer):
        raise ValueError(f"counts_per_sample must be integers, got dtype {x.dtype}")
    if x.min() < 0 or x.max() > C:
        raise ValueError(f"counts must lie in [0, C={C}], got range [{x.min()}, {x.max()}]")
    n = int(x.size)
    if fit_rate:
        fitted = float(x.sum()) / (n * C)
        if not 0.0 < fitted < 1.0:
            return not_testable(
                CountGofResult, test="chi2-gof-binomial", alpha=alpha, n=n,
                reason=f"observed rate {fitted:g}: no spread to test", beta=beta,
                testable=False, C=C, p=p, bin_edges=(0, C + 1), observed=(float(n),),
                expected=(float(n),),
            )
        p = fitted
    observed = np.bincount(x, minlength=C + 1)
    pmf = binom_pmf(np.arange(C + 1), C, p)
    groups = pool_bins(n * pmf)
    obs = np.array([observed[a:b].sum() for a, b in groups], dtype=np.int64)
    prob = np.array([pmf[a:b].sum() for a, b in groups])
    prob /= prob.sum()  # pmf sums to 1 - eps; chisquare insists on equal totals
    exp = n * prob
    bins = {
        "C": C,
        "p": p,
        "bin_edges": (*(int(a) for a, _ in groups), int(groups[-1][1])),
        "observed": tuple(float(v) for v in obs),
        "expected": tuple(float(v) for v in exp),
    }
    if len(groups) < 2:
        return not_testable(
            CountGofResult, test="chi2-gof-binomial", alpha=alpha, n=n,
            reason=f"fewer than 2 bins with expected >= {MIN_EXPECTED}", beta=beta,
            testable=False, **bins,
        )
    df = len(groups) - 1 - int(fit_rate)
    if df < 1:
        return not_testable(
            CountGofResult, test="chi2-gof-binomial", alpha=alpha, n=n,
            reason="one bin left once the rate is fitted", beta=beta, testable=False, **bins,
        )
    pearson = float(np.sum((obs - exp) ** 2 / exp))  # = scipy.stats.chisquare, without overhead
    z = binomial_normal_scores(obs, n, prob)
    stat = float(np.sum((1.0 - prob) * z * z))
    return chi2_result(
        CountGofResult, test="chi2-gof-binomial", statistic=stat, pearson=pearson, df=df, n=n,
        alpha=alpha, beta=beta, testable=True, pearson_statistic=pearson,
        pearson_p_value=float(special.chdtrc(df, pearson)), **bins,
    )


def pooled_df(trials: int, p: float, n: int) -> int:
    """Degrees of freedom ``binomial_count_gof_test`` will have: ``n`` counts of Binomial(trials, p)
    pooled to expected >= 5 leave ``bins - 1`` (0 when not testable), not ``trials``.

    E.g. trials = 64: at p = 0.5, 5 df at n = 50 and 20 at n = 1000; at p = 0.1, 6 and 12.
    """
    trials = validate.count("trials", trials, minimum=1)
    p = validate.open_probability("p", p)
    n = validate.count("n", n, minimum=1)
    return len(pool_bins(n * binom_pmf(np.arange(trials + 1), trials, p))) - 1


def binomial_count_gof_mde(n: int, trials: int, p: float, *, alpha: float, beta: float) -> float:
    """Cohen's ``w`` that ``binomial_count_gof_test`` detects in ``n`` samples (counts of
    ``trials`` decisions at rate ``p``) with power ~ ``1 - beta``: ``chi2_gof_mde`` at the df
    that pooling leaves at that n (``pooled_df``); ``inf`` when no two bins reach 5 expected.
    """
    alpha, beta = validate.rates(alpha, beta)
    df = pooled_df(trials, p, n)
    return chi2_gof_mde(n, df, alpha=alpha, beta=beta) if df >= 1 else math.inf


def binomial_count_gof_sample_size(
    w: float, trials: int, p: float, *, alpha: float, beta: float
) -> int:
    """Samples for which ``binomial_count_gof_test`` detects Cohen's ``w`` with power ~
    1 - beta, sized by the df that pooling leaves at that n (``pooled_df``), not by ``trials``;
    inverse of ``binomial_count_gof_mde``.

    The df grows with n (more bins reach 5 expected), and a larger df needs a larger n for the
    same ``w``: iterate ``n -> chi2_gof_sample_size(w, pooled_df(trials, p, n))`` to its fixed
    point, then step to the smallest n whose own pooled df qualifies.
    """
    alpha, beta = validate.rates(alpha, beta)
    w = validate.effect("w", w)
    trials = validate.count("trials", trials, minimum=1)
    p = validate.open_probability("p", p)

    def enough(n: int) -> bool:
        return binomial_count_gof_mde(n, trials, p, alpha=alpha, beta=beta) <= w

    n = chi2_gof_sample_size(w, 1, alpha=alpha, beta=beta)  # df = 1 needs the fewest samples
    for _ in range(64):
        df = max(1, pooled_df(trials, p, n))
        nxt = chi2_gof_sample_size(w, df, alpha=alpha, beta=beta)
        if nxt <= n:
            break
        n = nxt
    while not enough(n):
        n = math.ceil(n * 1.01) + 1
    # the smallest qualifying n (the df steps make it non-monotone only locally)
    return smallest(enough, max(1, n // 2), n)


__all__ = [
    "CountGofResult",
    "binomial_count_gof_mde",
    "binomial_count_gof_sample_size",
    "binomial_count_gof_test",
    "chi2_gof_mde",
    "chi2_gof_sample_size",
    "chi2_noncentrality",
    "pool_bins",
    "pooled_df",
]
