"""Exact binomial test of a drop rate, with its MDE and sample-size siblings."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from conformance.stats import _validate as validate
from conformance.stats._fast import binom_cdf, binom_pmf, binom_sf
from conformance.stats._scipy import brentq, special, stats
from conformance.stats._search import ceil_count
from conformance.stats.normal import z_power, z_two_sided
from conformance.stats.result import StatResult


@dataclass(frozen=True, kw_only=True)
class BinomialResult(StatResult):
    """``binomial_test``: ``k`` of ``n`` trials against the rate ``p0``, at power ``1 - beta``."""

    k: int
    p0: float
    beta: float


# scipy.stats.binomtest's relative tolerance when comparing pmf values (kept identical here so
# the vectorised p-values agree with binomtest bit for bit in the decision).
_RERR = 1.0 + 1e-7


def binomial_pvalues(k: np.ndarray, n: np.ndarray | int, p: float) -> np.ndarray:
    """Exact two-sided binomial p-values, vectorised; same rule as ``scipy.stats.binomtest``.

    The p-value of ``k`` is the probability under Binomial(n, p) of every outcome no more
    likely than ``k`` (the "likelihood" two-sided rule).  Broadcasts ``k`` against ``n``.
    Cost: about ``log2(n)`` vectorised pmf evaluations, no O(n) arrays.
    """
    p = validate.open_probability("p", p)
    k_arr, n_arr = np.broadcast_arrays(np.asarray(k), np.asarray(n))
    if k_arr.size and not (
        np.issubdtype(k_arr.dtype, np.integer) and np.issubdtype(n_arr.dtype, np.integer)
    ):
        raise ValueError(f"k and n must be integer arrays, got dtypes {k_arr.dtype}, {n_arr.dtype}")
    k_arr = k_arr.astype(np.int64)
    n_arr = n_arr.astype(np.int64)
    if np.any(n_arr < 1) or np.any(k_arr < 0) or np.any(k_arr > n_arr):
        raise ValueError("need n >= 1 and 0 <= k <= n for every element")
    mean = p * n_arr
    thr = binom_pmf(k_arr, n_arr, p) * _RERR
    pval = np.ones(k_arr.shape, dtype=float)

    low = k_arr < mean
    if np.any(low):
        # Upper tail: first x on the descending side [ceil(np), n] with pmf(x) <= thr.
        nn, tt = n_arr[low], thr[low]
        start = _first_descending_at_most(nn, p, tt, np.ceil(mean[low]).astype(np.int64))
        pval[low] = binom_cdf(k_arr[low], nn, p) + binom_sf(start - 1, nn, p)
    high = k_arr > mean
    if np.any(high):
        # Lower tail: last x on the ascending side [0, floor(np)] with pmf(x) <= thr.
        nn, tt = n_arr[high], thr[high]
        stop = _last_ascending_at_most(nn, p, tt, np.floor(mean[high]).astype(np.int64))
        pval[high] = binom_cdf(stop, nn, p) + binom_sf(k_arr[high] - 1, nn, p)
    return np.minimum(pval, 1.0)


def _first_descending_at_most(
    n: np.ndarray, p: float, thr: np.ndarray, lo: np.ndarray
) -> np.ndarray:
    """Smallest x in [lo, n] with pmf(x) <= thr (pmf decreasing there); n + 1 if none."""
    lo = lo.copy()
    hi = n + 1
    while True:
        active = lo < hi
        if not np.any(active):
            return lo
        mid = (lo + hi) // 2
        ok = binom_pmf(np.minimum(mid, n), n, p) <= thr
        hi = np.where(active & ok, mid, hi)
        lo = np.where(active & ~ok, mid + 1, lo)


def _last_ascending_at_most(n: np.ndarray, p: float, thr: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Largest x in [0, hi] with pmf(x) <= thr (pmf increasing there); -1 if none."""
    lo = np.full_like(hi, -1)
    hi = hi.copy()
    # invariant: answer in [lo, hi]; lo = -1 means "none"
    while True:
        active = lo < hi
        if not np.any(active):
            return lo
        mid = (lo + hi + 1) // 2
        ok = binom_pmf(mid, n, p) <= thr
        lo = np.where(active & ok, mid, lo)
        hi = np.where(active & ~ok, mid - 1, hi)


