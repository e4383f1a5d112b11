"""dispersion_test: variance ratio of binomial counts, both directions; size, power, faults."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from conformance.stats import dispersion_mde, dispersion_sample_size, dispersion_test


@pytest.mark.parametrize(("m", "p", "L"), [(4096, 0.3, 50), (16, 0.1, 40), (200, 0.02, 40)])
def test_false_alarm_rate(rng, sim, m, p, L):
    reps, alpha = 2000, 0.05
    rejections = sum(
        dispersion_test(rng.binomial(m, p, size=L), m, p, alpha=alpha).reject for _ in range(reps)
    )
    sim.assert_not_liberal(rejections, reps, alpha)


def test_over_dispersion_power_at_mde(rng, sim):
    # beta-binomial with variance ratio 1 + mde: a per-count random rate
    m, p, L, alpha, beta = 1000, 0.3, 200, 0.01, 0.1
    reps = sim.reps_for_power(1 - beta)
    r = 1 + dispersion_mde(L, alpha=alpha, beta=beta, trials=m, p=p)
    rho = (r - 1) / (m - 1)
    a = p * (1 - rho) / rho
    detections = sum(
        dispersion_test(stats.betabinom.rvs(m, a, a * (1 - p) / p, size=L, random_state=rng),
                        m, p, alpha=alpha, beta=beta).reject
        for _ in range(reps)
    )
    sim.assert_power_at_least(detections, reps, 1 - beta)


def test_under_dispersion_power_at_mde(rng, sim):
    # hypergeometric draws of m from a pool of M: variance ratio (M - m) / (M - 1) = 1 - mde
    m, p, L, alpha, beta = 1000, 0.3, 200, 0.01, 0.1
    reps = sim.reps_for_power(1 - beta)
    r = 1 - dispersion_mde(L, alpha=alpha, beta=beta, trials=m, p=p)
    pool = round((m - r) / (1 - r))
    good = round(p * pool)
    detections = sum(
        dispersion_test(rng.hypergeometric(good, pool - good, m, size=L), m, p * 1.0,
                        alpha=alpha, beta=beta).reject
        for _ in range(reps)
    )
    sim.assert_power_at_least(detections, reps, 1 - beta)


def test_sees_fixed_counts_and_grouped_decisions(rng):
    n, c, p, calls, alpha = 16, 64, 0.3, 100, 1e-6
    m = n * c
    fixed = np.full(calls, round(p * m))
    r = dispersion_test(fixed, m, p, alpha=alpha)
    assert r.reject and r.direction == "under" and r.estimate < 0.01
    grouped = 4 * rng.binomial(m // 4, p, size=calls)  # decisions shared by groups of 4
    r = dispersion_test(grouped, m, p, alpha=alpha)
    assert r.reject and r.direction == "over" and r.estimate > 2
    assert not dispersion_test(rng.binomial(m, p, size=calls), m, p, alpha=alpha).reject


def test_per_count_trials_and_rates(rng):
    m = rng.integers(50, 500, size=60)
    p = rng.uniform(0.05, 0.95, size=60)
    r = dispersion_test(rng.binomial(m, p), m, p, alpha=1e-3)
    assert not r.reject and r.n == 60
    expected = np.sum((r.pearson_statistic,))
    assert expected > 0


@pytest.mark.parametrize(("trials", "p"), [(None, None), (4096, 0.3), (16, 0.05)])
def test_round_trip(trials, p):
    n = dispersion_sample_size(0.5, alpha=1e-5, beta=1e-3, trials=trials, p=p)
    assert dispersion_mde(n, alpha=1e-5, beta=1e-3, trials=trials, p=p) <= 0.5
    assert dispersion_mde(n - 1, alpha=1e-5, beta=1e-3, trials=trials, p=p) > 0.5
    mde = dispersion_mde(300, alpha=1e-4, beta=0.01, trials=trials, p=p)
    assert dispersion_sample_size(mde, alpha=1e-4, beta=0.01, trials=trials, p=p) <= 300


@pytest.mark.parametrize(
    ("counts", "trials", "p", "match"),
    [
        (np.array([5]), 4, 0.5, "count <= trials"),
        (np.array([1.0]), 4, 0.5, "integers"),
        (np.array([1]), 4, 1.0, "open interval"),
        (np.array([], dtype=int), 4, 0.5, "non-empty"),
    ],
)
def test_validates(counts, trials, p, match):
    with pytest.raises(ValueError, match=match):
        dispersion_test(counts, trials, p, alpha=0.05)


def test_tails_next_to_the_mean_are_not_zero():
    # Regression (calibration, a correct implementation at default seed 13): 163,925 counts
    # over 202 fitted strata with T 4e-4 sd below its mean gave P(T <= t) = 0 -- Lugannani-Rice
    # cancelling -- and a false alarm.  Next to the mean both tails are near 1/2.
    from conformance.stats.dispersion import _Saddlepoint

    rng = np.random.default_rng(5)
    m = rng.choice([13, 40, 64, 200, 800, 2052, 12890], size=160_000)
    p = rng.choice(np.linspace(0.02, 0.98, 25), size=m.size)
    sp = _Saddlepoint(m, p)  # without the normal tails next to the mean: 1.0 at -1e-4 sd
    _, mean, var = sp.cgf(0.0)
    for dz in (-0.2, -1e-2, -1e-3, -1e-4, 1e-4, 1e-3, 1e-2, 0.2):
        lower, upper = sp.tails(mean + dz * np.sqrt(var))
        assert abs(lower - 0.5) < 0.1 and abs(upper - 0.5) < 0.1, (dz, lower, upper)
        assert (lower < 0.5) == (dz < 0)
