"""expectation_test: the exact test of E[y]/x from the kept count; size, power, scale faults."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.stats import (
    binomial_mde,
    binomial_pvalues,
    binomial_sample_size,
    binomial_test,
    expectation_mde,
    expectation_sample_size,
    expectation_test,
)


def test_hand_example():
    # 1000 decisions at p = 0.3, 680 kept at the exact scale 1/0.7
    r = expectation_test(680, 1000, 680 / 0.7, 0.3, alpha=0.01, beta=0.1, label="here")
    rate = binomial_test(320, 1000, 0.3, alpha=0.01, beta=0.1)
    assert r.test == "expectation-exact" and r.statistic == 320.0
    assert r.p_value == rate.p_value and not r.reject
    assert r.estimate == pytest.approx(0.68 / 0.7) and r.n == 1000 and r.alpha == 0.01
    # the drop rate's interval, carried to E[y]/x by the mean kept scale
    lo, hi = rate.ci
    assert r.ci == pytest.approx(((1 - hi) / 0.7, (1 - lo) / 0.7))
    assert r.mde == rate.mde / 0.7 == expectation_mde(1000, 0.3, alpha=0.01, beta=0.1)
    assert r.context == {"setting": "here", "p": 0.3, "scale_off": [],
                         "relative_bias": pytest.approx(0.68 / 0.7 - 1)}


def test_a_ratio_off_the_scale_rejects_outright():
    off = [f"setting {i}: kept y/x off" for i in range(7)]
    r = expectation_test(700, 1000, 700 / 0.7, 0.3, alpha=0.01, scale_off=off)
    assert r.p_value == 0.0 and r.reject
    assert r.failing == tuple(off[:5])  # the first five, for the message


def test_no_kept_map_estimates_zero():
    r = expectation_test(0, 50, 0.0, 0.5, alpha=0.01)
    assert r.estimate == 0.0 and r.reject
    assert r.ci[1] <= 2 * (1 - binomial_test(50, 50, 0.5, alpha=0.01).ci[0]) + 1e-12


@pytest.mark.parametrize("p", [0.01, 0.3, 0.9])
def test_mde_and_sample_size_are_the_binomial_ones(p):
    mde = expectation_mde(5000, p, alpha=1e-6, beta=1e-3)
    assert mde == binomial_mde(5000, p, alpha=1e-6, beta=1e-3) / (1 - p)
    n = expectation_sample_size(0.05, p, alpha=1e-6, beta=1e-3)
    assert n == binomial_sample_size(0.05 * (1 - p), p, alpha=1e-6, beta=1e-3)
    assert expectation_mde(n, p, alpha=1e-6, beta=1e-3) <= 0.05
    assert expectation_mde(int(n * 0.99), p, alpha=1e-6, beta=1e-3) > 0.05


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kept": 5, "n": 4, "ratio_sum": 5.0, "p": 0.5}, "kept <= n"),
        ({"kept": -1, "n": 4, "ratio_sum": 0.0, "p": 0.5}, "kept"),
        ({"kept": 1, "n": 4, "ratio_sum": 2.0, "p": 1.0}, "deterministic"),
    ],
)
def test_validates(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        expectation_test(**kwargs, alpha=0.05)


def _simulate(rng, reps: int, n: int, p: float, rate: float, *, alpha: float, beta: float
              ) -> tuple[int, list]:
    """Kept counts of ``reps`` runs of ``n`` decisions dropped at ``rate`` (claimed ``p``),
    each kept map at the exact scale; rejections decided by the vectorised exact p-values,
    and the family's own results for the first 200 (which must decide alike)."""
    kept = rng.binomial(n, 1 - rate, size=reps)
    rejected = binomial_pvalues(n - kept, n, p) <= alpha
    results = [expectation_test(int(k), n, k / (1 - p), p, alpha=alpha, beta=beta)
               for k in kept[:200]]
    assert [r.reject for r in results] == list(rejected[:200])
    return int(rejected.sum()), results


@pytest.mark.parametrize(("p", "n"), [(0.01, 2000), (0.3, 500), (0.9, 800)])
def test_false_alarm_rate(rng, sim, p, n):
    reps, alpha = 20_000, 0.05
    rejections, _ = _simulate(rng, reps, n, p, p, alpha=alpha, beta=0.1)
    sim.assert_not_liberal(rejections, reps, alpha)


@pytest.mark.parametrize(("p", "n"), [(0.01, 20_000), (0.3, 2000), (0.9, 3000)])
@pytest.mark.parametrize("sign", [1, -1])
def test_power_at_mde(rng, sim, p, n, sign):
    alpha, beta = 0.01, 0.1
    mde = expectation_mde(n, p, alpha=alpha, beta=beta)
    # a drop-rate shift of mde (1 - p) biases E[y]/x by mde
    rate = p - sign * mde * (1 - p)
    reps = sim.reps_for_power(1 - beta)
    detections, results = _simulate(rng, reps, n, p, rate, alpha=alpha, beta=beta)
    sim.assert_power_at_least(detections, reps, 1 - beta)
    bias = np.mean([r.context["relative_bias"] for r in results])
    assert bias == pytest.approx(sign * mde, rel=0.2)
