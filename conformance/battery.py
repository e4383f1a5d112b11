"""The catalogue in order, the levels, and the error budget."""

from __future__ import annotations

from collections.abc import Sequence

from conformance.checks import CATALOGUE, RegisteredCheck
from conformance.checks.levels import LEVELS
from conformance.defaults import BETA, FAMILY_ALPHA, LEVEL_NAMES

#: The order in which checks run and are reported comes from the registrations themselves
#: (one source of truth: a registered check always runs): every deterministic check in
#: registration order, cheap structural checks first, then every statistical check.
DETERMINISTIC: tuple[str, ...] = tuple(
    c.id for c in CATALOGUE.values() if c.kind == "deterministic"
)
STATISTICAL: tuple[str, ...] = tuple(c.id for c in CATALOGUE.values() if c.kind == "statistical")

# The front doors offer the level names before importing any check (defaults.py): the two
# lists must agree, or an option would offer a level that does not exist.
if tuple(LEVELS) != LEVEL_NAMES:
    raise RuntimeError(f"levels {tuple(LEVELS)} != conformance.defaults {LEVEL_NAMES}")


def battery(ids: list[str] | tuple[str, ...] | None = None) -> list[RegisteredCheck]:
    """The checks to run, in catalogue order; ``ids`` selects a subset (unknown ids raise)."""
    order = DETERMINISTIC + STATISTICAL
    if ids:
        unknown = sorted(set(ids) - set(order))
        if unknown:
            raise KeyError(f"unknown check id(s) {unknown}; known: {list(order)}")
        order = tuple(i for i in order if i in set(ids))
    return [CATALOGUE[i] for i in order]


def check_ids(selected: Sequence[str] = ()) -> list[str]:
    """The ids a run that selects ``selected`` runs (every check when empty), in catalogue order;
    what each front door hands the engine."""
    return [c.id for c in battery(tuple(selected) or None)]


def check_alpha(family_alpha: float) -> float:
    """Each statistical check's share of the family budget (Bonferroni over the checks).

    The share does not depend on which checks a run selects, so a single check reproduces
    with the same alpha as in the full battery.
    """
    return family_alpha / max(1, len(STATISTICAL))


__all__ = [
    "BETA",
    "DETERMINISTIC",
    "FAMILY_ALPHA",
    "LEVELS",
    "STATISTICAL",
    "battery",
    "check_alpha",
    "check_ids",
]
