"""Are drop decisions independent?  2x2 contingency of paired decisions; identical-mask counts."""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special, stats
from scipy.optimize import brentq

from conformance.stats._fast import binom_sf, hypergeom_cdf, hypergeom_pmf, hypergeom_sf
from conformance.stats._result import StatResult
from conformance.stats.power import (
    ceil_count,
    check_closed_probability,
    check_count,
    check_effect,
    check_error_rate,
    check_open_probability,
    check_rates,
    z_power,
    z_two_sided,
)


def contingency_2x2(
    a: np.ndarray, b: np.ndarray, *, alpha: float, beta: float = 1e-3
) -> StatResult:
    """Test independence of paired boolean decisions ``(a[i], b[i])``: Fisher's exact test.

    E.g. channel c and c+1 of one sample, sample n and n+1, call t and t+1.  Two-sided Fisher
    exact test of the 2x2 table at every size.  The Pearson chi-square (no continuity
    correction) is reported in ``detail`` but not used to decide: with skewed margins its
    chi-square tail is liberal at small alphas even with every expected count >= 5 (measured
    x3.5 at alpha = 1e-5 with rates 0.02 / 0.02 and 20 expected in the smallest cell, x14 with
    5), while Fisher's test is exact and costs milliseconds even for 1e8 pairs.

    Guarantee: false-alarm rate <= ``alpha`` (exact, conditional on the margins); power
    >= ``1 - beta`` (large-sample) against dependence with ``|phi| >= mde`` (``phi_mde`` at the
    observed margins).  ``estimate`` is the phi coefficient (correlation of the two
    indicators), ``ci`` its normal-approximation interval ``phi +- z_{1-alpha/2} / sqrt(n)``;
    ``statistic`` is ``n phi^2`` (the Pearson chi-square).  A table with an empty row or column
    (e.g. every decision the same) carries no information: ``p_value = 1``, not testable.
    """
    alpha, beta = check_rates(alpha, beta)
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise ValueError(
            f"a and b must be non-empty 1-D arrays of one shape, got {a.shape}, {b.shape}"
        )
    if a.dtype != np.bool_ or b.dtype != np.bool_:
        raise ValueError(f"a and b must be boolean arrays, got {a.dtype} and {b.dtype}")
    n = int(a.size)
    n11 = int(np.count_nonzero(a & b))
    n1_ = int(np.count_nonzero(a))
    n_1 = int(np.count_nonzero(b))
    table = np.array([[n11, n1_ - n11], [n_1 - n11, n - n1_ - n_1 + n11]], dtype=np.int64)
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    detail: dict = {"table": table.tolist(), "beta": beta}
    if rows.min() == 0 or cols.min() == 0:
        mde = phi_mde(n, alpha=alpha, beta=beta)
        detail |= {
            "testable": False,
            "method": None,
            "reason": "not testable: a row or column of the 2x2 table is empty",
        }
        return StatResult(
            test="independence-2x2",
            statistic=0.0,
            p_value=1.0,
            alpha=alpha,
            n=n,
            mde=mde,
            detail=detail,
        )
    # phi from the margins in float (products of counts overflow int64 for n ~ 1e10)
    phi = (n11 * n - float(n1_) * n_1) / math.sqrt(
        float(rows[0]) * float(rows[1]) * float(cols[0]) * float(cols[1])
    )
    expected = np.outer(rows, cols) / n
    # MDE at the observed margins (the variance of phi_hat under dependence depends on them)
    mde = phi_mde(n, alpha=alpha, beta=beta, rates=(n1_ / n, n_1 / n))
    stat = n * phi * phi  # Pearson chi-square of the table
    pval = fisher_exact_pvalue(table)
    half = z_two_sided(alpha) / math.sqrt(n)
    detail |= {
        "testable": True,
        "method": "fisher",
        "expected_min": float(expected.min()),
        "pearson_p_value": float(special.chdtrc(1, stat)),
    }
    return StatResult(
        test="independence-2x2",
        statistic=stat,
        p_value=float(min(1.0, pval)),
        alpha=alpha,
        n=n,
        mde=mde,
        estimate=float(phi),
        ci=(max(-1.0, phi - half), min(1.0, phi + half)),
        detail=detail,
    )


def _phi_variance(phi: float, rates: tuple[float, float] | None) -> float:
    """``n Var(phi_hat)`` at true ``phi`` (Bishop, Fienberg & Holland 1975, delta method).

    ``1 - phi^2 + (phi + phi^3/2) u_a u_b - 3/4 phi^2 (u_a^2 + u_b^2)`` with
    ``u = (2 pi - 1) / sqrt(pi (1 - pi))`` for each margin; 1 under independence.  With
    ``rates=None`` the margins are taken as 1/2 (``u = 0``), where it is ``1 - phi^2 <= 1``.
    """
    if rates is None:
        return 1.0
    ua, ub = ((2.0 * r - 1.0) / math.sqrt(r * (1.0 - r)) for r in rates)
    v = 1.0 - phi * phi + (phi + phi**3 / 2.0) * ua * ub - 0.75 * phi * phi * (ua * ua + ub * ub)
    return max(v, 0.0)


