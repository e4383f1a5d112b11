"""Measuring the suite itself: the false-alarm rate of a correct adapter across seeds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from conformance import battery
from conformance.api import check
from conformance.stats import clopper_pearson


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
    adapter: Any, *, runs: int, level: str = "default", first_seed: int = 1,
    family_alpha: float = battery.FAMILY_ALPHA, progress=None,
) -> Calibration:
    """Run the whole battery under ``runs`` seeds; every fail or error counts as an alarm.

    ``adapter`` is anything :func:`conformance.check` accepts; each run goes through it, so
    calibration measures exactly what users run.
    """
    start = time.perf_counter()
    per_check: dict[str, int] = {c.id: 0 for c in battery.battery()}
    family = 0
    seeds = tuple(range(first_seed, first_seed + runs))
    name = adapter if isinstance(adapter, str) else getattr(adapter, "name", None)
    for seed in seeds:
        result = check(adapter, level=level, seed=seed, family_alpha=family_alpha)
        name = result.adapter.get("name", name)
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
    return Calibration(str(name), level, runs, seeds, family_alpha, family, per_check, alphas,
                       time.perf_counter() - start)
