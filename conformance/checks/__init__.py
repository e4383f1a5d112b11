"""The checks, grouped by requirement family; importing this registers them in CATALOGUE."""

from conformance.checks import capabilities, modes, values  # noqa: F401  (registration)
from conformance.checks._base import CATALOGUE, Check, CheckContext, Level, Outcome, check

__all__ = ["CATALOGUE", "Check", "CheckContext", "Level", "Outcome", "check"]
