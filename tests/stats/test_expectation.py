"""expectation_test: E[y] = x, aware of the dtype-rounded scale."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from conformance.stats import (
    expectation_mde,
    expectation_sample_size,
    expectation_test,
    expectation_validity_sample_size,
)


def _dropout(rng, x, p, scale):
    return x * scale * (rng.random(x.shape) >= p)


def test_hand_example():
    x = np.array([1.0, 2.0, -1.0, 4.0])
    y = np.array([2.0, 0.0, -2.0, 8.0])
    r = expectation_test(y, x, 0.5, alpha=0.05)
    # mu = |x| * 2 * 0.5 = |x|; sign-folded numerator = (2 - 1) + (0 - 2) + (2 - 1) + (8 - 4)
    sd = 2.0 * 0.5 * math.sqrt(1 + 4 + 1 + 16)
    assert r.statistic == pytest.approx(4.0 / sd)
    assert r.p_value == pytest.approx(2 * stats.norm.sf(4.0 / sd))
    assert r.estimate == pytest.approx(4.0 / 8.0)  # sum sign(x)(y - x) / sum |x|
    assert r.ci[0] < r.estimate < r.ci[1]
    assert r.n == 4 and r.normal_ok is False


def test_positive_inputs_estimate_is_relative_bias_of_sum():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([2.2, 0.0, 6.6])
    r = expectation_test(y, x, 0.5, alpha=0.05)
    assert r.estimate == pytest.approx((y.sum() - x.sum()) / x.sum())


def test_rounded_scale_does_not_false_alarm(rng):
    # bfloat16 scale for p = 0.1 (8 significant bits): fl(1/0.9) = 142/128 is 1.6e-3 relative
    # off; with 2 million decisions the exact-scale null sees that as a 6.6-sigma effect
    p, n = 0.1, 2_000_000
    scale_bf16 = round(128 / (1 - p)) / 128
    x = np.ones(n)
    y = _dropout(rng, x, p, scale_bf16)
    naive = expectation_test(y, x, p, alpha=1e-5)
    aware = expectation_test(y, x, p, scale=scale_bf16, alpha=1e-5)
    assert naive.reject
    assert not aware.reject
    assert aware.scale_bias == pytest.approx(scale_bf16 * (1 - p) - 1)


def test_rtol_tolerates_small_bias(rng):
    p, n = 0.5, 1_000_000
    x = rng.uniform(0.5, 2.0, n)
    y = _dropout(rng, x, p, 2.0) * (1 + 1e-2)  # a systematic rounding bias of 1 %
    assert expectation_test(y, x, p, alpha=1e-6).reject
    r = expectation_test(y, x, p, rtol=1.2e-2, alpha=1e-6)
    assert not r.reject
    assert r.mde > expectation_mde(n, p, alpha=1e-6, beta=1e-3) + 1.19e-2


def test_mixed_signs_add_power(rng):
    p, n = 0.5, 100_000
    x = rng.choice([-1.0, 1.0], n)
    y = _dropout(rng, x, p, 2.0 * 1.05)  # scale 5 % too large
    assert expectation_test(y, x, p, alpha=1e-6).reject


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": np.ones(3), "x": np.ones(2)}, "shape"),
        ({"y": np.ones(2), "x": np.zeros(2)}, "zeros"),
        ({"y": np.ones(2), "x": np.array([np.nan, 1.0])}, "finite"),
        ({"y": np.ones(2), "x": np.ones(2), "scale": -1.0}, "scale"),
        ({"y": np.ones(2), "x": np.ones(2), "rtol": -1.0}, "rtol"),
    ],
)
def test_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        expectation_test(p=0.5, alpha=0.05, **kwargs)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_round_trip(p):
    n = expectation_sample_size(0.01, p, alpha=1e-6, beta=1e-3)
    assert expectation_mde(n, p, alpha=1e-6, beta=1e-3) <= 0.01
    assert expectation_mde(n - 1, p, alpha=1e-6, beta=1e-3) > 0.01
    m = expectation_mde(54321, p, alpha=1e-4, beta=0.01)
    assert expectation_sample_size(m, p, alpha=1e-4, beta=0.01) <= 54321


def test_mde_close_to_textbook_formula():
    za, zb = stats.norm.isf(0.025), stats.norm.isf(0.1)
    textbook = (za + zb) * math.sqrt(0.5 / 0.5 / 1_000_000)
    mde = expectation_mde(1_000_000, 0.5, alpha=0.05, beta=0.1)
    assert textbook < mde < 1.01 * textbook


@pytest.mark.parametrize(("p", "spread"), [(0.5, False), (0.1, True), (0.9, False)])
def test_false_alarm_rate(rng, sim, p, spread):
    reps, n, alpha = 1000, 1000, 0.05
    x = rng.uniform(0.5, 1.5, n) if spread else np.ones(n)
    scale = float(np.float32(1 / (1 - p)))
    rejections = sum(
        expectation_test(_dropout(rng, x, p, scale), x, p, scale=scale, alpha=alpha).reject
        for _ in range(reps)
    )
    sim.assert_not_liberal(rejections, reps, alpha)


@pytest.mark.parametrize(
    ("p", "fault", "sign"),
    [(0.5, "scale", 1), (0.5, "scale", -1), (0.1, "rate", -1), (0.1, "rate", 1), (0.8, "rate", -1)],
)
def test_power_at_mde(rng, sim, p, fault, sign):
    reps, n, alpha, beta = 1000, 1500, 0.01, 0.1
    b = sign * expectation_mde(n, p, alpha=alpha, beta=beta)
    x = np.ones(n)
    s = 1 / (1 - p)
    detections = 0
    for _ in range(reps):
        if fault == "scale":  # E[y] = (1 + b) x through a wrong scale
            y = _dropout(rng, x, p, s * (1 + b))
        else:  # E[y] = (1 + b) x through a wrong drop rate
            y = _dropout(rng, x, 1 - (1 - p) * (1 + b), s)
        detections += expectation_test(y, x, p, alpha=alpha, beta=beta).reject
    sim.assert_power_at_least(detections, reps, 1 - beta)


def _nearly_ones(n):
    """|x| not constant (normal path) but with the cumulants of constant |x|."""
    x = np.ones(n)
    x[::2] += 1e-9
    return x


def test_normal_ok_flags_skewed_small_samples(rng):
    x = _nearly_ones(10_000)
    y = _dropout(rng, x, 0.9, 10.0)
    r = expectation_test(y, x, 0.9, alpha=1e-6)
    assert r.normal_ok is False
    assert r.skewness == pytest.approx(0.8 / math.sqrt(0.09 * 10_000))
    assert expectation_test(y, x, 0.9, alpha=0.05).normal_ok is True
    x = _nearly_ones(1_000_000)
    y = _dropout(rng, x, 0.9, 10.0)
    assert expectation_test(y, x, 0.9, alpha=1e-6).normal_ok is True


@pytest.mark.parametrize("p", [0.01, 0.1, 0.5, 0.9, 0.99])
def test_validity_sample_size_is_where_the_normal_tail_becomes_trustworthy(p):
    alpha = 1.6e-6
    n = expectation_validity_sample_size(p, alpha=alpha)
    rng = np.random.default_rng(7)
    for size, ok in ((n, True), (n // 2, False)):
        x = _nearly_ones(size)
        y = x * (rng.random(size) >= p) / (1 - p)
        result = expectation_test(y, x, p, alpha=alpha)
        assert result.method == "normal"
        assert result.normal_ok is ok, (size, result)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_output_rejects_instead_of_raising(bad):
    x = np.ones(10)
    y = 2.0 * x
    y[4] = bad
    r = expectation_test(y, x, 0.5, alpha=1e-6)
    assert r.reject and r.p_value == 0.0
    assert r.method == "non-finite" and "index 4" in r.reason


def test_constant_magnitude_uses_exact_binomial(rng):
    p, n = 0.3, 500
    x = rng.choice([-2.0, 2.0], n)
    keep = rng.random(n) >= p
    y = x * keep / (1 - p)
    r = expectation_test(y, x, p, alpha=0.01)
    kept = int(keep.sum())
    cdf, sf = stats.binom.cdf(kept, n, 1 - p), stats.binom.sf(kept - 1, n, 1 - p)
    assert r.method == "binomial-exact" and r.normal_ok is True
    assert r.p_value == pytest.approx(min(1.0, 2 * min(cdf, sf)), rel=1e-9)
    # a wrong scale moves the count off the integers and is still seen
    assert expectation_test(y * 1.2, x, p, alpha=1e-6).reject


def test_exact_path_size_at_skewed_p(rng, sim):
    # p = 0.01 with 2000 decisions: the normal path's tail is far off here (normal_ok False);
    # the exact binomial path keeps alpha at any n
    reps, n, p, alpha = 2000, 2000, 0.01, 0.01
    keep = rng.random((reps, n)) >= p
    x = np.ones(n)
    rejections = sum(expectation_test(x * row / (1 - p), x, p, alpha=alpha).reject for row in keep)
    sim.assert_not_liberal(rejections, reps, alpha)


def test_exact_path_power_at_mde(rng, sim):
    reps, n, p, alpha, beta = 1000, 2000, 0.1, 0.01, 0.1
    b = expectation_mde(n, p, alpha=alpha, beta=beta)
    x = np.ones(n)
    keep = rng.random((reps, n)) >= p
    detections = sum(
        expectation_test(x * row * (1 + b) / (1 - p), x, p, alpha=alpha, beta=beta).reject
        for row in keep
    )
    sim.assert_power_at_least(detections, reps, 1 - beta)


def test_validity_sample_size_exact_path_needs_no_extra_draws():
    assert expectation_validity_sample_size(0.01, alpha=1.6e-6) > 3_000_000
    assert expectation_validity_sample_size(0.01, alpha=1.6e-6, exact=True) == 1
