"""The pytest door's collection shim: the conformance battery as pytest tests.

``pytest --pyargs conformance --dropout2d-adapter=SPEC`` collects this module (its name must
match pytest's ``test_*.py`` for ``--pyargs`` to find it, which is why it is not called after
what it is).  It holds one test function; the cases (one per adapter and check) come from
:mod:`conformance.pytest_plugin`, which parametrizes it.
"""

import pytest

from conformance.pytest_plugin import run_case


def test_dropout2d(request: pytest.FixtureRequest, dropout2d_case: tuple[str, str]) -> None:
    run_case(request, dropout2d_case)
