"""What a session is: a loaded adapter that runs checks on request, and how to open one.

Two kinds: :class:`~conformance.engine.in_process.InProcessSession` (the implementation runs in
the caller's process: the Python API's default) and
:class:`~conformance.engine.worker_session.WorkerSession` (it runs in a supervised worker
process: the CLI's and the pytest door's way).  Both give typed
:class:`~conformance.results.CheckResult` records.
"""

from __future__ import annotations

from typing import Any, Protocol

from conformance.adapters.base import AdapterInfo
from conformance.config import RunConfig
from conformance.defaults import GATEWAY
from conformance.results import CheckResult


class LoadFailed(Exception):
    """An adapter could not be loaded (a usage or configuration error: exit 2)."""

    def __init__(self, spec: str, message: str) -> None:
        super().__init__(message)
        self.spec = spec
        self.message = message


class Stopped(Exception):
    """The run was stopped from outside (a signal) while a check was running."""


class Session(Protocol):
    """A loaded adapter: ``run`` one check at a time, in any order."""

    spec: str
    config: RunConfig
    info: AdapterInfo

    def run(self, check_id: str) -> CheckResult: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


def spec_of(obj: Any) -> str | None:
    """``module:qualname`` for an object another process can import, else None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    if module.startswith("_dropout2d_user_"):  # a file loaded by path: no importable name
        return None
    return f"{module}:{qualname}"


def open_session(target: Any, config: RunConfig, *, isolate: bool,
                 gateway: str = GATEWAY) -> Session:
    """A started session for ``target`` (a spec, an Adapter class or instance, a callable):
    in a supervised worker when ``isolate``, which needs a spec or an importable object, else
    in this process.  Raises :class:`LoadFailed` (and ``ValueError`` for an object no other
    process can load)."""
    if not isolate:
        from conformance.engine.in_process import InProcessSession

        return InProcessSession(target, config)
    spec = target if isinstance(target, str) else spec_of(target)
    if spec is None:
        raise ValueError(
            f"isolate=True needs an adapter another process can load: a spec string or an "
            f"object importable as module:qualname; {target!r} is neither (defined in "
            "__main__ or inside a function)")
    from conformance.engine.worker_session import WorkerSession

    session = WorkerSession(spec, config, gateway)
    session.start()
    return session


__all__ = ["LoadFailed", "Session", "Stopped", "open_session", "spec_of"]
