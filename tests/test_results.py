"""The result records and the one rule that decides an adapter's verdict."""

from __future__ import annotations

import dataclasses

import pytest

from conformance.adapters.base import AdapterInfo
from conformance.results import (
    AdapterResult,
    AdapterVerdict,
    CheckResult,
    Verdict,
    adapter_verdict,
    attribute_root_causes,
    group_by_root_cause,
    report_verdict,
    verdict_counts,
)

C, N, INC = AdapterVerdict.CONFORMANT, AdapterVerdict.NOT_CONFORMANT, AdapterVerdict.INCOMPLETE


@pytest.mark.parametrize(
    ("loaded", "complete", "verdicts", "expected"),
    [
        (True, True, ["pass", "skip"], C),
        (True, True, [], C),
        (True, True, ["pass", "fail"], N),
        (True, True, ["error"], N),
        (True, False, ["pass"], INC),  # never CONFORMANT until every check ran
        (True, False, ["pass", "fail"], N),  # a failure is final, complete or not
        (False, True, [], N),
        (True, True, ["maybe"], N),  # an unknown verdict is an error, not a pass
    ],
)
def test_the_one_rule(loaded, complete, verdicts, expected):
    assert adapter_verdict(loaded=loaded, complete=complete, verdicts=verdicts) == expected


def test_a_report_is_its_worst_adapter_and_needs_one():
    assert report_verdict([C, C], complete=True) == C
    assert report_verdict([C, INC], complete=True) == INC
    assert report_verdict([INC, N], complete=True) == N
    assert report_verdict([C], complete=False) == INC
    assert report_verdict([], complete=True) == INC


def test_verdicts_compare_as_their_text_and_count_every_kind():
    assert Verdict.PASS == "pass" and f"{AdapterVerdict.NOT_CONFORMANT}" == "NOT CONFORMANT"
    assert verdict_counts(["pass", "pass", "error"]) == {"pass": 2, "fail": 0, "skip": 0,
                                                         "error": 1}


def test_records_are_immutable_to_their_findings():
    check = CheckResult(id="a", requirement="R1", verdict=Verdict.PASS, message="",
                        findings={"k": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.message = "x"  # type: ignore[misc]  (the error is what is tested)
    with pytest.raises(TypeError):
        check.findings["k"] = 2  # type: ignore[index]  (the error is what is tested)


def test_an_adapter_result_round_trips_through_the_report_form():
    info = AdapterInfo(name="n", spec="s", framework="f", framework_version="1")
    result = AdapterResult(info, (
        CheckResult(id="drop-rate", requirement="R3", verdict=Verdict.FAIL, message="m",
                    kind="statistical", alpha=1e-5),
        CheckResult(id="expectation", requirement="R5", verdict=Verdict.FAIL, message="e",
                    kind="statistical", alpha=1e-5),
    ))
    entry = result.to_dict()
    assert entry["conformant"] is False and entry["summary"]["fail"] == 2
    # expectation's failure is drop-rate's consequence (results.EXPLAINS)
    assert entry["checks"][1]["explained_by"] == "drop-rate"
    cause = result.checks[0].cause()
    assert cause is not None and cause.startswith("R3 ")
    assert entry["root_causes"] == {cause: ["drop-rate", "expectation"]}
    again = AdapterResult.from_dict(entry)
    assert again.to_dict() == entry and again.verdict == N


# --- one fault, one owner: root causes ------------------------------------------------------


def _fail(cid: str, requirement: str, cause: str) -> CheckResult:
    return CheckResult(id=cid, requirement=requirement, verdict=Verdict.FAIL, root_cause=cause,
                       message="m")


def test_two_checks_that_explain_each_other_have_one_owner():
    # masks repeating across calls: independence-calls could explain channel-uniformity and
    # channel-uniformity could explain independence-calls; the earlier in EXPLAINS owns both
    checks = [_fail("drop-rate", "R3", "R3 rate"),
              _fail("channel-uniformity", "R3", "R3 rate p at every position"),
              _fail("independence-calls", "R4", "R4 independence")]
    out = {c.id: c for c in attribute_root_causes(checks)}
    assert out["independence-calls"].explained_by is None
    assert out["channel-uniformity"].explained_by == "independence-calls"
    assert out["drop-rate"].explained_by == "independence-calls"
    assert out["drop-rate"].root_cause == "R4 independence"
    groups = group_by_root_cause(list(out.values()))
    assert groups == {"R4 independence": ["independence-calls", "drop-rate",
                                          "channel-uniformity"]}


def test_an_unexplained_failure_keeps_its_own_cause():
    checks = [_fail("drop-rate", "R3", "R3 rate"),
              CheckResult(id="eval-identity", requirement="R6", verdict=Verdict.PASS, message="")]
    out = attribute_root_causes(checks)
    assert out == tuple(checks)
    assert group_by_root_cause(out) == {"R3 rate": ["drop-rate"]}


def test_a_check_read_back_from_the_report_gives_the_same_report():
    check = CheckResult(id="drop-rate", requirement="R3", verdict=Verdict.FAIL, message="m",
                        kind="statistical", findings={"a": [1, 2]}, explained_by="x",
                        root_cause="R4 independence", decisions=10, alpha=1e-5)
    assert CheckResult.from_dict(check.to_dict()).to_dict() == check.to_dict()
