"""A hang costs seconds, not hours; a slow implementation is never taken for a hung one.

The supervisor watches each call of the implementation (conformance.worker's progress record)
and kills a worker that makes no progress for a stall limit (30 s, or 10 times the slowest
call so far, in a call, 90 s in a fresh worker's first call; 60 s, or 10 times the longest
stretch so far, in the suite's own work between calls; times --timeout-scale).  After a worker
was lost in two checks in a row, or hung in three, an adapter's remaining checks are reported
as not run.  The tests run at small --timeout-scale so that CI does not wait; the README gives
the default-timeout measurements.  Every fresh worker makes the pre-flight call first (the
implementation's first call in that process), so "the fifth call" is call 4 of a check.
"""

from __future__ import annotations

import time
from pathlib import Path

import conformance
from conformance.battery import check_ids
from conformance.cli import main
from conformance.engine import worker_session
from conformance.report import load_report

HOSTILE = Path(__file__).with_name("hostile.py")


def run_cli(tmp_path: Path, name: str, *extra: str) -> tuple[int, dict, float]:
    out = tmp_path / "out"
    start = time.monotonic()
    code = main(["run", "--adapter", f"{HOSTILE}:{name}", "--out", str(out), "--quiet", *extra])
    took = time.monotonic() - start
    return code, load_report(out / "conformance.json"), took  # load_report validates


def checks_of(report: dict) -> dict[str, dict]:
    (entry,) = report["adapters"]
    return {c["id"]: c for c in entry["checks"]}


# --- a systematic hang ends the run quickly --------------------------------------------------


def test_a_hang_holding_the_interpreter_lock_in_every_fresh_worker_ends_the_run(tmp_path,
                                                                                 capsys):
    """The issue's scenario (every fresh worker hangs on its fifth call, holding the lock) over
    the whole battery at the default level: at scale 0.05 the stall limit is 1.5 s, so the run
    takes two stall limits and two worker starts, not each check's full timeout."""
    code, report, took = run_cli(tmp_path, "hangs_on_its_fifth_call", "--timeout-scale",
                                 "0.05")
    assert took < 60, took  # each check's own timeout would be 23 x 6-45 s
    assert code == 1
    assert report["complete"] is True and report["conformant"] is False
    checks = checks_of(report)
    assert list(checks) == check_ids()  # reported in battery order
    # the worker draws the settings space first (the statistics run meanwhile on this side),
    # so the statistical checks meet the hang first, in the order this side computes them
    one, two = worker_session.STATISTICS_FIRST[:2]
    first, second = checks[one], checks[two]
    assert first["verdict"] == "error"
    assert first["message"].startswith(
        f"hung in call 4 of the draws of the settings space (for {one}) (p="), first["message"]
    assert "no progress for 1." in first["message"] and "killed" in first["message"]
    assert second["verdict"] == "error"
    assert second["message"].startswith(
        f"hung in call 4 of the draws of the settings space (for {two})"), second
    rest = [c for cid, c in checks.items() if cid not in (one, two)]
    assert {c["verdict"] for c in rest} == {"error"}
    assert {c["message"].split(" (")[0] for c in rest} == {
        f"not run, the implementation hung in {one} and {two}"}
    assert all(c["reproduce"] for c in rest)  # the way to run one of them on its own
    summary = capsys.readouterr().out
    assert f"not run, the implementation hung in {one} and {two}" in summary


def test_calls_a_check_makes_through_the_adapters_methods_count_too(tmp_path):
    """results-kept calls the adapter's methods directly: those calls are watched too."""
    code, report, _ = run_cli(tmp_path, "hangs_on_its_fifth_call", "--timeout-scale", "0.05",
                              "--check", "shape-dtype", "--check", "results-kept")
    assert code == 1
    first, second = checks_of(report)["shape-dtype"], checks_of(report)["results-kept"]
    assert first["message"].startswith("hung in call 4 of shape-dtype (p="), first["message"]
    assert second["message"].startswith("hung in call "), second["message"]
    assert "of results-kept (dropout2d(x=ndarray" in second["message"]


