"""The command line: `run` (exit codes, the report, usage errors first), `list` and `checks`,
and `merge` and `report` on written reports."""

from __future__ import annotations

import json
import time

import pytest

from conformance import battery
from conformance.cli import main
from conformance.report import write_json

ALL_IDS = set(battery.DETERMINISTIC + battery.STATISTICAL)
DETERMINISTIC_ONLY = [f"--check={i}" for i in battery.DETERMINISTIC]


def test_run_reference_exits_0_with_every_check_id(tmp_path, capsys, reference_verdicts):
    code = main(["run", "--adapter", "reference", "--out", str(tmp_path), "--quiet",
                 "--level", "quick"])
    assert code == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    (entry,) = report["adapters"]
    assert entry["name"] == "reference" and entry["spec"] == "reference" and entry["conformant"]
    assert {c["id"]: c["verdict"] for c in entry["checks"]} == reference_verdicts
    assert all({"id", "verdict", "message"} <= set(c) for c in entry["checks"])
    assert "CONFORMANT" in capsys.readouterr().out


def test_run_faulty_exits_1_and_names_the_failing_check(tmp_path, faulty, capsys):
    code = main(["run", "--adapter", f"{faulty}:never_scales", "--out", str(tmp_path),
                 "--check", "scale-exact", "--check", "eval-identity"])
    assert code == 1
    report = json.loads((tmp_path / "conformance.json").read_text())
    verdicts = {c["id"]: c["verdict"] for c in report["adapters"][0]["checks"]}
    assert verdicts == {"eval-identity": "pass", "scale-exact": "fail"}
    assert "scale-exact" in capsys.readouterr().out


def test_adapter_that_raises_gives_error_verdicts_not_a_crash(tmp_path, faulty):
    code = main(["run", "--adapter", f"{faulty}:raises", "--out", str(tmp_path), "--quiet",
                 *DETERMINISTIC_ONLY])
    assert code == 1
    checks = json.loads((tmp_path / "conformance.json").read_text())["adapters"][0]["checks"]
    verdicts = {c["id"]: c["verdict"] for c in checks}
    assert verdicts["scale-exact"] == "error"
    assert "kernel" in next(c["message"] for c in checks if c["id"] == "scale-exact")
    # raising on every call is not validating p, nor rejecting 3D input: both need a valid
    # call to succeed first, and say so
    for cid in ("invalid-p", "three-d-input"):
        assert verdicts[cid] == "error", cid
        assert "a valid call" in next(c["message"] for c in checks if c["id"] == cid)


# --- usage errors come first -------------------------------------------------------------------

@pytest.mark.parametrize(
    "argv, needle",
    [
        (["run", "--adapter", "no-such-adapter"], "no-such-adapter"),
        (["run", "--adapter", "reference", "--check", "no-such-check"], "no-such-check"),
        (["run", "--adapter", "reference:nope"], "has no attribute"),
    ],
)
def test_usage_errors_exit_2(tmp_path, capsys, argv, needle):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "conformance.json").exists()


def test_bad_level_is_an_argparse_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--level", "extreme"])
    assert info.value.code == 2


@pytest.mark.parametrize(
    "argv",
    [
        ["--timeout-scale", "0"],
        ["--timeout-scale", "-1"],
        ["--timeout-scale", "nan"],
        ["--timeout-scale", "inf"],
        ["--family-alpha", "1e-17"],
        ["--family-alpha", "nan"],
        ["--family-alpha", "2"],
        ["--jobs", "0"],
        ["--seed", "-3"],
        ["--check", "no-such-check"],
    ],
)
def test_bad_options_exit_2_before_anything_runs(tmp_path, capsys, argv):
    with pytest.raises(SystemExit) as exc:
        code = main(["run", "--adapter", "reference", "--out", str(tmp_path / "o"), *argv])
        raise SystemExit(code)
    assert exc.value.code == 2
    assert not (tmp_path / "o" / "conformance.json").exists()


def test_an_unwritable_out_is_found_before_the_battery(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    start = time.monotonic()
    assert main(["run", "--adapter", "reference", "--out", str(blocker / "sub")]) == 2
    assert time.monotonic() - start < 10  # no battery ran
    assert "not a writable directory" in capsys.readouterr().err


def test_list_and_checks_commands(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "reference" in out and "torch" in out
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    assert all(i in out for i in ALL_IDS)


# --- merge and report ----------------------------------------------------------------------------

@pytest.fixture
def two_reports(tmp_path, mixed_report, stat_report):
    a = write_json(mixed_report, tmp_path / "a")
    b = write_json(stat_report, tmp_path / "b")
    return a, b


def test_merge_exits_0_once_the_matrix_is_written_and_keeps_the_verdicts(
    tmp_path, two_reports, capsys
):
    out = tmp_path / "merged"
    code = main(["merge", *map(str, two_reports), "--out", str(out)])
    # The first run has non-conformant adapters: a finding the matrix carries, not a failure
    # of merging (a tox matrix is green when every environment ran and the matrix was built).
    assert code == 0
    merged = json.loads((out / "conformance.json").read_text())
    assert merged["merged"] and len(merged["sources"]) == 2
    assert merged["conformant"] is False
    assert any(not a["conformant"] for a in merged["adapters"])
    assert (out / "conformance.html").read_text().count('class="matrix"') == 1
    stdout = capsys.readouterr().out
    assert "NOT CONFORMANT" in stdout and "conformance.html" in stdout


def test_report_rerenders_a_json_report(tmp_path, two_reports, capsys):
    out = tmp_path / "again"
    assert main(["report", str(two_reports[1]), "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "conformance.json").read_text()) == json.loads(
        two_reports[1].read_text())
    assert "<!DOCTYPE html>" in (out / "conformance.html").read_text()
    assert "CONFORMANT" not in capsys.readouterr().out  # --quiet: paths only


@pytest.mark.parametrize(
    "content, needle",
    [
        ("{oops", "not valid JSON"),
        ('{"format_version": "1.0", "adapters": []}', "does not match the conformance report"),
        (None, "no such file"),
    ],
)
@pytest.mark.parametrize("command", ["merge", "report"])
def test_bad_input_files_exit_2(tmp_path, two_reports, capsys, command, content, needle):
    bad = tmp_path / "bad.json"
    if content is not None:
        bad.write_text(content)
    argv = [command, str(bad), "--out", str(tmp_path / "o")]
    if command == "merge":
        argv.insert(1, str(two_reports[0]))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "bad.json" in err
    assert not (tmp_path / "o").exists()


def test_a_renderer_bug_still_leaves_the_json(tmp_path, two_reports, monkeypatch, capsys):
    def broken(report):
        raise ZeroDivisionError("oops")

    monkeypatch.setattr("conformance.report.html.render_html", broken)
    out = tmp_path / "o"
    assert main(["report", str(two_reports[1]), "--out", str(out)]) == 0
    assert (out / "conformance.json").exists() and not (out / "conformance.html").exists()
    assert "no HTML report (ZeroDivisionError: oops)" in capsys.readouterr().err
