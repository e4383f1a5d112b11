"""Reports: the result model as a JSON document, written atomically (HTML comes beside it)."""

from conformance.report.jsonreport import build_report, write_json

__all__ = ["build_report", "write_json"]
