"""One fault, one failing check: every mutant of the gallery, run through the whole battery at
default level (seed 0, as CI runs it), fails exactly the checks its record lists -- no fewer
(the suite catches it where it claims to) and no more (a user shown ten red checks for one
fault hunts for ten bugs).  Where a fault still shows in several checks, the report names one
owner and groups the rest under its root cause (``results.EXPLAINS``).

Mutants whose level is above default (caught reliably only at thorough) are run by
``dropout2d-conformance selftest --level thorough``, not here.
"""

from __future__ import annotations

import importlib.util

import pytest

from conformance import api
from conformance.defaults import LEVEL_NAMES
from conformance.mutants import CORRECT_VARIANTS, MUTANTS, fresh_start

AT_DEFAULT = sorted(n for n, m in MUTANTS.items()
                    if LEVEL_NAMES.index(m.level) <= LEVEL_NAMES.index("default"))


@pytest.mark.parametrize("name", AT_DEFAULT)
def test_mutant_fails_exactly_its_checks_under_one_owner(name):
    m = MUTANTS[name]
    if m.needs and importlib.util.find_spec(m.needs) is None:
        pytest.skip(f"needs {m.needs}")
    fresh_start(0)  # as selftest does: seed-less mutants reproduce too
    result = api.check(m.target, level="default", seed=0)
    failed = {c.id for c in result.checks if c.verdict in ("fail", "error")}
    assert not result.conformant
    missing, extra = set(m.fails) - failed, failed - set(m.fails)
    messages = {c.id: c.message[:300] for c in result.checks if c.id in extra}
    assert not missing and not extra, (
        f"{name}: missed {sorted(missing)}, also failed {sorted(extra)}: {messages}")
    # the report's root causes: each group led by a check that owns its cause
    entry = result.to_json()["adapters"][0]
    explained = {c["id"] for c in entry["checks"] if c.get("explained_by")}
    for ids in entry["root_causes"].values():
        assert ids[0] not in explained, (name, entry["root_causes"])


@pytest.mark.parametrize("spec", ["reference", *CORRECT_VARIANTS])
def test_correct_implementations_conform_at_default(spec):
    fresh_start(0)
    result = api.check(spec, level="default", seed=0)
    assert result.conformant, [(c.id, c.message[:200]) for c in result.checks if not c.ok]


def test_a_seedless_stateful_mutant_reproduces_after_a_fresh_start():
    # calls-half-repeat has no seed and remembers its last mask: without fresh_start its
    # borderline consequences (expectation) changed with whatever ran before it
    runs = []
    for _ in range(2):
        fresh_start(0)
        result = api.check(MUTANTS["calls-half-repeat"].target, level="quick", seed=0,
                           checks=["drop-rate", "independence-calls"])
        runs.append([(c.id, c.verdict, c.message) for c in result.checks])
    assert runs[0] == runs[1]
