"""Nothing an adapter does can fake a pass or lose a report (supervised workers).

Each hostile adapter in ``hostile.py`` misbehaves inside a training call.  The run must end
within its timeouts, exit 1 (2 for a load failure), leave a report that validates against the
schema, name the check that was running in that check's ``error`` verdict, and carry on with
the checks after it in a fresh worker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.report import load_report

HOSTILE = Path(__file__).with_name("hostile.py")
#: a check that calls in training mode at 0 < p < 1 first, then two that never do
CHECKS = ["--check", "channel-structure", "--check", "eval-identity", "--check", "p-zero"]


def run_cli(tmp_path: Path, name: str, *extra: str) -> tuple[int, dict, str]:
    out = tmp_path / "out"
    code = main(["run", "--adapter", f"{HOSTILE}:{name}", *CHECKS, "--out", str(out),
                 "--quiet", *extra])
    report = load_report(out / "conformance.json")  # validates against the schema
    return code, report, (out / "conformance.html").read_text()


def verdicts(report: dict) -> dict[str, tuple[str, str]]:
    (entry,) = report["adapters"]
    return {c["id"]: (c["verdict"], c["message"]) for c in entry["checks"]}


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("exits_zero", "exited with status 0"),
        ("segfaults", "killed by SIGSEGV"),
        ("kills_itself", "killed by SIGKILL"),
        ("sys_exits_zero", "SystemExit"),
        ("raises_cancelled", "CancelledError"),
        ("raises_keyboard_interrupt", "KeyboardInterrupt"),
    ],
)
def test_an_adapter_that_dies_or_exits_costs_one_check_an_error(tmp_path, name, needle):
    code, report, html = run_cli(tmp_path, name)
    assert code == 1
    seen = verdicts(report)
    verdict, message = seen["channel-structure"]
    assert verdict == "error" and needle in message, message
    # the checks after it ran in a fresh worker and judged the adapter on their own merits
    assert seen["eval-identity"][0] == "pass" and seen["p-zero"][0] == "pass"
    assert report["complete"] is True and report["conformant"] is False
    assert "NOT CONFORMANT" in html


def test_an_implementation_that_progresses_too_slowly_meets_the_total_timeout(tmp_path):
    """The checks' total timeouts stay as a backstop (hangs are caught by lack of progress,
    tests/engine/test_hangs.py): at scale 0.01 shape-dtype has 1.2 s for its 169 calls of
    30 ms each, which never stall for the 0.3 s stall limit."""
    out = tmp_path / "out"
    code = main(["run", "--adapter", f"{HOSTILE}:slow_seeded", "--check", "shape-dtype",
                 "--check", "p-zero", "--timeout-scale", "0.01", "--out", str(out), "--quiet"])
    assert code == 1
    seen = verdicts(load_report(out / "conformance.json"))
    verdict, message = seen["shape-dtype"]
    assert verdict == "error" and message.startswith("timeout: shape-dtype did not finish"), message
    assert seen["p-zero"][0] == "pass"


def test_exiting_on_invalid_p_does_not_pass_invalid_p(tmp_path):
    out = tmp_path / "out"
    code = main(["run", "--adapter", f"{HOSTILE}:exits_on_invalid_p", "--check", "invalid-p",
                 "--check", "p-one", "--out", str(out), "--quiet"])
    assert code == 1
    seen = verdicts(load_report(out / "conformance.json"))
    assert seen["invalid-p"][0] == "error" and "sys.exit" in seen["invalid-p"][1]
    assert seen["p-one"][0] == "pass"


def test_process_state_changes_do_not_reach_the_suite(tmp_path, monkeypatch):
    """os.chdir cannot redirect a relative --out; np.seterr cannot break the suite's maths."""
    monkeypatch.chdir(tmp_path)
    for name in ("changes_directory", "sets_numpy_errors"):
        code = main(["run", "--adapter", f"{HOSTILE}:{name}", "--check", "channel-structure",
                     "--check", "drop-rate", "--level", "quick", "--out", name, "--quiet"])
        report = load_report(tmp_path / name / "conformance.json")
        assert code == 0, verdicts(report)
        assert {v for v, _ in verdicts(report).values()} == {"pass"}


def test_a_stray_non_daemon_thread_does_not_keep_the_run_alive(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--adapter",
         f"{HOSTILE}:starts_a_thread", "--check", "p-zero", "--out", str(tmp_path / "o"),
         "--quiet"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert load_report(tmp_path / "o" / "conformance.json")["conformant"]


# --- load failures are usage errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ("import os\nos._exit(0)\n", "could not be loaded"),
        ("import sys\nsys.exit(3)\n", "sys.exit(3)"),
        ("raise RuntimeError('no GPU')\n", "no GPU"),
    ],
)
def test_a_module_that_exits_or_raises_at_import_is_a_load_failure(tmp_path, capsys, source,
                                                                   needle):
    module = tmp_path / "bad_module.py"
    module.write_text(source + "def f(x, p, training=True):\n    return x\n")
    out = tmp_path / "out"
    assert main(["run", "--adapter", f"{module}:f", "--out", str(out), "--quiet"]) == 2
    assert needle in capsys.readouterr().err
    assert not (out / "conformance.json").exists()


