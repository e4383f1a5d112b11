"""One fault, one owner: the report groups the checks a fault also fails under the root cause of
the check that owns it, and an owner is never itself explained (no cycles)."""

from __future__ import annotations

from conformance.results import CheckResult, Verdict, attribute_root_causes, group_by_root_cause


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
