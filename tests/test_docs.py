"""conformance/docs.py: CONTRIBUTING.md carries exactly the table the code gives (so it cannot
drift), and each column of that table comes from the code it names."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance import docs
from conformance.checks import CATALOGUE
from conformance.contract import IMPL_DEFINED, REQUIREMENTS
from conformance.mutants import MUTANTS

ROOT = Path(__file__).resolve().parents[1]
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
REGENERATE = "python -m conformance.docs --write"


def test_contributing_carries_exactly_the_generated_table():
    found = docs.table_in(CONTRIBUTING.read_text())
    assert found is not None, f"CONTRIBUTING.md has no line {docs.HEADER!r}; run `{REGENERATE}`"
    assert found == docs.table(), (
        f"CONTRIBUTING.md's table differs from the code's; regenerate it with `{REGENERATE}` "
        "(and commit the result)")


def _cells() -> dict[str, tuple[str, str, str]]:
    return {row[0]: row[1:] for row in docs.rows()}


def test_every_check_is_listed_under_its_requirement_in_its_module():
    cells = _cells()
    assert list(cells) == [*REQUIREMENTS, docs.IMPL_DEFINED_LABEL]
    for c in CATALOGUE.values():
        label = docs.IMPL_DEFINED_LABEL if c.requirement == IMPL_DEFINED else c.requirement
        module = c.fn.__module__.removeprefix("conformance.").replace(".", "/") + ".py"
        listed = re.search(rf"`{re.escape(module)}` \(([^)]*)\)", cells[label][0])
        assert listed and c.id in listed.group(1).split(", "), (c.id, cells[label][0])


def test_the_statistics_are_the_stats_modules_and_families_a_check_module_calls():
    cells = _cells()
    assert cells["R5"][1] == "`stats/expectation.py` (expectation)"
    assert "`stats/pooled.py` (excess_rate, positions)" in cells["R3"][1]
    assert "`stats/homogeneity.py` (homogeneity_chi2, max_abs_z)" in cells["R3"][1]
    # scipy imported on first use is plumbing, not a statistic
    assert "_scipy" not in docs.table()
    # the words code cannot say, beside the assertion helpers it can
    assert cells["R6"][1] == "bitwise, `checks/assertions.py` (assert_returns_input)"
    assert cells["R11"][1] == "in ulps, `checks/assertions.py` (assert_scaled)"


def test_the_words_are_kept_for_check_modules_that_exist():
    modules = {c.fn.__module__.removeprefix("conformance.checks.") for c in CATALOGUE.values()}
    assert set(docs.JUDGED_BY) <= modules, set(docs.JUDGED_BY) - modules


def test_each_mutant_counts_under_the_requirement_of_every_check_it_must_catch():
    cells = _cells()
    requirement = {c.id: c.requirement for c in CATALOGUE.values()}
    expected: dict[str, dict[str, int]] = {}
    for m in MUTANTS.values():
        for req in {requirement[cid] for cid in m.expected}:
            label = docs.IMPL_DEFINED_LABEL if req == IMPL_DEFINED else req
            module = "mutants/" + m.target.split(":")[0].rsplit(".", 1)[1] + ".py"
            counts = expected.setdefault(label, {})
            counts[module] = counts.get(module, 0) + 1
    for label, (_, _, gallery) in cells.items():
        listed = {mod: int(n) for mod, n in re.findall(r"`([^`]+)` \((\d+)\)", gallery)}
        assert listed == expected.get(label, {}), label
    assert "`mutants/autograd.py` (3)" in cells["R11"][2]


def test_replace_table_replaces_only_the_table(tmp_path):
    text = "intro\n\n" + docs.HEADER + "\n" + docs.RULE + "\n| R0 | old | old | old |\n\nafter\n"
    out = docs.replace_table(text, docs.table())
    assert out.startswith("intro\n\n" + docs.table() + "\n\nafter")
    with pytest.raises(ValueError, match="no line"):
        docs.replace_table("no table here", docs.table())


def test_the_command_prints_the_table():
    done = subprocess.run([sys.executable, "-m", "conformance.docs"], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout == docs.table() + "\n"
