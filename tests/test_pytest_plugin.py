"""The pytest door (via pytester): inert without options, one test per check with a report,
failures with their message, usage errors, and pytest-xdist."""

from __future__ import annotations

import json

import pytest

pytest_plugins = ["pytester"]


def test_plugin_is_inert_without_options(pytester):
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1)


def test_plugin_runs_one_test_per_check_id_and_writes_report(pytester, reference_verdicts):
    """Every check id, statistical ones included, at the cheapest level."""
    out = pytester.path / "rep"
    result = pytester.runpytest(
        "--pyargs", "conformance", "--dropout2d-adapter=reference", "-q",
        "--dropout2d-level=quick", f"--dropout2d-report={out}",
    )
    # gradient is skipped: the reference has no autograd
    result.assert_outcomes(passed=len(reference_verdicts) - 1, skipped=1)
    report = json.loads((out / "conformance.json").read_text())
    assert report["complete"] and report["adapters"][0]["conformant"]
    assert {c["id"]: c["verdict"] for c in report["adapters"][0]["checks"]} == reference_verdicts


def test_plugin_failures_carry_the_message(pytester, faulty):
    result = pytester.runpytest(
        "--pyargs", "conformance", f"--dropout2d-adapter={faulty}:never_scales",
        "--dropout2d-check=scale-exact", "--dropout2d-check=p-one", "-q",
        "--junitxml=junit.xml",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*scale-exact*off by more than 4 ulps*"])
    junit = (pytester.path / "junit.xml").read_text()
    assert "dropout2d_result" in junit


def test_plugin_unknown_spec_is_a_usage_error(pytester):
    result = pytester.runpytest("--pyargs", "conformance", "--dropout2d-adapter=nope")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot load adapter 'nope'*"])


@pytest.mark.parametrize(
    ("option", "needle"),
    [("--dropout2d-family-alpha=nan", "finite"), ("--dropout2d-family-alpha=2", "0.5")],
)
def test_the_pytest_door_validates_its_options(pytester, option, needle):
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance", "--dropout2d-adapter=reference", option)
    assert result.ret == 4  # pytest's usage error
    assert needle in result.stderr.str()


def test_the_pytest_door_rejects_a_report_path_that_is_a_file(pytester):
    target = pytester.path / "report.txt"
    target.write_text("")
    result = pytester.runpytest_subprocess(
        "--pyargs", "conformance", "--dropout2d-adapter=reference",
        f"--dropout2d-report={target}")
    assert result.ret == 4 and "is a file" in result.stderr.str()


def test_plugin_under_xdist(pytester):
    out = pytester.path / "rep"
    result = pytester.runpytest(
        "--pyargs", "conformance", "--dropout2d-adapter=reference", "-n", "2", "-q",
        f"--dropout2d-report={out}",
        "--dropout2d-check=eval-identity", "--dropout2d-check=p-one",
        "--dropout2d-check=gradient",
    )
    result.assert_outcomes(passed=2, skipped=1)
    report = json.loads((out / "conformance.json").read_text())
    assert report["complete"]
    assert [c["id"] for c in report["adapters"][0]["checks"]] == [
        "eval-identity", "p-one", "gradient"]
