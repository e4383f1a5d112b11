"""Size and power of the pooled families (stats/pooled.py), by simulation on fixed seeds.

Sizes are measured at alpha = 0.05 and powers at beta = 0.1 with the rules of
tests/stats/conftest.py: enough repetitions that a power of 0.9 is told from 0.85, so a wrong
MDE formula of that size fails here, and (these MDEs being normal approximations claimed
tight) from 0.95.  Each family is also shown *not* to fail on the faults it must leave to other
checks (a wrong rate for the conditional families, a rate that differs between positions for
the lags).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from conformance.stats import (
    LagSums,
    binomial_count_gof_test,
    centred_lag_sums,
    conditional_excess_mde,
    conditional_excess_sample_size,
    conditional_excess_test,
    conditional_z,
    dispersion_test,
    excess_rate_mde,
    excess_rate_sample_size,
    excess_rate_test,
    flattened_lag_mde,
    flattened_lag_sample_size,
    flattened_lag_test,
    identical_pair_probability,
    identical_repeats_expected,
    identical_repeats_mde,
    identical_repeats_rate,
    identical_repeats_sample_size,
    identical_repeats_test,
    lag_mde,
    lag_sample_size,
    lag_test,
    positions_mde,
    positions_test,
)

ALPHA, BETA = 0.05, 0.1


def _assert_power(sim, hits: int, reps: int) -> None:
    """Power 1 - BETA at the MDE, resolved from 0.85 (tests/stats/conftest.py), and not above
    0.95: these MDEs are normal approximations, claimed tight, not merely conservative."""
    sim.assert_power_at_least(hits, reps, 1 - BETA)
    sim.assert_power_at_most(hits, reps, 1 - BETA + 0.05)


# ----------------------------------------------------------------------------- excess rate


def test_excess_rate_size_and_power_at_its_mde(sim):
    rng = np.random.default_rng(1)
    n = np.array([2000, 5000, 800, 12000])
    p = np.array([0.1, 0.5, 0.9, 0.3])
    mde = excess_rate_mde(n, p, alpha=ALPHA, beta=BETA)
    reps = 4000
    null = rng.binomial(n, p, size=(reps, n.size))
    shifted = rng.binomial(n, p + mde, size=(reps, n.size))
    size = sum(excess_rate_test(k, n, p, alpha=ALPHA, beta=BETA, label="g").reject
               for k in null)
    power = sum(excess_rate_test(k, n, p, alpha=ALPHA, beta=BETA, label="g").reject
                for k in shifted)
    sim.assert_not_liberal(size, reps, ALPHA)
    _assert_power(sim, power, reps)


def test_excess_rate_sample_size_inverts_the_mde():
    n = excess_rate_sample_size(0.01, 0.3, alpha=1e-6, beta=1e-3)
    assert excess_rate_mde(np.array([n]), np.array([0.3]), alpha=1e-6, beta=1e-3) <= 0.01
    assert excess_rate_mde(np.array([n - 50]), np.array([0.3]), alpha=1e-6, beta=1e-3) > 0.01


# ----------------------------------------------------------------------------- conditional


def _strata(rng, reps, sizes, rates, marked_fraction, shift=0.0):
    """Drops of marked and unmarked decisions per stratum: (k marked, m, K total, M)."""
    m = np.round(np.array(sizes) * marked_fraction).astype(int)
    rest = np.array(sizes) - m
    km = rng.binomial(m, np.clip(np.array(rates) + shift, 0, 1), size=(reps, len(sizes)))
    kr = rng.binomial(rest, rates, size=(reps, len(sizes)))
    return km, m, km + kr, np.array(sizes)


def test_conditional_excess_size_power_and_blind_to_a_wrong_rate(sim):
    rng = np.random.default_rng(2)
    sizes, rates, frac = [4000, 9000, 2500], [0.2, 0.5, 0.7], 0.25
    reps = 3000
    km, m, big_k, big_m = _strata(rng, 1, sizes, rates, frac)
    c = conditional_z(km[0][None, :], m[None, :], big_k[0], big_m)
    mde = conditional_excess_mde(float(c.var[0]), float(c.weight[0]), alpha=ALPHA, beta=BETA)

    def rejects(shift: float, rate_fault: float = 0.0) -> int:
        km, m, big_k, big_m = _strata(rng, reps, sizes, np.array(rates) + rate_fault, frac,
                                      shift)
        return sum(conditional_excess_test(km[i], m, big_k[i], big_m, alpha=ALPHA, beta=BETA,
                                           label="g").reject for i in range(reps))

    sim.assert_not_liberal(rejects(0.0), reps, ALPHA)
    # a rate wrong for whole strata (+0.05 everywhere) is not this test's to find
    sim.assert_not_liberal(rejects(0.0, rate_fault=0.05), reps, ALPHA)
    _assert_power(sim, rejects(mde), reps)


def test_conditional_excess_sample_size_inverts_the_mde():
    total = conditional_excess_sample_size(0.02, 0.4, 0.5, alpha=1e-6, beta=1e-3)
    m = total // 2
    var = m * 0.4 * 0.6 * (total - m) / (total - 1)
    assert conditional_excess_mde(var, m * (total - m) / total, alpha=1e-6, beta=1e-3) \
        <= 0.0201


def test_positions_size_and_power_at_one_position(sim):
    rng = np.random.default_rng(3)
    positions, calls, rate = 20, 400, 0.3
    reps = sim.reps_for_power(1 - BETA)

    def run(shift: float, rate_fault: float = 0.0) -> tuple[int, int]:
        p = np.full(positions, rate + rate_fault)
        p[7] += shift
        k = rng.binomial(calls, p, size=(reps, positions))
        hits_max = hits_omni = 0
        for row in k:
            c = conditional_z(row[:, None], np.full((positions, 1), calls),
                              np.array([row.sum()]), np.array([calls * positions]))
            maxz, omni = positions_test(c, alpha=ALPHA, beta=BETA, what="channel")
            hits_max += maxz.reject
            hits_omni += omni.reject
        return hits_max, hits_omni

    # the MDE at one position: its pooled null variance and weight
    m, big_m = calls, calls * positions
    var = m * rate * (1 - rate) * (big_m - m) / (big_m - 1)
    mde = positions_mde(var, m * (big_m - m) / big_m, positions, alpha=ALPHA, beta=BETA)
    size_max, size_omni = run(0.0, rate_fault=0.1)  # a wrong rate everywhere: not a position's
    sim.assert_not_liberal(size_max, reps, ALPHA)
    sim.assert_not_liberal(size_omni, reps, ALPHA)
    power, _ = run(mde)
    _assert_power(sim, power, reps)


# ----------------------------------------------------------------------------- lags


def _markov(rng, shape, p, phi, axis):
    """Bernoulli(p) decisions whose neighbours along ``axis`` correlate by ``phi`` (a
    stationary two-state Markov chain: P(d_i = d_{i-1}) raised by phi)."""
    d = rng.random(shape) < p
    if phi == 0:
        return d
    d = np.moveaxis(d, axis, -1).copy()
    u = rng.random(d.shape)
    for i in range(1, d.shape[-1]):
        copy = u[..., i] < phi
        d[..., i] = np.where(copy, d[..., i - 1], d[..., i])
    return np.moveaxis(d, -1, axis)


@pytest.mark.parametrize(("axis", "calls"), [(2, 2), (2, 8), (1, 4), (0, 64)])
def test_lag_size_with_rates_that_differ_between_positions(sim, axis, calls):
    """Centred on each position's own mean: a rate that differs by position (a uniformity
    fault) and a wrong rate add nothing, whatever the number of calls."""
    rng = np.random.default_rng(10 + axis + calls)
    n, c = (8, 64) if axis else (4, 16)
    reps = 1500
    hits_max = hits_omni = 0
    for _ in range(reps):
        rate = 0.4 + 0.3 * rng.random((1, n, c))  # every position its own rate
        d = rng.random((calls, n, c)) < rate
        maxed, omnibus = lag_test(centred_lag_sums(d, axis, 4), alpha=ALPHA, beta=BETA,
                                  label="x", min_pairs=1)
        hits_max += maxed.reject
        hits_omni += omnibus.reject
    sim.assert_not_liberal(hits_max, reps, ALPHA)
    sim.assert_not_liberal(hits_omni, reps, ALPHA)


@pytest.mark.parametrize("axis", [2, 0])
def test_lag_power_at_its_mde(sim, axis):
    """A correlation of the MDE at lag 1.  Along the channels, centring on each position's
    mean over T calls leaves the expected z at ``sqrt(pairs (T - 1) / T) phi``: the MDE is
    exact for many calls (here T = 256), optimistic by ``sqrt(T / (T - 1))`` for few."""
    rng = np.random.default_rng(20 + axis)
    calls, n, c = (256, 2, 32) if axis else (256, 2, 8)
    pairs = (c - 1) * n * calls if axis else (calls - 1) * n * c
    phi = lag_mde(pairs, 3, alpha=ALPHA, beta=BETA)
    reps = sim.reps_for_power(1 - BETA)
    hits = 0
    for _ in range(reps):
        d = _markov(rng, (calls, n, c), 0.5, phi, axis)
        maxed, _ = lag_test(centred_lag_sums(d, axis, 3), alpha=ALPHA, beta=BETA, label="x",
                            min_pairs=1)
        hits += maxed.reject
    _assert_power(sim, hits, reps)


def test_lag_sample_size_inverts_the_mde_and_sums_add():
    pairs = lag_sample_size(0.02, 100, alpha=1e-6, beta=1e-3)
    assert lag_mde(pairs, 100, alpha=1e-6, beta=1e-3) <= 0.02 < lag_mde(pairs - 100, 100,
                                                                          alpha=1e-6, beta=1e-3)
    a = LagSums(np.ones(2), np.zeros(2), np.ones(2), np.ones(2))
    b = LagSums(np.ones(3), np.zeros(3), np.ones(3), np.ones(3))
    assert list((a + b).pairs) == [2, 2, 1] and (LagSums.empty() + a).sums.size == 2


# ----------------------------------------------------------------------------- flattened lags


def test_flattened_lag_test_tests_each_stratum_on_its_own():
    rng = np.random.default_rng(30)
    strata = [("a", rng.random((40, 8, 16)) < 0.5), ("b", rng.random((40, 4, 40)) < 0.4),
              ("tiny", rng.random((40, 1, 2)) < 0.5)]
    r = flattened_lag_test(strata, alpha=ALPHA, beta=BETA, max_lag=20, min_pairs=1000)
    # by hand: each stratum's z at every lag with enough pairs, Bonferroni over all of them
    zs, pairs = {}, []
    for label, d in strata:
        lags = centred_lag_sums(d.reshape(d.shape[0], -1), -1, 20)
        ok = lags.pairs >= 1000
        zs[label] = ((lags.sums - lags.mean) / np.sqrt(lags.var))[ok]
        pairs += list(lags.pairs[ok])
    assert "tiny" not in {k for k, z in zs.items() if z.size}  # 40 pairs a lag: untested
    every = np.concatenate(list(zs.values()))
    assert r.n == every.size == 40
    assert abs(r.statistic) == np.abs(every).max() and r.estimate == r.statistic
    two_sided = math.erfc(abs(r.statistic) / math.sqrt(2))
    assert r.p_value == pytest.approx(min(1.0, every.size * two_sided))
    assert r.test == "flattened-max-lag-z" and r.context["lags"] == 40
    assert r.setting.startswith(("a, flattened (n, c) lag", "b, flattened (n, c) lag"))
    # at the tested lag of the fewest pairs: stratum a's lag 20, (128 - 20) pairs a call
    assert min(pairs) == 40 * (128 - 20)
    assert r.mde == flattened_lag_mde(40 * (128 - 20), 40, alpha=ALPHA, beta=BETA)
    with pytest.raises(ValueError, match="no stratum has"):
        flattened_lag_test(strata[2:], alpha=ALPHA, beta=BETA, max_lag=20, min_pairs=1000)


def test_flattened_lag_size_with_rates_that_differ_between_positions(sim):
    """A rate that differs by position, and a different rate in each stratum, add nothing."""
    rng = np.random.default_rng(31)
    reps, calls = 4000, 8
    rate_a = 0.3 + 0.4 * rng.random((1, 4 * 16))
    rate_b = 0.5 + 0.2 * rng.random((1, 2 * 24))
    hits = 0
    for _ in range(reps):
        strata = [("a", rng.random((calls, 4 * 16)) < rate_a),
                  ("b", rng.random((calls, 2 * 24)) < rate_b)]
        hits += flattened_lag_test(strata, alpha=ALPHA, beta=BETA, max_lag=6,
                                   min_pairs=1).reject
    sim.assert_not_liberal(hits, reps, ALPHA)


def test_flattened_lag_power_at_its_mde(sim):
    """A correlation of the MDE at lag 1 of one stratum.  Centring on each position's mean over
    T calls leaves the expected z at ``sqrt(pairs (T - 1) / T) phi``: the MDE is exact for many
    calls (here T = 256: 0.2 % short), optimistic by ``sqrt(T / (T - 1))`` for few."""
    rng = np.random.default_rng(32)
    calls, length, max_lag = 256, 32, 3
    reps = sim.reps_for_power(1 - BETA)
    lags = 2 * max_lag  # two strata
    phi = flattened_lag_mde(calls * (length - 1), lags, alpha=ALPHA, beta=BETA)
    hits = 0
    for _ in range(reps):
        strata = [("markov", _markov(rng, (calls, length), 0.5, phi, -1)),
                  ("fair", rng.random((calls, length)) < 0.5)]
        hits += flattened_lag_test(strata, alpha=ALPHA, beta=BETA, max_lag=max_lag,
                                   min_pairs=1).reject
    _assert_power(sim, hits, reps)


def test_flattened_lag_sample_size_inverts_the_mde():
    pairs = flattened_lag_sample_size(0.02, 4096, alpha=1e-6, beta=1e-3)
    assert flattened_lag_mde(pairs, 4096, alpha=1e-6, beta=1e-3) <= 0.02
    assert flattened_lag_mde(pairs - 1, 4096, alpha=1e-6, beta=1e-3) > 0.02


# ----------------------------------------------------------------------------- repeats


def _codes(rng, reps: int, masks: int, length: int, p) -> np.ndarray:
    """``reps`` x ``masks`` masks of ``length`` <= 62 decisions at rate ``p`` (a scalar or one
    rate per mask), each as one integer."""
    bits = rng.random((reps, masks, length)) < np.reshape(p, (1, -1, 1))
    return (bits.astype(np.int64) << np.arange(length)).sum(axis=-1)


def _identical_pairs(codes: np.ndarray) -> np.ndarray:
    """Identical pairs among each row's codes (sum over runs of equal codes of m(m-1)/2)."""
    s = np.sort(codes, axis=1)
    same = s[:, 1:] == s[:, :-1]
    # an element equal to its predecessor pairs with every earlier element of its run
    run = np.zeros(s.shape, np.int64)
    for j in range(1, s.shape[1]):
        run[:, j] = np.where(same[:, j - 1], run[:, j - 1] + 1, 0)
    return run.sum(axis=1)


