"""binomial_test and its siblings: agreement with scipy, exact size and power, round trips."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from conformance.stats import (
    binomial_critical_counts,
    binomial_edge_sample_size,
    binomial_mde,
    binomial_pvalues,
    binomial_sample_size,
    binomial_test,
    clopper_pearson,
)


def test_binomial_test_matches_scipy():
    r = binomial_test(37, 100, 0.3, alpha=0.01)
    ref = stats.binomtest(37, 100, 0.3)
    ci = ref.proportion_ci(confidence_level=0.99, method="exact")
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.ci == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert r.estimate == 0.37
    assert r.n == 100 and r.alpha == 0.01
    assert r.statistic == pytest.approx((37 - 30) / math.sqrt(100 * 0.3 * 0.7))
    assert r.mde == binomial_mde(100, 0.3, alpha=0.01, beta=1e-3)
    assert r.reject is False


def test_binomial_test_rejects_gross_error():
    r = binomial_test(500, 1000, 0.1, alpha=1e-6)
    assert r.reject and r.p_value < 1e-100


def test_pvalues_match_binomtest_everywhere(rng):
    n = rng.integers(1, 3000, size=150)
    p = rng.choice([0.5, 0.1, 0.25, 1 / 3, 0.01, 0.99, 0.7], size=150)
    k = np.clip(np.round(n * p + rng.normal(size=150) * 3 * np.sqrt(n * p * (1 - p))), 0, n)
    k = k.astype(np.int64)
    for kk, nn, pp in zip(k, n, p, strict=True):
        mine = binomial_pvalues(np.array([kk]), int(nn), float(pp))[0]
        assert mine == pytest.approx(
            stats.binomtest(int(kk), int(nn), float(pp)).pvalue, rel=1e-9, abs=1e-300
        )


def test_pvalues_vectorised_all_outcomes():
    n, p = 57, 0.23
    k = np.arange(n + 1)
    ref = [stats.binomtest(int(i), n, p).pvalue for i in k]
    np.testing.assert_allclose(binomial_pvalues(k, n, p), ref, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize(
    ("n", "p0", "alpha"), [(50, 0.5, 0.05), (400, 0.03, 1e-3), (1000, 0.9, 1e-6), (37, 0.3, 0.2)]
)
def test_critical_counts_are_the_exact_region(n, p0, alpha):
    k_low, k_high = binomial_critical_counts(n, p0, alpha=alpha)
    k = np.arange(n + 1)
    reject = binomial_pvalues(k, n, p0) <= alpha
    expected = (k <= k_low) | (k >= k_high)
    np.testing.assert_array_equal(reject, expected)
    # exact size <= alpha
    assert stats.binom.pmf(k[reject], n, p0).sum() <= alpha


def _exact_power(n: int, p0: float, p1: float, alpha: float) -> float:
    """Probability under Binomial(n, p1) of the test's exact rejection region (scipy)."""
    k_low, k_high = binomial_critical_counts(n, p0, alpha=alpha)
    return float(stats.binom.cdf(k_low, n, p1) + stats.binom.sf(k_high - 1, n, p1))


