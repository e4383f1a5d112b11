"""The guarantee per region (checks/regions.py), shown in closed form over many seeds: the
space's sizes follow from the level and the seed alone, so these need no draws."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import battery
from conformance.checks import space as sp
from conformance.checks.regions import guarantees, region_definitions
from conformance.checks.subtests import subtests
from conformance.checks.usersizes import ROUND_RATES
from conformance.stats import binomial_critical_counts, binomial_pvalues
from conformance.stats._fast import binom_sf

ALPHA = battery.check_alpha(battery.FAMILY_ALPHA)
BETA = battery.BETA
ALL = ("float32", "float16", "float64", "bfloat16")
SEEDS = range(20)


@pytest.mark.parametrize("level", ["quick", "default"])
@pytest.mark.parametrize("dtypes", [ALL, ("float32",)])
def test_every_region_reaches_the_levels_guarantee_on_every_seed(level, dtypes):
    lvl = battery.LEVELS[level]
    regions = region_definitions(dtypes)
    for seed in SEEDS:
        space = sp.build_space(lvl, seed, dtypes, True, ALPHA, BETA)
        rows = guarantees([(c.setting, c.decisions) for c in space.cells], regions,
                          alpha=ALPHA / len(regions), beta=BETA)
        short = [(g.region.label, g.mde, g.relative_mde) for g in rows
                 if not g.meets(lvl.region_mde, lvl.region_rel_mde)]
        assert not short, (seed, short)
        # every factor level is visited: CNN maps, > 2048 channels, N > 8192, both extremes
        names = {g.region.label for g in rows}
        assert {"map >= 1024 elements", "channels C > 2048",
                "batch N > 8192", "p < 0.001", "p > 0.999"} <= names, (seed, names)


def test_round_rates_are_visited_exactly_in_every_dtype():
    for seed in (0, 7):
        space = sp.build_space(battery.LEVELS["default"], seed, ALL, True, ALPHA, BETA)
        seen = {(c.setting.p, c.setting.dtype) for c in space.cells}
        assert {(p, d) for p in ROUND_RATES for d in ALL} <= seen


def _every_setting_share(space: sp.Space) -> float:
    testable = [c for c in space.cells if 0.0 < c.setting.p < 1.0]
    return ALPHA / subtests("drop-rate", battery.LEVELS[space.level]) / len(testable)


def test_never_drops_and_always_drops_fail_drop_rate_in_the_extreme_bands():
    """Each extreme setting is sized so that 0 drops (or n drops) rejects drop-rate's
    every-setting test on its own share: power 1 > 0.999 against never/always dropping."""
    lvl = battery.LEVELS["default"]
    for seed in SEEDS:
        space = sp.build_space(lvl, seed, ALL, True, ALPHA, BETA)
        share = _every_setting_share(space)
        extremes = space.family("extreme")
        assert len(extremes) == 2 * lvl.extreme_strata
        assert min(min(c.setting.p, 1 - c.setting.p) for c in extremes) < 1e-5
        for c in extremes:
            q = min(c.setting.p, 1 - c.setting.p)
            assert float(binomial_pvalues(np.array([0]), c.decisions, q)[0]) <= share, c


def test_a_float16_uniform_of_10_bits_fails_drop_rate_on_every_seed():
    """TensorFlow's kind of float16 uniform (k / 1024) drops at 1/1024 for every p below it:
    at the round rate 1e-4, which every run visits in float16, drop-rate rejects with power
    >= 0.999 on each of 20 seeds (computed exactly from the binomial tails)."""
    lvl = battery.LEVELS["default"]
    for seed in SEEDS:
        space = sp.build_space(lvl, seed, ALL, True, ALPHA, BETA)
        share = _every_setting_share(space)
        (cell,) = [c for c in space.cells
                   if c.family == "round" and c.setting.p == 1e-4 and c.setting.dtype == "float16"]
        n = cell.decisions
        _, high = binomial_critical_counts(n, 1e-4, alpha=share)
        power = float(binom_sf(high - 1, n, 1 / 1024))
        assert power >= 0.999, (seed, n, high, power)
