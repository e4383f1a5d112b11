"""The JSON report matches its shipped, versioned schema; invalid reports are refused clearly."""

from __future__ import annotations

import copy

import pytest
from jsonschema import Draft202012Validator

from conformance.report import (
    FORMAT_VERSION,
    ReportError,
    ReportValidationError,
    build_report,
    load_schema,
    validate,
    write_json,
)
from conformance.report.schema import SCHEMA_FILE


def test_schema_is_draft_2020_12_shipped_and_carries_one_version():
    schema = load_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["format_version"]["enum"][0] == FORMAT_VERSION
    assert f"/{FORMAT_VERSION}/" in schema["$id"]
    assert schema["title"].endswith(f"format {FORMAT_VERSION}")
    from importlib import resources

    assert resources.files("conformance.report").joinpath(SCHEMA_FILE).is_file()


def test_reports_with_every_verdict_validate(mixed_report, stat_report):
    validate(mixed_report)
    validate(stat_report)
    verdicts = {c["verdict"] for a in mixed_report["adapters"] for c in a["checks"]}
    assert verdicts == {"pass", "fail", "skip", "error"}
    by_name = {a["name"]: a for a in mixed_report["adapters"]}
    assert by_name["correct"]["conformant"] and by_name["correct"]["complete"]
    assert not by_name["upcasts"]["conformant"]
    assert mixed_report["merged"] is False and "sources" not in mixed_report
    assert not mixed_report["conformant"]
    stat = [c for c in stat_report["adapters"][0]["checks"] if c["kind"] == "statistical"]
    assert stat and all(c["subtests"] for c in stat)


def test_fabricated_statistical_data_validates(fabricated):
    validate(fabricated)


def test_validation_lists_every_failure_with_its_path(mixed_report):
    bad = copy.deepcopy(mixed_report)
    check = bad["adapters"][1]["checks"][0]
    check["verdict"] = "maybe"
    del check["message"]
    bad["adapters"][0]["summary"]["pass"] = "many"
    with pytest.raises(ReportValidationError) as info:
        validate(bad)
    text = str(info.value)
    assert len(info.value.failures) == 3
    assert "adapters[1].checks[0].verdict" in text and "'maybe'" in text
    assert "adapters[1].checks[0]: 'message' is a required property" in text
    assert "adapters[0].summary.pass" in text


def test_statistical_fields_are_required_and_deterministic_checks_have_none(fabricated):
    bad = copy.deepcopy(fabricated)
    stat = next(c for c in bad["adapters"][0]["checks"] if c["kind"] == "statistical")
    del stat["p_value"]
    del stat["subtests"][0]["alpha"]
    det = bad["adapters"][0]["checks"][0]
    det["subtests"] = []
    with pytest.raises(ReportValidationError) as info:
        validate(bad)
    text = "\n".join(info.value.failures)
    assert "'p_value' is a required property" in text
    assert "subtests[0]: 'alpha' is a required property" in text
    assert "checks[0]" in text


def test_unknown_fields_and_other_format_versions_are_refused(mixed_report):
    bad = copy.deepcopy(mixed_report)
    bad["adapters"][0]["checks"][0]["surprise"] = 1
    with pytest.raises(ReportValidationError, match="surprise"):
        validate(bad)
    old = copy.deepcopy(mixed_report)
    old["format_version"] = "0.9"
    with pytest.raises(ReportValidationError, match=r"'0\.9' is not a format this tool reads"):
        validate(old)
    with pytest.raises(ReportValidationError, match="expected a JSON object"):
        validate([1, 2])


