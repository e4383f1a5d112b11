"""The catalogue in order, the levels, and the error budget (DESIGN.md sections 4 and 5)."""

from __future__ import annotations

from conformance.checks import CATALOGUE, Check, Level

#: the order in which checks run and are reported: cheap structural checks first
DETERMINISTIC: tuple[str, ...] = (
    "shape-dtype",
    "eval-identity",
    "inplace",
    "channel-structure",
    "scale-exact",
    "p-zero",
    "p-one",
    "invalid-p",
    "three-d-input",
    "non-finite",
    "determinism",
    "gradient",
)
STATISTICAL: tuple[str, ...] = (
    "drop-rate",
    "drop-count-distribution",
    "channel-uniformity",
    "batch-uniformity",
    "independence-channels",
    "independence-batch",
    "independence-calls",
    "independence-values",
    "expectation",
)

#: default family-wise false-alarm rate of one adapter's run, and the miss rate at the MDE
FAMILY_ALPHA = 1e-4
BETA = 1e-3

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
    ),
}


def battery(ids: list[str] | tuple[str, ...] | None = None) -> list[Check]:
    """The checks to run, in catalogue order; ``ids`` selects a subset (unknown ids raise)."""
    order = DETERMINISTIC + STATISTICAL
    if ids:
        unknown = sorted(set(ids) - set(order))
        if unknown:
            raise KeyError(f"unknown check id(s) {unknown}; known: {list(order)}")
        order = tuple(i for i in order if i in set(ids))
    return [CATALOGUE[i] for i in order]


def check_alpha(family_alpha: float) -> float:
    """Each statistical check's share of the family budget (Bonferroni over the checks).

    The share does not depend on which checks a run selects, so a single check reproduces
    with the same alpha as in the full battery.
    """
    return family_alpha / max(1, len(STATISTICAL))
