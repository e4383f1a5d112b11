"""Defaults that the front doors need before anything heavy is imported.

This module imports nothing: the pytest plugin reads it in every pytest run of every project
that has the package installed, so it must cost nothing to those who never use the suite.
"""

from __future__ import annotations

#: the levels of rigour, cheapest first (their targets live in conformance.checks.levels)
LEVEL_NAMES: tuple[str, ...] = ("quick", "default", "thorough")

#: family-wise false-alarm rate of one adapter's run, and the miss rate at the stated MDE
FAMILY_ALPHA = 1e-4
BETA = 1e-3

#: Below this the sub-tests' shares of F (F / (checks x sub-tests), about F / 1e4) fall under
#: 1e-16, where double-precision tail probabilities and the closed-form sample sizes stop
#: meaning anything; above 0.5 "family-wise false-alarm rate" stops being a budget.
FAMILY_ALPHA_MIN = 1e-12
FAMILY_ALPHA_MAX = 0.5

#: how the supervised workers are started: an execnet gateway spec ("popen" = a local
#: subprocess of the same Python; "ssh=host//python=python3" = a worker on another machine)
GATEWAY = "popen"


def family_alpha_problem(value: float) -> str | None:
    """Why ``value`` cannot be a family-wise false-alarm rate, or None when it can."""
    if not value == value or value in (float("inf"), float("-inf")):
        return f"must be a finite number, got {value}"
    if not FAMILY_ALPHA_MIN <= value <= FAMILY_ALPHA_MAX:
        return (
            f"must lie in [{FAMILY_ALPHA_MIN:g}, {FAMILY_ALPHA_MAX:g}], got {value:g}: below "
            f"{FAMILY_ALPHA_MIN:g} the sub-tests' alphas fall under double precision"
        )
    return None


def timeout_scale_problem(value: float) -> str | None:
    """Why ``value`` cannot scale the checks' timeouts, or None when it can."""
    if not value == value or value in (float("inf"), float("-inf")) or value <= 0:
        return f"must be a finite number greater than 0, got {value}"
    return None
