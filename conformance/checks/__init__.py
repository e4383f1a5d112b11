"""The checks, one module per requirement (``rNN_*.py``, R1 to R11 of CONTRACT.md) plus the
implementation-defined behaviour; importing this registers them in CATALOGUE.

The import order below is the order in which the battery runs and reports them (cheap
structural checks first), so it is kept out of the import sorter's reach.
"""

# isort: off
from conformance.checks import r01_shape_dtype  # noqa: F401  (importing registers the checks)
from conformance.checks import implementation_defined  # noqa: F401
from conformance.checks import r02_structure  # noqa: F401
from conformance.checks import r06_eval_identity  # noqa: F401
from conformance.checks import r09_inplace  # noqa: F401
from conformance.checks import r07_p_zero_one  # noqa: F401
from conformance.checks import r08_invalid_p  # noqa: F401
from conformance.checks import r10_determinism  # noqa: F401
from conformance.checks import r11_gradient  # noqa: F401
from conformance.checks import r03_rate  # noqa: F401
from conformance.checks import r03_uniformity  # noqa: F401
from conformance.checks import r04_independence  # noqa: F401
from conformance.checks import r05_expectation  # noqa: F401

# isort: on
from conformance.checks.base import (
    CATALOGUE,
    CheckContext,
    CheckPassed,
    Level,
    RegisteredCheck,
    register,
)

__all__ = ["CATALOGUE", "CheckContext", "CheckPassed", "Level", "RegisteredCheck", "register"]
