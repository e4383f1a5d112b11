"""The contract as a document and as data, the checks' independence from the reference, and the
import names: the suite works from a directory holding folders named like its packages."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomllib

from conformance import battery
from conformance.checks import CATALOGUE
from conformance.contract import (
    IMPL_DEFINED,
    IMPLEMENTATION_DEFINED,
    REQUIREMENTS,
    keep_scale,
    requirement_text,
)

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_MD = ROOT / "CONTRACT.md"


def _contract_rows() -> dict[str, tuple[str, list[str]]]:
    """CONTRACT.md's requirement table: id -> (text, check ids)."""
    rows = {}
    for line in CONTRACT_MD.read_text().splitlines():
        m = re.match(r"\| (R\d+) \| (.+) \| (.+) \|$", line)
        if m:
            rows[m.group(1)] = (m.group(2), re.findall(r"`([a-z0-9-]+)`", m.group(3)))
    return rows


def test_contract_md_carries_every_requirement_text_of_contract_py():
    rows = _contract_rows()
    assert list(rows) == list(REQUIREMENTS)
    for rid, req in REQUIREMENTS.items():
        assert rows[rid][0] == req.text, rid
    assert "R1" in rows and "not modified by later calls" in rows["R1"][0]


def test_contract_md_names_every_check_under_its_requirement():
    rows = _contract_rows()
    for check in CATALOGUE.values():
        if check.requirement == IMPL_DEFINED:
            assert f"`{check.id}`" in CONTRACT_MD.read_text(), check.id
        else:
            assert check.id in rows[check.requirement][1], (check.id, check.requirement)
    named = {cid for _, ids in rows.values() for cid in ids}
    assert named <= set(CATALOGUE), named - set(CATALOGUE)


def test_every_check_requirement_has_a_text():
    for check in CATALOGUE.values():
        assert requirement_text(check.requirement)
    assert "three-d" in IMPLEMENTATION_DEFINED and "non-finite" in IMPLEMENTATION_DEFINED
    with pytest.raises(KeyError, match="unknown requirement 'R99'"):
        requirement_text("R99")


def test_every_statistical_check_is_catalogued_with_its_requirement():
    for cid in battery.STATISTICAL:
        assert CATALOGUE[cid].kind == "statistical"
        assert CATALOGUE[cid].requirement in {"R3", "R4", "R5"}


def test_the_readme_links_the_contract_and_no_file_points_outside_the_repository():
    assert "](CONTRACT.md)" in (ROOT / "README.md").read_text()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = []
    needles = ("DESIGN" + ".md", "../" + "shared")  # split so this file does not match itself
    for name in tracked:
        path = ROOT / name
        if not path.is_file() or path.suffix in (".png", ".svg"):
            continue
        text = path.read_text(errors="ignore")
        if any(n in text for n in needles):
            offenders.append(name)
    assert offenders == []


def test_keep_scale_is_the_contract_scale_rounded_to_the_dtype():
    assert keep_scale(0.1, np.float32) == np.float32(1 / 0.9)
    assert keep_scale(1 / 3, "bfloat16") == np.dtype("bfloat16").type(1.5)
    assert keep_scale(0.3, "bfloat16").dtype.name == "bfloat16"
    with pytest.raises(ValueError, match=r"0 <= p < 1, got p=1\.0"):
        keep_scale(1.0, np.float64)


def test_no_check_imports_the_reference_it_judges_against():
    for path in (ROOT / "conformance" / "checks").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.partition(".")[0] not in ("reference", "dropout2d_reference"), path


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "conformance").rglob("__init__.py")
    }
    assert on_disk <= listed, on_disk - listed
    assert config["package-dir"] == {"dropout2d_reference": "reference"}
    assert "ml_dtypes" in " ".join(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    )


def _in(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300
    )


def test_a_folder_named_reference_in_the_working_directory_does_not_shadow_the_suite(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "notes.txt").write_text("a user's folder")
    done = _in(
        tmp_path, "-c",
        "import conformance.checks, dropout2d_reference as r;"
        "from conformance.adapters import load_adapter;"
        "a = load_adapter('reference'); print(r.__file__)",
    )
    assert done.returncode == 0, done.stderr
    assert str(tmp_path) not in done.stdout
    # the CLI, run as a module from that directory
    done = _in(tmp_path, "-m", "conformance", "run", "--adapter", "reference", "--check",
               "scale-exact", "--level", "quick", "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_pytest_runs_from_a_directory_holding_a_reference_package(tmp_path):
    # A regular package named "reference", as a user's project may have, is importable as
    # such, and the suite still finds its own reference under its own name.
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "__init__.py").write_text("USER = True\n")
    (tmp_path / "test_mine.py").write_text(
        "import reference\n"
        "from conformance.adapters import load_adapter\n"
        "from conformance.checks import CATALOGUE\n"
        "from conformance.config import RunConfig\n"
        "from conformance.engine.check_runner import run_check\n\n"
        "def test_user_reference_and_suite():\n"
        "    assert reference.USER\n"
        "    r = run_check(load_adapter('reference'), CATALOGUE['scale-exact'], RunConfig())\n"
        "    assert r.ok, r.message\n"
    )
    done = _in(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_folder_named_conformance_in_the_working_directory_does_not_shadow_the_suite(
    tmp_path,
):
    (tmp_path / "conformance").mkdir()
    (tmp_path / "reference").mkdir()
    (tmp_path / "test_api.py").write_text(
        "import conformance\n\n"
        "def test_api_names():\n"
        "    assert conformance.__version__ and callable(conformance.declare)\n"
    )
    done = _in(tmp_path, "-m", "conformance", "checks")
    assert done.returncode == 0 and "expectation" in done.stdout, done.stderr
    done = _in(tmp_path, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_api.py")
    assert done.returncode == 0, done.stdout + done.stderr