def test_a_hang_in_the_pre_flight_call_is_judged_by_the_checks(tmp_path):
    """A first call may start a compiler or a device: 90 s, not 30 s (4.5 s at scale 0.05).
    A pre-flight call that hangs is no usage error (the call could be made): a fresh worker
    loads the adapter without it, and the checks report the hang, in a complete report."""
    code, report, took = run_cli(tmp_path, "hangs_on_its_first_call", "--timeout-scale", "0.05",
                                 "--check", "shape-dtype", "--check", "eval-identity",
                                 "--check", "p-zero")
    assert code == 1 and took < 40
    assert report["complete"] is True
    checks = checks_of(report)
    message = checks["shape-dtype"]["message"]
    assert message.startswith("hung in call 1 of shape-dtype ("), message
    assert "no progress for 4." in message and "a fresh worker's first call" in message
    for check_id in ("eval-identity", "p-zero"):
        assert checks[check_id]["message"].startswith(
            "not run, the implementation hung in the pre-flight call and shape-dtype")


def test_a_hang_while_starting_the_adapter_is_a_clean_load_error(tmp_path, capsys):
    """Before any call (imports, a framework's start-up) only the load's own timeout applies
    (300 s, 6 s at scale 0.02): then a usage error, exit 2, that says what happened."""
    start = time.monotonic()
    code = main(["run", "--adapter", f"{HOSTILE}:HangsWhenStarted", "--out",
                 str(tmp_path / "out"), "--quiet", "--timeout-scale", "0.02"])
    assert code == 2 and time.monotonic() - start < 30
    err = capsys.readouterr().err
    assert "did not load within 6.0 s" in err and "the worker was killed" in err, err


def test_a_hang_that_releases_the_interpreter_lock_is_caught_the_same_way(tmp_path):
    code, report, took = run_cli(
        tmp_path, "sleeps_forever_on_its_fifth_call", "--timeout-scale", "0.05",
        "--check", "channel-structure", "--check", "eval-identity", "--check", "p-zero")
    assert code == 1 and took < 30
    checks = checks_of(report)
    assert checks["channel-structure"]["message"].startswith(
        "hung in call 4 of channel-structure (p=")
    assert checks["eval-identity"]["message"].startswith("hung in call 4 of eval-identity (")
    assert checks["p-zero"]["message"].startswith(
        "not run, the implementation hung in channel-structure and eval-identity")


def test_a_thread_that_takes_the_interpreter_lock_for_ever_is_a_hang(tmp_path):
    """The worker stops wherever its main thread is when the thread takes the lock."""
    code, report, _ = run_cli(tmp_path, "starts_a_lock_holder_on_its_fifth_call",
                              "--timeout-scale", "0.05", "--check", "channel-structure",
                              "--check", "p-zero")
    assert code == 1
    message = checks_of(report)["channel-structure"]["message"]
    assert message.startswith("hung in ") and "no progress for" in message, message


def test_one_hang_costs_one_check_and_the_run_goes_on(tmp_path):
    """A crash or hang alone does not trip the rule: the checks after it run."""
    code, report, _ = run_cli(tmp_path, "hangs_holding_the_gil", "--timeout-scale", "0.05",
                              "--check", "channel-structure", "--check", "eval-identity",
                              "--check", "p-zero")
    assert code == 1
    checks = checks_of(report)
    assert checks["channel-structure"]["message"].startswith("hung in call ")
    assert checks["eval-identity"]["verdict"] == "pass"
    assert checks["p-zero"]["verdict"] == "pass"


# --- slow is not hung ----------------------------------------------------------------------------

#: checks with a few hundred calls at most (drop-rate's 6627 at quick level would take 200 s
#: asleep), a statistical one among them
SLOW_CHECKS = ["channel-structure", "eval-identity", "determinism", "independence-values"]


