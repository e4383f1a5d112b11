"""The `power` command: the plan of a run at each level -- the settings space, and each
statistical check's sub-tests with their n, MDE and alpha, computed by the checks' own code on a
simulated correct implementation (dry run), and the expected time of drawing it all.

Sample sizes are closed-form functions of the level, the seed and the adapter's capabilities
(checks/space.py), so the plan is exactly what a real run draws and tests.
"""

from __future__ import annotations

import shutil
import textwrap
import time
from collections import Counter
from typing import Any

import numpy as np

from conformance import battery
from conformance.adapters.base import Adapter
from conformance.checks import CheckContext, calling
from conformance.checks import space as sp
from conformance.checks.regions import (
    Guarantee,
    format_guarantees,
    guarantees,
    region_definitions,
)
from conformance.checks.subtests import share


def decision_cost(adapter: Adapter, *, budget_s: float = 0.3) -> tuple[float, float]:
    """(seconds per call, seconds per channel decision) through the suite's calls
    (checks/calling.py), from timing a 1-decision and a 16,384-decision float32 input
    (conversion and mask extraction included, statistics not)."""

    def per_call(shape: tuple[int, int, int, int]) -> float:
        x = np.ones(shape, np.float32)
        calling.forward(adapter, x, 0.5)  # warm-up (compilation, allocation)
        calls, start = 0, time.perf_counter()
        while time.perf_counter() - start < budget_s / 2 or calls < 3:
            calling.forward(adapter, x, 0.5)
            calls += 1
        return (time.perf_counter() - start) / calls

    small, large = per_call((1, 1, 2, 2)), per_call((64, 256, 2, 2))
    return small, max(0.0, large - small) / (64 * 256 - 1)


#: what each statistical test's MDE measures
MDE_UNITS = {
    "binomial-exact": "absolute drop rate",
    "rate-homogeneity-max-z": "absolute drop rate",
    "rate-homogeneity-chi2": "rms rate shift",
    "excess-rate-z": "absolute drop rate",
    "omnibus-chi2": "rms standardised rate shift",
    "chi2-gof-binomial": "Cohen's w",
    "dispersion-variance-ratio": "relative variance change",
    "max-abs-z-conditional": "drop rate at one position",
    "conditional-excess-z": "drop rate of marked maps",
    "positions-chi2": "rms standardised rate shift",
    "max-lag-z": "|phi| between decisions",
    "lag-omnibus-chi2": "rms |phi| over lags",
    "flattened-max-lag-z": "|phi| between decisions",
    "identical-masks": "one repeat",
    "expectation-exact": "relative bias of E[y]",
}


def _context(level: str, adapter: Adapter, seed: int, family_alpha: float,
             beta: float) -> CheckContext:
    return CheckContext(adapter=adapter, level=battery.LEVELS[level], seed=seed,
                        alpha=battery.check_alpha(family_alpha), beta=beta, dry_run=True,
                        run_seed=seed)


def plan(level: str, *, adapter: Adapter | None = None, seed: int = 0,
         family_alpha: float = battery.FAMILY_ALPHA, beta: float = battery.BETA,
         ) -> list[dict[str, Any]]:
    """Per statistical check at ``level``: its sub-tests, the decisions it reads and its MDEs.

    Each check runs alone on an empty cache (as ``--check X`` would), so ``decisions`` and
    ``calls`` are what it reads; a full run draws each setting once for all checks
    (:func:`space_summary`).  ``mde`` is the largest MDE among the sub-tests of the check's
    first kind, in that test's unit; ``subtest_rows`` lists every sub-test.
    """
    adapter = adapter or Adapter()
    rows = []
    for check in battery.battery(battery.STATISTICAL):
        ctx = _context(level, adapter, seed, family_alpha, beta)
        outcome = check.fn(ctx.adapter, ctx)
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
            "subtest_rows": [
                {"test": s.test, "setting": str(s.setting or ""), "n": s.n,
                 "mde": s.mde, "unit": MDE_UNITS.get(s.test, s.test), "alpha": s.alpha}
                for s in outcome.stats
            ],
        })
    return rows


def space_summary(level: str, *, adapter: Adapter | None = None, seed: int = 0,
                  family_alpha: float = battery.FAMILY_ALPHA,
                  beta: float = battery.BETA) -> dict[str, Any]:
    """The run's settings: cells per family and per category, decisions and calls in all."""
    ctx = _context(level, adapter or Adapter(), seed, family_alpha, beta)
    space = sp.space(ctx)
    families: Counter = Counter()
    decisions: Counter = Counter()
    calls: Counter = Counter()
    for c in space.cells:
        key = c.family if c.family != "sweep" else f"sweep/{c.category}"
        families[key] += 1
        decisions[key] += c.decisions
        calls[key] += c.calls
    ps = sorted({c.setting.p for c in space.cells})
    return {
        "level": level, "settings": len(space.cells), "decisions": space.decisions,
        "calls": space.calls, "distinct_p": len(ps), "p_range": (ps[0], ps[-1]),
        "families": {k: (families[k], decisions[k], calls[k]) for k in sorted(families)},
        "dtypes": sorted({c.setting.dtype for c in space.cells}),
        "memories": sorted({c.setting.memory for c in space.cells}),
        "kinds": sorted({c.setting.kind for c in space.cells}),
    }


