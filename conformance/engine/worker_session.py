"""A session whose implementation runs in a supervised worker process (the CLI's way).

The supervisor's side of :mod:`conformance.engine.worker`.  The process that holds this session
never imports or calls the implementation:

- a check that calls the implementation (every deterministic check) runs in the worker
  (``RunCheck``);
- a statistical check runs here, on the draws of the run's settings space that the worker makes
  and streams back (``DrawCells``): this process computes statistics while the worker draws, on
  another core, and draws already received survive a lost worker.

It watches the worker's progress (each call of the implementation, see
:mod:`conformance.engine.progress`) and kills a worker that makes none for a stall limit (or
outlives the check's total timeout, a backstop), turns a worker that dies into an ``error``
verdict for the check that was running (with the exit status or signal), and starts a fresh
worker for the checks that remain -- unless the worker was lost in two checks in a row, or hung
in three: then the remaining checks are reported as not run.  Workers are started through
execnet, the engine pytest-xdist already uses: a local subprocess by default, or any execnet
gateway spec (``ssh=host`` reaches a GPU machine).
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from conformance.adapters.base import Adapter, AdapterInfo, Capabilities
from conformance.config import RunConfig
from conformance.defaults import GATEWAY
from conformance.engine import protocol
from conformance.engine.check_runner import decided_elsewhere, run_check
from conformance.engine.session import LoadFailed, Stopped
from conformance.errors import CheckAborted, CheckFailed
from conformance.results import CheckResult

#: seconds a fresh worker may take to start and import its adapter (imports of a framework);
#: its pre-flight call is watched like any call (below)
LOAD_TIMEOUT_S = 300.0
#: Hang detection: a worker whose implementation makes no progress for the stall limit is
#: killed as hung.  In a call of the implementation the limit is the largest of CALL_FLOOR_S,
#: CALL_MULTIPLE times the slowest call the adapter has made so far and FIRST_CALL_MULTIPLE
#: times the slowest first call of a worker; a worker's first call (its pre-flight call), which
#: may start a compiler or a device, has FIRST_CALL_FLOOR_S instead (Inductor's start-up: up to
#: a minute with a cold cache) and is kept out of "the slowest call", so that one start-up
#: does not stretch every later limit tenfold.  Between calls (the suite's own work, measured
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


class RemoteAdapter(Adapter):
    """The adapter as the supervisor knows it: its info and capabilities, nothing to call.

    The statistical checks that run in the supervisor read the worker's draws; they need the
    capabilities (the space depends on them) and never the implementation itself."""

    def __init__(self, info: AdapterInfo) -> None:
        self.name, self.spec = info.name, info.spec
        self.framework, self.framework_version = info.framework, info.framework_version
        self.layout, self.device = info.layout or "NCHW", info.device
        self.capabilities: Capabilities = info.capabilities

    def _absent(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the supervisor never calls the implementation under test: this "
                           "check must run in the worker (a suite bug)")

    to_native = to_numpy = dropout2d = seed = grad = _absent


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


class WorkerSession:
    """Runs checks with a worker process; restarts it after a crash, hang or exit, and stops
    trying once the implementation is lost systematically (see :data:`LOST_IN_A_ROW`).

    It is also the :class:`~conformance.checks.pool.DrawSource` of the statistical checks it
    runs: ``prefetch`` asks the worker for cells, ``fetch`` waits for one."""

    def __init__(self, spec: str, config: RunConfig, gateway: str = GATEWAY) -> None:
        self.spec = spec
        self.config = config
        self.gateway_spec = gateway
        self.info: AdapterInfo | None = None
        self._group: Any = None
        self._gateway: Any = None
        self._channel: Any = None
        self._lock = threading.Lock()
        self._stopped = False
        from conformance.battery import battery

        self._checks = {c.id: c for c in battery()}
        #: the worker's progress record: a map of the file it shares with us, or else the last
        #: record it sent (a worker on another host)
        self._shared: Any = None
        self._sent: protocol.Progress | None = None
        self._serial = 0
        #: what each request of the current worker is, for the messages (serial -> words)
        self._requests: dict[int, str] = {}
        #: replies by the serial of their request (Loaded and LoadError under 0)
        self._replies: dict[int, protocol.Message] = {}
        #: a whole battery's deterministic checks sent ahead (check id -> serial), and the
        #: results of those that lost their worker while this process waited for a draw
        self._queued: dict[str, int] = {}
        self._victims: dict[str, CheckResult] = {}
        #: draws received, by cell index (they outlive a lost worker), and the cells asked of
        #: the current worker
        self._drawn: dict[int, protocol.Drawn | protocol.DrawFailed] = {}
        self._requested: set[int] = set()
        self._draw_cache: dict = {}
        #: the statistical check running here: its id, deadline, and how it lost its worker
        self._running: str = ""
        self._deadline = 0.0
        self._whole_space = False
        self._lost_while: str | None = None
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

    def start(self) -> AdapterInfo:
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
        if self.given_up is not None and self.info is not None:
            return self.info  # (a fresh worker mid-run: the run is over, no worker needed)
        try:
            return self._load(False)
        except _WorkerStalled as stalled:
            raise LoadFailed(self.spec, f"adapter {self.spec!r} could not be loaded: "
                             f"{stalled.message}") from None

    def _load(self, preflight: bool) -> AdapterInfo:
        """One worker, loaded (with its pre-flight call when ``preflight``); raises
        :class:`LoadFailed`, or :class:`_WorkerStalled` when it hung in a call."""
        import execnet

        from conformance.engine.worker import BOOTSTRAP

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
        self._requests = {0: PREFLIGHT}
        self._requested = set()
        self._replies = {}
        self._queued = {}
        path, token = self._share_progress()
        setup = protocol.Setup(
            spec=self.spec, config=self.config, sys_path=tuple(p or os.getcwd() for p in sys.path),
            cwd=os.getcwd(), progress_file=path, progress_token=token, preflight=preflight)
        timeout = LOAD_TIMEOUT_S * self.config.timeout_scale
        try:
            self._channel.send(protocol.encode(setup))
            message = self._watch(PREFLIGHT, time.monotonic() + timeout,
                                  lambda: self._replies.pop(0, None), loading=True)
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
        if not isinstance(message, protocol.Loaded):
            self.kill()
            text = message.message if isinstance(message, protocol.LoadError) else (
                f"the worker answered {message.kind} instead of loading the adapter")
            raise LoadFailed(self.spec, text)
        if message.progress != "shared":
            self._close_shared()  # another host: the worker sends its record instead
        self.info = message.info
        self._adapter = RemoteAdapter(message.info)
        return self.info

    def _share_progress(self) -> tuple[str | None, str]:
        """A fresh file for the worker's progress record, mapped here; its path and the token
        that tells the worker it is on this host."""
        import mmap

        from conformance.engine.progress import RECORD_SIZE, TOKEN_OFFSET, TOKEN_SIZE

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
        self._requested = set()
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
                channel.send(protocol.encode(protocol.Stop()))
            except Exception:
                pass
        self.kill()
        self._close_shared()
        self._draw_cache.clear()

    # running

    def run(self, check_id: str) -> CheckResult:
        """Run one check: in the worker when it calls the implementation, here when it is
        statistical (on the worker's draws)."""
        check = self._checks[check_id]
        if self.given_up is not None:
            return decided_elsewhere(check, self.config, self.spec, self.given_up, 0.0)
        if check.kind == "statistical":
            return self._run_here(check)
        return self._run_in_worker(check)

    def run_all(self, check_ids: Sequence[str], progress: Any = None
                ) -> tuple[list[CheckResult], bool]:
        """Run a battery, its checks' results in battery order and whether every one ran (a
        stop ends it early).

        The worker is sent the draws of the settings space first and every deterministic
        check after them, all at once; this process then computes the statistical checks on
        the draws as they arrive, while the worker goes on with the deterministic checks, whose
        results it collects last.  Statistics and the implementation's calls so overlap on two
        cores.  ``progress(adapter_name, check_id, event)`` is told when each check starts
        and ends, in the order they are decided."""
        checks = [self._checks[i] for i in check_ids]
        deterministic = [c for c in checks if c.kind != "statistical"]
        statistical = sorted((c for c in checks if c.kind == "statistical"),
                             key=_statistics_first)
        name = self.info.name if self.info is not None else self.spec
        done: dict[str, CheckResult] = {}
        try:
            if deterministic and statistical and self.given_up is None:
                self._send_ahead(deterministic, statistical)
            for check in [*statistical, *deterministic]:
                if progress:
                    progress(name, check.id, "start")
                result = self.run(check.id) if check.kind == "statistical" else (
                    self._collect(check))
                done[check.id] = result
                if progress:
                    progress(name, check.id, result.verdict.value)
        except Stopped:
            return [done[c.id] for c in checks if c.id in done], False
        return [done[c.id] for c in checks], True

    def _send_ahead(self, deterministic: list[Any], statistical: list[Any]) -> None:
        """The draws of the whole space (when a statistical check reads it) and then every
        deterministic check, sent to the worker without waiting."""
        from conformance.checks import space as sp
        from conformance.engine.check_runner import space_context

        try:
            self._ensure_worker()
        except _Reload:
            return  # (each check meets it in turn)
        self._running = statistical[0].id
        try:
            if any(c.reads_whole_space for c in statistical):
                self._request_draws(sp.stream_order(
                    sp.space(space_context(self._adapter, self.config)).cells))
            for check in deterministic:
                self._queued[check.id] = self._send(
                    protocol.RunCheck(check_id=check.id, serial=self._serial + 1), check.id)
        except _Lost:  # (it died already: the checks meet a fresh worker one at a time)
            self.kill()
            self._queued = {}

    def _collect(self, check: Any) -> CheckResult:
        """A deterministic check's result: the reply to it sent ahead, or run now."""
        if check.id in self._victims:
            return self._victims.pop(check.id)
        serial = self._queued.pop(check.id, None)
        if serial is None or self.given_up is not None:
            return self.run(check.id)
        return self._await_check(check, serial, time.perf_counter(), sent_ahead=True)

    def _await_check(self, check: Any, serial: int, start: float, *,
                     sent_ahead: bool = False) -> CheckResult:
        """The worker's result of ``check`` (request ``serial``), or the error of a lost
        worker.  A check ``sent_ahead`` whose worker was lost in an earlier request never ran:
        it runs now in a fresh worker."""
        timeout = check.timeout_s * self.config.timeout_scale
        try:
            reply = self._watch(check.id, time.monotonic() + timeout,
                                lambda: self._replies.pop(serial, None))
        except _Lost as lost:
            record, _ = self._record()
            self.kill()
            if sent_ahead:
                self._queued = {}
                if record is not None and record.serial != serial:
                    return self.run(check.id)
            self._note(check.id, lost.kind)
            return decided_elsewhere(check, self.config, self.spec,
                                     _lost_message(lost, check.id, f"{timeout:.0f} s"),
                                     time.perf_counter() - start)
        self._note(check.id, None)
        assert isinstance(reply, protocol.CheckDone)
        return reply.result

    def _ensure_worker(self) -> None:
        """A loaded worker (a fresh one after a loss); raises :class:`_Reload` when it does not
        load (counted as a lost worker by the caller)."""
        if self._channel is not None:
            return
        try:
            self.start()
        except LoadFailed as exc:
            raise _Reload(f"a fresh worker could not load the adapter: {exc.message}") from None
        if self.given_up is not None:  # (its pre-flight call hung, and that ended it)
            raise _Reload(self.given_up, counted=True)

    def _run_in_worker(self, check: Any) -> CheckResult:
        start = time.perf_counter()
        try:
            self._ensure_worker()
        except _Reload as reload:
            if not reload.counted:
                self._note(check.id, "reload")
            return decided_elsewhere(check, self.config, self.spec, reload.message,
                                     time.perf_counter() - start)
        try:
            serial = self._send(protocol.RunCheck(check_id=check.id, serial=self._serial + 1),
                                check.id)
        except _Lost as lost:
            self.kill()
            self._note(check.id, lost.kind)
            return decided_elsewhere(check, self.config, self.spec,
                                     _lost_message(lost, check.id, "its timeout"),
                                     time.perf_counter() - start)
        return self._await_check(check, serial, start)

    def _run_here(self, check: Any) -> CheckResult:
        """A statistical check, in this process, on the worker's draws (``self`` is its
        draw source)."""
        self._running = check.id
        self._deadline = time.monotonic() + check.timeout_s * self.config.timeout_scale
        self._whole_space = check.reads_whole_space
        self._lost_while = None
        adapter = getattr(self, "_adapter", None) or RemoteAdapter(
            self.info or AdapterInfo.unloaded(self.spec))
        result = run_check(adapter, check, self.config, self._draw_cache, where="supervisor",
                           draw_source=self)
        self._note(check.id, self._lost_while)
        return result

    # the draw source of the statistical checks

    def prefetch(self, ctx: Any, cells: Sequence[Any]) -> None:
        """Ask the worker for every cell not yet drawn or asked for (for a check that reads the
        whole space, the whole space first, in the order the checks read it)."""
        from conformance.checks import space as sp

        wanted = list(cells)
        if self._whole_space:
            self._whole_space = False
            wanted = sp.stream_order(sp.space(ctx).cells) + wanted
        todo = list({c.index: c for c in wanted if c.index not in self._drawn}.values())
        if not todo:
            return
        self._with_worker(lambda: self._request_draws(todo))

    def fetch(self, ctx: Any, cell: Any) -> Any:
        """The cell's draw, waiting for the worker if it has not arrived; raises what drawing
        it raised in the worker, or :class:`CheckAborted` when the worker was lost."""
        from conformance.checks.pool import Draw

        if cell.index not in self._drawn:
            def wait() -> None:
                if cell.index not in self._requested:
                    self._request_draws([cell])
                self._watch(self._running, self._deadline,
                            lambda: True if cell.index in self._drawn else None)

            self._with_worker(wait)
        message = self._drawn[cell.index]
        if isinstance(message, protocol.DrawFailed):
            ctx.warnings.extend(message.warnings)
            if message.verdict == "fail":
                raise CheckFailed(message.message, root_cause=message.root_cause,
                                  findings=message.findings)
            raise CheckAborted(message.message)
        packed = np.frombuffer(message.packed, np.uint8).reshape(cell.calls, message.row_bytes)
        return Draw(cell, packed, message.kept, message.ratio_sum, message.ratio_min,
                    message.ratio_max, message.warnings)

    def _with_worker(self, action: Callable[[], None]) -> None:
        """``action`` with a live worker.  A worker lost meanwhile aborts the check (and
        counts), unless the worker was running a deterministic check sent ahead
        (:meth:`run_all`): that check then has the error, and this one goes on in a fresh
        worker."""
        while True:
            try:
                self._ensure_worker()
                action()
                return
            except _Reload as reload:
                if not reload.counted:
                    self._lost_while = "reload"
                raise CheckAborted(reload.message) from None
            except _Lost as lost:
                victim = self._queued_victim()
                self.kill()
                if victim is None:
                    self._lost_while = lost.kind
                    raise CheckAborted(_lost_message(lost, self._running, "its total timeout")
                                       ) from None
                self._victims[victim.id] = decided_elsewhere(
                    victim, self.config, self.spec, _lost_message(lost, victim.id, "its timeout"),
                    0.0)
                self._note(victim.id, lost.kind)
                if self.given_up is not None:
                    raise CheckAborted(self.given_up) from None

    def _queued_victim(self) -> Any:
        """The deterministic check sent ahead that the worker was running, from its last
        progress record (None: it was drawing, or nothing says).  Every check sent ahead is
        forgotten: after a loss the rest run one at a time in a fresh worker."""
        record, _ = self._record()
        queued, self._queued = self._queued, {}
        if record is None:
            return None
        by_serial = {serial: check_id for check_id, serial in queued.items()}
        check_id = by_serial.get(record.serial)
        return self._checks[check_id] if check_id is not None else None

    def _request_draws(self, cells: Sequence[Any]) -> None:
        from conformance.engine.worker import cell_wire

        cells = [c for c in cells if c.index not in self._requested]
        if not cells:
            return
        self._send(protocol.DrawCells(serial=self._serial + 1,
                                      cells=tuple(cell_wire(c) for c in cells)),
                   f"the draws of the settings space (for {self._running})")
        self._requested.update(c.index for c in cells)

    # talking to the worker

    def _send(self, request: protocol.Message, what: str) -> int:
        self._serial += 1
        self._requests[self._serial] = what
        try:
            self._channel.send(protocol.encode(request))
        except Exception:  # (the worker died after its last answer)
            raise _WorkerGone(_signal_name(_exit_status(self._gateway))) from None
        return self._serial

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

    def _watch(self, check_id: str, deadline: float, ready: Callable[[], Any], *,
               loading: bool = False) -> Any:
        """Receive the worker's messages until ``ready()`` gives something, watching its
        progress meanwhile: :class:`_WorkerStalled` when it makes none for the stall limit,
        :class:`_WorkerTimeout` at ``deadline``.  ``loading``: the worker is loading the adapter
        (serial 0); until its first call (the pre-flight call) only the deadline applies, since
        imports report no progress."""
        seen: protocol.Progress | None = None
        changed_at = time.monotonic()
        while True:
            value = ready()
            if value is not None:
                return value
            wait = max(0.01, min(POLL_S, deadline - time.monotonic()))
            if self._receive(wait):
                continue
            now = time.monotonic()
            if now >= deadline:
                raise _WorkerTimeout()
            record, busy = self._record()
            if busy:  # (being written: the next look sees it, or it is no progress either)
                continue
            if record != seen:
                seen, changed_at = record, now
                if record is not None:
                    self.first_call_s = max(self.first_call_s, record.first_s)
                    self.slowest_call_s = max(self.slowest_call_s, record.slowest_s)
                    self.longest_gap_s = max(self.longest_gap_s, record.longest_gap_s)
                continue
            current = record if record is not None and record.serial in self._requests else None
            if loading and (current is None or not current.calls):
                continue  # still importing: the load's own timeout applies
            limit, why = self._stall_limit(current)
            if now - changed_at >= limit:
                raise _WorkerStalled(
                    self._stall_message(check_id, current, now - changed_at, why, loading),
                    preflight=loading and current is not None and current.in_call)

    def _record(self) -> tuple[protocol.Progress | None, bool]:
        """The worker's progress record as last seen, and whether it was being written."""
        if self._shared is None:
            return self._sent, False
        from conformance.engine.progress import read_record

        record = read_record(self._shared)
        return record, record is None

    def _stall_limit(self, record: protocol.Progress | None) -> tuple[float, str]:
        """How long the worker may make no progress, in its state ``record``, and why."""
        scale = self.config.timeout_scale
        if record is not None and record.in_call:
            # no call of this worker has returned yet: its first, which may start a compiler
            first = not record.first_s
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

    def _stall_message(self, check_id: str, record: protocol.Progress | None, quiet_s: float,
                       why: str, loading: bool = False) -> str:
        what = self._requests.get(record.serial, check_id) if record is not None else check_id
        if loading and record is not None and record.in_call:
            where = f"hung in {record.setting} while loading the adapter"
        elif loading:
            where = ("hung while loading the adapter, after its pre-flight call returned and "
                     "outside any call of the implementation (info(), or an implementation "
                     "thread that holds the interpreter lock)")
        elif record is not None and record.in_call:
            where = f"hung in call {record.calls} of {what} ({record.setting})"
        elif record is not None and record.calls:
            where = (f"hung in {what} after call {record.calls} ({record.setting}) "
                     "returned, outside any call of the implementation (an implementation "
                     "thread that holds the interpreter lock does this)")
        else:
            where = (f"hung in {what} before its first call of the implementation (an "
                     "implementation thread that holds the interpreter lock does this)")
        text = f"{where}, no progress for {_seconds(quiet_s)}"
        if self._shared is None:
            text += (" (as the worker on another host last reported it: the call that hangs "
                     "may be a later one)")
        return (f"{text}; the worker was killed (limit: {why}; --timeout-scale gives a slow "
                "implementation longer)")

    def _receive(self, timeout: float) -> bool:
        """Take the worker's next message within ``timeout``: a draw or a progress record is
        kept, a reply is kept by its request's serial; False when nothing came."""
        import execnet

        channel, gateway = self._channel, self._gateway
        if channel is None:
            raise Stopped() if self._stopped else _WorkerGone(_signal_name(None))
        try:
            data = channel.receive(timeout=max(0.0, timeout))
        except execnet.TimeoutError:
            if self._stopped:
                raise Stopped() from None
            return False
        except execnet.RemoteError as exc:
            # The worker's own code raised (not the adapter's: run_check catches those).
            last = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
            raise _WorkerGone(f"the worker failed ({last})") from None
        except Exception:  # EOFError, closed channel: the worker process is gone
            if self._stopped:
                raise Stopped() from None
            raise _WorkerGone(_signal_name(_exit_status(gateway))) from None
        message = protocol.decode(data)
        if isinstance(message, protocol.Progress):
            version = self._sent.version + 1 if self._sent is not None else 1
            self._sent = protocol.Progress(**{**message.to_wire(), "version": version})
        elif isinstance(message, (protocol.Drawn, protocol.DrawFailed)):
            self._drawn[message.index] = message
        elif not isinstance(message, protocol.DrawsDone):
            self._replies[getattr(message, "serial", 0)] = message
        return True


#: The order a worker session computes the statistical checks in (the report keeps the
#: battery's): the costliest, which read no setting near p = 0 or 1, first, while the worker
#: still draws those (last, ``space.stream_order``); any other order gives the same results.
STATISTICS_FIRST = ("drop-count-distribution", "independence-batch", "independence-channels",
                    "independence-values", "expectation")


def _statistics_first(check: Any) -> int:
    order = STATISTICS_FIRST
    return order.index(check.id) if check.id in order else len(order)


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


class _Lost(Exception):
    """The worker was lost; ``kind`` says how (hung, crashed, exited)."""

    kind = "crashed"


class _WorkerGone(_Lost):
    def __init__(self, reason: str, kind: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind or ("exited" if "exited" in reason else "crashed")


class _WorkerTimeout(_Lost):
    kind = "hung"


class _WorkerStalled(_Lost):
    kind = "hung"

    def __init__(self, message: str, *, preflight: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.preflight = preflight  # hung in the pre-flight call, while loading


def _lost_message(lost: _Lost, check_id: str, timeout: str) -> str:
    """The ``error`` message of a check whose worker was lost."""
    if isinstance(lost, _WorkerStalled):
        return lost.message
    if isinstance(lost, _WorkerTimeout):
        return (f"timeout: {check_id} did not finish within {timeout}; the worker was killed "
                "(the adapter hangs or is very slow; --timeout-scale gives it longer)")
    assert isinstance(lost, _WorkerGone)
    return f"{lost.reason} while running {check_id}; the checks after it ran in a fresh worker"


class _Reload(Exception):
    """A fresh worker could not load the adapter (``counted``: that was already counted)."""

    def __init__(self, message: str, *, counted: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.counted = counted


def _exit_status(gateway: Any) -> int | None:
    popen = getattr(getattr(gateway, "_io", None), "popen", None)
    if popen is None:
        return None
    try:
        return popen.wait(timeout=2.0)
    except Exception:  # (still alive, or not ours to wait for)
        return None


__all__ = ["HANGS_IN_ALL", "LOST_IN_A_ROW", "PREFLIGHT", "RemoteAdapter", "WorkerSession"]
