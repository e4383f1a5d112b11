"""The console: one line per finished check, a live line on a terminal, and the summary."""

from __future__ import annotations

import io

from conformance.console import Console


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
