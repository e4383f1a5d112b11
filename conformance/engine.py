"""The one way the battery runs: sessions that hold a loaded adapter and run checks on request.

Every front door goes through here: the CLI (``run``, ``selftest``, ``calibrate``), the pytest
door, and the Python API (:mod:`conformance.api`).  A session runs checks either

- in a supervised worker process (:class:`WorkerSession`, the CLI's and the pytest door's way):
  the supervisor never imports or calls the implementation; it enforces each check's timeout
  from outside by killing the worker, turns a worker that dies into an ``error`` verdict for
  the check that was running (with the exit status or signal), and starts a fresh worker for
  the checks that remain.  Workers are started through execnet, the engine pytest-xdist
  already uses: a local subprocess by default, or any execnet gateway spec (``ssh=host``
  reaches a GPU machine) -- or
- in the caller's own process (:class:`InProcessSession`, the Python API's default: code that
  calls the API from its own tests has chosen to run the implementation in its process).

Results travel as report dicts (``CheckResult.to_dict()``), the same in both cases.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.defaults import GATEWAY
from conformance.runner import RunConfig, reproduce_command

#: seconds a fresh worker may take to start and load its adapter (imports of a framework)
LOAD_TIMEOUT_S = 300.0
#: ``progress(adapter_name, check_id, event)``: event is "start" or the verdict string
ProgressFn = Callable[[str, str, str], None]


class LoadFailed(Exception):
    """An adapter could not be loaded (a usage or configuration error: exit 2)."""

    def __init__(self, spec: str, message: str) -> None:
        super().__init__(message)
        self.spec = spec
        self.message = message


class Stopped(Exception):
    """The run was stopped from outside (a signal) while a check was running."""


def _check_table() -> dict[str, Any]:
    from conformance.battery import battery

    return {c.id: c for c in battery()}


def error_result(check: Any, config: RunConfig, spec: str, message: str,
                 duration_s: float) -> dict[str, Any]:
    """The report dict of an ``error`` verdict decided by the supervisor, not the worker."""
    from conformance.battery import check_alpha
    from conformance.results import CheckResult, Verdict
    from conformance.runner import derive_seed

    return CheckResult(
        id=check.id,
        requirement=check.requirement,
        verdict=Verdict.ERROR,
        message=message,
        kind=check.kind,
        duration_s=duration_s,
        seed=derive_seed(config.seed, check.id),
        alpha=check_alpha(config.family_alpha) if check.kind == "statistical" else None,
        reproduce=reproduce_command(spec, check.id, config),
    ).to_dict()


def _signal_name(code: int | None) -> str:
    if code is None:
        return "the worker process stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process was killed by {name}"
    return f"the worker process exited with status {code}"


# --- in the caller's process ----------------------------------------------------------------


class InProcessSession:
    """Runs checks on an adapter loaded in this process (any spec, class, instance or function)."""

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
        self.info = self.adapter.info()
        self._run_cache: dict = {}
        self._checks = _check_table()

    def run(self, check_id: str) -> dict[str, Any]:
        from conformance.runner import run_check

        return run_check(self.adapter, self._checks[check_id], self.config,
                         self._run_cache).to_dict()

    def stop(self) -> None:
        """Nothing to kill in-process: a running check finishes or times out by itself."""

    def close(self) -> None:
        self._run_cache.clear()


def spec_of(obj: Any) -> str | None:
    """``module:qualname`` for an object another process can import, else None."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname:
        return None
    if module.startswith("_dropout2d_user_"):  # a file loaded by path: no importable name
        return None
    return f"{module}:{qualname}"


# --- in a supervised worker -----------------------------------------------------------------