def test_identical_repeats_expected_is_the_mean_under_h0():
    rng = np.random.default_rng(40)
    rates = np.array([0.3] * 20 + [0.5] * 10)
    codes = _codes(rng, 20_000, 30, 8, rates)
    expected = identical_repeats_expected(
        [(20 * 19 / 2, 0.3, 0.3), (10 * 9 / 2, 0.5, 0.5), (20 * 10, 0.3, 0.5)], 8)
    mean = _identical_pairs(codes).mean()
    assert mean == pytest.approx(expected, rel=0.03)
    assert identical_repeats_expected([], 8) == 0.0


@pytest.mark.parametrize(("rate", "claimed"), [(0.5, 0.5), (0.35, 0.5), (0.65, 0.45)])
def test_identical_repeats_size(sim, rate, claimed):
    """Markov's bound holds at any rate; a wrong rate (drawn at ``rate``, claimed ``claimed``)
    cannot read as repeats when the expectation is taken at ``identical_repeats_rate``."""
    rng = np.random.default_rng(41)
    reps, masks, length = 20_000, 40, 16
    codes = _codes(rng, reps, masks, length, rate)
    k = _identical_pairs(codes)
    hits = 0
    for row, kk in zip(codes, k, strict=True):
        observed = float(np.mean([bin(int(c)).count("1") for c in row]) / length)
        r = identical_repeats_rate(claimed, observed)
        e = identical_repeats_expected([(masks * (masks - 1) / 2, r, r)], length)
        hits += identical_repeats_test(int(kk), e, alpha=ALPHA, label="x",
                                       n_pairs=masks * (masks - 1) // 2).reject
    sim.assert_not_liberal(hits, reps, ALPHA)


def test_identical_repeats_power_one_at_the_sample_size(sim):
    """Masks of ``identical_repeats_sample_size``: any one repeat rejects (power 1)."""
    rng = np.random.default_rng(42)
    masks, p, alpha = 30, 0.3, 1e-3
    pairs = masks * (masks - 1) // 2
    length = identical_repeats_sample_size(pairs, p, alpha=alpha)
    assert identical_repeats_mde(pairs * identical_pair_probability(p, p, length),
                                 alpha=alpha) == 1
    reps = sim.reps_for_power(1 - BETA)
    hits = 0
    for _ in range(reps):
        v = rng.random((masks, length)) < p
        i, j = rng.choice(masks, 2, replace=False)
        v[j] = v[i]  # a reused seed: one repeat
        k = sum(m * (m - 1) // 2 for m in Counter(r.tobytes() for r in v).values())
        e = identical_repeats_expected([(pairs, p, p)], length)
        hits += identical_repeats_test(k, e, alpha=alpha, label="x", n_pairs=pairs).reject
    assert hits == reps


def test_identical_repeats_sample_size_is_where_one_pair_rejects():
    for p in (0.5, 0.1, 0.9, 0.01):
        length = identical_repeats_sample_size(1225, p, alpha=1e-6)
        assert 1225 * identical_pair_probability(p, p, length) <= 1e-6
        assert 1225 * identical_pair_probability(p, p, length - 1) > 1e-6
        e = 1225 * identical_pair_probability(p, p, length)
        assert identical_repeats_test(1, e, alpha=1e-6, label="x", n_pairs=1225).reject
        assert not identical_repeats_test(0, e, alpha=1e-6, label="x", n_pairs=1225).reject
    assert identical_repeats_sample_size(1225, 0.1, alpha=1e-6) == 106
    # shorter masks need more repeats: ceil(E / alpha)
    e = 1225 * identical_pair_probability(0.1, 0.1, 90)
    assert identical_repeats_mde(e, alpha=1e-6) == math.ceil(e / 1e-6) > 1
    assert identical_repeats_test(identical_repeats_mde(e, alpha=1e-6), e, alpha=1e-6,
                                  label="x", n_pairs=1225).reject
    assert identical_repeats_rate(0.5, 0.4) == 0.4 and identical_repeats_rate(0.1, 0.2) == 0.1


# ----------------------------------------------------------------------------- fitted rates


def test_fitted_dispersion_size_and_blind_to_a_wrong_rate(sim):
    rng = np.random.default_rng(4)
    reps, strata, counts, trials = 600, 30, 4, 150
    hits = 0
    for _ in range(reps):
        true = rng.uniform(0.1, 0.6, strata)
        k = rng.binomial(trials, np.repeat(true, counts))
        label = np.repeat(np.arange(strata), counts)
        fitted = np.bincount(label, weights=k) / (trials * counts)
        hits += dispersion_test(k, trials, fitted[label], alpha=ALPHA, beta=BETA,
                                fitted=label).reject
    sim.assert_not_liberal(hits, reps, ALPHA)


def test_fitted_count_distribution_size_with_a_wrong_claimed_rate(sim):
    rng = np.random.default_rng(5)
    reps = 1500
    hits = sum(binomial_count_gof_test(rng.binomial(40, 0.3, 2000), 40, 0.5, alpha=ALPHA,
                                       beta=BETA, fit_rate=True).reject for _ in range(reps))
    sim.assert_not_liberal(hits, reps, ALPHA)
    # without fitting, the wrong claimed rate is (rightly) a misfit
    assert binomial_count_gof_test(rng.binomial(40, 0.3, 2000), 40, 0.5, alpha=ALPHA,
                                   beta=BETA).reject
