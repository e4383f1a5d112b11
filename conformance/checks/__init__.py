"""The checks, grouped by requirement family; importing this registers them in CATALOGUE.

The import order below is the order in which the battery runs and reports them (cheap
structural checks first), so it is kept out of the import sorter's reach.
"""

# isort: off
from conformance.checks import values  # noqa: F401  (importing registers the checks)
from conformance.checks import structure  # noqa: F401
from conformance.checks import modes  # noqa: F401
from conformance.checks import capabilities  # noqa: F401
from conformance.checks import rate  # noqa: F401
from conformance.checks import uniformity  # noqa: F401
from conformance.checks import independence  # noqa: F401
from conformance.checks import expectation  # noqa: F401

# isort: on
from conformance.checks._base import CATALOGUE, Check, CheckContext, Level, Outcome, check

__all__ = ["CATALOGUE", "Check", "CheckContext", "Level", "Outcome", "check"]
