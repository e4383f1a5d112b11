"""The JSON report (DESIGN.md section 6), written whole or not at all."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import conformance
from conformance.results import AdapterResult

FORMAT_VERSION = "1.0"


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


def build_report(
    adapters: list[AdapterResult] | list[dict[str, Any]],
    config: dict[str, Any],
    *,
    complete: bool = True,
) -> dict[str, Any]:
    """The whole report as plain JSON-serialisable data (adapters as results or entries)."""
    entries = [a if isinstance(a, dict) else a.to_dict() for a in adapters]
    return {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "dropout2d-conformance", "version": conformance.__version__},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,
        "environment": environment(),
        "config": config,
        "conformant": complete and all(e["conformant"] for e in entries),
        "adapters": entries,
    }


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(report: dict[str, Any], out_dir: str | Path) -> Path:
    path = Path(out_dir) / "conformance.json"
    atomic_write(path, json.dumps(report, indent=2, allow_nan=False) + "\n")
    return path
