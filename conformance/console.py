"""What ``dropout2d-conformance run`` prints while it works, and the summary at the end.

``Console(stream=sys.stderr, quiet=False)``:

- on a terminal: one live status line (adapter, check, its elapsed time, verdict counts so
  far), refreshed a few times a second; failures and errors are printed as permanent lines as
  they happen, and one line per adapter when it finishes;
- anywhere else (a pipe, a CI log): plain text, one line per finished check, no ANSI codes;
- with ``quiet=True``: nothing until :meth:`summary`.

``progress(adapter_name, check_id, event)`` is the engine's ``progress`` callback: ``event`` is
``"start"`` or the verdict string.  ``summary(adapter_dicts)`` prints a table of verdicts per
adapter (the report's adapter entries) and the checks that did not pass.
"""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from conformance.report.jsonreport import adapter_verdict
from conformance.results import group_by_root_cause

__all__ = ["Console"]

VERDICTS = ("pass", "fail", "skip", "error")
SYMBOL = {"pass": "✓", "fail": "✗", "skip": "-", "error": "!"}
_COLOUR = {
    "pass": "\x1b[32m",
    "fail": "\x1b[31m",
    "skip": "\x1b[2m",
    "error": "\x1b[33m",
    "CONFORMANT": "\x1b[1;32m",
    "NOT CONFORMANT": "\x1b[1;31m",
    "INCOMPLETE": "\x1b[1;33m",
}
_RESET = "\x1b[0m"
_CLEAR = "\r\x1b[2K"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _one_line(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


class Console:
    """Progress while checks run, then a summary (see the module docstring)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        quiet: bool = False,
        *,
        summary_stream: TextIO | None = None,
        live: bool | None = None,
        refresh_s: float = 0.25,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.summary_stream = summary_stream if summary_stream is not None else self.stream
        self.quiet = quiet
        self.live = (_isatty(self.stream) if live is None else live) and not quiet
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._adapter: str | None = None
        self._adapter_start = 0.0
        self._check: str | None = None
        self._check_start = 0.0
        #: when each (adapter, check) started: adapters may run at once (--jobs)
        self._starts: dict[tuple[str, str], float] = {}
        self._counts = dict.fromkeys(VERDICTS, 0)
        self._done = 0
        self._totals: dict[str, int] = {}
        self._status_shown = False

    # --- progress -----------------------------------------------------------------------------

    def expect(self, adapter_name: str, n_checks: int) -> None:
        """Optional: how many checks ``adapter_name`` will run (shows ``[k/n]``)."""
        self._totals[adapter_name] = int(n_checks)

    def progress(self, adapter_name: str, check_id: str, event: str) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        with self._lock:
            if adapter_name != self._adapter:
                self._finish_adapter(now)
                self._adapter, self._adapter_start = adapter_name, now
                self._counts = dict.fromkeys(VERDICTS, 0)
                self._done = 0
            if event == "start":
                self._check, self._check_start = check_id, now
                self._starts[(adapter_name, check_id)] = now
                if self.live:
                    self._draw_status(now)
                    self._ensure_ticker()
                return
            started = self._starts.pop((adapter_name, check_id), None)
            elapsed = now - started if started is not None else 0.0
            self._done += 1
            if event in self._counts:
                self._counts[event] += 1
            self._check = None
            if self.live:
                if event in ("fail", "error"):
                    self._clear_status()
                    colour = _COLOUR.get(event, "")
                    self.stream.write(
                        f"  {colour}{SYMBOL[event]} {event.upper():5}{_RESET} "
                        f"{adapter_name}  {check_id}  ({elapsed:.1f} s)\n"
                    )
                self._draw_status(now)
            else:
                self.stream.write(
                    f"{adapter_name:<12} {check_id:<24} {event:<5} {elapsed:7.2f} s\n"
                )
            self.stream.flush()

    def close(self) -> None:
        """Stop the live line and print the last adapter's line (call before other output)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1.0)
            self._ticker = None
        with self._lock:
            self._finish_adapter(time.monotonic())
            self._adapter = None
            self._clear_status()
            self.stream.flush()

    def _finish_adapter(self, now: float) -> None:
        if self._adapter is None or not self.live:
            return
        self._clear_status()
        counts = ", ".join(f"{k} {self._counts[k]}" for k in VERDICTS if self._counts[k])
        stopped = " (stopped)" if self._check is not None else ""
        self.stream.write(
            f"{self._adapter}: {self._done} checks{stopped}: {counts or 'none'} "
            f"in {now - self._adapter_start:.1f} s\n"
        )

    def _status_text(self, now: float) -> str:
        total = self._totals.get(self._adapter or "")
        where = f"[{self._done + (1 if self._check else 0)}/{total}] " if total else ""
        check = f"{self._check}  {now - self._check_start:4.1f} s" if self._check else ""
        counts = " ".join(
            f"{_COLOUR[k]}{SYMBOL[k]}{self._counts[k]}{_RESET}" for k in VERDICTS
        )
        text = f"{self._adapter}  {where}{check}"
        width = shutil.get_terminal_size((100, 20)).columns
        plain_len = len(text) + 2 + 4 * 3
        if plain_len > width - 1:
            text = text[: max(width - 20, 10)]
        return f"{text}  {counts}"

    def _draw_status(self, now: float) -> None:
        self.stream.write(_CLEAR + self._status_text(now))
        self._status_shown = True

    def _clear_status(self) -> None:
        if self._status_shown:
            self.stream.write(_CLEAR)
            self._status_shown = False

    def _ensure_ticker(self) -> None:
        if self._ticker is not None:
            return
        self._stop.clear()

        def tick() -> None:
            while not self._stop.wait(self.refresh_s):
                with self._lock:
                    if self._check is not None:
                        self._draw_status(time.monotonic())
                        self.stream.flush()

        self._ticker = threading.Thread(target=tick, daemon=True, name="dropout2d-console")
        self._ticker.start()

    # --- summary ------------------------------------------------------------------------------

    def summary(self, adapters: Sequence[dict[str, Any]]) -> None:
        """A table of verdicts per adapter, then every check that did not pass."""
        self.close()
        out = self.summary_stream
        colour = _isatty(out)

        def paint(text: str, key: str) -> str:
            return f"{_COLOUR[key]}{text}{_RESET}" if colour and key in _COLOUR else text

        rows = []
        for a in adapters:
            counts = a.get("summary") or {}
            rows.append((
                str(a.get("label") or a.get("name", "?")),
                _one_line(f"{a.get('framework', '')} {a.get('framework_version', '')}", 36),
                adapter_verdict(a),
                [str(counts.get(k, 0)) for k in VERDICTS],
            ))
        w_name = max([len("adapter")] + [len(r[0]) for r in rows])
        w_fw = max([len("framework")] + [len(r[1]) for r in rows])
        w_v = len("NOT CONFORMANT")
        out.write(
            f"{'adapter':<{w_name}}  {'framework':<{w_fw}}  {'verdict':<{w_v}}  "
            + "  ".join(f"{k:>5}" for k in VERDICTS)
            + "\n"
        )
        for name, fw, verdict, counts in rows:
            out.write(
                f"{name:<{w_name}}  {fw:<{w_fw}}  {paint(f'{verdict:<{w_v}}', verdict)}  "
                + "  ".join(f"{c:>5}" for c in counts)
                + "\n"
            )
        width = max(shutil.get_terminal_size((120, 20)).columns, 60)
        for a in adapters:
            name = str(a.get("label") or a.get("name", "?"))
            if a.get("load_error"):
                out.write(f"{name}: could not load: {_one_line(a['load_error'], width)}\n")
            shown = [c for c in a.get("checks") or () if c.get("verdict") != "pass"]
            if not shown:
                continue
            out.write(f"{name}:\n")
            causes = group_by_root_cause(list(a.get("checks") or ()))
            if causes:  # one fault, one line: the checks it broke grouped under it
                text = "; ".join(f"{cause} ({', '.join(ids)})" for cause, ids in causes.items())
                out.write("  " + _one_line(f"root causes: {text}", width - 2) + "\n")
            for c in shown:
                v = str(c.get("verdict", "?"))
                head = f"  {v.upper():5} {c.get('id', '?')}: "
                out.write(paint(head[:8], v) + head[8:]
                          + _one_line(c.get("message", ""), width - len(head)) + "\n")
        out.flush()
