"""One pytest test per check, inside your own test module.

.. code-block:: python

    # tests/test_my_dropout.py
    import conformance.testing
    from mykernel import dropout2d

    test_my_dropout = conformance.testing.conformance_tests(dropout2d, level="quick")

Each check becomes one parametrised case (``test_my_dropout[drop-rate]``), so failures show up
by check id in pytest's output and work with ``-k``, ``-n`` (pytest-xdist) and ``--junitxml``
like any other test: a ``fail`` verdict fails the case with the check's message and its
reproduction command, ``skip`` skips it with the reason, ``error`` raises
:class:`AdapterMisbehaved`.  Checks of one adapter that run in the same process share one
loaded adapter and what the statistical checks draw.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from conformance.defaults import FAMILY_ALPHA, GATEWAY

__all__ = ["AdapterMisbehaved", "conformance_tests", "report_outcome"]


class AdapterMisbehaved(Exception):
    """Shown for an ``error`` verdict: the adapter raised, hung, died or returned garbage."""


def report_outcome(outcome: Any) -> None:
    """Turn one check's result (a :class:`~conformance.results.CheckResult`) into the pytest
    outcome."""
    from conformance.results import Verdict

    message = f"[{outcome.id}] {outcome.message}"
    if outcome.verdict == Verdict.SKIP:
        pytest.skip(message)
    if outcome.verdict == Verdict.FAIL:
        pytest.fail(f"{message}\nreproduce: {outcome.reproduce}", pytrace=False)
    if outcome.verdict == Verdict.ERROR:
        raise AdapterMisbehaved(f"{message}\nreproduce: {outcome.reproduce}")


_SESSIONS: dict[tuple, Any] = {}
_LOCK = threading.Lock()


def _session(adapter: Any, config: Any, isolate: bool, gateway: str) -> Any:
    """One loaded adapter per (adapter, options) in this process, reused by every case."""
    from conformance import engine

    key = (id(adapter) if not isinstance(adapter, str) else adapter, config, isolate, gateway)
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            session = engine.open_session(adapter, config, isolate=isolate, gateway=gateway)
            _SESSIONS[key] = session
        return session


def conformance_tests(
    adapter: Any,
    *,
    level: str = "quick",
    seed: int = 0,
    checks: Sequence[str] | None = None,
    family_alpha: float = FAMILY_ALPHA,
    timeout_scale: float = 1.0,
    isolate: bool = False,
    gateway: str = GATEWAY,
) -> Callable[[str], None]:
    """A pytest test function parametrised over the battery's check ids (see the module doc).

    Options are those of :func:`conformance.check`; they are validated here, at collection.
    """
    from conformance.battery import check_ids
    from conformance.config import run_config

    config = run_config(level=level, seed=seed, checks=checks, family_alpha=family_alpha,
                        timeout_scale=timeout_scale)
    ids = check_ids(config.checks)

    @pytest.mark.parametrize("check_id", ids)
    def test_conformance(check_id: str) -> None:
        from conformance import engine

        try:
            session = _session(adapter, config, isolate, gateway)
        except engine.LoadFailed as exc:
            pytest.fail(f"the adapter could not be loaded: {exc.message}", pytrace=False)
        report_outcome(session.run(check_id))

    return test_conformance
