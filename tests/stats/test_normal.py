"""Normal quantiles (conformance.stats.normal) and the searches every inverse uses."""

from __future__ import annotations

import pytest
from scipy import stats

from conformance.stats import z_power, z_two_sided, z_upper
from conformance.stats._search import ceil_count, smallest


@pytest.mark.parametrize("q", [0.5, 0.1, 1e-3, 1e-9, 1e-300, 0.9, 1 - 1e-12])
def test_normal_quantiles(q):
    assert z_upper(q) == pytest.approx(stats.norm.isf(q), rel=1e-12, abs=1e-12)
    assert z_two_sided(0.05) == pytest.approx(1.959963984540054)
    assert z_power(0.1) == pytest.approx(1.2815515655446004)


def test_ceil_count_forgives_float_noise():
    assert ceil_count(100.00000000001) == 100
    assert ceil_count(100.1) == 101
    assert ceil_count(99.0) == 99


def test_smallest_bisects_to_the_first_true():
    assert smallest(lambda n: n >= 37, 1, 1000) == 37
    assert smallest(lambda n: n >= 1, 1, 8) == 1
