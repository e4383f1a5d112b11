"""Merging runs into one matrix: both kept with their origin, duplicates refused, merged reports
flattened, incomplete sources marked."""

from __future__ import annotations

import copy

import pytest

from conformance.report import (
    ReportError,
    merge_reports,
    render_html,
    validate,
)


def _second_run(report: dict) -> dict:
    """The same adapters 'on another machine': other platform and creation time."""
    other = copy.deepcopy(report)
    other["created"] = "2030-01-01T00:00:00+00:00"
    other["environment"]["platform"] = "Other-OS-1.0"
    other["environment"]["packages"]["numpy"] = "9.9.9"
    return other


def test_merge_two_runs_keeps_both_and_their_origin(mixed_report, stat_report):
    merged = merge_reports([mixed_report, stat_report], labels=["a.json", "b.json"])
    validate(merged)
    assert merged["merged"] is True
    assert [s["label"] for s in merged["sources"]] == ["a.json", "b.json"]
    assert [s["index"] for s in merged["sources"]] == [0, 1]
    n1, n2 = len(mixed_report["adapters"]), len(stat_report["adapters"])
    assert [a["source"] for a in merged["adapters"]] == [0] * n1 + [1] * n2
    assert merged["sources"][1]["config"] == stat_report["config"]
    assert merged["sources"][0]["environment"] == mixed_report["environment"]
    # top level: only what both share (levels differ, seeds agree)
    assert "level" not in merged["config"] and merged["config"]["seed"] == 0
    assert merged["conformant"] is False  # some adapters of the first run fail
    assert len({a["label"] for a in merged["adapters"]}) == n1 + n2


def test_the_same_adapter_from_two_machines_is_kept_distinguishable(stat_report):
    other = _second_run(stat_report)
    merged = merge_reports([stat_report, other])
    labels = [a["label"] for a in merged["adapters"]]
    assert labels[0] != labels[1] and all(lb.startswith("reference") for lb in labels)
    assert "(run 2)" in labels[1]
    assert merged["environment"]["packages"].get("numpy") is None  # differs: not shared
    assert merged["conformant"] is True
    html = render_html(merged)
    assert labels[1] in html and "Runs merged" in html and "Other-OS-1.0" in html


def test_the_same_run_twice_is_refused(stat_report):
    with pytest.raises(ReportError, match="the same run appears twice"):
        merge_reports([stat_report, copy.deepcopy(stat_report)], labels=["x.json", "y.json"])


def test_merging_a_merged_report_flattens_its_sources(mixed_report, stat_report):
    first = merge_reports([mixed_report, stat_report], labels=["a", "b"])
    third = _second_run(stat_report)
    again = merge_reports([first, third], labels=["m.json", "c.json"])
    validate(again)
    assert [s["label"] for s in again["sources"]] == ["m.json / a", "m.json / b", "c.json"]
    assert again["adapters"][-1]["source"] == 2


def test_merge_refuses_nothing_and_invalid_inputs(mixed_report):
    with pytest.raises(ReportError, match="nothing to merge"):
        merge_reports([])
    bad = copy.deepcopy(mixed_report)
    bad["complete"] = "yes"
    with pytest.raises(ReportError, match="report 'run 2' does not match"):
        merge_reports([mixed_report, bad])


def test_incomplete_source_makes_the_merge_incomplete(mixed_report, stat_report):
    partial = copy.deepcopy(stat_report)
    partial["complete"] = False
    partial["conformant"] = False
    merged = merge_reports([mixed_report, partial])
    assert merged["complete"] is False and merged["conformant"] is False
