"""The public Python API: check, assert_conformant, testing.conformance_tests.

The last tests run the README's API example as a user would: a throwaway project with one test
file, under ``pytest -q`` and ``pytest -n 2``.
"""

from __future__ import annotations

import dataclasses
import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

import conformance
from conformance.cli import main
from conformance.report import load_report, validate

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"


def correct(x, p, training=True):
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not training or p == 0:
        return x
    if p == 1:
        return np.zeros_like(x)
    keep = np.random.default_rng().random((*x.shape[:-2], 1, 1)) >= p
    return x * (keep.astype(x.dtype) * x.dtype.type(1 / (1 - p)))


def never_scales(x, p, training=True):
    y = correct(x, p, training)
    return y if not training or p in (0, 1) else np.where(y != 0, x, 0).astype(x.dtype)


SOME = ["shape-dtype", "scale-exact", "p-one", "drop-rate"]


def test_check_returns_an_immutable_record_with_every_check():
    result = conformance.check(correct, level="quick", checks=SOME)
    assert result.conformant and result.complete and not result.failures
    assert [c.id for c in result.checks] == SOME
    rate = result["drop-rate"]
    assert rate.kind == "statistical" and rate.statistics["alpha"] > 0
    assert rate.reproduce.startswith("dropout2d-conformance run --adapter")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.conformant = False  # type: ignore[misc]  # the record is immutable
    with pytest.raises(TypeError):
        result.findings["x"] = 1  # type: ignore[index]


def test_to_json_is_the_clis_document_and_report_accepts_it(tmp_path, capsys):
    result = conformance.check("reference", level="quick", checks=["p-one", "drop-rate"])
    document = result.to_json()
    validate(document)
    path = tmp_path / "api.json"
    path.write_text(json.dumps(document))
    assert load_report(path)["adapters"][0]["name"] == "reference"
    assert main(["report", str(path), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    assert main(["merge", str(path), "--out", str(tmp_path / "m"), "--quiet"]) == 0


def test_assert_conformant_names_each_failing_check_with_its_reproduction():
    with pytest.raises(AssertionError) as info:
        conformance.assert_conformant(never_scales, level="quick", checks=SOME)
    text = str(info.value)
    assert "NOT CONFORMANT" in text and "FAIL scale-exact [R2]" in text
    assert "reproduce: dropout2d-conformance run --adapter" in text
    assert conformance.assert_conformant(correct, level="quick", checks=SOME).conformant


def test_bad_options_and_unloadable_adapters_raise_value_error():
    with pytest.raises(ValueError, match="level"):
        conformance.check(correct, level="slow")
    with pytest.raises(ValueError, match="family_alpha"):
        conformance.check(correct, family_alpha=float("nan"))
    with pytest.raises(ValueError, match="unknown check"):
        conformance.check(correct, checks=["nope"])
    with pytest.raises(ValueError, match="no_such_module"):
        conformance.check("no_such_module:f")
    with pytest.raises(ValueError, match="isolate=True needs"):
        conformance.check(lambda x, p, training=True: x, isolate=True)


def test_isolate_runs_the_same_battery_in_a_worker():
    inside = conformance.check("reference", level="quick", checks=["p-one", "drop-rate"])
    outside = conformance.check("reference", level="quick", checks=["p-one", "drop-rate"],
                                isolate=True)
    assert outside.conformant
    strip = [(c.id, c.verdict, c.statistics.get("p_value")) for c in inside.checks]
    assert strip == [(c.id, c.verdict, c.statistics.get("p_value")) for c in outside.checks]


def test_importing_the_package_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, conformance, conformance.pytest_plugin; "
            "heavy = [m for m in ('numpy', 'scipy', 'matplotlib', 'jinja2', 'torch', 'jax') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- a throwaway project, as a user would write it ------------------------------------------


def readme_api_example() -> str:
    """The Python block that follows the API section's marker in the README."""
    text = README.read_text()
    match = re.search(r"<!-- api-example -->\s*```python\n(.*?)```", text, re.S)
    assert match, "README has no API example block"
    return match.group(1)


FAULTY_KERNEL = textwrap.dedent(
    """
    import numpy as np

    def dropout2d(x, p, training=True):
        if not 0 <= p <= 1:
            raise ValueError(p)
        if not training or p == 0:
            return x
        if p == 1:
            return np.zeros_like(x)
        keep = np.random.default_rng().random((*x.shape[:-2], 1, 1)) >= p
        return x * keep.astype(x.dtype)          # fault: kept maps are not rescaled
    """
)


def readme_mydrop() -> str:
    """The README's own example implementation, ``mydrop.py``."""
    match = re.search(r"```python\n(# mydrop\.py\n.*?)```", README.read_text(), re.S)
    assert match, "README has no mydrop.py block"
    return match.group(1)


@pytest.fixture
def project(pytester):
    pytester.makepyfile(test_mydrop=readme_api_example(), mydrop=readme_mydrop())
    return pytester


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_the_readme_api_example_passes_for_a_correct_function(project, xdist):
    result = project.runpytest_subprocess("-q", "-p", "no:cacheprovider", *xdist)
    assert result.ret == 0, result.stdout.str()
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 10 and not outcomes.get("failed")


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]])
def test_the_readme_api_example_fails_for_a_faulty_function(project, xdist):
    project.makepyfile(mydrop=FAULTY_KERNEL)
    source = readme_api_example()
    assert "from mydrop import dropout2d" in source
    result = project.runpytest_subprocess("-q", "-p", "no:cacheprovider", *xdist)
    assert result.ret == 1
    out = result.stdout.str()
    # the failing check's id, its message and its reproduction command are in pytest's output
    assert "test_dropout2d_conformance[scale-exact]" in out
    assert "scale-exact" in out and "reproduce: dropout2d-conformance run" in out
    assert "NOT CONFORMANT" in out  # assert_conformant's message


def test_the_per_check_tests_work_with_k_and_junitxml(project):
    xml = project.path / "junit.xml"
    result = project.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-k", "drop-rate",
                                          f"--junitxml={xml}")
    assert result.ret == 0
    result.assert_outcomes(passed=1, deselected=result.parseoutcomes()["deselected"])
    assert 'name="test_dropout2d_conformance[drop-rate]"' in xml.read_text()
