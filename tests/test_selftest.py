"""The selftest command: kill matrix, levels, and its exit code."""

from __future__ import annotations

import json

from conformance.cli import main
from conformance.selftest import format_matrix, selftest


def test_selftest_kill_matrix_at_quick_level():
    result = selftest("quick", names=["eval-drops", "rate-off-0.01"])
    rows = {m["name"]: m for m in result["mutants"]}
    assert rows["eval-drops"]["caught"] and "eval-identity" in rows["eval-drops"]["caught_by"]
    # rate-off-0.01 is only reliably caught from the default level on: not run at quick
    assert not rows["rate-off-0.01"]["run"] and "default" in rows["rate-off-0.01"]["reason"]
    assert result["ok"] and result["sensitivity"] == 1.0
    assert all(c["conformant"] for c in result["correct"])
    text = format_matrix(result)
    assert "eval-drops" in text and "caught" in text and "1 of 1 mutants caught" in text


def test_selftest_cli_writes_json_and_rejects_unknown_mutants(tmp_path, capsys):
    assert main(["selftest", "--level", "quick", "--mutant", "nope", "--out", str(tmp_path)]) == 2
    code = main(["selftest", "--level", "quick", "--mutant", "p-one-nan", "--out", str(tmp_path)])
    assert code == 0
    data = json.loads((tmp_path / "selftest.json").read_text())
    assert data["mutants"][0]["caught_by"] == ["p-one"]
    html = (tmp_path / "selftest.html").read_text()
    assert "1 of 1 mutants caught" in html and "p-one-nan" in html and "<script" not in html
