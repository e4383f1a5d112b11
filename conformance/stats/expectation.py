"""Is ``E[y] = x``?  A z-test over channel decisions, aware of the dtype-rounded scale."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conformance.stats import _validate as validate
from conformance.stats._fast import binom_cdf, binom_sf
from conformance.stats._scipy import special
from conformance.stats._search import ceil_count
from conformance.stats.normal import z_power, z_two_sided
from conformance.stats.result import StatResult, optional

# The normal tail at z is off by a factor of about exp(z^3 |skew| / 6 + z^4 |kurt| / 24)
# (Edgeworth); above this exponent the stated alpha is not promised (``normal_ok`` False).
_MAX_EDGEWORTH = 0.1


@dataclass(frozen=True, kw_only=True)
class ExpectationResult(StatResult):
    """``expectation_test`` at rate ``p`` with the null's ``scale`` and tolerance ``rtol``.

    ``method`` is "binomial-exact" (constant |x|: an exact count), "normal", or "non-finite"
    (the output held NaN or inf for finite input: ``reason`` says where).  ``normal_ok`` is
    False when the normal tail does not promise ``alpha`` at this n.  The normal path reports
    the unshrunk z (``z_raw``), the relative bias the rounded scale carries (``scale_bias``)
    and the statistic's ``skewness`` and ``excess_kurtosis``.
    """

    p: float
    beta: float
    scale: float
    rtol: float
    method: str
    normal_ok: bool
    reason: str | None = optional()
    z_raw: float | None = optional()
    scale_bias: float | None = optional()
    skewness: float | None = optional()
    excess_kurtosis: float | None = optional()


def expectation_test(
    y: np.ndarray,
    x: np.ndarray,
    p: float,
    *,
    scale: float | None = None,
    rtol: float = 0.0,
    alpha: float,
    beta: float = 1e-3,
) -> ExpectationResult:
    """Two-sided z-test that dropout preserves the mean: ``E[y_i] = x_i``.

    One value per channel decision: ``y_i = x_i * s * B_i`` with ``B_i ~ Bernoulli(1 - p)``
    (e.g. the first element of each map, or the map mean, and the matching input value).
    ``scale`` is the scale the implementation may use (e.g. ``float32(1 / (1 - p))``); the null
    mean is ``x_i * scale * (1 - p)``, so a correctly rounded scale never false-alarms.  With
    ``scale=None`` the exact ``1 / (1 - p)`` is used.  Signs of ``x`` are folded in
    (``Z = sum sign(x_i) (y_i - mu_i) / sqrt(sum x_i^2 scale^2 p (1 - p))``) so inputs of both
    signs add power instead of cancelling.  ``rtol`` widens the null to a relative bias of
    ``rtol`` (the numerator is shrunk toward 0 by ``rtol * sum |mu_i|``): pass a few ulps of a
    low-precision dtype, whose elementwise rounding of ``x * scale`` may bias the mean.

    Guarantee: false-alarm rate ~ ``alpha`` (normal approximation, conservative when
    ``rtol > 0``).  Its tail error grows like ``exp(z^3 |skew| / 6 + z^4 |kurt| / 24)``
    (Edgeworth); ``normal_ok`` is False when that exponent exceeds 0.1 (about +10 %
    on alpha), e.g. at alpha = 1e-6 and p = 0.9 below ~4e5 decisions: collect more then.
    Power >= ``1 - beta`` against a relative bias of the mean >= ``mde`` (``expectation_mde``:
    inputs of constant magnitude, bias from a wrong scale or a wrong drop rate; with
    ``rtol > 0`` the reported ``mde`` adds the tolerated bias).  ``estimate`` is the relative
    bias ``sum sign(x) (y - x) / sum |x|`` (``(sum y - sum x) / sum x`` for positive inputs)
    with a normal interval at ``1 - alpha``.
    """
    alpha, beta = validate.rates(alpha, beta)
    p = validate.open_probability("p", p)
    if not (rtol >= 0.0 and math.isfinite(rtol)):
        raise ValueError(f"rtol must be finite and >= 0, got rtol={rtol!r}")
    s = 1.0 / (1.0 - p) if scale is None else float(scale)
    if not (s > 0.0 and math.isfinite(s)):
        raise ValueError(f"scale must be finite and > 0, got scale={scale!r}")
    y = np.asarray(y, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if y.shape != x.shape or y.ndim != 1 or y.size == 0:
        raise ValueError(
            f"y and x must be non-empty 1-D arrays of one shape, got {y.shape}, {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x must be finite, got {int(np.sum(~np.isfinite(x)))} non-finite values")
    n = int(y.size)
    bad = ~np.isfinite(y)
    if np.any(bad):
        # a non-finite output for finite input is a failure of the contract, not bad input
        first = int(np.flatnonzero(bad)[0])
        return ExpectationResult(
            test="expectation-z",
            statistic=math.inf,
            p_value=0.0,
            alpha=alpha,
            n=n,
            mde=_mde(n, p, alpha, beta, rtol * s * (1.0 - p)),
            p=p,
            beta=beta,
            scale=s,
            rtol=rtol,
            method="non-finite",
            reason=f"y has {int(np.sum(np.isnan(y)))} NaN and "
            f"{int(np.sum(np.isinf(y)))} infinite values for finite x "
            f"(first at index {first}: x={float(x[first])!r}, y={float(y[first])!r})",
            normal_ok=True,
        )
    sign = np.sign(x)
    abs_x = np.abs(x)
    sum_abs_x = float(abs_x.sum())
    if sum_abs_x == 0.0:
        raise ValueError("x is all zeros: the mean carries no information")
    pq = p * (1.0 - p)
    mu_abs = abs_x * s * (1.0 - p)
    # float64 sums; centred terms keep cancellation small even for 1e8 decisions
    diff = float(np.sum(sign * y - mu_abs))
    sum_x2 = float(np.sum(abs_x * abs_x))
    sd = s * math.sqrt(pq * sum_x2)
    slack = rtol * float(mu_abs.sum())
    z = math.copysign(max(0.0, abs(diff) - slack), diff) / sd
    pval = float(min(1.0, 2.0 * special.ndtr(-abs(z))))
    method = "normal"
    if float(abs_x.max()) == float(abs_x.min()):
        # |x| = c: sum sign(x) y / (c s) counts the kept channels, Binomial(n, 1 - p) under H0
        # (a wrong scale makes it a non-integer off the mean, which still rejects)
        pval = _exact_count_pvalue(diff / (float(abs_x[0]) * s), slack / (float(abs_x[0]) * s),
                                   n, p)
        method = "binomial-exact"
    estimate = float(np.sum(sign * y - abs_x)) / sum_abs_x
    z_a = z_two_sided(alpha)
    half = z_a * sd / sum_abs_x
    # cumulants of the statistic (terms |x| s B, B ~ Bernoulli(1 - p)) for the Edgeworth check
    skew = (2.0 * p - 1.0) * float(np.sum(abs_x**3)) / (math.sqrt(pq) * sum_x2**1.5)
    kurt = (1.0 - 6.0 * pq) / pq * float(np.sum(abs_x**4)) / sum_x2**2
    edgeworth = z_a**3 * abs(skew) / 6.0 + z_a**4 * abs(kurt) / 24.0
    return ExpectationResult(
        test="expectation-z",
        statistic=float(z),
        p_value=pval,
        alpha=alpha,
        n=n,
        mde=_mde(n, p, alpha, beta, rtol * s * (1.0 - p)),
        estimate=estimate,
        ci=(estimate - half, estimate + half),
        p=p,
        beta=beta,
        scale=s,
        rtol=rtol,
        method=method,
        # the exact path needs no normal approximation
        normal_ok=method == "binomial-exact" or edgeworth <= _MAX_EDGEWORTH,
        z_raw=diff / sd,
        scale_bias=s * (1.0 - p) - 1.0,
        skewness=skew,
        excess_kurtosis=kurt,
    )


def _exact_count_pvalue(excess: float, slack: float, n: int, p: float) -> float:
    """Two-sided exact p-value of ``K = n (1 - p) + excess`` against Binomial(n, 1 - p).

    ``excess`` is the count's deviation from its null mean, measured through the output's
    values (so a wrong scale moves it off the integers); ``slack`` shrinks it toward 0 (the
    ``rtol`` allowance).  Within 1e-9 relative of an integer it is taken as that integer
    (float sums of n scaled values).  ``p = min(1, 2 min(P(X <= K), P(X >= K)))``: the
    doubled smaller tail, exact-conservative for any real K.
    """
    shrunk = math.copysign(max(0.0, abs(excess) - slack), excess)
    count = n * (1.0 - p) + shrunk
    nearest = round(count)
    if abs(count - nearest) <= 1e-9 * max(1.0, abs(count)):
        count = float(nearest)
    lower = float(binom_cdf(math.floor(count), n, 1.0 - p)) if count >= 0 else 0.0
    upper = float(binom_sf(math.ceil(count) - 1, n, 1.0 - p)) if count <= n else 0.0
    return min(1.0, 2.0 * min(lower, upper))


def _spread(p: float) -> float:
    """``c`` with sd_alt / sd_null <= 1 + c |b| for every alternative of relative bias ``b``.

    A wrong scale ``(1 + b) s`` widens the sd by ``1 + b``; a wrong drop rate giving bias ``-b``
    widens it by ``sqrt((1 + b q / p)(1 - b)) <= 1 + b (q / p - 1) / 2``.  Taking the larger
    slope makes the MDE hold for both kinds of fault.
    """
    return max(1.0, ((1.0 - p) / p - 1.0) / 2.0)


def expectation_mde(n: int, p: float, *, alpha: float, beta: float) -> float:
    """Relative bias ``b`` of the mean (``E[y] = (1 + b) x``) detected with power >= 1 - beta.

    For inputs of constant magnitude, at two-sided level ``alpha``, whether the bias comes from a
    wrong scale or a wrong drop rate.  With ``k = sqrt(n (1 - p) / p)`` the statistic has mean
    ``b k`` and standard deviation at most ``1 + c b`` under the alternative
    (``c = max(1, (q/p - 1) / 2)``), so ``b = (z_{1-alpha/2} + z_{1-beta}) / (k - c z_{1-beta})``
    (normal approximation; close to ``(z_a + z_b) sqrt(p / ((1 - p) n))`` for large ``n``).
    Returns ``inf`` when ``k <= c z_{1-beta}``.
    """
    alpha, beta = validate.rates(alpha, beta)
    n = validate.count("n", n, minimum=1)
    p = validate.open_probability("p", p)
    return _mde(n, p, alpha, beta, 0.0)


def _mde(n: int, p: float, alpha: float, beta: float, tolerated: float) -> float:
    """MDE when the test tolerates a relative bias ``tolerated`` (shrunk numerator)."""
    za, zb = z_two_sided(alpha), z_power(beta)
    k = math.sqrt(n * (1.0 - p) / p)
    denom = k - _spread(p) * zb
    if denom <= 0.0:
        return math.inf
    # b k - tolerated k - z_a >= z_b (1 + c b)
    return (za + zb + tolerated * k) / denom


def expectation_sample_size(mde: float, p: float, *, alpha: float, beta: float) -> int:
    """Channel decisions needed for ``expectation_test`` to detect a relative bias ``mde``
    with power >= ``1 - beta`` (inverse of ``expectation_mde``, same approximation)."""
    alpha, beta = validate.rates(alpha, beta)
    mde = validate.effect("mde", mde)
    p = validate.open_probability("p", p)
    za, zb = z_two_sided(alpha), z_power(beta)
    k = (za + zb) / mde + _spread(p) * zb
    n = max(1, ceil_count(k * k * p / (1.0 - p)))
    while expectation_mde(n, p, alpha=alpha, beta=beta) > mde:
        n += 1  # floating-point guard
    return n


def expectation_validity_sample_size(
    p: float,
    *,
    alpha: float,
    skew_factor: float = 1.0,
    kurt_factor: float = 1.0,
    exact: bool = False,
) -> int:
    """Decisions needed before ``expectation_test``'s normal tail promises ``alpha``.

    The smallest n whose Edgeworth exponent ``z^3 |skew_n| / 6 + z^4 |kurt_n| / 24`` is at most
    the bound behind ``normal_ok``, where ``skew_n = skew_1 / sqrt(n)`` and ``kurt_n =
    kurt_1 / n`` are the standardised cumulants of the statistic for Bernoulli(1 - p) terms.
    Unequal |x| raise them: ``skew_factor = mean|x|^3 / mean(x^2)^1.5`` and ``kurt_factor =
    mean x^4 / mean(x^2)^2`` (both 1 for constant |x|).  Far from p = 0.5 this, not power, sets n.

    ``exact=True``: the input has constant |x| (ones, +-c), for which ``expectation_test`` uses
    the exact binomial p-value; no n is needed for validity, so this returns 1 and power alone
    sizes the sample (at p = 0.01 and alpha = 1.6e-6: ~3.3 million decisions otherwise).
    """
    alpha = validate.error_rate("alpha", alpha)
    p = validate.open_probability("p", p)
    if exact:
        return 1
    pq = p * (1.0 - p)
    skew = abs(2.0 * p - 1.0) / math.sqrt(pq) * skew_factor
    kurt = abs(1.0 - 6.0 * pq) / pq * kurt_factor
    z = z_two_sided(alpha)
    # a u^2 + b u - bound = 0 with u = 1/sqrt(n)
    a, b = z**4 * kurt / 24.0, z**3 * skew / 6.0
    if a == 0.0 and b == 0.0:
        return 1
    u = (2.0 * _MAX_EDGEWORTH) / (b + math.sqrt(b * b + 4.0 * a * _MAX_EDGEWORTH))
    return max(1, math.ceil(1.0 / (u * u)))
