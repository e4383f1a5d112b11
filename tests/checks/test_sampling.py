"""The statistical battery: sample sizes from the level targets, verdicts on correct and faulty
implementations at fixed seeds, and the early-stop rule's error accounting."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import battery
from conformance.adapters import CallableAdapter, load_adapter
from conformance.checks import CATALOGUE, CheckContext
from conformance.checks._sampling import EARLY_SHARE, LOOKS, Sampler, Setting, sequential
from conformance.planning import plan
from conformance.runner import RunConfig, Runner
from conformance.stats import binomial_test


@pytest.fixture(scope="module")
def default_plan():
    return {row["check"]: row for row in plan("default")}


def test_every_statistical_check_is_catalogued_with_its_requirement():
    for cid in battery.STATISTICAL:
        assert CATALOGUE[cid].kind == "statistical"
        assert CATALOGUE[cid].requirement in {"R3", "R4", "R5"}


@pytest.mark.parametrize("level, target", [("default", 0.005), ("thorough", 0.001)])
def test_drop_rate_mde_meets_the_level_target_at_every_anchor_p(level, target):
    adapter = load_adapter("reference")
    ctx = CheckContext(adapter, battery.LEVELS[level], 0, battery.check_alpha(1e-4), 1e-3,
                       dry_run=True)
    outcome = CATALOGUE["drop-rate"].fn(adapter, ctx)
    anchors = [s for s in outcome.stats if s.test == "binomial-exact"]
    ps = {s.detail["p"] for s in anchors}
    assert ps == set(battery.LEVELS[level].p_grid)
    assert {0.01, 0.99} <= ps
    assert all(s.mde <= target for s in anchors), [(s.detail["p"], s.mde) for s in anchors]
    # beside the anchors: every setting of the space, and the omnibus over them
    others = [s.test for s in outcome.stats if s.test != "binomial-exact"]
    assert others == ["rate-homogeneity-max-z", "rate-homogeneity-chi2"]
    # the sub-tests share the check's alpha (Bonferroni)
    assert sum(s.alpha for s in outcome.stats) <= battery.check_alpha(1e-4) * (1 + 1e-12)


def test_every_check_splits_its_alpha_over_its_subtests(default_plan):
    for row in [*plan("quick"), *default_plan.values()]:
        total = sum(s["alpha"] for s in row["subtest_rows"])
        assert total <= row["alpha"] * (1 + 1e-9), row["check"]


def test_plan_spends_the_family_budget_exactly_once(default_plan):
    assert set(default_plan) == set(battery.STATISTICAL)
    total = sum(row["alpha"] for row in default_plan.values())
    assert total == pytest.approx(battery.FAMILY_ALPHA)


@pytest.mark.parametrize("spec", ["reference", "torch"])
def test_correct_implementations_pass_the_statistical_battery(spec):
    pytest.importorskip("torch") if spec == "torch" else None
    result = Runner(RunConfig(level="default", checks=battery.STATISTICAL)).run_adapter(
        load_adapter(spec)
    )
    failures = {c.id: c.message for c in result.checks if not c.ok}
    assert not failures
    rate = next(c for c in result.checks if c.id == "drop-rate")
    anchors = [s for s in rate.stats if s.test == "binomial-exact"]
    assert anchors and all(s.mde <= 0.005 for s in anchors)
    assert sum(s.n for s in anchors) > 1_000_000
    rate = rate.to_dict()
    assert {"statistic", "p_value", "alpha", "n", "mde", "observed", "ci", "seed",
            "reproduce"} <= set(rate)


# Faulty implementations caught by the statistical checks are tested, each with the checks it
# names and at its level, in tests/mutants/ (one place, so CI draws each only once).


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
