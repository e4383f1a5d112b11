"""Do counts vary as much as binomial counts should?  Two-sided test of the variance ratio.

A count of drops that has the right mean can still have the wrong variance: an implementation
that drops exactly ``round(p * N * C)`` channels per call is under-dispersed (variance ~0), one
whose decisions are shared in groups of g is over-dispersed (variance x g).  The drop-rate test
sees neither; this test sees both.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from conformance.stats import _validate as validate
from conformance.stats._scipy import brentq, special
from conformance.stats._search import smallest_by_doubling
from conformance.stats.binomial import binomial_normal_scores
from conformance.stats.result import StatResult


@dataclass(frozen=True, kw_only=True)
class DispersionResult(StatResult):
    """``dispersion_test``: ``counts`` counts, the tail the statistic points to (``direction``,
    "under" or "over") with both saddlepoint tails, and Pearson's statistic beside it."""

    beta: float
    counts: int
    direction: str
    p_lower: float
    p_upper: float
    pearson_statistic: float
    pearson_chi2_p_value: float


def _counts(
    counts: np.ndarray, trials: np.ndarray | int, p: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate and broadcast ``counts`` (L,), ``trials`` and ``p`` (scalars or (L,))."""
    k = np.asarray(counts)
    m = np.asarray(trials)
    pa = np.asarray(p, dtype=float)
    if k.ndim != 1 or k.size == 0:
        raise ValueError(f"counts must be a non-empty 1-D array, got shape {k.shape}")
    if not np.issubdtype(k.dtype, np.integer) or not np.issubdtype(m.dtype, np.integer):
        raise ValueError(f"counts and trials must be integers, got {k.dtype} and {m.dtype}")
    for name, arr in (("trials", m), ("p", pa)):
        if arr.ndim not in (0, 1) or (arr.ndim == 1 and arr.shape != k.shape):
            raise ValueError(f"{name} must be a scalar or have shape {k.shape}, got {arr.shape}")
    m = np.broadcast_to(m, k.shape).astype(np.int64)
    pa = np.broadcast_to(pa, k.shape).astype(float)
    k = k.astype(np.int64)
    if not np.all((pa > 0.0) & (pa < 1.0)):
        raise ValueError(
            f"p must lie in the open interval (0, 1), got range [{pa.min()}, {pa.max()}]"
        )
    if m.min() < 1:
        raise ValueError(f"trials must be >= 1 for every count, got min {m.min()}")
    if k.min() < 0 or np.any(k > m):
        bad = int(np.flatnonzero((k < 0) | (k > m))[0])
        raise ValueError(f"need 0 <= count <= trials, entry {bad}: count={k[bad]}, trials={m[bad]}")
    return k, m, pa


@functools.lru_cache(maxsize=1024)
def _fit_scalar(n: int, m: int | None, p: float | None) -> tuple[float, float, float]:
    """Three-cumulant fit of ``T`` for ``n`` counts of ``m`` trials at rate ``p`` (for MDEs)."""
    if m is None or p is None:
        return _fit(float(n), 2.0 * n, 8.0 * n)  # large counts: T ~ chi2(n)
    k, logpmf = _support(m, p)
    w = binomial_normal_scores(k.astype(np.int64), m, p) ** 2
    keep = np.isfinite(w)
    w, logpmf = w[keep], logpmf[keep]
    prob = np.exp(logpmf)
    prob /= prob.sum()
    mean = float(prob @ w)
    var = float(prob @ (w - mean) ** 2)
    third = float(prob @ (w - mean) ** 3)
    return _fit(n * mean, n * var, n * third)


def _fit(k1: float, k2: float, k3: float) -> tuple[float, float, float]:
    """Shifted, scaled chi-square ``b + a chi2(nu)`` with cumulants ``k1, k2, k3``.

    ``nu`` is capped at 1e8 (skewness ~3e-4): beyond that the fit is normal to within
    double precision of the tails used here, and a symmetric ``T`` (e.g. every trial count 2
    at p = 1/2, where ``k3 = 0``) needs a finite ``nu``.
    """
    nu = 1e8 if k3 <= 0.0 else min(1e8, 8.0 * k2**3 / (k3 * k3))
    a = math.sqrt(k2 / (2.0 * nu))
    return a, nu, k1 - a * nu


def _tails(t: float, fit: tuple[float, float, float]) -> tuple[float, float]:
    """(P(T <= t), P(T >= t)) under the fitted distribution."""
    a, nu, b = fit
    u = (t - b) / a
    if u <= 0.0:
        return 0.0, 1.0
    return float(special.chdtr(nu, u)), float(special.chdtrc(nu, u))


def _support(m: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Counts within 40 sd of the mean (the pmf beyond is below 1e-300) and their log pmf."""
    sd = math.sqrt(m * p * (1.0 - p))
    lo = max(0, math.floor(m * p - 40.0 * sd - 5.0))
    hi = min(m, math.ceil(m * p + 40.0 * sd + 5.0))
    k = np.arange(lo, hi + 1, dtype=float)
    logpmf = special.gammaln(m + 1.0) - special.gammaln(k + 1) - special.gammaln(m - k + 1.0)
    logpmf += k * math.log(p) + (m - k) * math.log1p(-p)
    return k, logpmf


@functools.lru_cache(maxsize=256)
def _score_support(m: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    """Log pmf and squared normal score of every count with pmf above ~1e-300 (cached: the
    checks test many draws of one (m, p))."""
    k, logpmf = _support(m, p)
    w = binomial_normal_scores(k.astype(np.int64), m, p) ** 2
    keep = np.isfinite(w)  # scores beyond ~1e-300 tails are inf: drop those counts
    return logpmf[keep], w[keep]


#: within this many standard deviations of its mean, T's tails are the normal ones (see tails)
NEAR_MEAN = 0.1


class _Saddlepoint:
    """Exact cumulant generating function of ``T = sum_i z_i^2`` and its Lugannani-Rice tails.

    ``z_i`` is the mid-p normal score of count ``k_i`` under Binomial(m_i, p_i), a function of
    ``k_i`` on a finite support, so ``K(theta) = sum_i log sum_k P(k) exp(theta z(k)^2)`` is
    exact (entries with one ``(m, p)`` grouped; support trimmed where the pmf is below 1e-300).
    Normal scores have normal tails, so ``z^2`` has a chi-square-like tail and ``K`` is finite
    where the saddlepoint needs it.  Raw Pearson terms ``(k - m p)^2 / (m p q)`` do not: with
    skewed p their right tail is so heavy that no saddlepoint or moment fit holds (measured: a
    three-cumulant fit x2 to x6 liberal at 1e-4 per tail with ``m p q`` ~ 4).
    """

    def __init__(self, m: np.ndarray, p: np.ndarray, weights: np.ndarray | None = None) -> None:
        # (m, p) as one complex number: np.unique sorts it natively, in the same (m, p) order
        # as np.unique(axis=1), which sorts row views and took 0.2 s on 10^6 entries
        pairs, inverse, weight = np.unique(m.astype(float) + 1j * np.asarray(p, dtype=float),
                                           return_inverse=True, return_counts=True)
        if weights is not None:  # entries that count for less than one (fitted rates)
            weight = np.bincount(inverse.reshape(-1), weights=weights, minlength=pairs.size)
        self.groups = []
        for mm, pp, c in zip(pairs.real, pairs.imag, weight, strict=True):
            logpmf, w = _score_support(int(mm), float(pp))
            self.groups.append((float(c), logpmf, w))
        self.t_min = sum(c * float(w.min()) for c, _, w in self.groups)
        self.t_max = sum(c * float(w.max()) for c, _, w in self.groups)
        self.log_p_max = sum(
            c * float(special.logsumexp(lp[w >= w.max() * (1 - 1e-12)])) for c, lp, w in self.groups
        )
        # P(T = t_min): every entry at its smallest value
        self.log_p_min = sum(
            c * float(special.logsumexp(lp[w <= w.min() * (1 + 1e-12) + 1e-300]))
            for c, lp, w in self.groups
        )

    def cgf(self, theta: float) -> tuple[float, float, float]:
        """``K, K', K''`` at ``theta``."""
        k0 = k1 = k2 = 0.0
        for c, logpmf, w in self.groups:
            e = logpmf + theta * w
            top = float(e.max())
            g = np.exp(e - top)
            s = float(g.sum())
            m1 = float(g @ w) / s
            m2 = float(g @ (w * w)) / s
            k0 += c * (top + math.log(s))
            k1 += c * m1
            k2 += c * (m2 - m1 * m1)
        return k0, k1, k2

    def tails(self, t: float) -> tuple[float, float]:
        """(P(T <= t), P(T >= t)), Lugannani-Rice."""
        if t < self.t_min * (1.0 - 1e-12) - 1e-12:
            return 0.0, 1.0
        if t <= self.t_min * (1.0 + 1e-12) + 1e-12:
            return float(math.exp(self.log_p_min)), 1.0
        if t > self.t_max * (1.0 + 1e-12):
            return 1.0, 0.0
        if t >= self.t_max * (1.0 - 1e-12):
            return 1.0, float(math.exp(self.log_p_max))
        k_zero, k_mean, k_var = self.cgf(0.0)
        scale = 1.0 / math.sqrt(k_var)
        if abs(t - k_mean) * scale < NEAR_MEAN:
            # Lugannani-Rice cancels catastrophically next to the mean (theta t - K(theta) ~
            # z^2 / 2 drowns in K's rounding over 10^5 counts: measured P(T <= t) = 0 at
            # 4e-4 sd below the mean); there the normal tail is exact to O(skew * z), and a
            # two-sided p-value above 0.9 decides nothing at any alpha the suite uses
            upper = float(special.ndtr(-(t - k_mean) * scale))
            return 1.0 - upper, upper

        def slope(theta: float) -> float:
            return self.cgf(theta)[1] - t

        side = 1.0 if t > k_mean else -1.0
        a, b = 0.0, side * scale
        while slope(b) * side < 0.0:
            a, b = b, b * 2.0
            if abs(b) > 1e15:
                break
        if slope(b) * side < 0.0:
            # t is beyond (or at) the support's edge in double precision: report the tail at
            # the last reachable point, which is less extreme than t (conservative)
            theta = a
            t = self.cgf(a)[1]
        else:
            theta = brentq(slope, min(a, b), max(a, b), xtol=1e-14, rtol=1e-13)
        if theta == 0.0:
            return 0.5, 0.5
        k0, _, k2 = self.cgf(theta)
        k0 -= k_zero  # K(0) is 0 but for the trimmed support and rounding: cancel both
        w = math.copysign(math.sqrt(max(0.0, 2.0 * (theta * t - k0))), theta)
        u = theta * math.sqrt(k2)
        upper = float(special.ndtr(-w)) + math.exp(-0.5 * w * w) / math.sqrt(2 * math.pi) * (
            1.0 / u - 1.0 / w
        )
        upper = min(1.0, max(0.0, upper))
        return 1.0 - upper, upper


def dispersion_test(counts: np.ndarray, trials: np.ndarray | int, p: np.ndarray | float, *,
                    alpha: float, beta: float = 1e-3,
                    fitted: np.ndarray | None = None) -> DispersionResult:
    """Two-sided test that independent counts ``k_i ~ Binomial(trials_i, p)`` have binomial
    variance (neither over- nor under-dispersed).

    Each count is replaced by its exact mid-p normal score ``z_i`` under Binomial(m_i, p_i)
    (``m_i = trials_i``) and ``T = sum z_i^2`` is referred to its *exact* null cumulant
    generating function (finite support per count) through the Lugannani-Rice saddlepoint
    tails; ``p_value = min(1, 2 min(P(T <= t), P(T >= t)))``.  Small ``T`` is
    under-dispersion (e.g. a fixed number dropped per call), large ``T`` over-dispersion
    (decisions shared in groups, a random per-call rate).  Pearson's ``sum (k - m p)^2 /
    (m p q)`` against chi2(L) is reported (``pearson_chi2_p_value``) but not used: for small
    ``m p`` its terms' variance is ``2 + (1 - 6pq)/(m pq)``, not 2, and its right tail is
    heavy (measured x10 to x1600 liberal at 1e-4 per tail for m p ~ 1 to 5).

    Guarantee: false-alarm rate <= ~``alpha`` (saddlepoint; measured per tail at 1e-2..1e-4
    within simulation error of nominal for m from 4 to 4096 and p from 0.01 to 0.5; for m = 1
    or 2, where ``T`` lives on a coarse lattice, up to x1.5 at 1e-2).  Power >= ``1 - beta``
    against a variance ratio ``r = Var(k) / (m p q)`` with ``|r - 1| >= mde``
    (``dispersion_mde``; the alternative modelled as ``T = r T_0``: near-normal counts with
    inflated or shrunk variance).  ``estimate`` is the observed variance ratio
    ``sum (k - m p)^2 / sum m p q``.

    ``fitted`` (one stratum label per count) says that each stratum's ``p`` is its own
    observed rate ``sum k / sum m`` rather than a claimed one: the test is then conditional on
    each stratum's total (a wrong rate cannot fail it; one fault, one failing check).  Fitting
    the rate costs each stratum of G counts one of its G degrees of freedom, as for Pearson's
    chi-square with fixed margins (whose conditional mean is ``G - 1``, Haldane): every count
    of the stratum enters the null with weight ``(G - 1) / G`` (its mean and variance shrink
    alike; exact in the normal limit, and a stratum of one count tests nothing).
    """
    alpha, beta = validate.rates(alpha, beta)
    k, m, pa = _counts(counts, trials, p)
    n = int(k.size)
    mf = m.astype(float)
    weights = _fitted_weights(fitted, n)
    resid2 = (k - mf * pa) ** 2
    npq = mf * pa * (1.0 - pa)
    pearson = float(np.sum(resid2 / npq))
    z = binomial_normal_scores(k, m, pa)
    t = float(np.sum(z * z))
    lower, upper = _Saddlepoint(m, pa, weights).tails(t)
    pval = min(1.0, 2.0 * min(lower, upper))
    uniform = bool(np.all(m == m[0]) and np.all(pa == pa[0]))
    effective = n if weights is None else max(1, round(float(weights.sum())))
    mde = dispersion_mde(
        effective, alpha=alpha, beta=beta, trials=int(m[0]) if uniform else None,
        p=float(pa[0]) if uniform else None,
    )
    return DispersionResult(
        test="dispersion-variance-ratio",
        statistic=t,
        p_value=float(pval),
        alpha=alpha,
        n=n,
        mde=mde,
        estimate=float(resid2.sum() / (npq if weights is None else npq * weights).sum()),
        beta=beta,
        counts=n,
        direction="under" if lower < upper else "over",
        p_lower=lower,
        p_upper=upper,
        pearson_statistic=pearson,
        pearson_chi2_p_value=float(
            min(1.0, 2.0 * min(special.chdtr(n, pearson), special.chdtrc(n, pearson)))
        ),
    )


def _fitted_weights(fitted: np.ndarray | None, n: int) -> np.ndarray | None:
    """Each count's weight (G - 1) / G in a stratum of G counts whose rate was fitted."""
    if fitted is None:
        return None
    labels = np.asarray(fitted)
    if labels.shape != (n,):
        raise ValueError(f"fitted must hold one stratum label per count ({n}), got shape "
                         f"{labels.shape}")
    _, inverse, sizes = np.unique(labels, return_inverse=True, return_counts=True)
    g = sizes[inverse.reshape(-1)].astype(float)
    return (g - 1.0) / g


def _mde_from_fit(fit: tuple[float, float, float], alpha: float, beta: float) -> float:
    """Smallest ``delta``: power >= 1 - beta at variance ratios ``1 + delta`` and ``1 - delta``."""
    a, nu, b = fit
    t_hi = b + a * float(special.chdtri(nu, alpha / 2.0))  # chdtri is the upper-tail inverse
    t_lo = b + a * float(special.chdtri(nu, 1.0 - alpha / 2.0))
    target = 1.0 - beta

    def over(r: float) -> float:
        return _tails(t_hi / r, fit)[1] - target

    def under(r: float) -> float:
        return _tails(t_lo / r, fit)[0] - target

    hi = 2.0
    while over(hi) < 0.0:
        hi *= 2.0
        if hi > 1e12:
            return math.inf
    r_hi = brentq(over, 1.0, hi, xtol=1e-13, rtol=1e-12)
    while over(r_hi) < 0.0:  # never optimistic
        r_hi *= 1.0 + 1e-12
    if t_lo <= 0.0 or under(1e-12) < 0.0:
        return math.inf  # the lower tail cannot reject: under-dispersion undetectable
    r_lo = brentq(under, 1e-12, 1.0, xtol=1e-13, rtol=1e-12)
    while under(r_lo) < 0.0:
        r_lo *= 1.0 - 1e-12
    return float(max(r_hi - 1.0, 1.0 - r_lo))


def dispersion_mde(
    n: int, *, alpha: float, beta: float, trials: int | None = None, p: float | None = None
) -> float:
    """Smallest ``delta`` such that ``dispersion_test`` over ``n`` counts detects a variance
    ratio ``r >= 1 + delta`` and ``r <= 1 - delta`` with power >= ``1 - beta`` each.

    The null is the three-cumulant fit of ``T`` for ``n`` counts of ``trials`` decisions at rate
    ``p`` (chi2(n) when either is omitted: large counts); the alternative scales ``T`` by ``r``.
    For large ``n`` this is about ``(z_{1-alpha/2} + z_{1-beta}) sqrt(2 / n)``.
    """
    alpha, beta = validate.rates(alpha, beta)
    n = validate.count("n", n, minimum=1)
    trials, p = _model(trials, p)
    return _mde_cached(n, trials, p, alpha, beta)


@functools.lru_cache(maxsize=4096)
def _mde_cached(n: int, trials: int | None, p: float | None, alpha: float, beta: float) -> float:
    return _mde_from_fit(_fit_scalar(n, trials, p), alpha, beta)


def dispersion_sample_size(
    mde: float, *, alpha: float, beta: float, trials: int | None = None, p: float | None = None
) -> int:
    """Number of counts for which ``dispersion_test`` detects a variance ratio off by ``mde``
    (either way) with power >= ``1 - beta``; inverse of ``dispersion_mde`` (same model).

    E.g. ``mde = 0.5`` with ``trials = N * C`` and the call's ``p``: calls needed to see
    decisions shared in pairs (ratio 2) and a per-call count held fixed (ratio ~0) with margin.
    """
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)
    trials, p = _model(trials, p)
    if mde >= 1.0:
        # ratio 1 - mde <= 0 cannot exist; size for over-dispersion and the limit r -> 0
        mde = min(mde, 1.0 - 1e-9)

    def ok(n: int) -> bool:
        return _mde_cached(n, trials, p, alpha, beta) <= mde

    def give_up(n: int) -> None:
        if n > 1 << 40:
            raise ValueError(f"no number of counts reaches mde={mde} at alpha={alpha}")

    # the MDE falls with n: the smallest n that qualifies
    return smallest_by_doubling(ok, minimum=1, give_up=give_up)


def _model(trials: int | None, p: float | None) -> tuple[int | None, float | None]:
    """The optional count model of ``dispersion_mde`` and its inverse, validated."""
    if trials is not None:
        trials = validate.count("trials", trials, minimum=1)
    if p is not None:
        p = validate.open_probability("p", p)
    return trials, p


__all__ = [
    "DispersionResult",
    "dispersion_mde",
    "dispersion_sample_size",
    "dispersion_test",
]