def region_guarantees(level: str, *, adapter: Adapter | None = None, seed: int = 0,
                      family_alpha: float = battery.FAMILY_ALPHA,
                      beta: float = battery.BETA) -> list[Guarantee]:
    """The drop-rate MDE the run reaches in each region of its space (checks/regions.py), at
    rate-homogeneity's share of the budget: what a CONFORMANT verdict guarantees where."""
    ctx = _context(level, adapter or Adapter(), seed, family_alpha, beta)
    regions = region_definitions([str(d) for d in ctx.dtypes])
    return guarantees([(c.setting, c.decisions) for c in sp.space(ctx).cells], regions,
                      alpha=share(ctx, "rate-homogeneity"), beta=beta)


def region_lines(level: str, *, adapter: Adapter | None = None, seed: int = 0,
                 width: int | None = None) -> list[str]:
    """The region table as ``power`` prints it, headed by the level's targets (wrapped to
    ``width``, default :func:`plan_width`)."""
    lvl = battery.LEVELS[level]
    head = (f"guarantee per region (drop-rate MDE at power {1 - battery.BETA:g}; target "
            f"{lvl.region_mde:g} absolute, {lvl.region_rel_mde:.0%} of min(p, 1-p) next to "
            "0 and 1):")
    table = format_guarantees(region_guarantees(level, adapter=adapter, seed=seed),
                              absolute=lvl.region_mde, relative=lvl.region_rel_mde)
    return [*_fill(head, width or plan_width(), "   "), *table]


def _fill(text: str, width: int, indent: str, hang: str | None = None) -> list[str]:
    """``text`` wrapped to ``width`` (no word broken, so no "2 cal" or "52 setting")."""
    return textwrap.wrap(text, width=width, initial_indent=indent,
                         subsequent_indent=hang if hang is not None else indent + "  ",
                         break_long_words=False, break_on_hyphens=False) or [indent]


def plan_width() -> int:
    """The width ``power`` writes to: the terminal's (or ``COLUMNS``), 100 in a pipe, within
    [60, 160]."""
    return min(max(shutil.get_terminal_size((100, 24)).columns, 60), 160)


def format_plan(levels: list[str] | str, adapter: Adapter | None = None, *, seed: int = 0,
                timing: bool = True, width: int | None = None) -> str:
    """The plan as text: per level the space, then every check's sub-tests (n, MDE, alpha),
    wrapped to ``width`` columns (default :func:`plan_width`)."""
    adapter = adapter or Adapter()
    width = width or plan_width()
    levels = [levels] if isinstance(levels, str) else list(levels)
    lines: list[str] = []
    per_call = per_decision = 0.0
    if timing:
        per_call, per_decision = decision_cost(adapter)
        lines += _fill(f"expected times from {adapter.name}: {per_call * 1e6:.0f} us per call "
                       f"+ {per_decision * 1e9:.0f} ns per channel decision (as the checks "
                       f"call); F = {battery.FAMILY_ALPHA:g}, beta = {battery.BETA:g}, "
                       f"seed {seed}", width, "")
    units = ", ".join(f"{test}: {unit}" for test, unit in MDE_UNITS.items())
    lines += _fill(f"MDE units: {units}", width, "")
    for level in levels:
        summary = space_summary(level, adapter=adapter, seed=seed)
        seconds = summary["calls"] * per_call + summary["decisions"] * per_decision
        lines.append("")
        lines += _fill(
            f"== {level}: {summary['settings']} settings, {summary['decisions']:,} decisions "
            f"in {summary['calls']:,} calls (drawn once, read by every check)"
            + (f", about {seconds:.1f} s of drawing" if timing else ""), width, "", "   ")
        lines += _fill(f"{summary['distinct_p']} distinct p in [{summary['p_range'][0]:.3g}, "
                       f"{summary['p_range'][1]:.3g}]; dtypes {', '.join(summary['dtypes'])}; "
                       f"layouts {', '.join(summary['memories'])}; inputs "
                       f"{', '.join(summary['kinds'])}", width, "   ", "     ")
        w_family = max(len(f) for f in summary["families"])
        for family, (cells, decisions, calls) in summary["families"].items():
            lines.append(f"   {family:<{w_family}} {cells:>4} settings {decisions:>11,} "
                         f"decisions {calls:>7,} calls")
        lines += region_lines(level, adapter=adapter, seed=seed, width=width)
        for row in plan(level, adapter=adapter, seed=seed):
            lines += _fill(f"{row['check']} ({row['subtests']} sub-tests, alpha "
                           f"{row['alpha']:.3g} in all; reads {row['decisions']:,} decisions)",
                           width, "  ", "      ")
            w_test = max(len(s["test"]) for s in row["subtest_rows"])
            for s in row["subtest_rows"]:
                mde = f"{s['mde']:.4g}" if s["mde"] is not None else "-"
                head = (f"     {s['test']:<{w_test}}  n={s['n']:>11,}  MDE {mde:>9}  "
                        f"alpha {s['alpha']:<8.3g}")
                # the setting follows on the same line where it fits, else on its own lines
                if len(head) + 2 + len(s["setting"]) <= width:
                    lines.append(f"{head}  {s['setting']}".rstrip())
                else:
                    lines.append(head.rstrip())
                    lines += _fill(s["setting"], width, " " * 8, " " * 10)
    return "\n".join(lines)


__all__ = ["MDE_UNITS", "decision_cost", "format_plan", "plan", "plan_width", "region_guarantees",
           "region_lines", "space_summary"]
