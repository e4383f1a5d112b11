"""The tests mirror the code: every module of conformance/checks, conformance/stats,
conformance/engine and conformance/report has its test module (tests/checks/test_<module>.py,
...), and no test module there outlives the module it tests (a test of a whole scenario that
crosses modules is listed in SCENARIOS with what it tests).  The modules are listed from the
packages at run time, so a module added (or removed) is seen without editing this file."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

#: package -> the folder of its tests
MIRRORED = {
    "conformance.checks": TESTS / "checks",
    "conformance.stats": TESTS / "stats",
    "conformance.engine": TESTS / "engine",
    "conformance.report": TESTS / "report",
}

#: test modules of a mirrored folder that test a scenario across modules, not one module
SCENARIOS = {
    "engine/test_hangs.py": "hangs told from slow implementations, through every front door",
    "engine/test_hostile_adapters.py": "implementations that exit, crash, leak threads or "
                                       "change process state, through the CLI",
}

#: private modules (``_x.py``) are mirrored too (``test_x.py``), unless listed here with why
UNMIRRORED = {
    "conformance.stats._scipy": "imports scipy on first use: no logic of its own",
    "conformance.stats._fast": "scipy's own binomial and hypergeometric kernels under short "
                               "names (bit-identical by construction): every exact p-value "
                               "tested in tests/stats/ goes through them",
    "conformance.stats._search": "the searches that invert every *_mde: each family's MDE / "
                                 "sample-size round trip in tests/stats/ tests them, and "
                                 "tests/stats/test_normal.py tests ceil_count and smallest",
}


def modules(package: str) -> list[str]:
    """The modules of ``package`` (short names, ``__init__`` not included)."""
    path = importlib.import_module(package).__path__
    return sorted(m.name for m in pkgutil.iter_modules(path))


def mirror_name(name: str) -> str:
    """``r03_rate`` -> ``test_r03_rate.py``; ``_validate`` -> ``test_validate.py``."""
    return f"test_{name.lstrip('_')}.py"


@pytest.mark.parametrize("package", sorted(MIRRORED))
def test_every_module_has_its_test_module(package):
    folder = MIRRORED[package]
    missing = [f"{folder.relative_to(TESTS.parent)}/{mirror_name(name)} (for {package}.{name})"
               for name in modules(package)
               if f"{package}.{name}" not in UNMIRRORED
               and not (folder / mirror_name(name)).is_file()]
    assert not missing, ("modules without their test module (write it, or for a private module "
                         f"with no logic of its own say why in UNMIRRORED): {missing}")


@pytest.mark.parametrize("package", sorted(MIRRORED))
def test_every_test_module_tests_a_module_that_exists(package):
    folder = MIRRORED[package]
    mirrored = {mirror_name(name) for name in modules(package)}
    orphans = sorted(p.name for p in folder.glob("test_*.py") if p.name not in mirrored
                     and f"{folder.name}/{p.name}" not in SCENARIOS)
    assert not orphans, (f"test modules in {folder.relative_to(TESTS.parent)} with no module "
                         f"in {package} (renamed or removed? move or delete them): {orphans}")


def test_every_unmirrored_module_is_a_private_module_that_exists():
    for dotted, why in UNMIRRORED.items():
        package, _, name = dotted.rpartition(".")
        assert name.startswith("_") and why, dotted
        assert name in modules(package), f"{dotted} is gone: drop it from UNMIRRORED"


def test_every_scenario_exists():
    for path, why in SCENARIOS.items():
        assert (TESTS / path).is_file() and why, f"{path} is gone: drop it from SCENARIOS"
