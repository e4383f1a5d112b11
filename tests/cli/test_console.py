"""The CLI's merge and report commands, Ctrl-C during run, and the console."""

from __future__ import annotations

import io
import json

import pytest

from conformance.cli import main
from conformance.console import Console
from conformance.report import write_json


@pytest.fixture
def two_reports(tmp_path, mixed_report, stat_report):
    a = write_json(mixed_report, tmp_path / "a")
    b = write_json(stat_report, tmp_path / "b")
    return a, b


def test_merge_exits_0_once_the_matrix_is_written_and_keeps_the_verdicts(
    tmp_path, two_reports, capsys
):
    out = tmp_path / "merged"
    code = main(["merge", *map(str, two_reports), "--out", str(out)])
    # The first run has non-conformant adapters: a finding the matrix carries, not a failure
    # of merging (a tox matrix is green when every environment ran and the matrix was built).
    assert code == 0
    merged = json.loads((out / "conformance.json").read_text())
    assert merged["merged"] and len(merged["sources"]) == 2
    assert merged["conformant"] is False
    assert any(not a["conformant"] for a in merged["adapters"])
    assert (out / "conformance.html").read_text().count('class="matrix"') == 1
    stdout = capsys.readouterr().out
    assert "NOT CONFORMANT" in stdout and "conformance.html" in stdout


def test_report_rerenders_a_json_report(tmp_path, two_reports, capsys):
    out = tmp_path / "again"
    assert main(["report", str(two_reports[1]), "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "conformance.json").read_text()) == json.loads(
        two_reports[1].read_text())
    assert "<!DOCTYPE html>" in (out / "conformance.html").read_text()
    assert "CONFORMANT" not in capsys.readouterr().out  # --quiet: paths only


@pytest.mark.parametrize(
    "content, needle",
    [
        ("{oops", "not valid JSON"),
        ('{"format_version": "1.0", "adapters": []}', "does not match the conformance report"),
        (None, "no such file"),
    ],
)
@pytest.mark.parametrize("command", ["merge", "report"])
def test_bad_input_files_exit_2(tmp_path, two_reports, capsys, command, content, needle):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    argv = [command, str(bad), "--out", str(tmp_path / "o")]
    if command == "merge":
        argv.insert(1, str(two_reports[0]))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "bad.json" in err
    assert not (tmp_path / "o").exists()


# The run stopped by SIGINT or SIGTERM (partial report, exit 130 or 143) is tested in
# tests/engine/test_hostile_adapters.py: an adapter's own KeyboardInterrupt is now an error
# verdict of the check that raised it, not the user's Ctrl-C.


# --- the console ------------------------------------------------------------------------------


def _feed(console: Console) -> None:
    console.expect("torch", 3)
    for check, verdict in (("shape-dtype", "pass"), ("drop-rate", "fail"), ("gradient", "skip")):
        console.progress("torch", check, "start")
        console.progress("torch", check, verdict)
    console.progress("jax", "shape-dtype", "start")
    console.progress("jax", "shape-dtype", "error")
    console.close()


def test_console_plain_is_one_line_per_finished_check_without_ansi():
    stream = io.StringIO()
    _feed(Console(stream))  # a StringIO is not a terminal
    lines = stream.getvalue().splitlines()
    assert len(lines) == 4
    assert lines[1].split()[:3] == ["torch", "drop-rate", "fail"]
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()


def test_console_live_mode_redraws_one_line_and_keeps_failures():
    stream = io.StringIO()
    _feed(Console(stream, live=True))
    text = stream.getvalue()
    assert "\r\x1b[2K" in text and "[2/3]" in text
    assert "FAIL" in text and "drop-rate" in text and "ERROR" in text
    assert "torch: 3 checks" in text


def test_console_quiet_prints_only_the_summary(mixed_report):
    stream = io.StringIO()
    console = Console(stream, quiet=True)
    _feed(console)
    assert stream.getvalue() == ""
    console.summary(mixed_report["adapters"])
    text = stream.getvalue()
    header, *rows = text.splitlines()[: 1 + len(mixed_report["adapters"])]
    assert header.split() == ["adapter", "framework", "verdict", "pass", "fail", "skip", "error"]
    assert rows[0].startswith("correct") and "CONFORMANT" in rows[0]
    assert "NOT CONFORMANT" in rows[1]
    assert "FAIL  shape-dtype" in text
    assert "\x1b" not in text


def test_a_renderer_bug_still_leaves_the_json(tmp_path, two_reports, monkeypatch, capsys):
    def broken(report):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("conformance.report.html.render_html", broken)
    out = tmp_path / "o"
    assert main(["report", str(two_reports[1]), "--out", str(out)]) == 0
    assert (out / "conformance.json").exists() and not (out / "conformance.html").exists()
    assert "no HTML report (ZeroDivisionError: oops)" in capsys.readouterr().err