def binomial_test(
    k: int, n: int, p0: float, *, alpha: float, beta: float = 1e-3
) -> BinomialResult:
    """Two-sided exact binomial test of ``H0: rate == p0`` from ``k`` successes in ``n`` trials.

    Guarantee: false-alarm rate <= ``alpha`` exactly (``scipy.stats.binomtest``, conservative
    because discrete).  Power >= ``1 - beta`` against any true rate with ``|rate - p0| >= mde``
    (``mde = binomial_mde(n, p0, ...)``, computed from the exact power function).
    ``ci`` is the Clopper-Pearson interval at level ``1 - alpha``; ``statistic`` is the z-score
    ``(k - n p0) / sqrt(n p0 (1 - p0))`` (for reports; the decision uses the exact p-value).
    """
    alpha, beta = validate.rates(alpha, beta)
    n, k = _trials(n, k)
    p0 = validate.open_probability("p0", p0)
    res = stats.binomtest(k, n, p0, alternative="two-sided")
    # = res.proportion_ci(1 - alpha, method="exact"), computed directly (faster, more precise)
    ci = clopper_pearson(k, n, 1.0 - alpha)
    z = (k - n * p0) / math.sqrt(n * p0 * (1.0 - p0))
    return BinomialResult(
        test="binomial-exact",
        statistic=float(z),
        p_value=float(res.pvalue),
        alpha=alpha,
        n=n,
        mde=binomial_mde(n, p0, alpha=alpha, beta=beta),
        estimate=k / n,
        ci=ci,
        k=k,
        p0=p0,
        beta=beta,
    )


def _trials(n: int, k: int) -> tuple[int, int]:
    """Validated ``n >= 1`` trials and ``0 <= k <= n`` successes."""
    n = validate.count("n", n, minimum=1)
    k = validate.count("k", k)
    if k > n:
        raise ValueError(f"need k <= n, got k={k}, n={n}")
    return n, k


def _last_true(pred, lo: int, hi: int) -> int:
    """Largest x in [lo, hi] with ``pred(x)`` true, for ``pred`` true on a prefix; lo - 1 if none.

    ``pred`` takes an int64 array; each round evaluates it on up to 65 points, so even
    n = 1e9 needs only five vectorised rounds.
    """
    if hi < lo or not pred(np.array([lo], dtype=np.int64))[0]:
        return lo - 1
    # invariant: pred(lo) is true; the answer lies in [lo, hi]
    while hi > lo:
        cand = np.unique(np.linspace(lo, hi, min(65, hi - lo + 1)).round().astype(np.int64))
        ok = pred(cand)
        i = int(np.flatnonzero(ok)[-1])
        if i == len(cand) - 1:
            return int(cand[-1])
        lo, hi = int(cand[i]), int(cand[i + 1]) - 1
    return lo


def binomial_critical_counts(n: int, p0: float, *, alpha: float) -> tuple[int, int]:
    """Rejection region of ``binomial_test``: reject iff ``k <= k_low`` or ``k >= k_high``.

    Returns ``(k_low, k_high)``; ``k_low = -1`` / ``k_high = n + 1`` when a tail cannot reject.
    Exact (same two-sided rule as ``scipy.stats.binomtest``), so the region's probability under
    ``p0`` is at most ``alpha``.  Useful for exact power and for early stopping.
    """
    alpha = validate.error_rate("alpha", alpha)
    n = validate.count("n", n, minimum=1)
    p0 = validate.open_probability("p0", p0)
    return _critical_counts(n, p0, alpha)


@functools.lru_cache(maxsize=4096)  # checks and planners ask for the same (n, p0, alpha) often
def _critical_counts(n: int, p0: float, alpha: float) -> tuple[int, int]:
    mean = n * p0

    def rejects(k: np.ndarray) -> np.ndarray:
        return binomial_pvalues(k, n, p0) <= alpha

    # Below the mean the p-value rises with k; above it, it falls with k.
    k_low = _last_true(rejects, 0, math.ceil(mean) - 1)
    top = math.floor(mean) + 1
    # mirror the upper side so the same "last true on a prefix" search applies
    k_high = n - _last_true(lambda j: rejects(n - j), 0, n - top)
    return k_low, k_high


