"""checks/sampling.py: the early-stop rule's error accounting, a pass on the full sample only,
and decisions counted per map, never per element."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import battery
from conformance.adapters import CallableAdapter, load_adapter
from conformance.checks import CheckContext
from conformance.checks.sampling import EARLY_SHARE, LOOKS, Sampler, Setting, sequential
from conformance.stats import binomial_test


def test_early_stop_needs_overwhelming_evidence_and_keeps_alpha():
    calls = []

    def never_drops(x, p, training=True):
        calls.append(1)
        return x

    adapter = CallableAdapter(never_drops)
    ctx = CheckContext(adapter, battery.LEVELS["default"], 0, 1e-5, 1e-3)
    sampler = Sampler(ctx, Setting(0.5, (8, 16, 2, 2)))

    def test(d, a):
        return binomial_test(int(d.sum()), d.size, 0.5, alpha=a, beta=1e-3)

    result, _data = sequential(sampler, 100, test, 1e-5)
    assert result.reject and len(calls) == 20  # stopped at the first of the early looks
    assert result.alpha == pytest.approx(1e-5 * EARLY_SHARE / LOOKS)


def test_a_pass_always_takes_the_full_sample():
    adapter = load_adapter("reference")
    ctx = CheckContext(adapter, battery.LEVELS["default"], 0, 1e-5, 1e-3)
    sampler = Sampler(ctx, Setting(0.5, (8, 16, 2, 2)))

    def test(d, a):
        return binomial_test(int(d.sum()), d.size, 0.5, alpha=a, beta=1e-3)

    result, data = sequential(sampler, 37, test, 1e-5)
    assert not result.reject and data.shape[0] == 37
    assert result.alpha == pytest.approx(1e-5 * (1 - EARLY_SHARE))


def test_decisions_are_counted_per_map_not_per_element():
    adapter = load_adapter("reference")
    ctx = CheckContext(adapter, battery.LEVELS["quick"], 0, 1e-5, 1e-3)
    dropped = Sampler(ctx, Setting(0.3, (4, 5, 3, 7))).draw(3)
    assert dropped.shape == (3, 4, 5) and dropped.dtype == np.bool_
    assert ctx.decisions == 60