def _comparable(result: conformance.ConformanceResult) -> list:
    return [(c.id, c.verdict, c.message, dict(c.findings),
             [(s["test"], s["p_value"], s["n"]) for s in c.statistics.get("subtests", ())])
            for c in result.checks]


def test_an_implementation_slower_than_the_stall_limit_in_all_is_never_killed():
    """30 ms a call: channel-structure's 172 calls and independence-values' 229 take 5 s and
    7 s, longer than the stall limit (3 s in a call, 6 s between calls, at scale 0.1), and
    every check gives the verdicts, messages and p-values of the same implementation without
    the sleep (same seed)."""
    options = {"level": "quick", "checks": SLOW_CHECKS, "isolate": True, "timeout_scale": 0.1}
    start = time.monotonic()
    slow = conformance.check(f"{HOSTILE}:slow_seeded", **options)
    slow_s = time.monotonic() - start
    fast = conformance.check(f"{HOSTILE}:seeded", **options)
    assert slow.conformant, slow.summary()
    assert slow_s > 3 * 3.0  # longer in all than a stall limit: progress is what counts
    assert max(c.statistics["duration_s"] for c in slow.checks) > 3.0  # one check alone, too
    assert _comparable(slow) == _comparable(fast)


# --- the other doors -------------------------------------------------------------------------

HANG_CHECKS = ["channel-structure", "eval-identity", "p-zero"]


def test_the_api_with_isolate_detects_the_hang_and_applies_the_rule():
    result = conformance.check(f"{HOSTILE}:hangs_on_its_fifth_call", checks=HANG_CHECKS,
                               isolate=True, timeout_scale=0.05)
    assert [c.verdict for c in result.checks] == ["error"] * 3
    assert result["channel-structure"].message.startswith("hung in call 4 of channel-structure")
    assert result["p-zero"].message.startswith(
        "not run, the implementation hung in channel-structure and eval-identity")


def test_a_worker_that_cannot_share_its_record_sends_it(monkeypatch):
    """A worker on another host cannot map the supervisor's file: its thread sends the record
    (here the file cannot be made, which takes the same path).  In a hang that releases the
    interpreter lock the thread still runs, so it names the same call as the shared record;
    the message says that the record may be a call old (a hang that holds the lock silences
    the thread)."""
    def hung_call(result: conformance.ConformanceResult) -> str:
        return result["channel-structure"].message.split(", no progress")[0]

    options = {"checks": ["three-d-input", "channel-structure"], "isolate": True,
               "timeout_scale": 0.05}
    spec = f"{HOSTILE}:sleeps_forever_on_its_fifth_call"
    shared = conformance.check(spec, **options)

    def no_file(*args: object, **kwargs: object) -> None:
        raise OSError("no temporary directory")

    monkeypatch.setattr(worker_session.tempfile, "mkstemp", no_file)
    sent = conformance.check(spec, **options)
    assert hung_call(shared).startswith("hung in call "), hung_call(shared)
    assert hung_call(sent) == hung_call(shared)
    assert "as the worker on another host last reported it" in sent["channel-structure"].message
    assert "another host" not in shared["channel-structure"].message
    # (a 4D-only function: skipped after one call, before the worker's fifth)
    assert sent["three-d-input"].verdict == shared["three-d-input"].verdict == "skip"


pytest_plugins = ["pytester"]


def test_the_pytest_door_detects_the_hang_and_applies_the_rule(pytester):
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance", f"--dropout2d-adapter={HOSTILE}:hangs_on_its_fifth_call",
        "--dropout2d-timeout-scale=0.05",
        *[f"--dropout2d-check={c}" for c in HANG_CHECKS],
    )
    assert result.ret == 1
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    assert "hung in call 4 of channel-structure" in out
    assert "not run, the implementation hung in channel-structure and eval-identity" in out