def binomial_mde(n: int, p0: float, *, alpha: float, beta: float) -> float:
    """Smallest absolute rate difference ``d`` such that ``binomial_test`` has power >= 1 - beta.

    Guarantee: for every true rate ``p1`` with ``|p1 - p0| >= d`` the two-sided level-``alpha``
    exact test rejects with probability >= ``1 - beta``.  Computed exactly (exact rejection
    region, exact binomial power, solved for ``p1 = p0 + d`` and ``p1 = p0 - d``; the larger
    ``d`` is returned), so it holds for any ``n``, skewed ``p0`` and tiny ``alpha``.  Returns
    ``inf`` when no rate inside [0, 1] is detectable in some direction.  Not monotone in ``n``
    to the last count (the exact test is discrete), but within a fraction of a percent.
    """
    alpha, beta = validate.rates(alpha, beta)
    n = validate.count("n", n, minimum=1)
    p0 = validate.open_probability("p0", p0)
    return _mde(n, p0, alpha, beta)


@functools.lru_cache(maxsize=4096)
def _mde(n: int, p0: float, alpha: float, beta: float) -> float:
    k_low, k_high = _critical_counts(n, p0, alpha)
    if k_low < 0 or k_high > n:
        return math.inf  # one tail can never reject: that direction is undetectable
    target = 1.0 - beta

    def shortfall(p1: float) -> float:
        return _power_from_region(n, p1, k_low, k_high) - target

    # The power function falls then rises in p1 (one minimum near p0), so each side of p0 has
    # a single crossing of the target.  Solve to ~1e-11 relative, then step outward until the
    # target is met, so the returned d is never optimistic.
    hi = _outward_root(shortfall, p0, 1.0)
    lo = _outward_root(shortfall, p0, 0.0)
    return float(max(hi - p0, p0 - lo))


def _outward_root(f, inner: float, outer: float) -> float:
    """Point between ``inner`` (f < 0) and ``outer`` (f >= 0) with f >= 0, next to the root."""
    root = brentq(f, min(inner, outer), max(inner, outer), xtol=1e-14, rtol=1e-11)
    step = 1e-14 + 1e-11 * abs(root)
    direction = 1.0 if outer > inner else -1.0
    while f(root) < 0.0:
        root = min(max(root + direction * step, 0.0), 1.0)
        step *= 2.0
    return root


def _power_from_region(n: int, p1: float, k_low: int, k_high: int) -> float:
    """Probability under Binomial(n, p1) of ``k <= k_low`` or ``k >= k_high``."""
    power = 0.0
    if k_low >= 0:
        power += float(binom_cdf(k_low, n, p1))
    if k_high <= n:
        power += float(binom_sf(k_high - 1, n, p1))
    return power


def _normal_sample_size(mde: float, p0: float, za: float, zb: float) -> float:
    """Normal-approximation n (variance at null and alternative, worse direction)."""
    n = 1.0
    for p1 in (min(p0 + mde, 1.0), max(p0 - mde, 0.0)):
        d = abs(p1 - p0)
        a = za * math.sqrt(p0 * (1.0 - p0)) + zb * math.sqrt(p1 * (1.0 - p1))
        n = max(n, (a / d) ** 2)
    return n


def binomial_sample_size(mde: float, p0: float, *, alpha: float, beta: float) -> int:
    """Number of trials ``n`` for which ``binomial_test`` detects ``|rate - p0| >= mde``.

    Guarantee: ``binomial_mde(n, p0, alpha=alpha, beta=beta) <= mde`` for the returned ``n``,
    i.e. exact power >= ``1 - beta`` at two-sided level ``alpha``.  Starts from the closed-form
    normal approximation ``n = ((z_{1-alpha/2} sqrt(p0 q0) + z_{1-beta} sqrt(p1 q1)) / mde)^2``
    and moves to the smallest ``n`` whose exact MDE qualifies (to 0.5 % relative: a run costs
    that many more draws at most, and the search stays cheap enough to run per check).
    """
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)
    p0 = validate.open_probability("p0", p0)
    return _sample_size(mde, p0, alpha, beta)


