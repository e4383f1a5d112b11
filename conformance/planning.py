"""The plan behind ``dropout2d-conformance power``: each statistical check's sub-tests, sample
sizes, MDE and expected time, computed by the checks' own code on a simulated correct
implementation (dry run)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from conformance import battery, harness
from conformance.adapters.base import Adapter
from conformance.checks import CheckContext


def decision_cost(adapter: Adapter, *, budget_s: float = 0.3) -> tuple[float, float]:
    """(seconds per call, seconds per channel decision) through the suite's harness, from
    timing a 1-decision and a 16,384-decision float32 input (conversion and mask extraction
    included, statistics not)."""

    def per_call(shape: tuple[int, int, int, int]) -> float:
        x = np.ones(shape, np.float32)
        harness.forward(adapter, x, 0.5)  # warm-up (compilation, allocation)
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < budget_s / 2 or calls < 3:
            harness.forward(adapter, x, 0.5)
            calls += 1
        return (time.perf_counter() - start) / calls

    small, large = per_call((1, 1, 2, 2)), per_call((64, 256, 2, 2))
    return small, max(0.0, large - small) / (64 * 256 - 1)


#: what each statistical test's MDE measures
MDE_UNITS = {
    "binomial-exact": "absolute drop rate",
    "chi2-gof-binomial": "Cohen's w",
    "max-abs-z-bonferroni": "drop rate at one position",
    "independence-2x2": "|phi| between decisions",
    "expectation-z": "relative bias of E[y]",
}


def plan(level: str, *, family_alpha: float = battery.FAMILY_ALPHA,
         beta: float = battery.BETA) -> list[dict[str, Any]]:
    """Per statistical check at ``level``: sub-tests, decisions needed and the largest MDE.

    The checks' own code runs in dry-run mode (a simulated correct implementation), so the
    numbers are exactly the ones a real run uses.
    """
    rows = []
    for check in battery.battery(battery.STATISTICAL):
        ctx = CheckContext(adapter=Adapter(), level=battery.LEVELS[level], seed=0,
                           alpha=battery.check_alpha(family_alpha), beta=beta, dry_run=True)
        outcome = check.fn(ctx.adapter, ctx)
        # The MDE of the check's first kind of sub-test, in that test's unit (the kinds differ).
        first = outcome.stats[0].test
        rows.append({
            "check": check.id,
            "level": level,
            "subtests": len(outcome.stats),
            "decisions": ctx.decisions,
            "calls": ctx.calls,
            "mde": max((s.mde or 0.0) for s in outcome.stats if s.test == first),
            "unit": MDE_UNITS.get(first, first),
            "alpha": ctx.alpha,
            "beta": beta,
        })
    return rows