@pytest.mark.parametrize("alpha", [0.05, 1e-3, 1e-8])
@pytest.mark.parametrize("beta", [0.1, 1e-3])
@pytest.mark.parametrize("p0", [0.001, 0.01, 0.1, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("n", [20, 300, 5000])
def test_mde_has_exact_power(n, p0, alpha, beta):
    d = binomial_mde(n, p0, alpha=alpha, beta=beta)
    if not math.isfinite(d):
        # one tail can never reject: check that is true
        k_low, k_high = binomial_critical_counts(n, p0, alpha=alpha)
        assert k_low < 0 or k_high > n
        return
    for p1 in (p0 + d, p0 - d):
        if 0.0 <= p1 <= 1.0:
            assert _exact_power(n, p0, p1, alpha) >= 1 - beta - 1e-12
    # and d is tight: a slightly smaller effect misses the target in some direction
    shrunk = [
        _exact_power(n, p0, p1, alpha)
        for p1 in (p0 + 0.999 * d, p0 - 0.999 * d)
        if 0.0 <= p1 <= 1.0
    ]
    assert min(shrunk) < 1 - beta


def test_mde_beyond_reach_is_inf():
    # n = 10 at p0 = 0.999: an upward deviation can never be rejected
    assert binomial_mde(10, 0.999, alpha=1e-3, beta=1e-3) == math.inf


@pytest.mark.parametrize(("mde", "p0"), [(0.05, 0.5), (0.01, 0.01), (0.005, 0.9), (0.2, 0.1)])
def test_sample_size_round_trip(mde, p0):
    n = binomial_sample_size(mde, p0, alpha=1e-6, beta=1e-3)
    assert binomial_mde(n, p0, alpha=1e-6, beta=1e-3) <= mde
    # close to minimal: 1 % fewer trials would not do (up to the test's sawtooth)
    assert binomial_mde(int(n * 0.99), p0, alpha=1e-6, beta=1e-3) > mde
    m = binomial_mde(5000, p0, alpha=1e-4, beta=0.01)
    assert binomial_sample_size(m, p0, alpha=1e-4, beta=0.01) <= 5000 * 1.01 + 2


def test_default_level_sample_size_is_fast():
    # the default level needs MDE <= 0.005 at every p; planning must be cheap
    n = binomial_sample_size(0.005, 0.5, alpha=1e-5, beta=1e-3)
    assert 500_000 < n < 1_000_000


@pytest.mark.parametrize(("p0", "alpha"), [(0.003, 1e-6), (0.9995, 1e-9), (2e-6, 3e-9)])
def test_edge_sample_size_fails_a_stuck_rate_with_certainty(p0, alpha):
    n = binomial_edge_sample_size(p0, alpha=alpha)
    q = min(p0, 1 - p0)
    # never drops (always drops): the only count it can give rejects -- power 1
    assert binomial_test(0, n, q, alpha=alpha).reject
    assert binomial_test(n, n, 1 - q, alpha=alpha).reject
    if n < 100_000:  # not far above the first n that qualifies (the exact p-value of 0
        # falls with n, in a sawtooth: the search's 5 % steps may need a step more)
        ns = np.arange(1, n + 1)
        smallest = int(ns[binomial_pvalues(np.zeros_like(ns), ns, q) <= alpha][0])
        assert smallest <= n <= 1.1 * smallest


def test_false_alarm_rate_by_simulation(rng, sim):
    reps, n, p0, alpha = 4000, 150, 0.3, 0.05
    k = rng.binomial(n, p0, size=reps)
    rejections = int(np.sum(binomial_pvalues(k, n, p0) <= alpha))
    sim.assert_not_liberal(rejections, reps, alpha)
    # the public function decides the same way as the vectorised p-values
    for kk in k[:100]:
        assert binomial_test(int(kk), n, p0, alpha=alpha).reject == (
            binomial_pvalues(np.array([kk]), n, p0)[0] <= alpha
        )


@pytest.mark.parametrize(
    ("n", "p0", "sign"), [(400, 0.3, 1), (400, 0.3, -1), (2000, 0.02, 1), (2000, 0.02, -1)]
)
def test_power_at_mde_by_simulation(rng, sim, n, p0, sign):
    alpha, beta = 0.01, 0.1
    reps = sim.reps_for_power(1 - beta)
    d = binomial_mde(n, p0, alpha=alpha, beta=beta)
    k = rng.binomial(n, p0 + sign * d, size=reps)
    detections = int(np.sum(binomial_pvalues(k, n, p0) <= alpha))
    sim.assert_power_at_least(detections, reps, 1 - beta)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 5, "n": 4, "p0": 0.5, "alpha": 0.05}, "k <= n"),
        ({"k": 1, "n": 4, "p0": 0.0, "alpha": 0.05}, "deterministic"),
        ({"k": 1, "n": 4, "p0": 1.0, "alpha": 0.05}, "deterministic"),
        ({"k": 1, "n": 4, "p0": 0.5, "alpha": 0.0}, "alpha"),
        ({"k": 1, "n": 4, "p0": 0.5, "alpha": 0.05, "beta": 1.0}, "beta"),
        ({"k": 1, "n": 0, "p0": 0.5, "alpha": 0.05}, "n must be >= 1"),
        ({"k": 1, "n": 4, "p0": float("nan"), "alpha": 0.05}, "p0"),
    ],
)
def test_binomial_test_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        binomial_test(**kwargs)


def test_binomial_test_rejects_non_integer_counts():
    with pytest.raises(TypeError, match="k must be an integer"):
        binomial_test(1.5, 4, 0.5, alpha=0.05)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (3, 17), (500, 1000), (1, 100000)])
def test_clopper_pearson_matches_scipy(k, n):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.999, method="exact")
    low, high = clopper_pearson(k, n, 0.999)
    # scipy root-finds (rel. error ~1e-6 far out); the definition pins it exactly
    assert (low, high) == pytest.approx((ref.low, ref.high), rel=1e-5, abs=0)
    if k > 0:
        assert stats.binom.sf(k - 1, n, low) == pytest.approx(0.0005, rel=1e-8)
    if k < n:
        assert stats.binom.cdf(k, n, high) == pytest.approx(0.0005, rel=1e-8)


def test_clopper_pearson_default_and_keyword():
    # the calibration calls clopper_pearson(k, n) (95 %): same numbers as scipy's
    ref = stats.binomtest(3, 40).proportion_ci(confidence_level=0.95, method="exact")
    for got in (clopper_pearson(3, 40), clopper_pearson(3, 40, confidence=0.95),
                clopper_pearson(3, 40, 0.95)):
        assert got == pytest.approx((ref.low, ref.high), rel=1e-5)
    with pytest.raises(ValueError, match="k <= n"):
        clopper_pearson(5, 4)
