"""The pytest front door: one test per (adapter, check) over the same battery as the CLI.

Inert unless ``--dropout2d-adapter`` is given.  Run it with
``pytest --pyargs conformance --dropout2d-adapter=SPEC``; it works under pytest-xdist (each
worker loads the adapters it needs; seeds depend only on the check id, not on scheduling).
Each test carries its check's result in ``user_properties`` (so ``--junitxml`` has it), and
``--dropout2d-report DIR`` writes the JSON report at the end of the session.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

CASE_FIXTURE = "dropout2d_case"
PROPERTY = "dropout2d_result"
#: loaded adapters by spec, per pytest session (and per xdist worker)
ADAPTERS = pytest.StashKey[dict]()


class AdapterMisbehaved(Exception):
    """Shown for an ``error`` verdict: the adapter raised, hung or returned garbage."""


def pytest_addoption(parser: pytest.Parser) -> None:
    from conformance import battery

    group = parser.getgroup("dropout2d", "dropout2d conformance")
    group.addoption(
        "--dropout2d-adapter",
        action="append",
        default=[],
        metavar="SPEC",
        help="adapter spec to test (repeatable): name, module:attr or path/to/file.py:attr",
    )
    group.addoption("--dropout2d-level", default="default", choices=list(battery.LEVELS))
    group.addoption("--dropout2d-seed", type=int, default=0)
    group.addoption("--dropout2d-family-alpha", type=float, default=battery.FAMILY_ALPHA)
    group.addoption(
        "--dropout2d-check", action="append", default=[], metavar="ID", help="only these checks"
    )
    group.addoption("--dropout2d-report", default=None, metavar="DIR", help="write reports here")


def _config(config: pytest.Config) -> Any:
    from conformance.runner import RunConfig

    return RunConfig(
        level=config.getoption("dropout2d_level"),
        seed=config.getoption("dropout2d_seed"),
        family_alpha=config.getoption("dropout2d_family_alpha"),
        checks=tuple(config.getoption("dropout2d_check")),
    )


def _active(config: pytest.Config) -> bool:
    return bool(config.getoption("dropout2d_adapter", default=None))


def pytest_configure(config: pytest.Config) -> None:
    config.stash[ADAPTERS] = {}
    if not _active(config) or hasattr(config, "workerinput"):
        return
    config.pluginmanager.register(_Recorder(config), "dropout2d-recorder")
    from conformance import battery
    from conformance.adapters.registry import try_load

    try:
        battery.battery(config.getoption("dropout2d_check") or None)
    except KeyError as exc:
        raise pytest.UsageError(str(exc.args[0])) from None
    for spec in config.getoption("dropout2d_adapter"):
        adapter, reason = try_load(spec)
        if adapter is None:
            raise pytest.UsageError(reason)
        config.stash[ADAPTERS][spec] = adapter


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
    from conformance import battery

    checks = battery.battery(metafunc.config.getoption("dropout2d_check") or None)
    cases = [(spec, c.id) for spec in specs for c in checks]
    metafunc.parametrize(CASE_FIXTURE, cases, ids=[f"{s}::{c}" for s, c in cases])


def _adapter(config: pytest.Config, spec: str) -> Any:
    from conformance.adapters.registry import load_adapter

    cache = config.stash[ADAPTERS]
    if spec not in cache:
        cache[spec] = load_adapter(spec)
    return cache[spec]


def run_case(request: pytest.FixtureRequest, case: tuple[str, str]) -> None:
    """Run one (adapter spec, check id) and report it the pytest way."""
    from conformance.checks import CATALOGUE
    from conformance.runner import run_check

    spec, check_id = case
    adapter = _adapter(request.config, spec)
    result = run_check(adapter, CATALOGUE[check_id], _config(request.config))
    payload = {"spec": spec, "info": adapter.info(), "check": result.to_dict()}
    request.node.user_properties.append((PROPERTY, json.dumps(payload, allow_nan=False)))
    message = f"[{check_id}] {result.message}"
    if result.verdict.value == "skip":
        pytest.skip(message)
    if result.verdict.value == "fail":
        pytest.fail(f"{message}\nreproduce: {result.reproduce}", pytrace=False)
    if result.verdict.value == "error":
        raise AdapterMisbehaved(f"{message}\nreproduce: {result.reproduce}")


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
    from conformance import battery
    from conformance.report import build_report, write_reports
    from conformance.results import adapter_entry

    specs = config.getoption("dropout2d_adapter")
    selected = battery.battery(config.getoption("dropout2d_check") or None)
    order = {c.id: i for i, c in enumerate(selected)}
    by_spec: dict[str, dict[str, Any]] = {}
    for item in results:
        entry = by_spec.setdefault(item["spec"], {"info": item["info"], "checks": {}})
        entry["checks"][item["check"]["id"]] = item["check"]
    entries = []
    for spec in specs:
        if spec in by_spec:
            checks = sorted(by_spec[spec]["checks"].values(), key=lambda c: order[c["id"]])
            entries.append(adapter_entry(by_spec[spec]["info"], checks))
    complete = sum(len(e["checks"]) for e in entries) == len(specs) * len(selected)
    report = build_report(entries, _config(config).as_dict(), complete=complete)
    return write_reports(report, out)[0]
