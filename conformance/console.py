"""What ``dropout2d-conformance run`` prints while it works, and the summary at the end.

``Console(stream=sys.stderr, quiet=False)``:

- :meth:`opening` first: which adapters, the level, the seed, how many checks, how many run at
  once, and what a plain run left out and why;
- on a terminal: one live line per adapter that is loading or running (its check ``[k/n]``, the
  check's elapsed time, verdict counts so far, the adapter's elapsed time), refreshed a few times
  a second, and one line for those still waiting; failures and errors are printed as permanent
  lines as they happen, and one line per adapter when it finishes;
- anywhere else (a pipe, a CI log): plain text, one line per finished check with its counter,
  one line per adapter when it finishes, no ANSI codes, nothing cut;
- with ``quiet=True``: nothing until :meth:`summary`.

``progress(adapter_name, check_id, event)`` is the engine's ``progress`` callback (called from
the engine's threads, one per adapter running at once): ``event`` is ``"start"`` or the
verdict string.  ``summary(adapter_dicts)`` prints a table of verdicts per adapter (the
report's adapter entries) and the checks that did not pass, each failure and error with its
whole message (wrapped, never cut, on a terminal; one line elsewhere).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from conformance.report.jsonreport import adapter_verdict
from conformance.results import AdapterVerdict, CheckResult, Verdict, group_by_root_cause

__all__ = ["Console"]

VERDICTS = tuple(v.value for v in Verdict)
SYMBOL = {Verdict.PASS: "✓", Verdict.FAIL: "✗", Verdict.SKIP: "-", Verdict.ERROR: "!"}
_COLOUR = {
    Verdict.PASS: "\x1b[32m",
    Verdict.FAIL: "\x1b[31m",
    Verdict.SKIP: "\x1b[2m",
    Verdict.ERROR: "\x1b[33m",
    AdapterVerdict.CONFORMANT: "\x1b[1;32m",
    AdapterVerdict.NOT_CONFORMANT: "\x1b[1;31m",
    AdapterVerdict.INCOMPLETE: "\x1b[1;33m",
}
_RESET = "\x1b[0m"
_CLEAR_LINE = "\r\x1b[2K"
_CLEAR_BELOW = "\r\x1b[J"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _width() -> int:
    return max(shutil.get_terminal_size((100, 20)).columns, 40)


def _one_line(text: str, width: int | None = None) -> str:
    """``text`` on one line; cut to ``width`` with an ellipsis only when a width is given
    (a terminal's status line), never otherwise."""
    text = " ".join(str(text).split())
    if width is None or len(text) <= width:
        return text
    return text[: max(width - 1, 1)] + "…"


def _cut(text: str, width: int) -> str:
    """A live status line cut to the terminal's width (only ever a status line)."""
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


def _wrapped(head: str, text: str, width: int, indent: str) -> str:
    """``head`` then ``text`` wrapped to ``width`` with a hanging ``indent``, no word broken (a
    message is never cut: a path or a long number stays whole on a line of its own)."""
    return textwrap.fill(" ".join(str(text).split()), width=max(width, len(head) + 20),
                         initial_indent=head, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@dataclass
class _Adapter:
    """One adapter's progress."""

    name: str
    total: int | None = None
    phase: str = "waiting"  # waiting, loading, running, done
    since: float = field(default_factory=time.monotonic)
    start: float | None = None
    done: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    check: str | None = None
    check_start: float = 0.0

    def tally(self) -> str:
        return ", ".join(f"{k} {self.counts[k]}" for k in VERDICTS if self.counts[k]) or "none"


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
        self._adapters: dict[str, _Adapter] = {}
        self._block = 0  # live lines drawn below the permanent output
        self._loading_since = 0.0

    # --- before the checks --------------------------------------------------------------------

    def opening(self, *, adapters: Sequence[str], level: str, seed: int, n_checks: int,
                jobs: int, left_out: Sequence[tuple[str, str]] = ()) -> None:
        """The run in one line (and what a plain run left out, and why)."""
        if self.quiet:
            return
        at_once = f", {jobs} at a time" if 1 < jobs < len(adapters) else (
            ", all at once" if jobs > 1 else "")
        lines = [f"{_plural(n_checks, 'check')} on {_plural(len(adapters), 'adapter')} "
                 f"({', '.join(adapters)}), level {level}, seed {seed}{at_once}"]
        if left_out:
            why = "; ".join(f"{name}: {reason}" for name, reason in left_out)
            lines.append(f"installed but not run by default (name them with --adapter): {why}")
        with self._lock:
            self._permanent(lines)

    def loading(self, specs: Sequence[str]) -> None:
        """Workers are starting and loading ``specs`` (importing frameworks takes seconds)."""
        if self.quiet:
            return
        now = time.monotonic()
        with self._lock:
            for spec in specs:
                self._adapters[spec] = _Adapter(spec, phase="loading", since=now)
            self._loading_since = now
            if self.live:
                self._redraw()
                self._ensure_ticker()
            else:
                self._write(f"loading {_plural(len(specs), 'adapter')} in worker processes "
                            "(each imports its framework) ...\n")

    def expect(self, adapter_name: str, n_checks: int, *, spec: str | None = None,
               about: str = "") -> None:
        """``adapter_name`` (loaded from ``spec``) will run ``n_checks`` checks (shows
        ``[k/n]``); ``about`` (framework and version) goes into the plain "loaded" line."""
        key = spec if spec is not None else adapter_name
        with self._lock:
            state = self._adapters.get(key) or _Adapter(adapter_name)
            loaded = state.phase == "loading"
            state.name, state.total = adapter_name, int(n_checks)
            if state.phase in ("loading", "waiting"):
                state.phase, state.since = "waiting", time.monotonic()
            self._adapters[key] = state
            if self.quiet:
                return
            if self.live:
                self._redraw()
            elif loaded:
                self._write(f"loaded {adapter_name}{': ' + about if about else ''}\n")

    def _state(self, name: str, check_id: str, event: str) -> _Adapter:
        """The adapter an engine event is about.  Events carry the adapter's name, which two
        adapters may share (two files' ``dropout2d``): a verdict belongs to the one running that
        check, a start to one of them that is between checks."""
        same = [s for s in self._adapters.values() if s.name == name and s.phase != "done"]
        if event == "start":
            idle = [s for s in same if s.check is None and s.phase != "loading"]
            pick = min(idle or same, key=lambda s: s.done) if (idle or same) else None
        else:
            pick = next((s for s in same if s.check == check_id), same[0] if same else None)
        if pick is None:
            pick = self._adapters[f"{name}\0{len(self._adapters)}"] = _Adapter(name)
        return pick

    def progress(self, adapter_name: str, check_id: str, event: str) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        with self._lock:
            state = self._state(adapter_name, check_id, event)
            if state.start is None:
                state.start = now
            state.phase = "running"
            if event == "start":
                state.check, state.check_start = check_id, now
                if self.live:
                    self._redraw()
                    self._ensure_ticker()
                return
            elapsed = now - state.check_start if state.check == check_id else 0.0
            state.done += 1
            if event in state.counts:
                state.counts[event] += 1
            state.check = None
            if self.live:
                if not Verdict.parse(event).ok:
                    colour = _COLOUR.get(event, "")
                    self._permanent([f"  {colour}{SYMBOL[event]} {event.upper():5}{_RESET} "
                                     f"{adapter_name}  {check_id}  ({elapsed:.1f} s)"])
            else:
                self._write(f"{adapter_name:<12} {self._counter(state)} {check_id:<24} "
                            f"{event:<5} {elapsed:7.2f} s\n")
            if state.total is not None and state.done >= state.total:
                self._finish(state, now)
            elif self.live:
                self._redraw()

    def close(self) -> None:
        """Stop the live lines and print a line for each adapter not finished yet (call before
        other output)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1.0)
            self._ticker = None
        with self._lock:
            now = time.monotonic()
            for state in self._adapters.values():
                if state.phase == "running":
                    self._finish(state, now)
            self._adapters.clear()
            self._clear_block()
            self._flush()

    # --- drawing (callers hold the lock) ------------------------------------------------------

    @staticmethod
    def _counter(state: _Adapter) -> str:
        if not state.total:
            return f"[{state.done}]"
        digits = len(str(state.total))
        return f"[{state.done:>{digits}}/{state.total}]"

    def _finish(self, state: _Adapter, now: float) -> None:
        stopped = ""
        if state.total is not None and state.done < state.total:
            stopped = f" of {state.total} (stopped)"
        took = now - (state.start or now)
        line = (f"{state.name}: {_plural(state.done, 'check')}{stopped} in {took:.1f} s: "
                f"{state.tally()}")
        state.phase = "done"
        if self.quiet:
            return
        if self.live:
            self._permanent([line])
        else:
            self._write(line + "\n")

    def _status_lines(self, now: float) -> list[str]:
        width = _width() - 1
        lines, waiting, loading = [], [], []
        for s in self._adapters.values():
            if s.phase == "done":
                continue
            if s.phase == "waiting":
                waiting.append(s.name)
                continue
            if s.phase == "loading":
                loading.append(s.name)
                continue
            number = s.done + (1 if s.check else 0)
            where = f"[{number:>{len(str(s.total))}}/{s.total}] " if s.total else ""
            check = f"{s.check}  {now - s.check_start:4.1f} s" if s.check else ""
            total = f"  (adapter {now - (s.start or now):.0f} s)"
            counts_plain = " ".join(f"{SYMBOL[k]}{s.counts[k]}" for k in VERDICTS)
            room = max(width - len(counts_plain) - len(total) - 2, 10)
            head = _cut(f"{s.name}  {where}{check}", room)
            counts = " ".join(f"{_COLOUR[k]}{SYMBOL[k]}{s.counts[k]}{_RESET}" for k in VERDICTS)
            lines.append(f"{head}  {counts}{total}")
        if loading:
            lines.append(_cut(f"loading {', '.join(loading)} (workers start and import their "
                              f"frameworks)  {now - self._loading_since:.0f} s", width))
        if waiting:
            lines.append(_cut(f"waiting for a free worker: {', '.join(waiting)}", width))
        return lines

    def _clear_block(self) -> None:
        if self._block:
            self.stream.write(f"\x1b[{self._block}A{_CLEAR_BELOW}")
            self._block = 0

    def _redraw(self) -> None:
        self._clear_block()
        lines = self._status_lines(time.monotonic())
        for line in lines:
            self.stream.write(f"{_CLEAR_LINE}{line}\n")
        self._block = len(lines)
        self._flush()

    def _permanent(self, lines: Sequence[str]) -> None:
        """Lines that stay, printed above the live block (which is drawn again below them)."""
        if self.live:
            self._clear_block()
        for line in lines:
            self.stream.write(line + "\n")
        if self.live:
            self._redraw()
        self._flush()

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self._flush()

    def _flush(self) -> None:
        try:
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def _ensure_ticker(self) -> None:
        if self._ticker is not None:
            return
        self._stop.clear()

        def tick() -> None:
            while not self._stop.wait(self.refresh_s):
                with self._lock:
                    if any(s.phase in ("loading", "running") for s in self._adapters.values()):
                        self._redraw()

        self._ticker = threading.Thread(target=tick, daemon=True, name="dropout2d-console")
        self._ticker.start()

    # --- summary ------------------------------------------------------------------------------

    def summary(self, adapters: Sequence[dict[str, Any]]) -> None:
        """A table of verdicts per adapter, then every check that did not pass: each failure
        and error with its whole message (wrapped on a terminal, one line elsewhere; a skip's
        reason is cut to the terminal's width, and only on a terminal)."""
        self.close()
        out = self.summary_stream
        terminal = _isatty(out)
        width = _width() if terminal else None

        def paint(text: str, key: str) -> str:
            return f"{_COLOUR[key]}{text}{_RESET}" if terminal and key in _COLOUR else text

        def whole(head: str, text: str) -> str:
            if width is None:
                return head + _one_line(text)
            return _wrapped(head, text, width, " " * 8)

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
        for a in adapters:
            name = str(a.get("label") or a.get("name", "?"))
            if a.get("load_error"):
                out.write(whole(f"{name}: could not load: ", a["load_error"]) + "\n")
            shown = [c for c in a.get("checks") or () if c.get("verdict") != Verdict.PASS]
            if not shown:
                continue
            out.write(f"{name}:\n")
            causes = group_by_root_cause([CheckResult.from_dict(c)
                                          for c in a.get("checks") or ()])
            if causes:  # one fault, one line: the checks it broke grouped under it
                text = "; ".join(f"{cause} ({', '.join(ids)})" for cause, ids in causes.items())
                out.write(whole("  root causes: ", text) + "\n")
            for c in shown:
                v = str(c.get("verdict", "?"))
                head = f"  {v.upper():5} {c.get('id', '?')}: "
                message = str(c.get("message", ""))
                if not Verdict.parse(v).ok:
                    line = whole(head, message)
                else:
                    line = head + _one_line(message, width - len(head) if width else None)
                out.write(paint(line[:8], v) + line[8:] + "\n")
        out.flush()
