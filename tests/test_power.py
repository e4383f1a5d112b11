"""The power plan: every check splits its alpha over its sub-tests, the family budget is spent
exactly once, and each row carries its unit and cost."""

from __future__ import annotations

import pytest

from conformance import battery
from conformance.adapters.base import Adapter
from conformance.checks.subtests import SUBTESTS, subtests
from conformance.power import plan


@pytest.fixture(scope="module")
def default_plan():
    return {row["check"]: row for row in plan("default")}


def test_every_check_splits_its_alpha_over_its_subtests(default_plan):
    for row in [*plan("quick"), *default_plan.values()]:
        total = sum(s["alpha"] for s in row["subtest_rows"])
        assert total <= row["alpha"] * (1 + 1e-9), row["check"]


def test_plan_spends_the_family_budget_exactly_once(default_plan):
    assert set(default_plan) == set(battery.STATISTICAL)
    total = sum(row["alpha"] for row in default_plan.values())
    assert total == pytest.approx(battery.FAMILY_ALPHA)


def test_plan_reports_units_and_costs():
    rows = plan("quick")
    assert all(r["decisions"] > 0 and r["calls"] > 0 and r["mde"] > 0 for r in rows)
    assert {r["unit"] for r in rows} >= {"absolute drop rate", "|phi| between decisions"}


@pytest.mark.parametrize("level", ["quick", "default"])
def test_every_check_takes_the_shares_it_declares(level, default_plan):
    """checks/subtests.py declares each statistical check's sub-tests once; the space sizes its
    cells at those shares (tests/checks/test_space.py), so each check must take exactly them:
    one share per declared sub-test (rate-homogeneity's regions may be empty: fewer tests)."""
    rows = default_plan.values() if level == "default" else plan(level)
    dtypes = [str(d) for d in Adapter().capabilities.dtypes]
    assert {row["check"] for row in rows} == set(SUBTESTS) == set(battery.STATISTICAL)
    for row in rows:
        k = subtests(row["check"], battery.LEVELS[level], dtypes)
        assert {s["alpha"] for s in row["subtest_rows"]} == {row["alpha"] / k}, row["check"]
        if row["check"] == "rate-homogeneity":
            assert 0 < row["subtests"] <= k
        else:
            assert row["subtests"] == k, row["check"]
