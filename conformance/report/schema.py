"""The report's JSON Schema (shipped as ``conformance.schema.json``) and validation against it.

The format version lives in one place: the first entry of the schema file's ``format_version``
enum; the later entries are the older versions the schema still reads (a new version only adds
optional fields, so old reports load).  ``FORMAT_VERSION`` is read from there, and the schema's
``$id`` and ``title`` carry the same version (a test holds the three together).  Change the
format => put the new version first in the enum.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

SCHEMA_FILE = "conformance.schema.json"

#: at most this many failures are listed in a validation error's message
_MAX_LISTED = 12


class ReportError(ValueError):
    """A report could not be read, validated, merged or written; the message says why."""


class ReportValidationError(ReportError):
    """A report does not match the schema; ``failures`` lists every mismatch as ``path: why``."""

    def __init__(self, failures: list[str], *, what: str = "report") -> None:
        self.failures = list(failures)
        listed = self.failures[:_MAX_LISTED]
        more = len(self.failures) - len(listed)
        lines = "\n".join(f"  - {f}" for f in listed)
        if more:
            lines += f"\n  ... and {more} more"
        super().__init__(
            f"{what} does not match the conformance report schema (format {FORMAT_VERSION}): "
            f"{len(self.failures)} problem(s):\n{lines}"
        )


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The shipped schema as a dict (cached; do not mutate)."""
    text = resources.files("conformance.report").joinpath(SCHEMA_FILE).read_text("utf-8")
    return json.loads(text)


FORMAT_VERSION: str = load_schema()["properties"]["format_version"]["enum"][0]
#: every version this schema reads, newest first
READABLE_VERSIONS: tuple[str, ...] = tuple(load_schema()["properties"]["format_version"]["enum"])


@lru_cache(maxsize=1)
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    # The shipped schema is checked against the metaschema by the tests, not on every run:
    # check_schema costs a quarter of writing a report.
    return Draft202012Validator(load_schema())


def _where(path: Any) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: Any) -> str:
    # For if/then/else and anyOf failures the most specific cause is the useful one.
    best = error
    while best.context:
        best = min(best.context, key=lambda e: (-len(e.absolute_path), str(e.message)))
    message = best.message
    if len(message) > 200:
        message = message[:200] + "..."
    return f"{_where(best.absolute_path)}: {message}"


def validation_failures(report: Any) -> list[str]:
    """Every way ``report`` departs from the schema, as ``path: why`` lines (empty when valid)."""
    if not isinstance(report, dict):
        return [f"(top level): expected a JSON object, got {type(report).__name__}"]
    version = report.get("format_version")
    if version is not None and version not in READABLE_VERSIONS:
        return [
            f"format_version: {version!r} is not a format this tool reads "
            f"({', '.join(map(repr, READABLE_VERSIONS))})"
        ]
    errors = sorted(_validator().iter_errors(report), key=lambda e: list(map(str, e.path)))
    return list(dict.fromkeys(_describe(e) for e in errors))


def validate(report: Any, *, what: str = "report") -> None:
    """Raise :class:`ReportValidationError` listing every failure unless ``report`` is valid."""
    failures = validation_failures(report)
    if failures:
        raise ReportValidationError(failures, what=what)