class WorkerSession:
    """Runs checks in a worker process; restarts it after a crash, hang or exit."""

    def __init__(self, spec: str, config: RunConfig, gateway: str = GATEWAY) -> None:
        self.spec = spec
        self.config = config
        self.gateway_spec = gateway
        self.info: dict[str, Any] = {}
        self._group: Any = None
        self._gateway: Any = None
        self._channel: Any = None
        self._lock = threading.Lock()
        self._stopped = False
        self._checks = _check_table()

    # lifecycle

    def start(self) -> dict[str, Any]:
        """Start a worker and load the adapter in it; :class:`LoadFailed` says why not."""
        import execnet

        from conformance.worker import BOOTSTRAP

        with self._lock:
            if self._stopped:
                raise Stopped()
            self._group = execnet.Group()
            try:
                self._gateway = self._group.makegateway(self.gateway_spec)
            except Exception as exc:
                self._group = None
                raise LoadFailed(self.spec, f"cannot start a worker with gateway "
                                 f"{self.gateway_spec!r}: {exc}") from None
            self._channel = self._gateway.remote_exec(BOOTSTRAP)
        import os
        import sys

        setup = {"sys_path": [p or os.getcwd() for p in sys.path], "cwd": os.getcwd(),
                 "spec": self.spec, "config": self.config.as_dict()}
        self._channel.send(json.dumps(setup))
        try:
            message = self._receive(LOAD_TIMEOUT_S * self.config.timeout_scale)
        except Stopped:
            raise
        except _WorkerGone as gone:
            self.kill()
            raise LoadFailed(self.spec, f"adapter {self.spec!r} could not be loaded: "
                             f"{gone.reason} before reporting anything") from None
        if message.get("event") != "loaded":
            self.kill()
            raise LoadFailed(self.spec, message.get("message", "the adapter did not load"))
        self.info = message["info"]
        return self.info

    def kill(self) -> None:
        """Kill the worker now (a hang, a stop); the next ``run`` starts a fresh one."""
        with self._lock:
            group, gateway = self._group, self._gateway
            self._group = self._gateway = self._channel = None
        if gateway is not None:
            io = getattr(gateway, "_io", None)
            if io is not None and hasattr(io, "kill"):
                io.kill()
        if group is not None:
            try:
                group.terminate(timeout=0.5)
            except Exception:  # (already gone)
                pass

    def stop(self) -> None:
        """Stop for good (a signal): kill the worker; a running ``run`` raises Stopped."""
        self._stopped = True
        self.kill()

    def close(self) -> None:
        """Ask the worker to finish, then make sure it is gone."""
        channel = self._channel
        if channel is not None:
            try:
                channel.send(json.dumps({"op": "stop"}))
            except Exception:
                pass
        self.kill()

    # running

    def run(self, check_id: str) -> dict[str, Any]:
        check = self._checks[check_id]
        start = time.perf_counter()
        if self._channel is None:
            try:
                self.start()
            except LoadFailed as exc:
                return error_result(check, self.config, self.spec,
                                    f"a fresh worker could not load the adapter: {exc.message}",
                                    time.perf_counter() - start)
        timeout = check.timeout_s * self.config.timeout_scale
        try:
            self._channel.send(json.dumps({"op": "run", "check": check_id}))
            message = self._receive(timeout)
        except _WorkerGone as gone:
            self.kill()
            return error_result(
                check, self.config, self.spec,
                f"{gone.reason} while running {check_id}; the checks after it ran in a fresh "
                "worker", time.perf_counter() - start)
        except _WorkerTimeout:
            self.kill()
            return error_result(
                check, self.config, self.spec,
                f"timeout: {check_id} did not finish within {timeout:.0f} s; the worker was "
                "killed (the adapter hangs or is very slow; --timeout-scale gives it longer)",
                time.perf_counter() - start)
        return message["check"]

    def _receive(self, timeout: float) -> dict[str, Any]:
        import execnet

        channel, gateway = self._channel, self._gateway
        if channel is None:
            raise Stopped() if self._stopped else _WorkerGone(_signal_name(None))
        try:
            text = channel.receive(timeout=timeout)
        except execnet.TimeoutError:
            if self._stopped:
                raise Stopped() from None
            raise _WorkerTimeout() from None
        except execnet.RemoteError as exc:
            # The worker's own code raised (not the adapter's: run_check catches those).
            last = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            raise _WorkerGone(f"the worker failed ({last})") from None
        except Exception:  # EOFError, closed channel: the worker process is gone
            if self._stopped:
                raise Stopped() from None
            raise _WorkerGone(_signal_name(_exit_status(gateway))) from None
        return json.loads(text)