def test_write_json_validates_before_writing(tmp_path, mixed_report):
    path = write_json(mixed_report, tmp_path)
    before = path.read_text()
    bad = copy.deepcopy(mixed_report)
    bad["conformant"] = "yes"
    with pytest.raises(ReportValidationError):
        write_json(bad, tmp_path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["conformance.json"]
    nan = copy.deepcopy(mixed_report)
    nan["adapters"][0]["checks"][0]["duration_s"] = float("nan")
    with pytest.raises(ReportError, match="cannot be written as JSON"):
        write_json(nan, tmp_path)
    assert path.read_text() == before


def test_incomplete_run_marks_the_unfinished_adapter(mixed_report):
    entries = copy.deepcopy(mixed_report["adapters"][:2])
    for e in entries:
        del e["complete"]  # as results.adapter_entry() gives them
    entries[1]["checks"] = entries[1]["checks"][:2]
    entries[0]["conformant"] = True
    report = build_report(entries, mixed_report["config"], complete=False)
    validate(report)
    assert report["complete"] is False and report["conformant"] is False
    first, second = report["adapters"]
    assert first["complete"] and first["conformant"]
    assert not second["complete"] and not second["conformant"]
    # an explicit flag wins; info fields are normalised to strings
    entries[0]["complete"] = False
    entries[0]["framework_version"] = None
    report = build_report(entries, mixed_report["config"], complete=False)
    assert report["adapters"][0]["complete"] is False
    assert report["adapters"][0]["framework_version"] == ""


def test_format_1_1_adds_optional_fields_and_1_0_reports_still_load(mixed_report):
    assert FORMAT_VERSION == "1.3" and mixed_report["format_version"] == "1.3"
    failing = [c for a in mixed_report["adapters"] for c in a["checks"]
               if c["verdict"] in ("fail", "error")]
    assert failing and all(c["root_cause"] for c in failing)
    assert all("root_cause" not in c for a in mixed_report["adapters"] for c in a["checks"]
               if c["verdict"] in ("pass", "skip"))
    old = copy.deepcopy(mixed_report)
    old["format_version"] = "1.0"
    for a in old["adapters"]:
        for key in ("root_causes", "defined_in", "imports"):
            a.pop(key, None)
        for c in a["checks"]:
            c.pop("root_cause", None)
            c.pop("explained_by", None)
    validate(old)  # a report written before 1.1 still loads
    for version in ("1.1", "1.2"):  # (1.3 counts a check's decisions as those it read)
        old["format_version"] = version
        validate(old)


def test_a_consequence_is_grouped_under_the_owner_first():
    """Format 1.2: a failure that an owner explains (results.EXPLAINS) carries the owner's
    root cause and ``explained_by``, and the owner leads its group."""
    from conformance.adapters.base import AdapterInfo
    from conformance.results import AdapterResult, CheckResult

    checks = [
        {"id": "drop-rate", "requirement": "R3", "kind": "statistical", "verdict": "fail",
         "message": "omnibus", "root_cause": "R3 rate p at every position"},
        {"id": "independence-calls", "requirement": "R4", "kind": "statistical",
         "verdict": "fail", "message": "lag 1", "root_cause": "R4 independent decisions"},
        {"id": "expectation", "requirement": "R5", "kind": "statistical", "verdict": "pass",
         "message": ""},
    ]
    entry = AdapterResult(AdapterInfo(name="x", spec="x"),
                          tuple(CheckResult.from_dict(c) for c in checks)).to_dict()
    by_id = {c["id"]: c for c in entry["checks"]}
    assert by_id["drop-rate"]["explained_by"] == "independence-calls"
    assert by_id["drop-rate"]["root_cause"] == "R4 independent decisions"
    assert entry["root_causes"] == {"R4 independent decisions": ["independence-calls",
                                                                 "drop-rate"]}
    assert "explained_by" not in by_id["independence-calls"]


def test_one_broken_worker_is_one_root_cause_not_one_per_check():
    from conformance.results import CheckResult, group_by_root_cause

    checks = [
        {"id": f"c{i}", "requirement": f"R{i + 1}", "verdict": "error",
         "message": f"the worker failed (TypeError: boom) while running c{i}"}
        for i in range(3)
    ] + [{"id": "p-one", "requirement": "R7", "verdict": "fail", "message": "NaN"},
         {"id": "x", "requirement": "R1", "verdict": "fail", "message": "m",
          "root_cause": "R1 output dtype"},
         {"id": "ok", "requirement": "R1", "verdict": "pass", "message": ""}]
    assert group_by_root_cause([CheckResult.from_dict(c) for c in checks]) == {
        "error: the worker failed": ["c0", "c1", "c2"],
        "R7 p = 0 and p = 1": ["p-one"],
        "R1 output dtype": ["x"],
    }