@functools.lru_cache(maxsize=1024)
def _sample_size(mde: float, p0: float, alpha: float, beta: float) -> int:
    # Cached: calibration and selftest ask for the same sizes on every run.
    za, zb = z_two_sided(alpha), z_power(beta)

    def mde_at(n: int) -> float:
        return binomial_mde(n, p0, alpha=alpha, beta=beta)

    # Newton-like steps on n ~ 1/mde^2 from the normal guess land within the test's sawtooth.
    n = max(1, ceil_count(_normal_sample_size(mde, p0, za, zb)))
    for _ in range(4):
        m = mde_at(n)
        n_next = n * 2 if not math.isfinite(m) else max(1, math.ceil(n * (m / mde) ** 2))
        if n_next == n:
            break
        n = n_next
    # Newton lands within the sawtooth of the minimal n; step up until the exact MDE holds.
    while mde_at(n) > mde:
        n = math.ceil(n * 1.002) + 1
    return n


def binomial_edge_sample_size(p0: float, *, alpha: float) -> int:
    """Trials at which an implementation stuck at the nearer edge -- a rate of 0 when
    ``p0 <= 1/2`` (never drops), 1 above (always drops) -- fails ``binomial_test`` at level
    ``alpha`` with certainty.

    Guarantee: for the returned ``n``, the exact two-sided p-value of ``0`` successes at
    ``min(p0, 1 - p0)`` (the same as of ``n`` at ``max(p0, 1 - p0)``) is at most ``alpha``, so
    that count -- the only one such an implementation can give -- rejects: power 1, whatever
    ``beta``.  Starts from ``(1 - q)^n <= alpha / 2`` and grows by 5 % until the exact p-value
    qualifies (it falls with ``n`` in a sawtooth, so ``n`` may be a step above the first that
    does: within 10 %).  The farther edge is found sooner.
    """
    alpha = validate.error_rate("alpha", alpha)
    p0 = validate.open_probability("p0", p0)
    q = min(p0, 1.0 - p0)
    n = max(1, math.ceil(math.log(2.0 / alpha) / -math.log1p(-q)))
    while float(binomial_pvalues(np.array([0]), n, q)[0]) > alpha:
        n = math.ceil(n * 1.05)
    return n


def binomial_normal_scores(k: np.ndarray, n: np.ndarray | int, p: float | np.ndarray) -> np.ndarray:
    """Exact normal scores of binomial counts: ``z = Phi^-1(P(X < k) + P(X = k) / 2)``.

    The mid-p probability integral transform of ``k`` under Binomial(n, p).  Unlike
    ``(k - n p) / sqrt(n p q)`` these scores have normal tails however skewed the binomial is,
    and a variance slightly below 1 (discreteness), so sums of their squares referred to a
    chi-square are conservative.  Each score is computed from the nearer tail (accurate to
    ~1e-300); a count beyond that gives +-inf.  ``k``, ``n`` and ``p`` broadcast.
    """
    p = np.asarray(p, dtype=float)
    if not np.all((p > 0.0) & (p < 1.0)):
        raise ValueError(f"p must lie in (0, 1), got {p.tolist()}")
    k = np.asarray(k)
    lower = binom_cdf(k - 1, n, p)
    half = 0.5 * binom_pmf(k, n, p)
    upper = binom_sf(k, n, p)
    with np.errstate(divide="ignore"):
        return np.where(lower <= upper, special.ndtri(lower + half), -special.ndtri(upper + half))


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval for a binomial rate observed as ``k`` of ``n``.

    The same numbers as ``binomtest(k, n).proportion_ci(confidence, method="exact")``, without
    its overhead (and exact where scipy root-finds).  Guarantee: covers the true rate with
    probability >= ``confidence``.  The one Clopper-Pearson interval of the package (the
    calibration's false-alarm bounds use it too).
    """
    n, k = _trials(n, k)
    tail = validate.error_rate("1 - confidence", 1.0 - confidence) / 2.0
    low = 0.0 if k == 0 else float(special.betaincinv(k, n - k + 1, tail))
    high = 1.0 if k == n else float(special.betaincinv(k + 1, n - k, 1.0 - tail))
    return low, high


__all__ = [
    "BinomialResult",
    "binomial_critical_counts",
    "binomial_edge_sample_size",
    "binomial_mde",
    "binomial_normal_scores",
    "binomial_pvalues",
    "binomial_sample_size",
    "binomial_test",
    "clopper_pearson",
]
