"""A session in the caller's own process: code that calls the Python API from its own tests has
chosen to run the implementation in its process (``isolate=False``, the API's default)."""

from __future__ import annotations

from typing import Any

from conformance.adapters.base import AdapterInfo
from conformance.config import RunConfig
from conformance.engine.session import LoadFailed, spec_of
from conformance.results import CheckResult


class InProcessSession:
    """Runs checks on an adapter loaded in this process (any spec, class, instance or function).

    Every check, statistical ones included, calls the implementation here; each runs in a
    thread with its total timeout (nothing in-process can be killed)."""

    def __init__(self, target: Any, config: RunConfig) -> None:
        from conformance.adapters.registry import load_adapter, to_adapter
        from conformance.errors import SpecError

        self.config = config
        try:
            if isinstance(target, str):
                self.adapter = load_adapter(target, preflight=True)
            else:
                name = getattr(target, "__name__", type(target).__name__)
                self.adapter = to_adapter(target, name=name, spec=spec_of(target) or name,
                                          preflight=True)
        except SpecError as exc:
            raise LoadFailed(str(target), str(exc)) from None
        self.spec = self.adapter.spec or self.adapter.name
        self.info = AdapterInfo.of(self.adapter)
        self._run_cache: dict = {}
        from conformance.battery import battery

        self._checks = {c.id: c for c in battery()}

    def run(self, check_id: str) -> CheckResult:
        from conformance.engine.check_runner import run_check

        return run_check(self.adapter, self._checks[check_id], self.config, self._run_cache)

    def stop(self) -> None:
        """Nothing to kill in-process: a running check finishes or times out by itself."""

    def close(self) -> None:
        self._run_cache.clear()


__all__ = ["InProcessSession"]
