"""max_abs_z_test (per entry, Bonferroni) and homogeneity_chi2_test (omnibus), with one p for
every entry (positions) or one per entry (settings)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from conformance.stats import (
    binomial_mde,
    binomial_normal_scores,
    binomial_pvalues,
    chi2_gof_mde,
    clopper_pearson,
    homogeneity_chi2_mde,
    homogeneity_chi2_sample_size,
    homogeneity_chi2_test,
    max_abs_z_mde,
    max_abs_z_sample_size,
    max_abs_z_test,
)


def test_max_abs_z_hand_example():
    dropped = np.array([30, 52, 47, 50])
    r = max_abs_z_test(dropped, 100, 0.5, alpha=0.05)
    pvals = [stats.binomtest(int(d), 100, 0.5).pvalue for d in dropped]
    assert r.worst_entry == 0 and r.worst_rate == 0.30 and r.entries == 4
    assert r.p_value == pytest.approx(min(1.0, 4 * min(pvals)), rel=1e-9)
    assert r.statistic == pytest.approx(2.0 * math.sqrt(100) * 0.2)  # |30 - 50| / 5
    assert r.estimate == 0.30
    assert r.worst_p == 0.5 and r.alpha_per_entry == 0.05 / 4
    assert r.reject == (min(pvals) <= 0.05 / 4)
    assert r.mde == max_abs_z_mde(100, 4, 0.5, alpha=0.05, beta=1e-3)
    assert r.ci[0] < 0.30 < r.ci[1]
    json.dumps(r.report_detail())


def test_max_abs_z_per_position_trials():
    dropped = np.array([5, 50, 500])
    trials = np.array([10, 100, 1000])
    r = max_abs_z_test(dropped, trials, 0.5, alpha=0.05)
    assert r.p_value == 1.0 and r.statistic == 0.0
    assert r.n == 1110
    # the median entry's MDE (here the one of 100 trials)
    assert r.mde == max_abs_z_mde(trials, 3, 0.5, alpha=0.05, beta=1e-3)
    assert r.mde == max_abs_z_mde(100, 3, 0.5, alpha=0.05, beta=1e-3)


def test_max_abs_z_names_the_entries_that_reject():
    dropped = np.array([28, 52, 47, 50, 70])
    labels = ["a", "b", "c", "d", "e"]
    r = max_abs_z_test(dropped, 100, 0.5, alpha=0.05, labels=labels)
    pv = [stats.binomtest(int(d), 100, 0.5).pvalue for d in dropped]
    assert r.setting == "a" and r.worst_entry == 0 and r.estimate == 0.28
    assert r.ci == clopper_pearson(28, 100, 1 - 0.05 / 5)
    # every entry that rejects on its own share, smallest p-value first
    assert r.failing == (f"a: rate 0.28 (p-value {pv[0]:.3g})",
                         f"e: rate 0.7 (p-value {pv[4]:.3g})")
    assert list(r.context) == ["setting", "p", "failing"]
    assert max_abs_z_test(dropped, 100, 0.5, alpha=0.05).setting == "entry 0"
    with pytest.raises(ValueError, match="one label per entry"):
        max_abs_z_test(dropped, 100, 0.5, alpha=0.05, labels=labels[:2])


def test_max_abs_z_finds_the_bad_channel(rng):
    P, t, p = 64, 4000, 0.3
    d = rng.binomial(t, p, size=P)
    d[17] = rng.binomial(t, 0.36)
    r = max_abs_z_test(d, t, p, alpha=1e-4)
    assert r.reject and r.worst_entry == 17


@pytest.mark.parametrize(
    ("dropped", "trials", "match"),
    [
        (np.array([1, 2]), np.array([1, 2, 3]), "shape"),
        (np.array([5]), 4, "dropped <= trials"),
        (np.array([1.0]), 4, "integers"),
        (np.array([1]), 0, "trials must be >= 1"),
    ],
)
def test_positions_validated(dropped, trials, match):
    with pytest.raises(ValueError, match=match):
        max_abs_z_test(dropped, trials, 0.5, alpha=0.05)
    with pytest.raises(ValueError, match=match):
        homogeneity_chi2_test(dropped, trials, 0.5, alpha=0.05)


def test_mde_and_sample_size_are_bonferroni_normal():
    z = stats.norm.isf(1e-4 / 32 / 2) + stats.norm.isf(1e-3)
    assert max_abs_z_mde(2000, 32, 0.1, alpha=1e-4, beta=1e-3) == pytest.approx(
        z * math.sqrt(0.1 * 0.9 / 2000), rel=1e-12)
    # the normal approximation of the exact test's MDE, optimistic at skewed p and few trials
    exact = binomial_mde(2000, 0.1, alpha=1e-4 / 32, beta=1e-3)
    assert 0.85 * exact < max_abs_z_mde(2000, 32, 0.1, alpha=1e-4, beta=1e-3) < exact
    n = max_abs_z_sample_size(0.01, 32, 0.1, alpha=1e-4, beta=1e-3)
    assert max_abs_z_mde(n, 32, 0.1, alpha=1e-4, beta=1e-3) <= 0.01
    assert max_abs_z_mde(n - 1, 32, 0.1, alpha=1e-4, beta=1e-3) > 0.01
    m = max_abs_z_mde(3000, 32, 0.1, alpha=1e-4, beta=1e-3)
    assert max_abs_z_sample_size(m, 32, 0.1, alpha=1e-4, beta=1e-3) == 3000


def test_max_abs_z_false_alarm_rate(rng, sim):
    reps, P, t, p, alpha = 4000, 16, 200, 0.3, 0.05
    d = rng.binomial(t, p, size=(reps, P))
    rejections = sum(max_abs_z_test(row, t, p, alpha=alpha).reject for row in d[:1000])
    sim.assert_not_liberal(rejections, 1000, alpha)
    # the same decision, vectorised, over all replications (Bonferroni is exact-conservative)
    min_p = binomial_pvalues(d, t, p).min(axis=1)
    sim.assert_not_liberal(int(np.sum(min_p <= alpha / P)), reps, alpha)


@pytest.mark.parametrize("sign", [1, -1])
def test_max_abs_z_power_at_mde(rng, sim, sign):
    P, t, p, alpha, beta = 16, 2000, 0.5, 0.01, 0.1
    reps = sim.reps_for_power(1 - beta)
    mde = max_abs_z_mde(t, P, p, alpha=alpha, beta=beta)
    rates = np.full(P, p)
    rates[5] = p + sign * mde
    d = rng.binomial(t, rates, size=(reps, P))
    detections = int(np.sum(binomial_pvalues(d, t, p).min(axis=1) <= alpha / P))
    sim.assert_power_at_least(detections, reps, 1 - beta)
    assert all(
        max_abs_z_test(row, t, p, alpha=alpha, beta=beta).reject
        == (binomial_pvalues(row, t, p).min() <= alpha / P)
        for row in d[:50]
    )


def test_homogeneity_chi2_hand_example():
    d = np.array([40, 60, 55, 45])
    r = homogeneity_chi2_test(d, 100, 0.5, alpha=0.05)
    pearson = np.sum((d - 50) ** 2 / 25.0)  # both cells: (o-e)^2/e summed = z^2
    table = np.stack([d, 100 - d], axis=1)
    both_cells = np.sum((table - 50) ** 2 / 50.0)
    assert pearson == pytest.approx(both_cells)
    assert r.pearson_statistic == pytest.approx(pearson)
    z = binomial_normal_scores(d, 100, 0.5)
    assert r.statistic == pytest.approx(np.sum(z**2))
    assert r.p_value == pytest.approx(stats.chi2.sf(np.sum(z**2), 4))
    assert r.estimate == pytest.approx(math.sqrt(pearson / 400))
    assert r.mde == chi2_gof_mde(400, 4, alpha=0.05, beta=1e-3)
    assert r.mde == homogeneity_chi2_mde(100, 4, alpha=0.05, beta=1e-3)
    assert r.df == 4


def test_homogeneity_chi2_not_testable_with_sparse_cells_on_request():
    r = homogeneity_chi2_test(np.array([0, 1, 0]), 40, 0.01, alpha=0.05, min_expected=5)
    assert r.p_value == 1.0 and r.reason.startswith("not testable")
    assert r.pearson_statistic is None and "pearson_statistic" not in r.report_detail()
    # by default the normal scores (conservative however sparse) decide
    assert homogeneity_chi2_test(np.array([0, 1, 0]), 40, 0.01, alpha=0.05).reason is None


def test_homogeneity_chi2_false_alarm_rate(rng, sim):
    reps, P, t, p, alpha = 2000, 32, 100, 0.2, 0.05
    d = rng.binomial(t, p, size=(reps, P))
    rejections = sum(homogeneity_chi2_test(row, t, p, alpha=alpha).reject for row in d)
    sim.assert_not_liberal(rejections, reps, alpha)


def test_homogeneity_statistic_calibrated_at_small_alpha(rng, sim):
    # Pearson's chi-square is liberal here (x2 at 1e-4); the normal-score statistic is not.
    reps, P, t, p, alpha = 250_000, 8, 20_000, 0.001, 1e-3
    d = rng.binomial(t, p, size=(reps, P))
    table = binomial_normal_scores(np.arange(d.max() + 1), t, p) ** 2
    crit = stats.chi2.isf(alpha, P)
    sim.assert_not_liberal(int(np.sum(table[d].sum(axis=1) > crit)), reps, alpha)
    pearson = ((d - t * p) ** 2 / (t * p * (1 - p))).sum(axis=1)
    assert np.sum(pearson > crit) > sim.max_false_alarms(reps, alpha)  # why T is used


def test_homogeneity_chi2_power_at_mde(rng, sim):
    # half the positions at p + delta, half at p - delta: w = delta / sqrt(p q)
    P, t, p, alpha, beta = 16, 400, 0.3, 0.01, 0.1
    reps = sim.reps_for_power(1 - beta)
    w = chi2_gof_mde(P * t, P, alpha=alpha, beta=beta)
    delta = w * math.sqrt(p * (1 - p))
    rates = np.where(np.arange(P) % 2 == 0, p + delta, p - delta)
    d = rng.binomial(t, rates, size=(reps, P))
    detections = sum(homogeneity_chi2_test(row, t, p, alpha=alpha, beta=beta).reject for row in d)
    sim.assert_power_at_least(detections, reps, 1 - beta)


def test_max_abs_z_per_entry_p(rng, sim):
    reps, m, n, alpha = 4000, 24, 400, 0.05
    p = rng.uniform(0.05, 0.95, m)
    k = rng.binomial(n, p, size=(reps, m))
    # the decision vectorised (each entry's exact p-values over all replications) ...
    pv = np.stack([binomial_pvalues(k[:, j], n, float(p[j])) for j in range(m)], axis=1)
    rejected = pv.min(axis=1) <= alpha / m
    sim.assert_not_liberal(int(rejected.sum()), reps, alpha)
    # ... is the family's
    assert [max_abs_z_test(row, n, p, alpha=alpha).reject for row in k[:200]] == list(
        rejected[:200])
    k = rng.binomial(n, p)
    r = max_abs_z_test(k, n, p, alpha=alpha)
    pv = [stats.binomtest(int(a), n, float(b)).pvalue for a, b in zip(k, p, strict=True)]
    assert r.p_value == pytest.approx(min(1.0, m * min(pv)), rel=1e-9)
    assert r.omnibus.df == m and r.entries == m


@pytest.mark.parametrize("sign", [1, -1])
def test_max_abs_z_per_entry_power_at_mde(rng, sim, sign):
    # the MDE is the normal approximation with the null's variance: at p = 0.3 a shift
    # towards 1/2 is a little harder to see (exact power 0.895 here, 0.879 at 2000 trials)
    m, n, p, alpha, beta = 16, 20_000, 0.3, 0.01, 0.1
    reps = sim.reps_for_power(1 - beta)
    rates = np.full(m, p)
    rates[3] += sign * max_abs_z_mde(n, m, p, alpha=alpha, beta=beta)
    detections = sum(max_abs_z_test(rng.binomial(n, rates), n, p, alpha=alpha,
                                      beta=beta).reject for _ in range(reps))
    sim.assert_power_at_least(detections, reps, 1 - beta)


def test_homogeneity_chi2_sees_a_narrow_band_bias(rng, sim):
    m, n, alpha, beta = 200, 2000, 0.01, 0.1
    reps = sim.reps_for_power(1 - beta)
    p = np.linspace(0.30, 0.31, m)
    w = homogeneity_chi2_mde(n, m, alpha=alpha, beta=beta)
    rates = p + w * np.sqrt(p * (1 - p))  # every p in the band off by the same amount
    k = rng.binomial(n, rates, size=(reps, m))
    detections = sum(homogeneity_chi2_test(row, n, p, alpha=alpha, beta=beta).reject
                     for row in k)
    sim.assert_power_at_least(detections, reps, 1 - beta)
    # the per-entry max-|z| (its decision vectorised over the replications) rarely sees it
    pv = np.stack([binomial_pvalues(k[:, j], n, float(p[j])) for j in range(m)], axis=1)
    assert np.mean(pv.min(axis=1) <= alpha / m) < 0.5
    assert homogeneity_chi2_sample_size(w, m, alpha=alpha, beta=beta) <= n
    alarms = sum(homogeneity_chi2_test(rng.binomial(n, p), n, p, alpha=0.05).reject
                 for _ in range(reps))
    sim.assert_not_liberal(alarms, reps, 0.05)


def test_max_abs_z_sample_size_round_trip():
    n = max_abs_z_sample_size(0.01, 50, 0.2, alpha=1e-5, beta=1e-3)
    assert max_abs_z_mde(n, 50, 0.2, alpha=1e-5, beta=1e-3) <= 0.01
