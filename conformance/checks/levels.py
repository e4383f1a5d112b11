"""The levels of rigour: targets from which every statistical check derives its sample sizes."""

from __future__ import annotations

from conformance.checks.base import Level
from conformance.defaults import LEVEL_NAMES

FULL_GRID = (0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99)

#: Targets, not sample sizes: every check derives its n from these with the closed-form
#: sample-size function beside its test, at its share of the error budget and power 1 - beta.
#: One row per field of :class:`Level` (what each means is said there), one column per level:
#: quick, default, thorough.
TARGETS: dict[str, tuple] = {
    "p_grid": ((0.1, 0.5, 0.9), FULL_GRID, FULL_GRID),
    "drop_rate_mde": (0.02, 0.005, 0.001),
    "drop_rate_rel_mde": (0.5, 0.1, 0.02),
    "position_mde": (0.15, 0.04, 0.015),
    "phi_mde": (0.1, 0.02, 0.005),
    "gof_w": (0.3, 0.1, 0.04),
    "expectation_mde": (0.05, 0.01, 0.002),
    "short_grid": ((0.5,), (0.1, 0.5, 0.9), (0.01, 0.1, 0.5, 0.9, 0.99)),
    "sweep_cells": (24, 200, 600),
    "sweep_decisions": (4_000, 30_000, 250_000),
    "sequence_calls": (128, 1_024, 4_096),
    "round_decisions": (1_000, 16_000, 100_000),
    "extreme_strata": (1, 3, 6),
    "extreme_low": (1e-4, 1e-6, 1e-6),
    "cnn_cells": (6, 12, 24),
    "region_mde": (0.06, 0.02, 0.01),
    "region_rel_mde": (0.6, 0.25, 0.1),
}

LEVELS: dict[str, Level] = {
    name: Level(name, **{field: values[i] for field, values in TARGETS.items()})
    for i, name in enumerate(LEVEL_NAMES)
}

__all__ = ["FULL_GRID", "LEVELS", "TARGETS", "Level"]
