"""Holm / Bonferroni, normal quantiles and argument validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from conformance.stats import (
    StatResult,
    bonferroni_split,
    holm,
    holm_adjusted,
    z_power,
    z_two_sided,
    z_upper,
)
from conformance.stats.power import (
    ceil_count,
    check_count,
    check_error_rate,
    check_open_probability,
    check_rates,
)


def test_holm_hand_example():
    p = [0.01, 0.04, 0.03, 0.005]
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> monotone 0.06
    np.testing.assert_allclose(holm_adjusted(p), [0.03, 0.06, 0.06, 0.02])
    assert holm(p, alpha=0.05) == [True, False, False, True]
    assert holm(p, alpha=0.06) == [True, True, True, True]


def test_holm_caps_at_one_and_keeps_order():
    adj = holm_adjusted([0.9, 0.5, 0.6])
    np.testing.assert_allclose(adj, [1.0, 1.0, 1.0])
    assert holm_adjusted([]).size == 0 and holm([], alpha=0.05) == []


def test_holm_matches_step_down_definition(rng):
    for _ in range(200):
        m = int(rng.integers(1, 12))
        p = rng.uniform(0, 0.1, m) ** 2
        alpha = 0.01
        order = np.argsort(p)
        expected = np.zeros(m, dtype=bool)
        for i, j in enumerate(order):  # step down until the first failure
            if p[j] > alpha / (m - i):
                break
            expected[j] = True
        assert holm(p, alpha=alpha) == expected.tolist()
        assert np.all(holm_adjusted(p) >= p)


def test_holm_family_wise_error(rng, sim):
    reps, m, alpha = 4000, 10, 0.05
    p = rng.uniform(size=(reps, m))  # all nulls true, independent
    any_rejected = sum(any(holm(row, alpha=alpha)) for row in p)
    sim.assert_not_liberal(any_rejected, reps, alpha)


def test_holm_validates():
    with pytest.raises(ValueError, match="p-values"):
        holm([0.1, 1.5], alpha=0.05)
    with pytest.raises(ValueError, match="p-values"):
        holm_adjusted([float("nan")])
    with pytest.raises(ValueError, match="alpha"):
        holm([0.1], alpha=1.0)


def test_bonferroni_split():
    assert bonferroni_split(1e-4, 8) == pytest.approx(1.25e-5)
    with pytest.raises(ValueError, match="k must be >= 1"):
        bonferroni_split(0.05, 0)


@pytest.mark.parametrize("q", [0.5, 0.1, 1e-3, 1e-9, 1e-300, 0.9, 1 - 1e-12])
def test_normal_quantiles(q):
    assert z_upper(q) == pytest.approx(stats.norm.isf(q), rel=1e-12, abs=1e-12)
    assert z_two_sided(0.05) == pytest.approx(1.959963984540054)
    assert z_power(0.1) == pytest.approx(1.2815515655446004)


def test_validation_messages_carry_values():
    with pytest.raises(ValueError, match=r"alpha=1\.5"):
        check_error_rate("alpha", 1.5)
    with pytest.raises(ValueError, match="alpha"):
        check_error_rate("alpha", float("nan"))
    with pytest.raises(TypeError):
        check_error_rate("alpha", "0.05")
    with pytest.raises(ValueError, match="alpha \\+ beta < 1"):
        check_rates(0.6, 0.5)
    with pytest.raises(ValueError, match=r"p=1\.0"):
        check_open_probability("p", 1.0)
    with pytest.raises(TypeError):
        check_count("n", 3.0)
    with pytest.raises(TypeError):
        check_count("n", True)
    assert check_count("n", np.int64(3)) == 3


def test_ceil_count_forgives_float_noise():
    assert ceil_count(100.00000000001) == 100
    assert ceil_count(100.1) == 101
    assert ceil_count(99.0) == 99


def test_stat_result_reject_is_p_le_alpha():
    r = StatResult(test="t", statistic=1.0, p_value=0.05, alpha=0.05, n=1)
    assert r.reject
    assert not StatResult(
        test="t", statistic=1.0, p_value=math.nextafter(0.05, 1), alpha=0.05, n=1
    ).reject
