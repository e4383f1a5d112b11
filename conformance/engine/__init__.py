"""The one way the battery runs: sessions that hold a loaded adapter and run checks on request.

Every front door goes through here: the CLI (``run``, ``selftest``, ``calibrate``), the pytest
door and the Python API (:mod:`conformance.api`).  The data path, module by module:

- :mod:`~conformance.engine.session`: what a session is, and :func:`open_session`;
- :mod:`~conformance.engine.in_process`: a session in the caller's process;
- :mod:`~conformance.engine.worker_session`: a session whose implementation runs in a
  supervised worker process (hang detection, restarts, the statistical checks on the worker's
  draws), talking :mod:`~conformance.engine.protocol` to
- :mod:`~conformance.engine.worker`: the worker process itself, whose calls of the
  implementation :mod:`~conformance.engine.progress` records;
- :mod:`~conformance.engine.check_runner`: one check, whatever happens, becomes a
  ``CheckResult`` (wherever it runs);
- :mod:`~conformance.engine.supervisor`: a battery on one session (:func:`run_session`), and
  several adapters at once (:class:`Supervisor`).
"""

from conformance.engine.in_process import InProcessSession
from conformance.engine.session import LoadFailed, Session, Stopped, open_session, spec_of
from conformance.engine.supervisor import Supervisor, not_run, run_session
from conformance.engine.worker_session import WorkerSession

__all__ = [
    "InProcessSession",
    "LoadFailed",
    "Session",
    "Stopped",
    "Supervisor",
    "WorkerSession",
    "not_run",
    "open_session",
    "run_session",
    "spec_of",
]
