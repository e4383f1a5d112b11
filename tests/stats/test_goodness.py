"""binomial_count_gof_test, bin pooling, and the noncentral chi-square MDE siblings."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from scipy import stats
from scipy.optimize import brentq

from conformance.stats import (
    binomial_count_gof_mde,
    binomial_count_gof_test,
    binomial_normal_scores,
    chi2_gof_mde,
    chi2_gof_sample_size,
    pool_bins,
)


def _sums(expected, groups):
    return [float(np.sum(expected[a:b])) for a, b in groups]


def test_pool_bins_hand_example():
    e = np.array([1, 1, 1, 2, 3, 3, 2, 1, 1], dtype=float)
    groups = pool_bins(e)
    # contiguous, covering, every group >= 5
    assert groups[0][0] == 0 and groups[-1][1] == len(e)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(groups))
    assert min(_sums(e, groups)) >= 5


def test_pool_bins_keeps_large_bins_and_pools_tails():
    e = np.array([0.5, 2.0, 10.0, 20.0, 10.0, 4.0, 0.1])
    assert pool_bins(e) == [(0, 3), (3, 4), (4, 7)]


def test_pool_bins_too_little_mass():
    assert pool_bins(np.array([1.0, 2.0, 1.0])) == [(0, 3)]


@pytest.mark.parametrize("seed", range(20))
def test_pool_bins_random_shapes(seed):
    r = np.random.default_rng(seed)
    e = r.exponential(4.0, size=int(r.integers(2, 40)))
    groups = pool_bins(e)
    assert groups[0][0] == 0 and groups[-1][1] == len(e)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(groups))
    if e.sum() >= 10:
        assert len(groups) >= 2
    if len(groups) > 1:
        assert min(_sums(e, groups)) >= 5


def test_gof_matches_manual_chisquare(rng):
    C, p, n = 8, 0.4, 500
    counts = rng.binomial(C, p, size=n)
    r = binomial_count_gof_test(counts, C, p, alpha=0.01)
    edges = r.bin_edges
    obs = [np.sum((counts >= a) & (counts < b)) for a, b in itertools.pairwise(edges)]
    exp = [n * stats.binom.pmf(np.arange(a, b), C, p).sum() for a, b in itertools.pairwise(edges)]
    ref = stats.chisquare(obs, np.array(exp) * n / np.sum(exp))
    assert r.pearson_statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert r.pearson_p_value == pytest.approx(ref.pvalue, rel=1e-9)
    # the decision statistic: Pearson with exact mid-p normal scores per cell
    prob = np.array(exp) / np.sum(exp)
    mid = stats.binom.cdf(np.array(obs) - 1, n, prob) + 0.5 * stats.binom.pmf(obs, n, prob)
    t = np.sum((1 - prob) * stats.norm.ppf(mid) ** 2)
    assert r.statistic == pytest.approx(t, rel=1e-9)
    assert r.p_value == pytest.approx(stats.chi2.sf(t, len(obs) - 1), rel=1e-9)
    # close to Pearson when every cell is well filled
    assert r.statistic == pytest.approx(ref.statistic, rel=0.2)
    assert r.df == len(obs) - 1
    assert r.observed == tuple(float(o) for o in obs)
    assert min(r.expected) >= 5
    assert r.mde == chi2_gof_mde(n, len(obs) - 1, alpha=0.01, beta=1e-3)
    assert r.mde == binomial_count_gof_mde(n, C, p, alpha=0.01, beta=1e-3)
    assert r.estimate == pytest.approx(math.sqrt(ref.statistic / n))
    json.dumps(r.report_detail())  # the report can serialise it


def test_gof_not_testable_when_too_few_samples():
    r = binomial_count_gof_test(np.array([1, 2, 1]), 4, 0.3, alpha=0.05)
    assert r.p_value == 1.0 and not r.reject
    assert r.testable is False and "not testable" in r.reason


def test_gof_detects_all_or_nothing_channels(rng):
    # right mean, wrong shape: all C channels dropped together with probability p
    C, p, n = 16, 0.25, 400
    counts = np.where(rng.random(n) < p, C, 0)
    assert binomial_count_gof_test(counts, C, p, alpha=1e-6).reject


@pytest.mark.parametrize(
    ("counts", "C", "match"),
    [
        (np.array([0, 5]), 4, r"\[0, C=4\]"),
        (np.array([0.5, 1]), 4, "integers"),
        (np.array([], dtype=int), 4, "non-empty"),
    ],
)
def test_gof_validates(counts, C, match):
    with pytest.raises(ValueError, match=match):
        binomial_count_gof_test(counts, C, 0.5, alpha=0.05)


@pytest.mark.parametrize("df", [1, 3, 10, 50])
@pytest.mark.parametrize(("alpha", "beta"), [(0.05, 0.1), (1e-6, 1e-3)])
def test_chi2_mde_is_exact_noncentral_power(df, alpha, beta):
    n = 1000
    w = chi2_gof_mde(n, df, alpha=alpha, beta=beta)
    crit = stats.chi2.isf(alpha, df)
    assert stats.ncx2.sf(crit, df, n * w * w) >= 1 - beta - 1e-12
    assert stats.ncx2.sf(crit, df, n * (0.999 * w) ** 2) < 1 - beta


@pytest.mark.parametrize(("w", "df"), [(0.1, 1), (0.05, 8), (0.3, 20)])
def test_chi2_round_trip(w, df):
    n = chi2_gof_sample_size(w, df, alpha=1e-4, beta=1e-3)
    assert chi2_gof_mde(n, df, alpha=1e-4, beta=1e-3) <= w * (1 + 1e-12)
    assert chi2_gof_mde(n - 1, df, alpha=1e-4, beta=1e-3) > w
    m = chi2_gof_mde(777, df, alpha=1e-4, beta=1e-3)
    assert chi2_gof_sample_size(m, df, alpha=1e-4, beta=1e-3) <= 777


@pytest.mark.parametrize(("C", "p", "n"), [(16, 0.3, 300), (4, 0.1, 120), (64, 0.5, 100)])
def test_gof_false_alarm_rate(rng, sim, C, p, n):
    reps, alpha = 2000, 0.05
    rejections = sum(
        binomial_count_gof_test(rng.binomial(C, p, size=n), C, p, alpha=alpha).reject
        for _ in range(reps)
    )
    sim.assert_not_liberal(rejections, reps, alpha)


def _pooled_w(pmf1, pmf0, edges):
    p1 = np.array([pmf1[a:b].sum() for a, b in itertools.pairwise(edges)])
    p0 = np.array([pmf0[a:b].sum() for a, b in itertools.pairwise(edges)])
    return math.sqrt(np.sum((p1 - p0) ** 2 / p0))


@pytest.mark.parametrize(
    ("kind", "claimed_beta", "n"),
    [
        # the MDE is large-sample: power 0.873 at 400 samples, 0.887 at 2,000, 0.90 here
        ("shifted-rate", 0.1, 10_000),
        # the w-MDE is local: optimistic here
        ("overdispersed", 0.25, 400),
    ],
)
def test_gof_power_at_mde(rng, sim, kind, claimed_beta, n):
    C, p, alpha, beta = 16, 0.3, 0.01, 0.1
    reps = sim.reps_for_power(1 - claimed_beta)
    dry = binomial_count_gof_test(rng.binomial(C, p, size=n), C, p, alpha=alpha, beta=beta)
    edges, w = dry.bin_edges, dry.mde
    k = np.arange(C + 1)
    pmf0 = stats.binom.pmf(k, C, p)
    if kind == "shifted-rate":
        shift = brentq(
            lambda s: _pooled_w(stats.binom.pmf(k, C, p + s), pmf0, edges) - w, 1e-9, 0.5
        )
        draw = lambda: rng.binomial(C, p + shift, size=n)  # noqa: E731
    else:
        # beta-binomial with the same mean: channels of a sample share a random rate
        def pmf_bb(rho):
            a = p * (1 - rho) / rho
            return stats.betabinom.pmf(k, C, a, a * (1 - p) / p)

        rho = brentq(lambda r: _pooled_w(pmf_bb(r), pmf0, edges) - w, 1e-6, 0.9)
        a = p * (1 - rho) / rho
        draw = lambda: rng.binomial(C, rng.beta(a, a * (1 - p) / p, size=n))  # noqa: E731
    detections = sum(
        binomial_count_gof_test(draw(), C, p, alpha=alpha, beta=beta).reject for _ in range(reps)
    )
    sim.assert_power_at_least(detections, reps, 1 - claimed_beta)


def test_gof_statistic_calibrated_at_small_alpha(rng, sim):
    # Pearson's chi-square tail is liberal here (about x1.3 at 1e-3 and x2.5 at 1e-5); the
    # normal-score statistic must not be.  Vectorised over 400k multinomial replications.
    C, p, n, alpha, reps = 16, 0.3, 300, 1e-3, 250_000
    dry = binomial_count_gof_test(rng.binomial(C, p, size=n), C, p, alpha=alpha)
    edges, df = dry.bin_edges, dry.df
    pmf = stats.binom.pmf(np.arange(C + 1), C, p)
    prob = np.array([pmf[a:b].sum() for a, b in itertools.pairwise(edges)])
    prob /= prob.sum()
    obs = rng.multinomial(n, prob, size=reps)
    # score every possible count once per bin, then look the replications up
    table = binomial_normal_scores(np.arange(n + 1)[:, None], n, prob) ** 2
    t = np.sum((1 - prob) * np.take_along_axis(table, obs, axis=0), axis=1)
    crit = stats.chi2.isf(alpha, df)
    sim.assert_not_liberal(int(np.sum(t > crit)), reps, alpha)
    pearson = np.sum((obs - n * prob) ** 2 / (n * prob), axis=1)
    assert np.sum(pearson > crit) > sim.max_false_alarms(reps, alpha)  # why T is used


def test_pooled_df_is_what_the_test_uses(rng):
    from conformance.stats import pooled_df

    for n, C, p in ((50, 64, 0.5), (1000, 64, 0.1), (300, 16, 0.3)):
        r = binomial_count_gof_test(rng.binomial(C, p, size=n), C, p, alpha=0.01)
        assert pooled_df(C, p, n) == r.df < C


def test_gof_sample_size_by_pooled_df():
    from conformance.stats import binomial_count_gof_sample_size, pooled_df

    n = binomial_count_gof_sample_size(0.1, 64, 0.5, alpha=1e-5, beta=1e-3)
    assert chi2_gof_mde(n, pooled_df(64, 0.5, n), alpha=1e-5, beta=1e-3) <= 0.1
    # the family's MDE is that one, and the sample size its inverse
    assert binomial_count_gof_mde(n, 64, 0.5, alpha=1e-5, beta=1e-3) <= 0.1
    assert binomial_count_gof_mde(n // 2, 64, 0.5, alpha=1e-5, beta=1e-3) > 0.1
    assert binomial_count_gof_mde(3, 64, 0.5, alpha=1e-5, beta=1e-3) == math.inf
    assert n < chi2_gof_sample_size(0.1, 64, alpha=1e-5, beta=1e-3)  # df 64 over-sizes
