"""The one way the battery runs: sessions that hold a loaded adapter and run checks on request.

Every front door goes through here: the CLI (``run``, ``selftest``, ``calibrate``), the pytest
door, and the Python API (:mod:`conformance.api`).  A session runs checks either

- in a supervised worker process (:class:`WorkerSession`, the CLI's and the pytest door's way):
  the supervisor never imports or calls the implementation; it watches the worker's progress
  (each call of the implementation, see :mod:`conformance.worker`) and kills a worker that
  makes none for a stall limit (or outlives the check's total timeout, a backstop), turns a
  worker that dies into an ``error`` verdict for the check that was running (with the exit
  status or signal), and starts a fresh worker for the checks that remain -- unless the
  worker was lost in two checks in a row, or hung in three: then the remaining checks are
  reported as not run.  Workers are started through execnet, the engine pytest-xdist
  already uses: a local subprocess by default, or any execnet gateway spec (``ssh=host``
  reaches a GPU machine) -- or
- in the caller's own process (:class:`InProcessSession`, the Python API's default: code that
  calls the API from its own tests has chosen to run the implementation in its process).

Results travel as report dicts (``CheckResult.to_dict()``), the same in both cases.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.defaults import GATEWAY
from conformance.runner import RunConfig, reproduce_command

#: seconds a fresh worker may take to start and import its adapter (imports of a framework);
#: its pre-flight call is watched like any call (below)
LOAD_TIMEOUT_S = 300.0
#: Hang detection: a worker whose implementation makes no progress for the stall limit is
#: killed as hung.  In a call of the implementation the limit is the largest of CALL_FLOOR_S,
#: CALL_MULTIPLE times the slowest call the adapter has made so far and FIRST_CALL_MULTIPLE
#: times the slowest first call of a worker; a worker's first call (its pre-flight call), which
#: may start a compiler or a device, has FIRST_CALL_FLOOR_S instead (Inductor's start-up: up to
#: a minute with a cold cache) and is kept out of "the slowest call", so that one start-up
#: does not stretch every later limit tenfold.  Between calls (the check's own work, measured
#: the same way) the limit is the larger of GAP_FLOOR_S and GAP_MULTIPLE times the longest
#: such stretch so far.  All times --timeout-scale.  The floors leave room for calls that
#: compile (torch-compile's slowest measured 1.9 s with a warm Inductor cache); the checks'
#: own work between calls measured at most 5 s (thorough level, 2 busy cores).  A check's
#: total timeout stays as the backstop for an implementation that progresses but absurdly
#: slowly.
CALL_FLOOR_S = 30.0
FIRST_CALL_FLOOR_S = 90.0
CALL_MULTIPLE = 10.0
FIRST_CALL_MULTIPLE = 2.0
GAP_FLOOR_S = 60.0
GAP_MULTIPLE = 10.0
#: seconds between two looks at a worker's progress
POLL_S = 0.2
#: a systematic fault ends an adapter's run: once its worker was lost (hung, crashed, exited)
#: in LOST_IN_A_ROW checks in a row, or hung in HANGS_IN_ALL checks, the remaining checks are
#: reported as ``error: not run, ...`` instead of each waiting for its own hang; a pre-flight
#: call that hung counts as such a check (PREFLIGHT)
LOST_IN_A_ROW = 2
HANGS_IN_ALL = 3
PREFLIGHT = "the pre-flight call"
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
    """Runs checks in a worker process; restarts it after a crash, hang or exit, and stops
    trying once the implementation is lost systematically (see :data:`LOST_IN_A_ROW`)."""

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
        #: the worker's progress record: a map of the file it shares with us, or else the last
        #: record it sent (a worker on another host)
        self._shared: Any = None
        self._sent: dict[str, Any] | None = None
        self._serial = 0
        #: what the implementation has shown so far (over every worker of this session)
        self.first_call_s = 0.0
        self.slowest_call_s = 0.0
        self.longest_gap_s = 0.0
        #: whether a fresh worker makes the pre-flight call (not once it hung: the call could
        #: be made, which is all the pre-flight proves, and the checks judge the hang)
        self._preflight = True
        #: the checks that lost their worker in a row, and every check that hung
        self._lost: list[tuple[str, str]] = []
        self._hung: list[str] = []
        #: once set, the message of every remaining check (the run has given up)
        self.given_up: str | None = None

    # lifecycle

    def start(self) -> dict[str, Any]:
        """Start a worker and load the adapter in it; :class:`LoadFailed` says why not.

        A pre-flight call that hangs is not a load failure: the worker is killed, the hang
        counts towards the systematic-hang rule (as :data:`PREFLIGHT`), and a fresh worker
        loads the adapter without it, so that the checks judge the implementation (and report
        the hang) instead of the run ending without a report."""
        try:
            return self._load(self._preflight)
        except _WorkerStalled as stalled:
            if not stalled.preflight:
                raise LoadFailed(self.spec, f"adapter {self.spec!r} could not be loaded: "
                                 f"{stalled.message}") from None
        self._preflight = False
        self._note(PREFLIGHT, "hung")
        if self.given_up is not None and self.info:
            return self.info  # (a fresh worker mid-run: the run is over, no worker needed)
        try:
            return self._load(False)
        except _WorkerStalled as stalled:
            raise LoadFailed(self.spec, f"adapter {self.spec!r} could not be loaded: "
                             f"{stalled.message}") from None

    def _load(self, preflight: bool) -> dict[str, Any]:
        """One worker, loaded (with its pre-flight call when ``preflight``); raises
        :class:`LoadFailed`, or :class:`_WorkerStalled` when it hung in a call."""
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
        import sys

        path, token = self._share_progress()
        setup = {"sys_path": [p or os.getcwd() for p in sys.path], "cwd": os.getcwd(),
                 "spec": self.spec, "config": self.config.as_dict(),
                 "progress_file": path, "progress_token": token, "preflight": preflight}
        timeout = LOAD_TIMEOUT_S * self.config.timeout_scale
        try:
            self._channel.send(json.dumps(setup))
            message = self._await_result(PREFLIGHT, 0, timeout, loading=True)
        except Stopped:
            raise
        except _WorkerGone as gone:
            self.kill()
            raise LoadFailed(self.spec, f"adapter {self.spec!r} could not be loaded: "
                             f"{gone.reason} before reporting anything") from None
        except _WorkerStalled:
            self.kill()
            raise
        except _WorkerTimeout:
            self.kill()
            raise LoadFailed(self.spec, f"adapter {self.spec!r} did not load within "
                             f"{_seconds(timeout)} (importing it or its framework hangs, or "
                             "is very slow; --timeout-scale gives it longer); the worker was "
                             "killed") from None
        finally:
            _unlink(path)  # mapped by both processes by now, or never to be
        if message.get("event") != "loaded":
            self.kill()
            raise LoadFailed(self.spec, message.get("message", "the adapter did not load"))
        if message.get("progress") != "shared":
            self._close_shared()  # another host: the worker sends its record instead
        self.info = message["info"]
        return self.info

    def _share_progress(self) -> tuple[str | None, str]:
        """A fresh file for the worker's progress record, mapped here; its path and the token
        that tells the worker it is on this host."""
        import mmap

        from conformance.worker import RECORD_SIZE, TOKEN_OFFSET, TOKEN_SIZE

        self._close_shared()
        self._sent = None
        token = secrets.token_bytes(TOKEN_SIZE)
        try:
            fd, path = tempfile.mkstemp(prefix="dropout2d-progress-")
        except OSError:  # (no temporary directory: the worker sends its record instead)
            return None, token.hex()
        try:
            with os.fdopen(fd, "r+b") as f:
                f.write(bytes(TOKEN_OFFSET) + token)
                f.flush()
                self._shared = mmap.mmap(f.fileno(), RECORD_SIZE)
        except OSError:
            _unlink(path)
            return None, token.hex()
        return path, token.hex()

    def _close_shared(self) -> None:
        shared, self._shared = self._shared, None
        if shared is not None:
            try:
                shared.close()
            except (BufferError, ValueError):
                pass

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
        self._close_shared()

    # running

    def run(self, check_id: str) -> dict[str, Any]:
        check = self._checks[check_id]
        if self.given_up is not None:
            return error_result(check, self.config, self.spec, self.given_up, 0.0)
        start = time.perf_counter()
        if self._channel is None:
            try:
                self.start()
            except LoadFailed as exc:
                self._note(check_id, "reload")
                return error_result(check, self.config, self.spec,
                                    f"a fresh worker could not load the adapter: {exc.message}",
                                    time.perf_counter() - start)
            if self.given_up is not None:  # (its pre-flight call hung, and that ended it)
                return error_result(check, self.config, self.spec, self.given_up,
                                    time.perf_counter() - start)
        timeout = check.timeout_s * self.config.timeout_scale
        self._serial += 1
        try:
            try:
                self._channel.send(json.dumps({"op": "run", "check": check_id,
                                               "serial": self._serial}))
            except Exception:  # (the worker died after its last answer)
                raise _WorkerGone(_signal_name(_exit_status(self._gateway))) from None
            message = self._await_result(check_id, self._serial, timeout)
        except _WorkerGone as gone:
            self.kill()
            self._note(check_id, gone.kind)
            return error_result(
                check, self.config, self.spec,
                f"{gone.reason} while running {check_id}; the checks after it ran in a fresh "
                "worker", time.perf_counter() - start)
        except _WorkerStalled as stalled:
            self.kill()
            self._note(check_id, "hung")
            return error_result(check, self.config, self.spec, stalled.message,
                                time.perf_counter() - start)
        except _WorkerTimeout:
            self.kill()
            self._note(check_id, "hung")
            return error_result(
                check, self.config, self.spec,
                f"timeout: {check_id} did not finish within {timeout:.0f} s; the worker was "
                "killed (the adapter hangs or is very slow; --timeout-scale gives it longer)",
                time.perf_counter() - start)
        self._note(check_id, None)
        return message["check"]

    def _note(self, check_id: str, lost: str | None) -> None:
        """Count a check that lost its worker (``lost`` says how), or one that did not; give
        up on the run when the rule says so."""
        if lost is None:
            self._lost.clear()
            return
        self._lost.append((check_id, lost))
        if lost == "hung":
            self._hung.append(check_id)
        if len(self._lost) >= LOST_IN_A_ROW:
            why = self._lost[-LOST_IN_A_ROW:]
        elif len(self._hung) >= HANGS_IN_ALL:
            why = [(c, "hung") for c in self._hung[-HANGS_IN_ALL:]]
        else:
            return
        self.given_up = (
            f"not run, the implementation {_lost_text(why)} (an adapter's run stops once its "
            f"worker is lost in {LOST_IN_A_ROW} checks in a row or hangs in {HANGS_IN_ALL}; "
            "the reproduce command runs this check on its own)")

    def _await_result(self, check_id: str, serial: int, timeout: float, *,
                      loading: bool = False) -> dict[str, Any]:
        """The worker's result for request ``serial``, watching its progress meanwhile:
        :class:`_WorkerStalled` when it makes none for the stall limit, :class:`_WorkerTimeout`
        after ``timeout`` in all.  ``loading``: the worker is loading the adapter (serial 0);
        until its first call (the pre-flight call) only ``timeout`` applies, since imports
        report no progress."""
        started = time.monotonic()
        deadline = started + timeout
        seen: dict[str, Any] | None = None
        changed_at = started
        while True:
            wait = max(0.01, min(POLL_S, deadline - time.monotonic()))
            message = self._receive(wait, poll=True)
            if message is not None:
                return message
            now = time.monotonic()
            if now >= deadline:
                raise _WorkerTimeout()
            record, busy = self._record()
            if busy:  # (being written: the next look sees it, or it is no progress either)
                continue
            if record != seen:
                seen, changed_at = record, now
                if record is not None:
                    self.first_call_s = max(self.first_call_s, record.get("first_s", 0.0))
                    self.slowest_call_s = max(self.slowest_call_s, record["slowest_s"])
                    self.longest_gap_s = max(self.longest_gap_s, record["longest_gap_s"])
                continue
            current = record if record is not None and record["serial"] == serial else None
            if loading and (current is None or not current["calls"]):
                continue  # still importing: the load's own timeout applies
            limit, why = self._stall_limit(current)
            if now - changed_at >= limit:
                raise _WorkerStalled(
                    self._stall_message(check_id, current, now - changed_at, why, loading),
                    preflight=loading and current is not None and current["in_call"])

    def _record(self) -> tuple[dict[str, Any] | None, bool]:
        """The worker's progress record as last seen, and whether it was being written."""
        if self._shared is None:
            return self._sent, False
        from conformance.worker import read_record

        record = read_record(self._shared)
        return record, record is None

    def _stall_limit(self, record: dict[str, Any] | None) -> tuple[float, str]:
        """How long the worker may make no progress, in its state ``record``, and why."""
        scale = self.config.timeout_scale
        if record is not None and record["in_call"]:
            # no call of this worker has returned yet: its first, which may start a compiler
            first = not record.get("first_s", 0.0)
            floor = FIRST_CALL_FLOOR_S if first else CALL_FLOOR_S
            base = max(floor, CALL_MULTIPLE * self.slowest_call_s,
                       FIRST_CALL_MULTIPLE * self.first_call_s)
            which = " (a fresh worker's first call)" if first else ""
            why = (f"the largest of {_seconds(floor)}{which}, {CALL_MULTIPLE:g} x the slowest "
                   f"call so far, {self.slowest_call_s:.2g} s, and {FIRST_CALL_MULTIPLE:g} x "
                   f"the slowest first call of a worker, {self.first_call_s:.2g} s")
        else:
            base = max(GAP_FLOOR_S, GAP_MULTIPLE * self.longest_gap_s)
            why = (f"the larger of {_seconds(GAP_FLOOR_S)} and {GAP_MULTIPLE:g} x the longest "
                   f"stretch of the suite's own work between calls so far, "
                   f"{self.longest_gap_s:.2g} s")
        if scale != 1:
            why += f", times --timeout-scale {scale:g}"
        return base * scale, why

    def _stall_message(self, check_id: str, record: dict[str, Any] | None, quiet_s: float,
                       why: str, loading: bool = False) -> str:
        if loading and record is not None and record["in_call"]:
            where = f"hung in {record['setting']} while loading the adapter"
        elif loading:
            where = ("hung while loading the adapter, after its pre-flight call returned and "
                     "outside any call of the implementation (info(), or an implementation "
                     "thread that holds the interpreter lock)")
        elif record is not None and record["in_call"]:
            where = f"hung in call {record['calls']} of {check_id} ({record['setting']})"
        elif record is not None and record["calls"]:
            where = (f"hung in {check_id} after call {record['calls']} ({record['setting']}) "
                     "returned, outside any call of the implementation (an implementation "
                     "thread that holds the interpreter lock does this)")
        else:
            where = (f"hung in {check_id} before its first call of the implementation (an "
                     "implementation thread that holds the interpreter lock does this)")
        text = f"{where}, no progress for {_seconds(quiet_s)}"
        if self._shared is None:
            text += (" (as the worker on another host last reported it: the call that hangs "
                     "may be a later one)")
        return (f"{text}; the worker was killed (limit: {why}; --timeout-scale gives a slow "
                "implementation longer)")

    def _receive(self, timeout: float, *, poll: bool = False) -> dict[str, Any] | None:
        """The worker's next message other than progress (which is recorded); with ``poll``,
        None when nothing came within ``timeout``."""
        import execnet

        channel, gateway = self._channel, self._gateway
        if channel is None:
            raise Stopped() if self._stopped else _WorkerGone(_signal_name(None))
        deadline = time.monotonic() + timeout
        while True:
            try:
                text = channel.receive(timeout=max(0.0, deadline - time.monotonic()))
            except execnet.TimeoutError:
                if self._stopped:
                    raise Stopped() from None
                if poll:
                    return None
                raise _WorkerTimeout() from None
            except execnet.RemoteError as exc:
                # The worker's own code raised (not the adapter's: run_check catches those).
                last = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
                raise _WorkerGone(f"the worker failed ({last})") from None
            except Exception:  # EOFError, closed channel: the worker process is gone
                if self._stopped:
                    raise Stopped() from None
                raise _WorkerGone(_signal_name(_exit_status(gateway))) from None
            message = json.loads(text)
            if message.get("event") != "progress":
                return message
            self._sent = {**message, "version": (self._sent or {}).get("version", 0) + 1}
            if poll:
                return None


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 10 else f"{value:.0f} s"


def _unlink(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


#: how a check lost its worker, as "the implementation ... in <checks>"
_LOST_VERBS = {"hung": "hung in", "crashed": "crashed in", "exited": "exited in",
               "reload": "could not be loaded again for"}


def _lost_text(lost: list[tuple[str, str]]) -> str:
    """``[("a", "hung"), ("b", "hung")]`` -> ``"hung in a and b"``."""
    groups: list[tuple[str, list[str]]] = []
    for check_id, kind in lost:
        if groups and groups[-1][0] == kind:
            groups[-1][1].append(check_id)
        else:
            groups.append((kind, [check_id]))
    return _and([f"{_LOST_VERBS.get(kind, kind)} {_and(ids)}" for kind, ids in groups])


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


class _WorkerGone(Exception):
    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind or ("exited" if "exited" in reason else "crashed")


class _WorkerTimeout(Exception):
    pass


class _WorkerStalled(Exception):
    def __init__(self, message: str, *, preflight: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.preflight = preflight  # hung in the pre-flight call, while loading


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
