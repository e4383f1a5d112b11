"""The levels of rigour: targets from which every statistical check derives its sample sizes."""

from __future__ import annotations

from conformance.checks.base import Level

FULL_GRID = (0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99)

#: Targets, not sample sizes: every check derives its n from these with the closed-form
#: sample-size function beside its test, at its share of the error budget and power 1 - beta.
LEVELS: dict[str, Level] = {
    "quick": Level(
        "quick",
        p_grid=(0.1, 0.5, 0.9),
        drop_rate_mde=0.02,
        drop_rate_rel_mde=0.5,
        position_mde=0.15,
        phi_mde=0.1,
        gof_w=0.3,
        expectation_mde=0.05,
        short_grid=(0.5,),
        sweep_cells=24,
        sweep_decisions=4_000,
        sequence_calls=128,
        round_decisions=1_000,
        extreme_strata=1,
        extreme_low=1e-4,
        cnn_cells=6,
        region_mde=0.06,
        region_rel_mde=0.6,
    ),
    "default": Level(
        "default",
        p_grid=FULL_GRID,
        drop_rate_mde=0.005,
        drop_rate_rel_mde=0.1,
        position_mde=0.04,
        phi_mde=0.02,
        gof_w=0.1,
        expectation_mde=0.01,
        short_grid=(0.1, 0.5, 0.9),
        sweep_cells=200,
        sweep_decisions=30_000,
        sequence_calls=1024,
        round_decisions=16_000,
        extreme_strata=3,
        extreme_low=1e-6,
        cnn_cells=12,
        region_mde=0.02,
        region_rel_mde=0.25,
    ),
    "thorough": Level(
        "thorough",
        p_grid=FULL_GRID,
        drop_rate_mde=0.001,
        drop_rate_rel_mde=0.02,
        position_mde=0.015,
        phi_mde=0.005,
        gof_w=0.04,
        expectation_mde=0.002,
        short_grid=(0.01, 0.1, 0.5, 0.9, 0.99),
        sweep_cells=600,
        sweep_decisions=250_000,
        sequence_calls=4096,
        round_decisions=100_000,
        extreme_strata=6,
        extreme_low=1e-6,
        cnn_cells=24,
        region_mde=0.01,
        region_rel_mde=0.1,
    ),
}

__all__ = ["FULL_GRID", "LEVELS", "Level"]
