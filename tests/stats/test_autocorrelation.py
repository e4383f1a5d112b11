"""autocorrelation_test: all lags by FFT; size, power at the MDE, the faults it must see."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conformance.stats import (
    autocorrelation_mde,
    autocorrelation_sample_size,
    autocorrelation_test,
    autocorrelation_validity_sample_size,
)


def _copy_chain(rng, shape, lag, phi, p):
    """Along the last axis, d[t] copies d[t - lag] with probability phi, else a fresh draw."""
    d = rng.random(shape) < p
    copy = rng.random(shape) < phi
    for t in range(lag, shape[-1]):
        d[..., t] = np.where(copy[..., t], d[..., t - lag], d[..., t])
    return d


def test_lag_statistics_match_direct_sums(rng):
    d = rng.random((3, 4, 37)) < 0.3
    r = autocorrelation_test(d, 0.3, max_lag=6, alpha=0.05)
    x = d.reshape(12, 37) - 0.3
    for k in range(1, 7):
        direct = np.sum(x[:, :-k] * x[:, k:]) / (math.sqrt(12 * (37 - k)) * 0.21)
        assert r.z[k - 1] == pytest.approx(direct, rel=1e-9, abs=1e-12)
    # another axis, same numbers
    r2 = autocorrelation_test(np.moveaxis(d, -1, 0), 0.3, max_lag=6, axis=0, alpha=0.05)
    np.testing.assert_allclose(r2.z, r.z, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("p", [0.5, 0.1])
def test_false_alarm_rate(rng, sim, p):
    reps, alpha = 1000, 0.05
    rejections = sum(
        autocorrelation_test(rng.random((20, 200)) < p, p, max_lag=10, alpha=alpha).reject
        for _ in range(reps)
    )
    sim.assert_not_liberal(rejections, reps, alpha)


@pytest.mark.parametrize(("p", "lag"), [(0.5, 3), (0.1, 7), (0.8, 1)])
def test_power_at_mde(rng, sim, p, lag):
    reps, alpha, beta, shape, max_lag = 400, 0.01, 0.1, (20, 300), 10
    phi = autocorrelation_mde(20 * (300 - lag), max_lag, alpha=alpha, beta=beta, p=p)
    detections = sum(
        autocorrelation_test(_copy_chain(rng, shape, lag, phi, p), p, max_lag=max_lag,
                             alpha=alpha, beta=beta).reject
        for _ in range(reps)
    )
    sim.assert_power_at_least(detections, reps, 1 - beta)


def test_sees_channel_copies_sample_reuse_and_call_correlation(rng):
    alpha, p = 1e-6, 0.3
    calls, n, c = 40, 16, 32
    # channel c + 5 copies channel c
    d = rng.random((calls, n, c)) < p
    d[..., 5:10] = d[..., 0:5]
    r = autocorrelation_test(d, p, max_lag=8, alpha=alpha)
    assert r.reject and r.worst_lag == 5
    # sample n + 1 reuses sample n's mask shifted by one channel: lag C + 1 in (n, c) order
    d = rng.random((calls, n, c)) < p
    for i in range(1, n):
        d[:, i] = np.roll(d[:, i - 1], 1, axis=-1)
    r = autocorrelation_test(d.reshape(calls, n * c), p, max_lag=c + 1, alpha=alpha)
    assert r.reject and r.worst_lag == c + 1
    # successive calls correlated at lag 3 (calls axis), decisions otherwise fresh
    d = _copy_chain(rng, (n * c, 200), 3, 0.3, p)
    r = autocorrelation_test(d, p, max_lag=10, axis=-1, alpha=alpha)
    assert r.reject and r.worst_lag == 3
    # and a correct draw of the same size passes
    assert not autocorrelation_test(rng.random((calls, n, c)) < p, p, max_lag=8,
                                    alpha=alpha).reject


@pytest.mark.parametrize("p", [None, 0.5, 0.1, 0.95])
def test_round_trip(p):
    n = autocorrelation_sample_size(0.02, 64, alpha=1e-6, beta=1e-3, p=p)
    assert autocorrelation_mde(n, 64, alpha=1e-6, beta=1e-3, p=p) <= 0.02
    assert autocorrelation_mde(n - 1, 64, alpha=1e-6, beta=1e-3, p=p) > 0.02
    m = autocorrelation_mde(50_000, 8, alpha=1e-4, beta=0.01, p=p)
    assert autocorrelation_sample_size(m, 8, alpha=1e-4, beta=0.01, p=p) <= 50_000


def test_validity_sample_size_and_flag(rng):
    n = autocorrelation_validity_sample_size(0.1, 16, alpha=1e-6)
    assert autocorrelation_validity_sample_size(0.5, 16, alpha=1e-6) < n
    short = autocorrelation_test(rng.random((1, 2000)) < 0.1, 0.1, max_lag=16, alpha=1e-6)
    assert short.normal_ok is False
    length = n + 16
    long = autocorrelation_test(rng.random((1, length)) < 0.1, 0.1, max_lag=16, alpha=1e-6)
    assert long.normal_ok is True


@pytest.mark.parametrize(
    ("d", "kwargs", "match"),
    [
        (np.zeros((2, 5), int), {}, "boolean"),
        (np.zeros((2, 5), bool), {"max_lag": 5}, "max_lag < sequence length"),
        (np.zeros((2, 5), bool), {"axis": 2}, "out of range"),
    ],
)
def test_validates(d, kwargs, match):
    with pytest.raises(ValueError, match=match):
        autocorrelation_test(d, 0.5, **({"max_lag": 2} | kwargs), alpha=0.05)
