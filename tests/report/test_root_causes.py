"""One fault, one owner: the report groups the checks a fault also fails under the root cause of
the check that owns it, and an owner is never itself explained (no cycles)."""

from __future__ import annotations

from conformance.results import attribute_root_causes, group_by_root_cause


def _fail(cid: str, requirement: str, cause: str) -> dict:
    return {"id": cid, "requirement": requirement, "verdict": "fail", "root_cause": cause,
            "message": "m"}


def test_two_checks_that_explain_each_other_have_one_owner():
    # masks repeating across calls: independence-calls could explain channel-uniformity and
    # channel-uniformity could explain independence-calls; the earlier in EXPLAINS owns both
    checks = [_fail("drop-rate", "R3", "R3 rate"),
              _fail("channel-uniformity", "R3", "R3 rate p at every position"),
              _fail("independence-calls", "R4", "R4 independence")]
    out = {c["id"]: c for c in attribute_root_causes(checks)}
    assert "explained_by" not in out["independence-calls"]
    assert out["channel-uniformity"]["explained_by"] == "independence-calls"
    assert out["drop-rate"]["explained_by"] == "independence-calls"
    groups = group_by_root_cause(list(out.values()))
    assert groups == {"R4 independence": ["independence-calls", "drop-rate",
                                          "channel-uniformity"]}


def test_an_unexplained_failure_keeps_its_own_cause():
    checks = [_fail("drop-rate", "R3", "R3 rate"), {"id": "eval-identity", "verdict": "pass"}]
    out = attribute_root_causes(checks)
    assert out == checks
    assert group_by_root_cause(out) == {"R3 rate": ["drop-rate"]}
