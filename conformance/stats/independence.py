"""Are drop decisions independent?  The phi test of paired decisions; identical masks.

Three families: ``phi_test`` (2x2 table of paired decisions), ``identical_pairs_test`` (a count
of identical pairs of masks) and ``identical_masks_test`` (every pair among a set of masks).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from conformance.stats import _validate as validate
from conformance.stats._fast import binom_sf, hypergeom_cdf, hypergeom_pmf, hypergeom_sf
from conformance.stats._scipy import special, stats
from conformance.stats._search import ceil_count, smallest_by_doubling, smallest_effect
from conformance.stats.normal import z_power, z_two_sided
from conformance.stats.result import StatResult, not_testable, optional


@dataclass(frozen=True, kw_only=True)
class PhiResult(StatResult):
    """``phi_test``: the 2x2 ``table`` ``[[both, a only], [b only, neither]]``.  A table with
    an empty row or column is not ``testable`` (``reason`` says so, ``method`` is ``None``);
    otherwise ``method`` is "fisher", with the smallest expected cell and Pearson's p-value
    beside it."""

    table: tuple[tuple[int, int], tuple[int, int]]
    beta: float
    testable: bool
    method: str | None
    reason: str | None = optional()
    expected_min: float | None = optional()
    pearson_p_value: float | None = optional()


@dataclass(frozen=True, kw_only=True)
class IdenticalResult(StatResult):
    """``identical_pairs_test`` and ``identical_masks_test``: pairs of masks of ``length``
    decisions at rate ``p`` are identical by chance with probability ``q`` (``expected`` such
    pairs in all); ``critical_count`` identical pairs reject.  ``overlapping``: the pairs share
    masks (Markov's bound).  ``identical_masks_test`` adds the number of masks (``vectors``)
    and the length from which one identical pair rejects (``min_length``)."""

    q: float
    expected: float
    length: int
    p: float
    beta: float
    critical_count: int
    overlapping: bool
    vectors: int | None = optional()
    min_length: int | None = optional()


def phi_test(a: np.ndarray, b: np.ndarray, *, alpha: float, beta: float = 1e-3) -> PhiResult:
    """Test independence of paired boolean decisions ``(a[i], b[i])``: Fisher's exact test.

    E.g. channel c and c+1 of one sample, sample n and n+1, call t and t+1.  Two-sided Fisher
    exact test of the 2x2 table at every size.  The Pearson chi-square (no continuity
    correction) is reported beside it but not used to decide: with skewed margins its
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
    alpha, beta = validate.rates(alpha, beta)
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
    cells = tuple(tuple(int(c) for c in row) for row in table)
    if rows.min() == 0 or cols.min() == 0:
        return not_testable(
            PhiResult, test="independence-2x2", alpha=alpha, n=n,
            reason="a row or column of the 2x2 table is empty",
            mde=phi_mde(n, alpha=alpha, beta=beta), table=cells, beta=beta, testable=False,
            method=None,
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
    return PhiResult(
        test="independence-2x2",
        statistic=stat,
        p_value=float(min(1.0, pval)),
        alpha=alpha,
        n=n,
        mde=mde,
        estimate=float(phi),
        ci=(max(-1.0, phi - half), min(1.0, phi + half)),
        table=cells,
        beta=beta,
        testable=True,
        method="fisher",
        expected_min=float(expected.min()),
        pearson_p_value=float(special.chdtrc(1, stat)),
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


def _margins(p: float) -> tuple[float, float] | None:
    """Margins ``(p, p)``; None (the closed form) at p = 1/2, where they change nothing."""
    p = validate.open_probability("p", p)
    return None if p == 0.5 else (p, p)


def _check_rates_pair(rates: tuple[float, float] | None) -> tuple[float, float] | None:
    if rates is None:
        return None
    if len(rates) != 2:
        raise ValueError(f"rates must be a pair (rate of a, rate of b), got {rates!r}")
    return (
        validate.open_probability("rates[0]", rates[0]),
        validate.open_probability("rates[1]", rates[1]),
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


def phi_mde(n: int, *, alpha: float, beta: float, rates: tuple[float, float] | None = None,
            p: float = 0.5) -> float:
    """Smallest ``|phi|`` that ``phi_test`` detects with power >= ``1 - beta``.

    ``sqrt(n) phi_hat`` is approximately normal with sd ``sqrt(n Var(phi_hat))``, which is 1
    under independence and, under dependence, depends on ``phi`` and on the margins: ``rates``
    = (P(a), P(b)).  Without ``rates`` this is ``(z_{1-alpha/2} + z_{1-beta}) / sqrt(n)``, right
    for margins near 1/2 but optimistic for skewed ones (measured miss rate 1.5x ``beta`` at
    rates 0.1 / 0.1 and beta = 0.1, 4x at beta = 1e-3): pass ``rates`` for a conservative
    value, which uses the delta-method variance at the alternative for both signs of ``phi``.
    Large-sample: assumes every expected cell count is well above 5.

    ``p`` is the rate of both decisions when ``rates`` is not given (the checks pair decisions
    of one implementation at one drop rate): margins ``(p, p)``.  The default 1/2 keeps the
    plain formula; at p = 0.1 the margin-1/2 value was optimistic (miss rate 1.5e-3 measured
    at phi = 0.02 for a stated 1e-3); with ``p`` the miss rate is at most ``beta`` (tests).
    """
    alpha, beta = validate.rates(alpha, beta)
    n = validate.count("n", n, minimum=1)
    rates = _check_rates_pair(rates if rates is not None else _margins(p))
    za, zb = z_two_sided(alpha), z_power(beta)
    root_n = math.sqrt(n)
    phi = (za + zb) / root_n
    if rates is None:
        return phi

    def excess(x: float) -> float:
        return _phi_needed(x, rates, za, zb) - root_n

    # _phi_needed(phi) falls as phi grows (roughly (za + zb sd) / phi); bracket, then solve;
    # the start suffices where sd <= 1 (the plain formula); a |phi| above 1 does not exist
    return smallest_effect(excess, phi, growth=1.5, limit=math.nextafter(1.0, 2.0))


def phi_sample_size(phi: float, *, alpha: float, beta: float,
                    rates: tuple[float, float] | None = None, p: float = 0.5) -> int:
    """Number of pairs for which ``phi_test`` detects ``|phi|`` with power >= 1 - beta;
    inverse of ``phi_mde`` (same normal approximation, same margins: ``rates``, else
    ``(p, p)``, the rate of the paired decisions)."""
    alpha, beta = validate.rates(alpha, beta)
    phi = validate.effect("phi", phi)
    rates = _check_rates_pair(rates if rates is not None else _margins(p))
    n = max(1, ceil_count(_phi_needed(phi, rates, z_two_sided(alpha), z_power(beta)) ** 2))
    while phi_mde(n, alpha=alpha, beta=beta, rates=rates) > phi:
        n += 1  # floating-point guard
    return n


def identical_mask_probability(length: int, p: float) -> float:
    """Probability that two independent masks of ``length`` Bernoulli(p) decisions are
    identical: ``(p^2 + (1 - p)^2)^length`` (in log space; may underflow to 0, which is
    correct)."""
    length = validate.count("length", length, minimum=1)
    p = validate.closed_probability("p", p)
    per = p * p + (1.0 - p) * (1.0 - p)
    return math.exp(length * math.log(per))


@functools.lru_cache(maxsize=1024)
def _exact_critical_count(n_pairs: int, q: float, alpha: float) -> int:
    """Smallest count whose upper tail P(X >= c) is <= alpha (n_pairs + 1 if none)."""
    if q == 0.0:
        return 1
    crit = int(stats.binom.isf(alpha, n_pairs, q)) + 1
    while crit > 0 and binom_sf(crit - 2, n_pairs, q) <= alpha:
        crit -= 1  # isf is a quantile; step down to the exact boundary
    while crit <= n_pairs and binom_sf(crit - 1, n_pairs, q) > alpha:
        crit += 1
    return crit


def _pairs_critical_count(n_pairs: int, q: float, alpha: float, overlapping: bool) -> int:
    """Identical pairs that ``identical_pairs_test`` needs to reject: for overlapping pairs
    Markov's ``ceil(n_pairs q / alpha)`` (>= 1; forgiving float noise just above an integer),
    else the exact binomial boundary."""
    if overlapping:
        return max(1, math.ceil(n_pairs * q / alpha * (1.0 - 1e-12)))
    return _exact_critical_count(n_pairs, q, alpha)


def _copied_fraction(c: int, trials: int, beta: float) -> float:
    """Smallest ``f`` with ``P(Binomial(trials, f) >= c) >= 1 - beta``: the fraction of copies
    among ``trials`` chances that reaches the critical count ``c`` with power 1 - beta (exact,
    incomplete beta, never optimistic); ``inf`` when ``c > trials``."""
    if c > trials:
        return math.inf
    # P(Bin(n, f) >= c) = I_f(c, n - c + 1): solve for 1 - beta, then never optimistic
    f = float(special.betaincinv(c, trials - c + 1, 1.0 - beta))
    while f < 1.0 and float(special.betainc(c, trials - c + 1, f)) < 1.0 - beta:
        f = min(1.0, f * (1.0 + 1e-12) + 1e-300)
    return f


def _copies_sample_size(ok: Callable[[int], bool], critical: Callable[[int], int], mde: float,
                        *, minimum: int, why: Callable[[int], str]) -> int:
    """Smallest number (of pairs, of masks) whose copied-fraction MDE qualifies (``ok``);
    ValueError (``why(n)``) once the critical count ``critical(n)`` outgrows the copies
    ``mde * n``."""

    def give_up(n: int) -> None:
        if n > 1 << 32 or critical(n) > mde * n + 10 * math.sqrt(n) + 50:
            raise ValueError(why(n))

    return smallest_by_doubling(ok, minimum=minimum, give_up=give_up)


def identical_pairs_test(n_identical: int, n_pairs: int, length: int, p: float, *,
                         alpha: float, beta: float = 1e-3,
                         overlapping: bool = False) -> IdenticalResult:
    """One-sided exact test: are identical pairs of masks more frequent than chance allows?

    Each of ``n_pairs`` pairs of masks (``length`` independent Bernoulli(p) decisions each) is
    identical with probability ``q = (p^2 + (1-p)^2)^length`` under H0; ``p_value =
    P(Binomial(n_pairs, q) >= n_identical)``.  Guarantee: false-alarm rate <= ``alpha``
    (exact, pairs assumed disjoint so the counts are independent).  When ``q`` is tiny one
    identical pair is already damning; ``critical_count`` is the smallest count that rejects.
    Power >= ``1 - beta`` against a fraction >= ``mde`` of the pairs being copies
    (``identical_pairs_mde``).

    ``overlapping=True`` is for pairs that share masks (every pair among a set of masks): their
    identities are then dependent, and the p-value is Markov's bound ``E[K] / k = n_pairs q / k``,
    valid under any dependence (and as powerful as the exact test where ``n_pairs q`` is tiny,
    the only regime in which such a test can reject at a small alpha).
    """
    alpha, beta = validate.rates(alpha, beta)
    n_pairs = validate.count("n_pairs", n_pairs, minimum=1)
    k = validate.count("n_identical", n_identical)
    if k > n_pairs:
        raise ValueError(f"need n_identical <= n_pairs, got {k} > {n_pairs}")
    q = identical_mask_probability(length, p)
    if overlapping:
        pval = n_pairs * q / k if k > 0 else 1.0  # Markov: P(K >= k) <= E[K] / k
    else:
        pval = float(binom_sf(k - 1, n_pairs, q)) if k > 0 else 1.0
    return IdenticalResult(
        test="identical-masks",
        statistic=float(k),
        p_value=min(1.0, pval),
        alpha=alpha,
        n=n_pairs,
        mde=identical_pairs_mde(n_pairs, length, p, alpha=alpha, beta=beta,
                                overlapping=overlapping),
        estimate=k / n_pairs,
        q=q,
        expected=n_pairs * q,
        length=length,
        p=p,
        beta=beta,
        critical_count=_pairs_critical_count(n_pairs, q, alpha, overlapping),
        overlapping=overlapping,
    )


def identical_pairs_mde(n_pairs: int, length: int, p: float, *, alpha: float, beta: float,
                        overlapping: bool = False) -> float:
    """Fraction ``f`` of copied pairs that ``identical_pairs_test`` detects with power 1 - beta.

    Alternative: each pair is, with probability ``f``, a copy (a reused seed, a cached mask:
    identical whatever the chance ``q``).  The identical count is then at least
    Binomial(n_pairs, f), so the test (reject at ``critical_count`` identical pairs) has power
    >= ``P(Binomial(n_pairs, f) >= c)``; ``f`` solves that for ``1 - beta`` exactly.  ``inf``
    when ``c > n_pairs``.
    """
    alpha, beta = validate.rates(alpha, beta)
    n_pairs = validate.count("n_pairs", n_pairs, minimum=1)
    q = identical_mask_probability(length, p)
    return _copied_fraction(_pairs_critical_count(n_pairs, q, alpha, overlapping), n_pairs, beta)


def identical_pairs_sample_size(mde: float, length: int, p: float, *, alpha: float,
                                beta: float, overlapping: bool = False) -> int:
    """Number of pairs for which ``identical_pairs_test`` detects a copied fraction ``mde``:
    the smallest (to the test's discreteness) with ``identical_pairs_mde <= mde``; inverse of
    ``identical_pairs_mde``.  ValueError when no number qualifies (a fraction below what
    chance already makes identical, ``q``)."""
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)
    q = identical_mask_probability(length, p)

    def ok(n: int) -> bool:
        return identical_pairs_mde(n, length, p, alpha=alpha, beta=beta,
                                   overlapping=overlapping) <= mde

    return _copies_sample_size(
        ok, lambda n: _pairs_critical_count(n, q, alpha, overlapping), mde, minimum=1,
        why=lambda n: f"no number of pairs detects a copied fraction {mde} with masks of "
        f"length {length} at p={p}, alpha={alpha}: chance alone makes a fraction {q:.3g} "
        "identical",
    )


def identical_masks_min_length(n_pairs: int, p: float, *, alpha: float) -> int:
    """Shortest mask length at which a single identical pair among ``n_pairs`` is significant.

    With masks of ``L`` independent Bernoulli(p) decisions, two distinct masks agree with
    probability ``q = (p^2 + (1-p)^2)^L``; the union bound (Markov's with K >= 1) gives
    ``P(any of n_pairs pairs identical) <= n_pairs q``, valid whatever the dependence between
    pairs (all pairs among a set of masks share masks).  Returns the smallest ``L`` with
    ``n_pairs q <= alpha``.  E.g. 1225 pairs (50 masks) at alpha = 1e-6: L = 31 at p = 0.5 but
    L = 106 at p = 0.1 or 0.9, and L = 1047 at p = 0.01: compare whole calls, not one sample's
    C channels, when C is shorter.
    """
    alpha = validate.error_rate("alpha", alpha)
    n_pairs = validate.count("n_pairs", n_pairs, minimum=1)
    p = validate.open_probability("p", p)
    per = p * p + (1.0 - p) * (1.0 - p)
    length = max(1, math.ceil(math.log(alpha / n_pairs) / math.log(per) - 1e-9))
    while n_pairs * math.exp(length * math.log(per)) > alpha:
        length += 1  # floating-point guard
    return length


def _masks_critical(n_vectors: int, length: int, p: float, alpha: float) -> int:
    """Identical pairs needed to reject among all pairs of ``n_vectors`` masks (Markov)."""
    n_pairs = n_vectors * (n_vectors - 1) // 2
    return _pairs_critical_count(n_pairs, identical_mask_probability(length, p), alpha, True)


def identical_masks_mde(n_vectors: int, length: int, p: float, *, alpha: float,
                        beta: float) -> float:
    """Fraction ``f`` of copied masks that ``identical_masks_test`` detects with power 1 - beta.

    Alternative: each of the ``n_vectors`` masks after the first is, independently with
    probability ``f``, a copy of another one (a reused seed, a cached mask).  Every copy makes
    at least one identical pair, so the test (reject at ``c = ceil(n_pairs q / alpha)``
    identical pairs) has power >= ``P(Binomial(n_vectors - 1, f) >= c)``; ``f`` solves that
    for ``1 - beta`` exactly (incomplete beta).  When ``length >= identical_masks_min_length``,
    ``c = 1`` and ``f = 1 - beta^(1 / (n_vectors - 1))``.  ``inf`` when ``c > n_vectors - 1``.
    """
    alpha, beta = validate.rates(alpha, beta)
    n_vectors = validate.count("n_vectors", n_vectors, minimum=2)
    length = validate.count("length", length, minimum=1)
    p = validate.open_probability("p", p)
    return _copied_fraction(_masks_critical(n_vectors, length, p, alpha), n_vectors - 1, beta)


def identical_masks_sample_size(mde: float, length: int, p: float, *, alpha: float,
                                beta: float) -> int:
    """Number of masks for which ``identical_masks_test`` detects a copied fraction ``mde``.

    Inverse of ``identical_masks_mde``: the smallest ``n_vectors`` with MDE <= ``mde``.  Raises
    ``ValueError`` when no number qualifies: with masks shorter than the minimum length the
    critical count grows like ``n^2 q / alpha``, faster than the copies ``f n`` (lengthen
    the masks, ``identical_masks_min_length``).
    """
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)

    def ok(n: int) -> bool:  # identical_masks_mde validates length and p
        return identical_masks_mde(n, length, p, alpha=alpha, beta=beta) <= mde

    # the MDE is 1 - beta^(1/(n-1)) while c = 1, i.e. falls with n; beyond, c may grow
    return _copies_sample_size(
        ok, lambda n: _masks_critical(n, length, p, alpha), mde, minimum=2,
        why=lambda n: f"no number of vectors detects a copied fraction {mde} with vectors of "
        f"length {length} at p={p}, alpha={alpha}: need length >= "
        f"{identical_masks_min_length(max(1, n * (n - 1) // 2), p, alpha=alpha)}",
    )


def count_identical_pairs(vectors: np.ndarray) -> int:
    """Number of identical pairs among the rows of a 2-D boolean array (all pairs, O(n log n))."""
    v = np.asarray(vectors)
    if v.ndim != 2 or v.dtype != np.bool_:
        raise ValueError(
            f"vectors must be a 2-D boolean array (vector, decision), got {v.dtype} {v.shape}"
        )
    if v.shape[0] < 2:
        return 0
    packed = np.packbits(v, axis=1)
    _, counts = np.unique(packed, axis=0, return_counts=True)
    return int(np.sum(counts * (counts - 1) // 2))


def identical_masks_test(vectors: np.ndarray, p: float, *, alpha: float,
                         beta: float = 1e-3) -> IdenticalResult:
    """Are any two of these masks identical more often than chance allows?

    ``vectors`` is a 2-D boolean array, one mask of ``L`` decisions per row (a sample's C
    channels, a call's N*C decisions, ...); every pair of rows is compared.  Pairs share
    masks, so their identities are dependent: the p-value is Markov's bound
    ``min(1, n_pairs q / K)`` for ``K >= 1`` identical pairs (``q = (p^2 + q^2)^L``; the union
    bound at K = 1), valid under any dependence.  Guarantee: false-alarm rate <= ``alpha``.
    Power: a single identical pair rejects once ``L >= identical_masks_min_length(n_pairs, p,
    alpha=alpha)`` (``min_length``; ``critical_count`` is the count that rejects at this L),
    and power >= ``1 - beta`` against a copied fraction of masks >= ``mde``
    (``identical_masks_mde``).  ``estimate`` is the fraction of identical pairs.
    """
    alpha, beta = validate.rates(alpha, beta)
    p = validate.open_probability("p", p)
    v = np.asarray(vectors)
    k = count_identical_pairs(v)
    m, length = (int(s) for s in v.shape)
    if m < 2 or length < 1:
        raise ValueError(f"need at least 2 vectors of length >= 1, got shape {v.shape}")
    n_pairs = m * (m - 1) // 2
    # the count test on all (overlapping) pairs; power stated against copied masks
    pairs = identical_pairs_test(k, n_pairs, length, p, alpha=alpha, beta=beta,
                                 overlapping=True)
    return dataclasses.replace(
        pairs,
        test="identical-masks-markov",
        mde=identical_masks_mde(m, length, p, alpha=alpha, beta=beta),
        vectors=m,
        min_length=identical_masks_min_length(n_pairs, p, alpha=alpha),
    )
