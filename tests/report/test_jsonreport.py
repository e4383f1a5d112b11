"""The JSON report: built from typed results, judged by the one rule, written whole."""

from __future__ import annotations

from conformance.adapters.base import AdapterInfo
from conformance.config import RunConfig
from conformance.report.jsonreport import (
    adapter_verdict,
    build_report,
    dumps,
    rederive_verdicts,
    report_verdict,
)
from conformance.report.schema import validate
from conformance.results import AdapterResult, AdapterVerdict, CheckResult, Verdict


def _result(*verdicts: Verdict, complete: bool = True) -> AdapterResult:
    checks = tuple(CheckResult(id=f"c{i}", requirement="R1", verdict=v, message="")
                   for i, v in enumerate(verdicts))
    return AdapterResult(AdapterInfo(name="a", spec="a"), checks, complete=complete)


def test_typed_results_are_serialised_here_and_judged_by_the_rule():
    report = build_report([_result(Verdict.PASS, Verdict.SKIP), _result(Verdict.FAIL)],
                          RunConfig().as_dict())
    validate(report)
    first, second = report["adapters"]
    assert first["conformant"] and not second["conformant"]
    assert second["summary"] == {"pass": 0, "fail": 1, "skip": 0, "error": 0}
    assert report["conformant"] is False
    assert report_verdict(report) == AdapterVerdict.NOT_CONFORMANT
    assert dumps(report).endswith("\n")


def test_a_stored_conformant_flag_is_never_trusted():
    report = build_report([_result(Verdict.PASS)], RunConfig().as_dict())
    tampered = {**report, "conformant": True,
                "adapters": [{**report["adapters"][0], "conformant": True,
                              "checks": [{**report["adapters"][0]["checks"][0],
                                          "verdict": "error"}]}]}
    again = rederive_verdicts(tampered)
    assert again["adapters"][0]["conformant"] is False and again["conformant"] is False
    assert again["adapters"][0]["summary"]["error"] == 1
    # entries in the report's form are judged the same way when a report is built from them
    rebuilt = build_report(tampered["adapters"], RunConfig().as_dict())
    assert rebuilt["adapters"][0]["conformant"] is False


def test_an_incomplete_run_is_never_conformant_and_a_failure_is_final():
    report = build_report([_result(Verdict.PASS, complete=False)], RunConfig().as_dict(),
                          complete=False)
    assert adapter_verdict(report["adapters"][0]) == AdapterVerdict.INCOMPLETE
    assert report_verdict(report) == AdapterVerdict.INCOMPLETE
    report = build_report([_result(Verdict.FAIL, complete=False)], RunConfig().as_dict(),
                          complete=False)
    assert report_verdict(report) == AdapterVerdict.NOT_CONFORMANT


def test_a_report_with_no_adapter_shows_nothing_conformant():
    report = build_report([], RunConfig().as_dict())
    assert report["conformant"] is False
    assert report_verdict(report) == AdapterVerdict.INCOMPLETE