def _phi_feasible(phi: float, rates: tuple[float, float] | None) -> bool:
    """Whether some 2x2 table with these margins has correlation ``phi``."""
    if rates is None:
        return abs(phi) <= 1.0
    pa, pb = rates
    s = math.sqrt(pa * (1.0 - pa) * pb * (1.0 - pb))
    p11 = pa * pb + phi * s
    return max(0.0, pa + pb - 1.0) <= p11 <= min(pa, pb)


def _phi_needed(phi: float, rates: tuple[float, float] | None, za: float, zb: float) -> float:
    """``sqrt(n)`` needed to detect ``+-phi`` (every feasible sign) with the given z-values."""
    sd = max(
        (
            math.sqrt(_phi_variance(sgn * phi, rates))
            for sgn in (1.0, -1.0)
            if _phi_feasible(sgn * phi, rates)
        ),
        default=0.0,
    )
    return (za + zb * sd) / phi


def _check_rates_pair(rates: tuple[float, float] | None) -> tuple[float, float] | None:
    if rates is None:
        return None
    if len(rates) != 2:
        raise ValueError(f"rates must be a pair (rate of a, rate of b), got {rates!r}")
    return (
        check_open_probability("rates[0]", rates[0]),
        check_open_probability("rates[1]", rates[1]),
    )


def fisher_exact_pvalue(table: np.ndarray) -> float:
    """Two-sided Fisher exact p-value of a 2x2 table (``scipy.stats.fisher_exact``'s rule).

    The probability, given both margins, of every table no more likely than the observed one
    (relative tolerance 1e-14 as in scipy).  Same numbers as scipy, ~50x faster: a bisection
    over the scipy hypergeometric kernels instead of distribution-object calls.
    """
    t = np.asarray(table, dtype=np.int64)
    if t.shape != (2, 2) or t.min() < 0:
        raise ValueError(f"table must be 2x2 with non-negative counts, got {t.tolist()}")
    k = int(t[0, 0])
    good = int(t[0, 0] + t[0, 1])  # first row
    draws = int(t[0, 0] + t[1, 0])  # first column
    total = int(t.sum())
    if min(good, draws, total - good, total - draws) == 0:
        return 1.0
    lo, hi = max(0, draws + good - total), min(good, draws)  # support of n11
    mode = (draws + 1) * (good + 1) // (total + 2)
    pexact = hypergeom_pmf(k, total, good, draws)
    pmode = hypergeom_pmf(mode, total, good, draws)
    thr = pexact * (1.0 + 1e-14)
    if abs(pexact - pmode) / max(pexact, pmode) <= 1e-14:
        return 1.0
    if k < mode:
        # upper tail: first x in [mode, hi] with pmf(x) <= thr (pmf falls there)
        a, b = mode, hi + 1
        while a < b:
            mid = (a + b) // 2
            if hypergeom_pmf(mid, total, good, draws) <= thr:
                b = mid
            else:
                a = mid + 1
        p = hypergeom_cdf(k, total, good, draws) + hypergeom_sf(a - 1, total, good, draws)
    else:
        # lower tail: last x in [lo, mode] with pmf(x) <= thr (pmf rises there)
        a, b = lo - 1, mode
        while a < b:
            mid = (a + b + 1) // 2
            if hypergeom_pmf(mid, total, good, draws) <= thr:
                a = mid
            else:
                b = mid - 1
        upper = hypergeom_sf(k - 1, total, good, draws)
        p = upper + (hypergeom_cdf(a, total, good, draws) if a >= lo else 0.0)
    return float(min(p, 1.0))


def phi_mde(
    n: int, *, alpha: float, beta: float, rates: tuple[float, float] | None = None
) -> float:
    """Smallest ``|phi|`` that ``contingency_2x2`` detects with power >= ``1 - beta``.

    ``sqrt(n) phi_hat`` is approximately normal with sd ``sqrt(n Var(phi_hat))``, which is 1
    under independence and, under dependence, depends on ``phi`` and on the margins: ``rates``
    = (P(a), P(b)).  Without ``rates`` this is ``(z_{1-alpha/2} + z_{1-beta}) / sqrt(n)``, right
    for margins near 1/2 but optimistic for skewed ones (measured miss rate 1.5x ``beta`` at
    rates 0.1 / 0.1 and beta = 0.1, 4x at beta = 1e-3): pass ``rates`` for a conservative
    value, which uses the delta-method variance at the alternative for both signs of ``phi``.
    Large-sample: assumes every expected cell count is well above 5.
    """
    alpha, beta = check_rates(alpha, beta)
    n = check_count("n", n, minimum=1)
    rates = _check_rates_pair(rates)
    za, zb = z_two_sided(alpha), z_power(beta)
    root_n = math.sqrt(n)
    phi = (za + zb) / root_n
    if rates is None:
        return phi
    # _phi_needed(phi) falls as phi grows (roughly (za + zb sd) / phi); bracket, then solve
    hi = phi
    while _phi_needed(hi, rates, za, zb) > root_n:
        hi *= 1.5
        if hi > 1.0:
            return math.inf
    if hi == phi:
        return phi  # sd <= 1 here: the plain formula already suffices

    def excess(x: float) -> float:
        return _phi_needed(x, rates, za, zb) - root_n

    root = brentq(excess, hi / 1.5, hi, xtol=1e-15, rtol=1e-12)
    step = 1e-15 + 1e-12 * root
    while excess(root) > 0.0:  # never optimistic
        root += step
        step *= 2.0
    return root


