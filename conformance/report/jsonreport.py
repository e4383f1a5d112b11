"""The JSON report: validated, then written whole or not at all."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import conformance
from conformance import results
from conformance.adapters.base import AdapterInfo
from conformance.report.schema import FORMAT_VERSION, ReportError, validate
from conformance.results import AdapterResult, AdapterVerdict, verdict_counts

__all__ = [
    "FORMAT_VERSION",
    "adapter_verdict",
    "atomic_write",
    "atomic_write_many",
    "build_report",
    "dumps",
    "environment",
    "rederive_verdicts",
    "report_verdict",
    "write_json",
]

JSON_NAME = "conformance.json"
HTML_NAME = "conformance.html"

#: the adapter entry's text fields, in the order the report lists them (AdapterInfo's)
_INFO_FIELDS = tuple(k for k in AdapterInfo(name="", spec="").to_dict() if k != "capabilities")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": {d: _version(d) for d in ("numpy", "scipy", "torch", "jax", "flax", "keras")},
    }


def _with_tested_frameworks(env: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """List the framework each adapter tested (a callable's imports included) in ``env``."""
    packages = env.setdefault("packages", {})
    for e in entries:
        tested = {e.get("framework", ""): e.get("framework_version", ""), **e.get("imports", {})}
        for name, version in tested.items():
            # a package name, not a display name such as "keras (jax backend)"
            plain = name.replace("-", "").replace("_", "").isalnum()
            if plain and version and packages.get(name) is None:
                packages[name] = version
    return env


def _expected_checks(config: Mapping[str, Any], entries: list[dict[str, Any]]) -> list[str]:
    """The checks an interrupted run was to give every adapter, when its caller did not say:
    those the config selected, else every check some adapter of the run got to (rendering a
    report never imports the battery)."""
    selected = list(config.get("checks") or ())
    if selected:
        return selected
    return list(dict.fromkeys(c.get("id") for e in entries for c in e.get("checks", ())))


def _normalise_entry(
    entry: dict[str, Any], report_complete: bool, expected: Iterable[str] | None
) -> dict[str, Any]:
    """A copy of one adapter entry with its info fields as strings, ``complete`` set and its
    verdict derived by the one rule (:func:`adapter_verdict`).

    ``complete`` is kept when the entry has it; otherwise it is true for a complete report
    and, for an incomplete one, whether every expected check has a result.
    """
    out: dict[str, Any] = {}
    for key in _INFO_FIELDS:
        value = entry.get(key)
        out[key] = "" if value is None else str(value)
    rest = {k: v for k, v in entry.items() if k not in out}
    out["capabilities"] = rest.pop("capabilities", {})
    if "complete" in rest:
        complete = bool(rest.pop("complete"))
    elif report_complete or expected is None:
        complete = report_complete
    else:
        have = {c.get("id") for c in entry.get("checks", ())}
        complete = set(expected) <= have
    out["complete"] = complete
    rest.pop("conformant", None)
    out["conformant"] = False
    out.update(rest)
    return _judged(out)


def _judged(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with its ``summary`` recounted and ``conformant`` derived from its checks by
    the one rule (a stored flag is never trusted)."""
    verdicts = [c.get("verdict") for c in entry.get("checks") or ()]
    entry["summary"] = verdict_counts(verdicts)
    entry["conformant"] = adapter_verdict(entry) == AdapterVerdict.CONFORMANT
    return entry


def build_report(
    adapters: Sequence[AdapterResult | Mapping[str, Any]],
    config: Mapping[str, Any],
    *,
    complete: bool = True,
    expected: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The whole report as plain JSON-serialisable data, from the adapters' results (typed
    :class:`~conformance.results.AdapterResult` records, serialised here, or entries already in
    the report's form).

    ``complete=False`` marks an interrupted run; an adapter may carry its own ``complete``
    flag (false for the adapter that was running when the run stopped).  An entry without one
    is complete when it has a result for each of the ``expected`` check ids (by default the ids
    the config selected, or every id some adapter has a result for).
    """
    raw = [_finite(a.to_dict() if isinstance(a, AdapterResult) else dict(a)) for a in adapters]
    if complete:
        expected = None
    elif expected is None:
        expected = _expected_checks(config, raw)
    entries = [_normalise_entry(e, complete, expected) for e in raw]
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "dropout2d-conformance", "version": conformance.__version__},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,
        "merged": False,
        "environment": _with_tested_frameworks(environment(), entries),
        "config": dict(config),
        "conformant": _report_conformant(entries, complete),
        "adapters": entries,
    }


def _report_conformant(entries: list[dict[str, Any]], complete: bool) -> bool:
    return results.report_verdict([adapter_verdict(e) for e in entries],
                                  complete=complete) == AdapterVerdict.CONFORMANT


def _finite(value: Any) -> Any:
    """A copy with every non-finite float (an infinite interval bound, a NaN estimate of an
    adapter that returned NaN) as null: JSON has no such numbers, and a report is written
    whole or not at all."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def adapter_verdict(entry: Mapping[str, Any]) -> AdapterVerdict:
    """An adapter entry's verdict, by the one rule (``results.adapter_verdict``) applied to
    what the entry holds: whether it loaded, whether its run is complete, its checks' verdicts."""
    return results.adapter_verdict(
        loaded=not entry.get("load_error"), complete=bool(entry.get("complete", True)),
        verdicts=[c.get("verdict") for c in entry.get("checks") or ()])


def report_verdict(report: Mapping[str, Any]) -> AdapterVerdict:
    """The whole report's verdict: the worst adapter's, INCOMPLETE for an incomplete run."""
    return results.report_verdict([adapter_verdict(a) for a in report.get("adapters") or ()],
                                  complete=bool(report.get("complete", True)))


def rederive_verdicts(report: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``report`` whose verdicts are derived again from its checks' verdicts.

    A stored ``conformant`` flag is never trusted: every adapter's ``summary`` is recounted and
    its ``conformant`` derived by the one rule; the report is conformant when its verdict is.
    """
    out = dict(report)
    entries = [_judged(dict(entry)) for entry in report.get("adapters") or ()]
    out["adapters"] = entries
    out["conformant"] = _report_conformant(entries, bool(report.get("complete", True)))
    return out


def dumps(report: dict[str, Any]) -> str:
    """The report as JSON text, after validating it against the schema."""
    validate(report)
    try:
        return json.dumps(report, indent=2, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:  # NaN, or a value JSON cannot hold
        raise ReportError(f"report cannot be written as JSON: {exc}") from exc


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half a file."""
    atomic_write_many([(Path(path), text)])


def atomic_write_many(items: list[tuple[Path, str]]) -> None:
    """Write several files: every temporary file first, then the renames.

    If anything fails before the renames, no target is touched and no temporary file is left.
    """
    staged: list[tuple[str, Path]] = []
    try:
        for path, text in items:
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((tmp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is for sharing
        while staged:
            tmp, path = staged[0]
            os.replace(tmp, path)
            staged.pop(0)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise


def write_json(report: dict[str, Any], out_dir: str | Path) -> Path:
    """Validate ``report`` and write ``out_dir/conformance.json`` atomically."""
    path = Path(out_dir) / JSON_NAME
    atomic_write(path, dumps(report))
    return path