def test_an_adapter_class_whose_constructor_raises_is_a_load_failure(tmp_path, capsys):
    assert main(["run", "--adapter", f"{HOSTILE}:RaisesInConstructor",
                 "--out", str(tmp_path), "--quiet"]) == 2
    assert "no device found" in capsys.readouterr().err


def test_a_load_failure_stops_the_run_before_any_check(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", "--adapter", "reference", "--adapter", "no_such_module:f",
                 "--out", str(out), "--quiet"])
    assert code == 2
    assert "no_such_module" in capsys.readouterr().err
    assert not (out / "conformance.json").exists()


# --- reproduction --------------------------------------------------------------------------------


def test_reproduce_commands_carry_every_option_that_changes_the_outcome(tmp_path):
    out = tmp_path / "o"
    main(["run", "--adapter", "reference", "--check", "drop-rate", "--level", "quick",
          "--family-alpha", "0.001", "--seed", "7", "--out", str(out), "--quiet"])
    (check,) = load_report(out / "conformance.json")["adapters"][0]["checks"]
    command = check["reproduce"]
    assert "--family-alpha 0.001" in command and "--seed 7" in command
    assert "--level quick" in command and "--check drop-rate" in command


# --- several adapters at once ------------------------------------------------------------------


def _comparable(report: dict) -> list:
    out = []
    for entry in report["adapters"]:
        for c in entry["checks"]:
            stats = [(s["test"], s["p_value"], s["n"]) for s in c.get("subtests", ())]
            out.append((entry["spec"], c["id"], c["verdict"], c.get("p_value"), stats))
    return out


def test_verdicts_and_statistics_do_not_depend_on_jobs(tmp_path):
    reports = []
    for jobs in ("1", "2"):
        out = tmp_path / jobs
        main(["run", "--adapter", "reference", "--adapter", "conformance.mutants.rates:p_swapped",
              "--check", "drop-rate", "--check", "p-one", "--level", "quick",
              "--jobs", jobs, "--out", str(out), "--quiet"])
        reports.append(load_report(out / "conformance.json"))
    assert _comparable(reports[0]) == _comparable(reports[1])


def test_a_worker_through_an_explicit_gateway_spec(tmp_path):
    """A worker on another host is an execnet gateway spec; a local one stands in for it."""
    out = tmp_path / "o"
    code = main(["run", "--adapter", "reference", "--check", "p-one", "--out", str(out),
                 "--quiet", "--gateway", f"popen//python={sys.executable}"])
    assert code == 0


# --- reports stay consistent -------------------------------------------------------------------


def test_report_rederives_the_verdict_from_the_checks(tmp_path):
    out = tmp_path / "o"
    main(["run", "--adapter", f"{HOSTILE}:exits_on_invalid_p", "--check", "invalid-p",
          "--out", str(out), "--quiet"])
    path = out / "conformance.json"
    data = json.loads(path.read_text())
    data["conformant"] = True
    data["adapters"][0]["conformant"] = True  # a tampered or stale flag is not trusted
    path.write_text(json.dumps(data))
    assert main(["report", str(path), "--out", str(tmp_path / "again"), "--quiet"]) == 1


# --- the pytest door ---------------------------------------------------------------------------

pytest_plugins = ["pytester"]


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_the_pytest_door_survives_an_adapter_that_exits(pytester, xdist):
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance", f"--dropout2d-adapter={HOSTILE}:exits_zero",
        "--dropout2d-check=channel-structure", "--dropout2d-check=p-zero", *xdist,
    )
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    assert "exited with status 0" in result.stdout.str()


def _worker_children() -> list[str]:
    """Worker processes (execnet's bootstrap) whose parent is this process."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        if ppid == os.getpid() and b"exec(eval(sys.stdin.readline()))" in cmd:
            found.append(pid)
    return found


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc to find the workers")
def test_workers_leave_no_process_behind(tmp_path):
    """After a run, no worker of it is alive (killed or finished): a hung or dead worker is
    reaped, and so is one whose adapter left a thread running."""
    main(["run", "--adapter", f"{HOSTILE}:exits_zero", "--adapter", f"{HOSTILE}:starts_a_thread",
          "--check", "p-zero", "--check", "channel-structure", "--out", str(tmp_path), "--quiet"])
    time.sleep(0.5)
    assert _worker_children() == []


def test_nan_output_fails_expectation_instead_of_erroring(tmp_path):
    out = tmp_path / "o"
    code = main(["run", "--adapter", f"{HOSTILE}:nan_output", "--check", "expectation",
                 "--level", "quick", "--out", str(out), "--quiet"])
    assert code == 1
    (check,) = load_report(out / "conformance.json")["adapters"][0]["checks"]
    # a NaN map of finite input is neither dropped nor kept: R2's structure, named once
    assert check["verdict"] == "fail"
    assert "is NaN for finite, nonzero input" in check["message"], check["message"]
    assert check["root_cause"].startswith("R2")