class _WorkerGone(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _WorkerTimeout(Exception):
    pass


def _exit_status(gateway: Any) -> int | None:
    popen = getattr(getattr(gateway, "_io", None), "popen", None)
    if popen is None:
        return None
    try:
        return popen.wait(timeout=2.0)
    except Exception:  # (still alive, or not ours to wait for)
        return None


def open_session(target: Any, config: RunConfig, *, isolate: bool,
                 gateway: str = GATEWAY) -> InProcessSession | WorkerSession:
    """A started session for ``target`` (a spec, an Adapter class or instance, a callable):
    in a supervised worker when ``isolate``, which needs a spec or an importable object, else
    in this process.  Raises :class:`LoadFailed` (and ``ValueError`` for an object no other
    process can load)."""
    if not isolate:
        return InProcessSession(target, config)
    spec = target if isinstance(target, str) else spec_of(target)
    if spec is None:
        raise ValueError(
            f"isolate=True needs an adapter another process can load: a spec string or an "
            f"object importable as module:qualname; {target!r} is neither (defined in "
            "__main__ or inside a function)")
    session = WorkerSession(spec, config, gateway)
    session.start()
    return session


# --- running a battery on sessions --------------------------------------------------------


@dataclass
class AdapterRun:
    """One adapter's results as report dicts; ``complete`` is false when the run was stopped."""

    spec: str
    info: dict[str, Any]
    checks: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    load_error: str | None = None

    def entry(self) -> dict[str, Any]:
        """The report's adapter entry (an adapter stopped before it loaded says so)."""
        from conformance.adapters.base import Capabilities
        from conformance.results import adapter_entry

        info = self.info
        load_error = self.load_error
        if not info:
            info = {"name": self.spec, "spec": self.spec, "framework": "", "layout": "",
                    "framework_version": "", "device": "",
                    "capabilities": Capabilities().as_dict()}
            load_error = load_error or "the run was stopped before this adapter was loaded"
        entry = adapter_entry(info, self.checks, load_error)
        return {**entry, "complete": self.complete}


def run_session(session: Any, check_ids: Sequence[str], *,
                progress: ProgressFn | None = None) -> AdapterRun:
    """Run ``check_ids`` in order on a started session; stop cleanly on :class:`Stopped`."""
    name = session.info.get("name", session.spec)
    run = AdapterRun(session.spec, session.info)
    for check_id in check_ids:
        if progress:
            progress(name, check_id, "start")
        try:
            result = session.run(check_id)
        except Stopped:
            run.complete = False
            return run
        run.checks.append(result)
        if progress:
            progress(name, check_id, result["verdict"])
    return run


class Supervisor:
    """Runs several adapters in worker processes, ``jobs`` at a time; ``stop()`` from a signal
    handler kills every worker and leaves what finished."""

    def __init__(self, specs: Iterable[str], config: RunConfig, *, jobs: int = 1,
                 gateway: str = GATEWAY, progress: ProgressFn | None = None) -> None:
        self.specs = list(specs)
        self.config = config
        self.jobs = max(1, min(int(jobs), len(self.specs) or 1))
        self.gateway = gateway
        self.progress = progress
        self.sessions = [WorkerSession(s, config, gateway) for s in self.specs]
        self.runs: list[AdapterRun | None] = [None] * len(self.specs)
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()
        for session in self.sessions:
            session.stop()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def load(self) -> None:
        """Start every worker and load every adapter first: a spec that does not load is a
        usage error before any check runs (raises :class:`LoadFailed`, the first one)."""
        failures: list[LoadFailed] = []

        def load_one(session: WorkerSession) -> None:
            try:
                session.start()
            except LoadFailed as exc:
                failures.append(exc)
            except Stopped:
                pass

        self._in_threads(load_one, self.sessions)
        if failures and not self.stopped:
            for session in self.sessions:
                session.close()
            first = min(failures, key=lambda f: self.specs.index(f.spec))
            raise first

    def run(self, check_ids: Sequence[str]) -> list[AdapterRun]:
        """Run the checks on every loaded adapter; after a stop, the runs so far."""

        def run_one(index: int) -> None:
            session = self.sessions[index]
            if self.stopped:
                return
            try:
                self.runs[index] = run_session(session, check_ids, progress=self.progress)
            finally:
                session.close()

        self._in_threads(run_one, list(range(len(self.sessions))))
        out = []
        for spec, session, run in zip(self.specs, self.sessions, self.runs, strict=True):
            out.append(run or AdapterRun(spec, session.info, complete=False))
        return out

    def _in_threads(self, fn: Callable[[Any], None], items: list[Any]) -> None:
        """``fn`` over ``items`` with at most ``jobs`` threads; the main thread stays free to
        take signals (it waits in short joins)."""
        pending = list(items)
        lock = threading.Lock()

        def worker() -> None:
            while True:
                with lock:
                    if not pending or self.stopped:
                        return
                    item = pending.pop(0)
                fn(item)

        threads = [threading.Thread(target=worker, daemon=True, name=f"dropout2d-job-{i}")
                   for i in range(self.jobs)]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.1)
