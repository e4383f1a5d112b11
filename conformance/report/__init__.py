"""Reports: the result model as a JSON document (with a versioned schema) and an HTML page.

Public API:

- ``build_report(adapters, config, complete=True) -> dict``: the whole document.
- ``validate(report)``: raises :class:`ReportValidationError` listing every schema failure.
- ``write_json(report, out_dir) -> Path``: validated, written atomically.
- ``render_html(report) -> str``: one self-contained HTML page.
- ``write_reports(report, out_dir) -> [json_path, html_path]``: both, rendered in memory first.
- ``load_report(path) -> dict``: read and validate; :class:`ReportError` on a bad file.
- ``merge_reports(reports, labels=None) -> dict``: one matrix from several runs.
"""

from conformance.report.files import load_report, write_reports
from conformance.report.html import render_html
from conformance.report.jsonreport import atomic_write, build_report, write_json
from conformance.report.merge import merge_reports
from conformance.report.schema import (
    FORMAT_VERSION,
    ReportError,
    ReportValidationError,
    load_schema,
    validate,
)

__all__ = [
    "FORMAT_VERSION",
    "ReportError",
    "ReportValidationError",
    "atomic_write",
    "build_report",
    "load_report",
    "load_schema",
    "merge_reports",
    "render_html",
    "validate",
    "write_json",
    "write_reports",
]
