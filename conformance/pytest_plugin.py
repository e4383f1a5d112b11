"""The pytest front door: one test per (adapter, check) over the same battery as the CLI.

Inert unless ``--dropout2d-adapter`` is given, and then it costs nothing more than reading its
options: nothing heavy is imported until a ``--dropout2d-*`` option is used.  Run it with
``pytest --pyargs conformance --dropout2d-adapter=SPEC``.  Each adapter is loaded and called in a
supervised worker process (as in the CLI: an adapter that exits, crashes or hangs costs its check
an ``error``, never the pytest run); ``--dropout2d-in-process`` runs it in pytest's own process
instead.  Works under pytest-xdist (each xdist worker runs its own supervised worker per
adapter; seeds depend only on the check id, not on scheduling).  Each test carries its check's
result in ``user_properties`` (so ``--junitxml`` has it), and ``--dropout2d-report DIR`` writes
the same reports as the CLI at the end of the session.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import conformance._self  # noqa: F401  (first: a folder named conformance must not shadow us)
from conformance.defaults import add_shared_run_options  # light: argparse only

CASE_FIXTURE = "dropout2d_case"
PROPERTY = "dropout2d_result"
#: loaded sessions by spec, per pytest process (the controller, or each xdist worker)
SESSIONS = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dropout2d", "dropout2d conformance")
    group.addoption(
        "--dropout2d-adapter",
        action="append",
        default=[],
        metavar="SPEC",
        help="adapter spec to test (repeatable): name, module:attr or path/to/file.py:attr",
    )
    add_shared_run_options(group.addoption, prefix="--dropout2d-")
    group.addoption("--dropout2d-report", default=None, metavar="DIR", help="write reports here")
    group.addoption("--dropout2d-in-process", action="store_true",
                    help="run the implementation in pytest's process instead of a worker")


def _config(config: pytest.Config) -> Any:
    from conformance.config import run_config

    try:
        return run_config(
            level=config.getoption("dropout2d_level"),
            seed=config.getoption("dropout2d_seed"),
            family_alpha=config.getoption("dropout2d_family_alpha"),
            checks=tuple(config.getoption("dropout2d_check")),
            timeout_scale=config.getoption("dropout2d_timeout_scale"),
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def _active(config: pytest.Config) -> bool:
    return bool(config.getoption("dropout2d_adapter", default=None))


def _session(config: pytest.Config, spec: str) -> Any:
    """This process's loaded session for ``spec`` (started on first use)."""
    from conformance import engine

    sessions = config.stash[SESSIONS]
    if spec not in sessions:
        sessions[spec] = engine.open_session(
            spec, _config(config), isolate=not config.getoption("dropout2d_in_process"),
            gateway=config.getoption("dropout2d_gateway"))
    return sessions[spec]


def pytest_configure(config: pytest.Config) -> None:
    config.stash[SESSIONS] = {}
    if not _active(config) or hasattr(config, "workerinput"):
        return
    from conformance import engine

    _config(config)  # options first: a usage error before anything is loaded
    out = config.getoption("dropout2d_report")
    if out:
        path = Path(out)
        if path.exists() and not path.is_dir():
            raise pytest.UsageError(f"--dropout2d-report {out!r} is a file; give a directory")
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise pytest.UsageError(f"--dropout2d-report {out!r}: {exc.strerror or exc}") from None
    config.pluginmanager.register(_Recorder(config), "dropout2d-recorder")
    for spec in config.getoption("dropout2d_adapter"):
        try:
            _session(config, spec)  # every spec loads before any test runs
        except engine.LoadFailed as exc:
            raise pytest.UsageError(exc.message) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    for session in config.stash.get(SESSIONS, {}).values():
        session.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if CASE_FIXTURE not in metafunc.fixturenames:
        return
    specs = metafunc.config.getoption("dropout2d_adapter")
    if not specs:
        metafunc.parametrize(
            CASE_FIXTURE,
            [pytest.param(None, marks=pytest.mark.skip(reason="no --dropout2d-adapter given"))],
            ids=["no-adapter"],
        )
        return
    from conformance.battery import check_ids

    ids = check_ids(metafunc.config.getoption("dropout2d_check"))
    cases = [(spec, check_id) for spec in specs for check_id in ids]
    metafunc.parametrize(CASE_FIXTURE, cases, ids=[f"{s}::{c}" for s, c in cases])


def run_case(request: pytest.FixtureRequest, case: tuple[str, str]) -> None:
    """Run one (adapter spec, check id) and report it the pytest way."""
    from conformance import engine
    from conformance.testing import report_outcome

    spec, check_id = case
    try:
        session = _session(request.config, spec)
    except engine.LoadFailed as exc:
        pytest.fail(f"the adapter could not be loaded: {exc.message}", pytrace=False)
    result = session.run(check_id)
    # to the controller (from a pytest-xdist worker too) in the report's form
    payload = {"spec": spec, "info": session.info.to_dict(), "check": result.to_dict()}
    request.node.user_properties.append((PROPERTY, json.dumps(payload, allow_nan=False)))
    report_outcome(result)


class _Recorder:
    """Collects check results (relayed from xdist workers too) and writes the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in getattr(report, "user_properties", ()):
            if name == PROPERTY and report.when == "call":
                self.results.append(json.loads(value))

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        out = self.config.getoption("dropout2d_report")
        if out:
            path = write_session_report(self.config, self.results, Path(out))
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(f"dropout2d report: {path}")


def write_session_report(config: pytest.Config, results: list[dict[str, Any]], out: Path) -> Path:
    """Assemble the per-test results into the same report the CLI writes."""
    from conformance.adapters.base import AdapterInfo
    from conformance.battery import check_ids
    from conformance.report import build_report, write_reports
    from conformance.results import AdapterResult, CheckResult

    specs = config.getoption("dropout2d_adapter")
    selected = check_ids(config.getoption("dropout2d_check"))
    order = {check_id: i for i, check_id in enumerate(selected)}
    by_spec: dict[str, tuple[AdapterInfo, dict[str, CheckResult]]] = {}
    for item in results:
        info, checks = by_spec.setdefault(item["spec"],
                                          (AdapterInfo.from_dict(item["info"]), {}))
        result = CheckResult.from_dict(item["check"])
        checks[result.id] = result
    entries = []
    for spec in specs:
        if spec in by_spec:
            info, checks = by_spec[spec]
            ordered = sorted(checks.values(), key=lambda c: order[c.id])
            entries.append(AdapterResult(info, tuple(ordered)))
    complete = sum(len(e.checks) for e in entries) == len(specs) * len(selected)
    report = build_report(entries, _config(config).as_dict(), complete=complete,
                          expected=selected)
    return write_reports(report, out)[0]
