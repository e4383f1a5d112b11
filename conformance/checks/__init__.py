"""The checks, grouped by requirement family; importing this registers them in CATALOGUE."""

from conformance.checks import (  # noqa: F401  (importing registers the checks)
    capabilities,
    expectation,
    independence,
    modes,
    rate,
    uniformity,
    values,
)
from conformance.checks._base import CATALOGUE, Check, CheckContext, Level, Outcome, check

__all__ = ["CATALOGUE", "Check", "CheckContext", "Level", "Outcome", "check"]
