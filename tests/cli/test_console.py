"""The console: an opening line, one line per finished check with its counter (plain), live lines
per adapter on a terminal, and a summary that never cuts a failure's message."""

from __future__ import annotations

import io
import re

from conformance.console import Console

LONG = ("p=-0.1 returned the input scaled by 1/(1-p) = 1/1.1 (the rate is used unvalidated); "
        "p=1.1 returned all zeros; " * 6).strip()


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _feed(console: Console) -> None:
    console.expect("torch", 3)
    for check, verdict in (("shape-dtype", "pass"), ("drop-rate", "fail"), ("gradient", "skip")):
        console.progress("torch", check, "start")
        console.progress("torch", check, verdict)
    console.progress("jax", "shape-dtype", "start")
    console.progress("jax", "shape-dtype", "error")
    console.close()


def test_console_plain_is_one_line_per_finished_check_and_adapter_without_ansi():
    stream = io.StringIO()
    _feed(Console(stream))  # a StringIO is not a terminal
    lines = stream.getvalue().splitlines()
    assert lines[1].split()[:4] == ["torch", "[2/3]", "drop-rate", "fail"]
    assert re.match(r"torch: 3 checks in [\d.]+ s: pass 1, fail 1, skip 1$", lines[3])
    assert lines[4].split()[:4] == ["jax", "[1]", "shape-dtype", "error"]
    assert lines[5].startswith("jax: 1 check in") and len(lines) == 6
    assert "\x1b" not in stream.getvalue() and "\r" not in stream.getvalue()


def test_the_opening_line_names_adapters_level_seed_checks_and_what_was_left_out():
    stream = io.StringIO()
    Console(stream).opening(adapters=["reference", "torch", "jax"], level="default", seed=7,
                            n_checks=23, jobs=2,
                            left_out=[("torch-compile", "it recompiles for every p")])
    first, second = stream.getvalue().splitlines()
    assert first == ("23 checks on 3 adapters (reference, torch, jax), level default, seed 7, "
                     "2 at a time")
    assert "torch-compile: it recompiles for every p" in second and "--adapter" in second


def test_console_live_mode_redraws_and_keeps_failures():
    stream = io.StringIO()
    _feed(Console(stream, live=True))
    text = stream.getvalue()
    assert "\r\x1b[2K" in text and "[2/3]" in text
    assert "FAIL" in text and "drop-rate" in text and "ERROR" in text
    assert "torch: 3 checks" in text


def test_live_mode_shows_one_line_per_adapter_running_at_once():
    stream = io.StringIO()
    console = Console(stream, live=True)
    console.loading(["reference", "torch"])
    assert "loading reference, torch" in stream.getvalue()
    console.expect("reference", 2, spec="reference")
    console.expect("torch", 2, spec="torch")
    console.progress("reference", "shape-dtype", "start")
    console.progress("torch", "shape-dtype", "start")
    block = stream.getvalue().rsplit("\x1b[J", 1)[-1]  # the last redraw of the live lines
    assert re.search(r"reference  \[1/2\] shape-dtype", block)
    assert re.search(r"torch  \[1/2\] shape-dtype", block)
    console.close()


def test_two_adapters_with_one_name_are_counted_apart():
    stream = io.StringIO()
    console = Console(stream)
    console.expect("dropout2d", 2, spec="a.py:dropout2d")
    console.expect("dropout2d", 2, spec="b.py:dropout2d")
    for check in ("shape-dtype", "p-zero"):
        console.progress("dropout2d", check, "start")
        console.progress("dropout2d", check, "start")
        console.progress("dropout2d", check, "pass")
        console.progress("dropout2d", check, "fail")
    finished = [line for line in stream.getvalue().splitlines() if line.startswith("dropout2d:")]
    assert len(finished) == 2 and all("2 checks" in line for line in finished)


def _report(verdict: str, message: str) -> list[dict]:
    return [{"name": "mine", "framework": "numpy", "framework_version": "2", "conformant": False,
             "summary": {verdict: 1}, "checks": [{"id": "invalid-p", "requirement": "R8",
                                                  "verdict": verdict, "message": message}]}]


def test_the_summary_never_cuts_a_failure_in_a_log():
    stream = io.StringIO()
    Console(stream, quiet=True).summary(_report("fail", LONG))
    assert f"FAIL  invalid-p: {LONG}" in stream.getvalue()


def test_on_a_terminal_failures_are_wrapped_whole_and_only_skips_are_cut(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    stream = Terminal()
    Console(stream, quiet=True).summary(_report("error", LONG))
    text = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue())
    assert all(len(line) <= 80 for line in text.splitlines())
    assert LONG in " ".join(text.split())  # every word, in order, none broken
    stream = Terminal()
    Console(stream, quiet=True).summary(_report("skip", LONG))
    skip = [line for line in stream.getvalue().splitlines() if "invalid-p" in line]
    assert len(re.sub(r"\x1b\[[0-9;]*m", "", skip[0])) <= 80 and skip[0].endswith("…")


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
