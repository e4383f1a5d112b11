"""Reading and writing report files: both formats rendered in memory, then written together."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from conformance.report.jsonreport import HTML_NAME, JSON_NAME, atomic_write_many, dumps
from conformance.report.schema import ReportError, validate

__all__ = ["load_report", "write_reports"]


def write_reports(report: dict[str, Any], out_dir: str | Path) -> list[Path]:
    """Write ``out_dir/conformance.json`` and ``out_dir/conformance.html``.

    The report is validated and both texts are rendered in memory first; only then are the
    files written, each through a temporary file and a rename.  A failure before that point
    leaves both previous files untouched.  Returns the paths written (JSON first).
    """
    from conformance.report.html import render_html

    out = Path(out_dir)
    json_text = dumps(report)  # validates
    html_text = render_html(report)
    paths = [out / JSON_NAME, out / HTML_NAME]
    out.mkdir(parents=True, exist_ok=True)
    # Two runs writing the same directory at once: the lock makes each run's pair of renames
    # one step, so the JSON and the HTML always come from the same run.
    with _directory_lock(out):
        atomic_write_many(list(zip(paths, (json_text, html_text), strict=True)))
    return paths


@contextlib.contextmanager
def _directory_lock(out: Path) -> Iterator[None]:
    """An exclusive advisory lock on the directory itself (no file is left behind; a no-op
    where flock is absent)."""
    try:
        import fcntl
    except ImportError:  # Windows: renames are still atomic one by one
        yield
        return
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def load_report(path: str | Path) -> dict[str, Any]:
    """Read and validate a report file; :class:`ReportError` says what is wrong with it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ReportError(f"{path}: is a directory, not a report file") from None
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path}: not a text file ({exc.reason})") from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        report = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(report, dict) or "adapters" not in report or "format_version" not in report:
        raise ReportError(f"{path}: not a dropout2d-conformance report (no format_version)")
    validate(report, what=str(path))
    return report
