"""Plumbing shared by the statistical checks: sub-test bookkeeping and the verdict."""

from __future__ import annotations

import math
import sys
from dataclasses import replace

from conformance.checks.base import Outcome
from conformance.checks.settings import Setting
from conformance.errors import CheckFailed
from conformance.stats import StatResult


def tag(result: StatResult, setting: Setting, **extra: object) -> StatResult:
    """Attach the grid point (and any extra context) to a sub-test's result."""
    return result.annotated(setting=setting.label(), p=setting.p, **extra)


def describe(s: StatResult) -> str:
    est = f"{s.estimate:.5g}" if s.estimate is not None else "-"
    ci = f" [{s.ci[0]:.5g}, {s.ci[1]:.5g}]" if s.ci else ""
    failing = s.failing
    where = f"; where: {'; '.join(failing[:3])}" if failing else ""
    return (
        f"{s.test} ({s.setting or ''}): observed {est}{ci}, "
        f"statistic {s.statistic:.4g}, p-value {s.p_value:.3g} vs alpha {s.alpha:.3g}, "
        f"n={s.n}{where}"
    )


def reportable(s: StatResult) -> StatResult:
    """The sub-test with every number JSON can carry: an infinite statistic (a count that a
    rate of exactly 0 or 1 makes impossible) becomes the largest float of its sign, an
    infinite MDE none (no effect is detectable); the report writes non-finite values of its
    named fields as text (``StatResult.report_detail``)."""
    big = sys.float_info.max

    def clip(x: float | None) -> float | None:
        return x if x is None or math.isfinite(x) else math.copysign(big, x)

    mde = s.mde if s.mde is None or math.isfinite(s.mde) else None
    ci = tuple(clip(c) for c in s.ci) if s.ci else None
    return replace(s, statistic=clip(s.statistic), mde=mde, estimate=clip(s.estimate), ci=ci)


def verdict(results: list[StatResult], summary: str) -> Outcome:
    """Fail with every rejected sub-test named, or pass with the summary (Bonferroni)."""
    results = [reportable(s) for s in results]
    rejected = [s for s in results if s.reject]
    if rejected:
        lines = "; ".join(describe(s) for s in rejected[:3])
        more = f" (+{len(rejected) - 3} more)" if len(rejected) > 3 else ""
        raise CheckFailed(
            f"{len(rejected)} of {len(results)} sub-tests reject: {lines}{more}",
            stats=tuple(results),
        )
    worst = min(results, key=lambda s: s.p_value / s.alpha)
    mde = max((s.mde or 0.0) for s in results)
    return Outcome(
        f"{summary}: {len(results)} sub-tests, largest MDE {mde:.3g}; "
        f"smallest p-value {worst.p_value:.3g} (alpha {worst.alpha:.3g})",
        stats=tuple(results),
    )
