"""Shared fixtures of the project's own tests (not the conformance battery): a fixed random
generator, one check run in this process (``run_one``), and reports built from small real runs
(fake adapters, through the engine) and from fabricated data, used by tests/report/ and by the
CLI's report and merge commands in tests/cli/."""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance import engine
from conformance.adapters import Adapter, CallableAdapter, load_adapter
from conformance.checks import CATALOGUE
from conformance.config import RunConfig
from conformance.engine.check_runner import run_check
from conformance.report import build_report
from conformance.results import CheckResult

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ERROR = "<script>alert('boom')</script> & <img src=x onerror=alert(2)>"

#: cheap deterministic checks that between them give pass, fail, skip and error verdicts
DET_CHECKS = ("shape-dtype", "eval-identity", "p-zero", "p-one", "determinism")


def correct(x, p, training=True):
    """A slow-but-correct Dropout2d (no seed keyword: determinism is skipped)."""
    if not training or p == 0:
        return x
    if p == 1:
        return np.zeros_like(x)
    keep = np.random.default_rng().random(x.shape[:2]) >= p
    scale = x.dtype.type(1 / (1 - p))
    return (x * keep[..., None, None].astype(x.dtype)) * scale


def never_drops(x, p, training=True):
    return x


def upcasts(x, p, training=True):
    return np.asarray(x, dtype=np.float64)


def raises(x, p, training=True):
    raise RuntimeError(HOSTILE_ERROR)


def run(adapters: list, checks: tuple[str, ...] = DET_CHECKS, level: str = "default") -> dict:
    """The report of ``checks`` on each adapter, run in this process by the engine (as the
    Python API's default does)."""
    config = RunConfig(level=level, checks=checks)
    entries = []
    for adapter in adapters:
        session = engine.open_session(adapter, config, isolate=False)
        try:
            entries.append(engine.run_session(session, checks))
        finally:
            session.close()
    return build_report(entries, config.as_dict())


@pytest.fixture
def run_report() -> Callable[..., dict]:
    """``run_report(adapters, checks, level)``: the report of a small real run (see ``run``)."""
    return run


#: two faulty adapters the front doors are tested on, written to a file loaded by path
FAULTY = textwrap.dedent(
    """
    import numpy as np

    def never_scales(x, p, training=True):
        if not training or p == 0:
            return x
        keep = np.random.default_rng().random(x.shape[:-2] + (1, 1)) >= p
        return x * keep.astype(x.dtype)   # fault: no 1/(1-p)

    def raises(x, p, training=True):
        raise RuntimeError("<b>kernel</b> exploded")
    """
)


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    path = tmp_path / "faulty.py"
    path.write_text(FAULTY)
    return path


@pytest.fixture
def reference_verdicts() -> dict[str, str]:
    """The reference's verdict on every check id: pass, but gradient (no autograd) skips."""
    return {cid: "skip" if cid == "gradient" else "pass" for cid in CATALOGUE}


@pytest.fixture
def run_one() -> Callable[[Adapter, str], CheckResult]:
    """``run_one(adapter, check_id)``: one check in this process at quick level, seed 0."""

    def run_check_quick(adapter: Adapter, check_id: str) -> CheckResult:
        return run_check(adapter, CATALOGUE[check_id], RunConfig(level="quick", seed=0))

    return run_check_quick


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261126)


@pytest.fixture
def hostile() -> tuple[str, str]:
    """The hostile adapter name and exception message used in ``mixed_report``."""
    return HOSTILE_NAME, HOSTILE_ERROR


@pytest.fixture(scope="session")
def mixed_report() -> dict[str, Any]:
    """Four adapters: one passes, one fails, one errors (hostile name and message), skips too."""
    hostile = CallableAdapter(raises, name=HOSTILE_NAME)
    report = run(
        [
            CallableAdapter(correct, name="correct"),
            CallableAdapter(upcasts, name="upcasts"),
            CallableAdapter(never_drops, name="never-drops"),
            hostile,
        ]
    )
    return report


@pytest.fixture(scope="session")
def stat_report() -> dict[str, Any]:
    """The reference through two real statistical checks at the quick level (plot data)."""
    return run(
        [load_adapter("reference")],
        checks=("eval-identity", "drop-count-distribution", "channel-uniformity"),
        level="quick",
    )


def subtest(test: str, p_value: float, alpha: float, detail: dict, **kw: Any) -> dict:
    out = {
        "test": test,
        "statistic": 1.0,
        "p_value": p_value,
        "alpha": alpha,
        "reject": p_value <= alpha,
        "n": 1000,
        "mde": 0.01,
        "estimate": 0.5,
        "ci": [0.49, 0.51],
        "detail": detail,
    }
    out.update(kw)
    return out


def stat_check(cid: str, subtests: list[dict], verdict: str | None = None) -> dict:
    rejected = any(s["reject"] for s in subtests)
    return {
        "id": cid,
        "requirement": "R3",
        "kind": "statistical",
        "verdict": verdict or ("fail" if rejected else "pass"),
        "message": f"{cid}: {len(subtests)} sub-tests",
        "duration_s": 0.5,
        "seed": 7,
        "findings": {},
        "reproduce": f"dropout2d-conformance run --adapter fab --check {cid}",
        "warnings": [],
        "decisions": 1000,
        "statistic": 1.0,
        "p_value": min(s["p_value"] for s in subtests) if subtests else None,
        "alpha": 1e-5,
        "n": sum(s["n"] for s in subtests),
        "mde": 0.01,
        "observed": 0.5,
        "ci": [0.49, 0.51],
        "subtests": subtests,
    }


@pytest.fixture
def fabricated(mixed_report: dict) -> dict[str, Any]:
    """A report whose first adapter carries fabricated statistical checks with plot data."""
    rates = [0.5 + 0.01 * ((i * 7) % 5 - 2) for i in range(24)]
    rates[5] = 0.8  # one bad position
    checks = [
        stat_check("drop-rate", [
            subtest("binomial-exact", 0.3, 1e-6,
                    {"p0": p, "p": p, "setting": f"p={p}, shape=(8, 8, 2, 2)"},
                    estimate=p + 0.001, ci=[p - 0.002, p + 0.004])
            for p in (0.1, 0.5, 0.9)
        ]),
        stat_check("channel-uniformity", [
            subtest("max-abs-z-bonferroni", 1e-9, 1e-6,
                    {"p": 0.5, "rates": rates, "alpha_per_position": 1e-6 / 24,
                     "positions": "channel", "setting": "p=0.5, shape=(400, 24, 2, 2)"},
                    n=9600),
            subtest("chi2-homogeneity", 0.2, 1e-6, {"p": 0.5, "setting": "p=0.5"}),
        ]),
        stat_check("drop-count-distribution", [
            subtest("chi2-gof-binomial", 0.5, 1e-6,
                    {"p": 0.5, "observed": [10.0, 40.0, 38.0, 12.0],
                     "expected": [12.5, 37.5, 37.5, 12.5], "edges": [0, 1, 2, 3, 5]}),
        ]),
    ]
    report = copy.deepcopy(mixed_report)
    entry = report["adapters"][0]
    entry["checks"] += checks
    entry["summary"]["pass"] += 2
    entry["summary"]["fail"] += 1
    entry["conformant"] = False
    report["conformant"] = False
    return report
