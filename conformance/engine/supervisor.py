"""Running a battery: one session's checks in order, and several adapters' sessions at once.

:func:`run_session` runs check ids on any started session (in-process or worker) and gives an
:class:`~conformance.results.AdapterResult`; :class:`Supervisor` runs several adapters in worker
processes, ``jobs`` at a time, and stops them all on a signal.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from conformance.adapters.base import AdapterInfo
from conformance.config import RunConfig
from conformance.defaults import GATEWAY, cache_dir
from conformance.engine.session import LoadFailed, Session, Stopped
from conformance.engine.worker_session import WorkerSession
from conformance.results import AdapterResult, CheckResult

#: ``progress(adapter_name, check_id, event)``: event is "start" or the verdict string
ProgressFn = Callable[[str, str, str], None]


def run_session(session: Session, check_ids: Sequence[str], *,
                progress: ProgressFn | None = None) -> AdapterResult:
    """Run ``check_ids`` on a started session, results in that order; stop cleanly on
    :class:`Stopped` (the result is then ``complete=False``).  A worker session runs the whole
    battery at once (``WorkerSession.run_all``: its statistics overlap the worker's calls)."""
    info = session.info or AdapterInfo.unloaded(session.spec)
    if isinstance(session, WorkerSession):
        results, complete = session.run_all(check_ids, progress)
        return AdapterResult(info, tuple(results), complete=complete)
    checks: list[CheckResult] = []
    for check_id in check_ids:
        if progress:
            progress(info.name, check_id, "start")
        try:
            result = session.run(check_id)
        except Stopped:
            return AdapterResult(info, tuple(checks), complete=False)
        checks.append(result)
        if progress:
            progress(info.name, check_id, result.verdict.value)
    return AdapterResult(info, tuple(checks))


def not_run(session: Session) -> AdapterResult:
    """The result of an adapter whose run never started (a stop before it ran): incomplete,
    and, if it never loaded, saying so."""
    if session.info is None:
        return AdapterResult(AdapterInfo.unloaded(session.spec), complete=False,
                             load_error="the run was stopped before this adapter was loaded")
    return AdapterResult(session.info, complete=False)


#: how many adapter runs' durations the supervisor keeps (the most recent)
_KEEP_DURATIONS = 200


def _durations_file() -> Path:
    """Where the supervisor keeps how long each adapter's last run took (beside the compiled
    programs the workers keep: ``$XDG_CACHE_HOME/dropout2d-conformance``)."""
    return Path(cache_dir()) / "durations.json"


def _durations() -> dict[str, float]:
    try:
        data = json.loads(_durations_file().read_text())
        return {str(k): float(v) for k, v in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):  # (none yet, or unreadable)
        return {}


def _remember(took: dict[str, float]) -> None:
    """Add ``took`` to the kept durations (best effort: scheduling is only an optimisation)."""
    if not took:
        return
    try:
        from conformance.report.jsonreport import atomic_write

        kept = {k: v for k, v in _durations().items() if k not in took}
        # the newest entries last, and only so many: every adapter spec ever run (a test's
        # temporary path too) would otherwise stay in the file for good
        kept = dict(list({**kept, **took}.items())[-_KEEP_DURATIONS:])
        atomic_write(_durations_file(), json.dumps(kept, indent=1) + "\n")
    except OSError:
        pass


def prepare() -> None:
    """Import what the supervisor needs after the workers load: scipy for the statistics
    (about 0.5 s), the report's template and ml_dtypes."""
    try:
        from conformance.report.html import prepare as prepare_report
        from conformance.stats._scipy import _optimize, fft, special, stats

        # (each lazy module imports on its first attribute)
        for module, name in ((stats, "norm"), (special, "ndtri"), (fft, "rfft"),
                             (_optimize, "brentq")):
            getattr(module, name)
        prepare_report()
        import ml_dtypes  # noqa: F401  (bfloat16 for an adapter that declares it: 0.46 s)
    except Exception:  # (best effort: a real problem shows where the thing is used)
        pass


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
        self.runs: list[AdapterResult | None] = [None] * len(self.specs)
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
        # while the workers import their frameworks, this process (idle, on the other core)
        # imports what it computes and writes with later
        threading.Thread(target=prepare, daemon=True, name="dropout2d-prepare").start()

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

    def run(self, check_ids: Sequence[str]) -> list[AdapterResult]:
        """Run the checks on every loaded adapter, longest first (:meth:`schedule`); the
        results in the order the adapters were given; after a stop, the runs so far."""
        took: dict[str, float] = {}

        def run_one(index: int) -> None:
            session = self.sessions[index]
            if self.stopped:
                return
            start = time.monotonic()
            try:
                self.runs[index] = run_session(session, check_ids, progress=self.progress)
            finally:
                session.close()
            if self.runs[index] is not None and self.runs[index].complete:
                took[self._key(session.spec, check_ids)] = time.monotonic() - start

        self._in_threads(run_one, self.schedule(check_ids))
        _remember(took)
        return [run or not_run(session) for session, run in zip(self.sessions, self.runs,
                                                                  strict=True)]

    def schedule(self, check_ids: Sequence[str]) -> list[int]:
        """The adapters' indices, the longest run first (by each one's last run of these
        checks at this level on this machine; never seen first of all), so that the jobs
        finish together instead of one long run starting last.  Verdicts do not depend on
        it."""
        last = _durations()
        return sorted(range(len(self.specs)),
                      key=lambda i: -last.get(self._key(self.specs[i], check_ids), math.inf))

    def _key(self, spec: str, check_ids: Sequence[str]) -> str:
        digest = hashlib.sha256(" ".join(check_ids).encode()).hexdigest()[:12]
        return f"{spec} {self.config.level} {digest}"

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


__all__ = ["ProgressFn", "Supervisor", "not_run", "run_session"]
