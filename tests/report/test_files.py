"""Writing and reading report files: both files or neither, a failure leaves the previous pair,
concurrent writers leave a matching pair, and load_report says what is wrong with a file."""

from __future__ import annotations

import copy
import json

import pytest

from conformance.report import (
    ReportError,
    ReportValidationError,
    build_report,
    load_report,
    write_json,
    write_reports,
)


def test_write_reports_writes_both_and_they_reload(tmp_path, stat_report):
    paths = write_reports(stat_report, tmp_path / "out")
    assert [p.name for p in paths] == ["conformance.json", "conformance.html"]
    assert load_report(paths[0]) == stat_report
    assert paths[1].read_text().startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "conformance.html", "conformance.json"]


def test_a_failure_while_rendering_leaves_the_previous_files(tmp_path, monkeypatch, stat_report):
    paths = write_reports(stat_report, tmp_path)
    before = [p.read_text() for p in paths]

    def explode(report):
        raise RuntimeError("renderer crashed half way")

    monkeypatch.setattr("conformance.report.html.render_html", explode)
    newer = copy.deepcopy(stat_report)
    newer["created"] = "2031-01-01T00:00:00+00:00"
    with pytest.raises(RuntimeError, match="half way"):
        write_reports(newer, tmp_path)
    assert [p.read_text() for p in paths] == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conformance.html", "conformance.json"]


def test_a_failure_while_writing_leaves_no_file_behind(tmp_path, monkeypatch, stat_report):
    import os

    calls = []
    real = os.replace

    def flaky(src, dst):
        calls.append(dst)
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OSError, match="disk full"):
        write_reports(stat_report, tmp_path)
    monkeypatch.setattr(os, "replace", real)
    assert calls and list(tmp_path.iterdir()) == []


def test_two_runs_writing_one_out_leave_a_matching_pair(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    def write(i: int) -> None:
        report = build_report([], {"level": "quick", "seed": i, "family_alpha": 1e-4,
                                   "beta": 1e-3, "checks": []})
        write_reports(report, tmp_path)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(40)))
    seed = json.loads((tmp_path / "conformance.json").read_text())["config"]["seed"]
    assert f"seed {seed}" in (tmp_path / "conformance.html").read_text().replace(
        "seed</th><td>", "seed ")


@pytest.mark.parametrize(
    "content, needle",
    [
        ("{not json", "not valid JSON (line 1, column 2"),
        ("[1, 2, 3]", "not a dropout2d-conformance report"),
        ('{"hello": "world"}', "not a dropout2d-conformance report"),
        (None, "no such file"),
    ],
)
def test_load_report_says_what_is_wrong(tmp_path, content, needle):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ReportError, match=needle.replace("(", r"\(")):
        load_report(path)


def test_load_report_validates(tmp_path, mixed_report):
    good = write_json(mixed_report, tmp_path)
    assert load_report(good) == mixed_report
    bad = copy.deepcopy(mixed_report)
    del bad["adapters"][0]["name"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ReportValidationError, match=r"(?s)bad\.json does not.*'name' is a req"):
        load_report(path)
