"""Ctrl-C and SIGTERM during `run`: a partial report marked incomplete, exit 130 or 143; a
second signal exits at once.  (An adapter's own KeyboardInterrupt is an error verdict of the
check that raised it: tests/engine/test_hostile_adapters.py.)"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.report import load_report

#: the hostile adapters of tests/engine; sleeps_in_eval is slow enough to be interrupted
HOSTILE = Path(__file__).parents[1] / "engine" / "hostile.py"


def _start_and_wait_for(argv: list[str], line_part: str) -> subprocess.Popen:
    """Start the CLI and return once a progress line containing ``line_part`` appeared."""
    proc = subprocess.Popen([sys.executable, "-m", "conformance", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line_part in line or not line:
            break
    return proc


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_leaves_a_partial_report_marked_incomplete(tmp_path, signum, code):
    out = tmp_path / "o"
    # eval-identity sleeps 0.5 s in each of its evaluation-mode calls: the signal comes while
    # it runs, after channel-structure of the first adapter has finished
    proc = _start_and_wait_for(
        ["run", "--adapter", f"{HOSTILE}:sleeps_in_eval", "--adapter", "reference",
         "--check", "eval-identity", "--check", "channel-structure", "--check", "p-one",
         "--jobs", "1", "--out", str(out)],
        "channel-structure")
    time.sleep(1)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    report = load_report(out / "conformance.json")
    assert report["complete"] is False and report["conformant"] is False
    first, second = report["adapters"]
    assert first["complete"] is False and second["complete"] is False
    assert [c["id"] for c in first["checks"]] == ["channel-structure"]
    assert first["checks"][0]["verdict"] == "pass" and second["checks"] == []


def test_a_second_signal_exits_at_once(tmp_path):
    proc = _start_and_wait_for(
        ["run", "--adapter", f"{HOSTILE}:sleeps_in_eval", "--check", "eval-identity",
         "--check", "channel-structure", "--out", str(tmp_path / "o")], "channel-structure")
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 143
