"""checks/levels.py: the levels are ordered -- every minimum detectable effect shrinks from quick
to thorough and every budget grows -- the p grids lie inside (0, 1), and default and thorough
meet the drop-rate targets the design names."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from conformance.checks.base import Level
from conformance.checks.levels import FULL_GRID, LEVELS
from conformance.defaults import LEVEL_NAMES

#: effects a level must detect: strictly smaller at each more rigorous level
EFFECTS = ("drop_rate_mde", "drop_rate_rel_mde", "position_mde", "phi_mde", "gof_w",
           "expectation_mde", "region_mde", "region_rel_mde")
#: what a level spends: never less at a more rigorous level
BUDGETS = ("sweep_cells", "sweep_decisions", "sequence_calls", "round_decisions",
           "extreme_strata", "cnn_cells")
#: how close to p = 0 the extreme strata reach: never further at a more rigorous level
REACH = ("extreme_low",)
GRIDS = ("p_grid", "short_grid")

ORDERED = [LEVELS[name] for name in LEVEL_NAMES]
PAIRS = list(itertools.pairwise(ORDERED))


def test_every_field_of_a_level_is_ordered_here():
    fields = {f.name for f in dataclasses.fields(Level)} - {"name"}
    unordered = fields - set(EFFECTS) - set(BUDGETS) - set(REACH) - set(GRIDS)
    assert not unordered, f"say how {sorted(unordered)} must change from quick to thorough"


def test_the_levels_are_the_defaults_names_in_order_each_named_by_its_key():
    assert tuple(LEVELS) == LEVEL_NAMES == ("quick", "default", "thorough")
    assert all(level.name == key for key, level in LEVELS.items())


@pytest.mark.parametrize("lower, higher", PAIRS, ids=lambda level: level.name)
def test_every_detectable_effect_shrinks_and_every_budget_grows(lower, higher):
    for name in EFFECTS:
        assert 0 < getattr(higher, name) < getattr(lower, name), (name, lower.name, higher.name)
    for name in BUDGETS:
        assert getattr(higher, name) >= getattr(lower, name) > 0, (name, lower.name)
    for name in REACH:
        assert 0 < getattr(higher, name) <= getattr(lower, name), (name, lower.name)
    assert set(lower.p_grid) <= set(higher.p_grid)
    assert set(lower.short_grid) <= set(higher.short_grid)


@pytest.mark.parametrize("level", ORDERED, ids=lambda level: level.name)
def test_p_grids_are_sorted_distinct_and_inside_0_1(level):
    for name in GRIDS:
        grid = getattr(level, name)
        assert grid and all(0.0 < p < 1.0 for p in grid), (level.name, name, grid)
        assert list(grid) == sorted(set(grid)), (level.name, name, grid)
    # relative MDEs and Cohen's w are fractions
    assert all(0 < getattr(level, name) < 1 for name in EFFECTS)


def test_default_and_thorough_meet_the_drop_rate_targets_over_the_full_grid():
    # the design: default MDE <= 0.005 absolute at every p tested, thorough <= 0.001
    assert LEVELS["default"].drop_rate_mde <= 0.005
    assert LEVELS["thorough"].drop_rate_mde <= 0.001
    assert LEVELS["default"].p_grid == LEVELS["thorough"].p_grid == FULL_GRID
    assert min(FULL_GRID) <= 0.01 and max(FULL_GRID) >= 0.99