def phi_sample_size(
    phi: float, *, alpha: float, beta: float, rates: tuple[float, float] | None = None
) -> int:
    """Number of pairs for which ``contingency_2x2`` detects ``|phi|`` with power >= 1 - beta;
    inverse of ``phi_mde`` (same normal approximation, same optional margins ``rates``)."""
    alpha, beta = check_rates(alpha, beta)
    phi = check_effect("phi", phi)
    rates = _check_rates_pair(rates)
    n = max(1, ceil_count(_phi_needed(phi, rates, z_two_sided(alpha), z_power(beta)) ** 2))
    while phi_mde(n, alpha=alpha, beta=beta, rates=rates) > phi:
        n += 1  # floating-point guard
    return n


def identical_mask_probability(C: int, p: float) -> float:
    """Probability that two independent masks of ``C`` Bernoulli(p) decisions are identical:
    ``(p^2 + (1 - p)^2)^C`` (computed in log space; may underflow to 0, which is correct)."""
    C = check_count("C", C, minimum=1)
    p = check_closed_probability("p", p)
    per = p * p + (1.0 - p) * (1.0 - p)
    return math.exp(C * math.log(per))


@functools.lru_cache(maxsize=1024)
def _identical_critical_count(n_pairs: int, q: float, alpha: float) -> int:
    """Smallest count whose upper tail P(X >= c) is <= alpha (n_pairs + 1 if none)."""
    if q == 0.0:
        return 1
    crit = int(stats.binom.isf(alpha, n_pairs, q)) + 1
    while crit > 0 and binom_sf(crit - 2, n_pairs, q) <= alpha:
        crit -= 1  # isf is a quantile; step down to the exact boundary
    while crit <= n_pairs and binom_sf(crit - 1, n_pairs, q) > alpha:
        crit += 1
    return crit


def identical_mask_test(
    n_identical: int, n_pairs: int, C: int, p: float, *, alpha: float, overlapping: bool = False
) -> StatResult:
    """One-sided exact test: are identical pairs of masks more frequent than chance allows?

    Each of ``n_pairs`` pairs of masks (``C`` independent Bernoulli(p) decisions each) is
    identical with probability ``q = (p^2 + (1-p)^2)^C`` under H0; ``p_value =
    P(Binomial(n_pairs, q) >= n_identical)``.  Guarantee: false-alarm rate <= ``alpha`` (exact,
    pairs assumed disjoint so the counts are independent).  When ``q`` is tiny one identical
    pair is already damning; ``detail["critical_count"]`` is the smallest count that rejects.

    ``overlapping=True`` is for pairs that share masks (every pair among a set of masks): their
    identities are then dependent, and the p-value is Markov's bound ``E[K] / k = n_pairs q / k``,
    valid under any dependence (and as powerful as the exact test where ``n_pairs q`` is tiny,
    the only regime in which such a test can reject at a small alpha).
    """
    alpha = check_error_rate("alpha", alpha)
    n_pairs = check_count("n_pairs", n_pairs, minimum=1)
    k = check_count("n_identical", n_identical)
    if k > n_pairs:
        raise ValueError(f"need n_identical <= n_pairs, got {k} > {n_pairs}")
    q = identical_mask_probability(C, p)
    if overlapping:
        pval = n_pairs * q / k if k > 0 else 1.0
        crit = max(1, math.ceil(n_pairs * q / alpha))
    else:
        pval = float(binom_sf(k - 1, n_pairs, q)) if k > 0 else 1.0
        crit = _identical_critical_count(n_pairs, q, alpha)
    return StatResult(
        test="identical-masks",
        statistic=float(k),
        p_value=min(1.0, pval),
        alpha=alpha,
        n=n_pairs,
        estimate=k / n_pairs,
        detail={"q": q, "expected": n_pairs * q, "C": C, "p": p, "critical_count": crit,
                "overlapping": overlapping},
    )
