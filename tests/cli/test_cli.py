"""The two front doors: the CLI's exit codes and report, and the pytest plugin (via pytester)."""

from __future__ import annotations

import json
import textwrap

import pytest

from conformance import battery
from conformance.cli import main

pytest_plugins = ["pytester"]

ALL_IDS = set(battery.DETERMINISTIC + battery.STATISTICAL)
DETERMINISTIC_ONLY = [f"--check={i}" for i in battery.DETERMINISTIC]

FAULTY = textwrap.dedent(
    """
    import numpy as np

    def never_scales(x, p, training=True):
        if not training or p == 0:
            return x
        keep = np.random.default_rng().random(x.shape[:-2] + (1, 1)) >= p
        return x * keep.astype(x.dtype)   # fault: no 1/(1-p)

    def raises(x, p, training=True):
        raise RuntimeError("<b>kernel</b> exploded")
    """
)


@pytest.fixture
def faulty(tmp_path):
    path = tmp_path / "faulty.py"
    path.write_text(FAULTY)
    return path


def test_run_reference_exits_0_with_every_check_id(tmp_path, capsys):
    code = main(["run", "--adapter", "reference", "--out", str(tmp_path), "--quiet",
                 "--level", "quick"])
    assert code == 0
    report = json.loads((tmp_path / "conformance.json").read_text())
    (entry,) = report["adapters"]
    assert entry["name"] == "reference" and entry["spec"] == "reference" and entry["conformant"]
    assert {c["id"] for c in entry["checks"]} == ALL_IDS
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
    assert verdicts["scale-exact"] == "error" and verdicts["invalid-p"] == "pass"
    assert "kernel" in next(c["message"] for c in checks if c["id"] == "scale-exact")


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


def test_list_and_checks_commands(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "reference" in out and "torch" in out
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    assert all(i in out for i in ALL_IDS)


# --- the pytest front door ------------------------------------------------------------------

def test_plugin_is_inert_without_options(pytester):
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=1)


def test_plugin_runs_one_test_per_check_and_writes_report(pytester):
    out = pytester.path / "rep"
    result = pytester.runpytest(
        "--pyargs", "conformance", "--dropout2d-adapter=reference", "-q",
        f"--dropout2d-report={out}", *[f"--dropout2d-check={i}" for i in battery.DETERMINISTIC],
    )
    # gradient is skipped: the reference has no autograd
    result.assert_outcomes(passed=len(battery.DETERMINISTIC) - 1, skipped=1)
    report = json.loads((out / "conformance.json").read_text())
    assert report["complete"] and report["adapters"][0]["conformant"]


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
