"""Measuring the suite itself: the false-alarm rate across seeds (``calibrate``) and the
planned power, sample sizes and time of each statistical check (``power``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from conformance import battery, harness
from conformance.adapters.base import Adapter
from conformance.checks import CheckContext
from conformance.runner import RunConfig, Runner


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact interval for a rate observed as k of n."""
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class Calibration:
    """False alarms of a (correct) adapter over ``runs`` seeds, family-wise and per check."""

    adapter: str
    level: str
    runs: int
    seeds: tuple[int, ...]
    family_alpha: float
    family_alarms: int
    per_check: dict[str, int]
    per_check_alpha: dict[str, float | None]
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        low, high = clopper_pearson(self.family_alarms, self.runs)
        checks = {}
        for cid, k in self.per_check.items():
            lo, hi = clopper_pearson(k, self.runs)
            checks[cid] = {"alarms": k, "rate": k / self.runs, "ci95": [lo, hi],
                           "alpha": self.per_check_alpha[cid]}
        return {
            "adapter": self.adapter,
            "level": self.level,
            "runs": self.runs,
            "seeds": list(self.seeds),
            "family_alpha": self.family_alpha,
            "family_alarms": self.family_alarms,
            "family_rate": self.family_alarms / self.runs,
            "family_ci95": [low, high],
            # the budget is consistent with the data unless the interval lies wholly above it
            "consistent_with_budget": low <= self.family_alpha,
            "checks": checks,
            "wall_s": round(self.wall_s, 2),
        }


def calibrate(
    adapter: Adapter, *, runs: int, level: str = "default", first_seed: int = 1,
    family_alpha: float = battery.FAMILY_ALPHA, progress=None,
) -> Calibration:
    """Run the whole battery under ``runs`` seeds; every fail or error counts as an alarm."""
    start = time.perf_counter()
    per_check: dict[str, int] = {c.id: 0 for c in battery.battery()}
    family = 0
    seeds = tuple(range(first_seed, first_seed + runs))
    for seed in seeds:
        result = Runner(RunConfig(level=level, seed=seed, family_alpha=family_alpha)).run_adapter(
            adapter
        )
        alarms = [c.id for c in result.checks if not c.ok]
        for cid in alarms:
            per_check[cid] += 1
        family += bool(alarms)
        if progress:
            progress(seed, alarms)
    alphas = {
        c.id: battery.check_alpha(family_alpha) if c.kind == "statistical" else None
        for c in battery.battery()
    }
    return Calibration(adapter.name, level, runs, seeds, family_alpha, family, per_check, alphas,
                       time.perf_counter() - start)


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
