"""The conformance battery as pytest tests.

Run ``pytest --pyargs conformance --dropout2d-adapter=SPEC``.

The cases come from :mod:`conformance.pytest_plugin` (one per adapter and check).
"""

import pytest

from conformance.pytest_plugin import run_case


def test_dropout2d(request: pytest.FixtureRequest, dropout2d_case: tuple[str, str]) -> None:
    run_case(request, dropout2d_case)
