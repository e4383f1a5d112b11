"""Plumbing shared by the statistical checks: each check's Bonferroni shares, sub-test
bookkeeping and the verdict."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from conformance.checks.base import CheckContext, CheckPassed, Level
from conformance.checks.regions import region_definitions
from conformance.checks.settings import Setting
from conformance.errors import CheckFailed
from conformance.stats import StatResult

#: How many Bonferroni shares each statistical check splits ``ctx.alpha`` into: its sub-tests,
#: a function of the level and the adapter's dtypes.  Declared once, here: the check takes its
#: share with :func:`share`, and the space (checks/space.py) sizes the cells a sub-test reads
#: at the same share (:func:`subtests`), so the power it plans is the power the check has.
#: tests/test_power.py holds every check's sub-tests to its count and share.
SUBTESTS: dict[str, Callable[[Level, Sequence[str]], int]] = {
    # the exact test at each anchor p, every setting on its own, the omnibus over settings
    "drop-rate": lambda level, dtypes: len(level.p_grid) + 2,
    # one excess-rate test per region of the space, empty or not (no draw decides a share)
    "rate-homogeneity": lambda level, dtypes: len(region_definitions(dtypes)),
    # a chi-square per channel-positions cell (one per p of the short grid), and dispersion
    # per sample, per call and per channel across the batch
    "drop-count-distribution": lambda level, dtypes: len(level.short_grid) + 3,
    # max-|z| and omnibus, positions counted from the start and from the end
    "channel-uniformity": lambda level, dtypes: 4,
    "batch-uniformity": lambda level, dtypes: 4,
    # max and omnibus over channel lags; identical channel vectors within a call
    "independence-channels": lambda level, dtypes: 3,
    # max and omnibus over batch lags; the flattened (n, c) order; identical sample vectors
    "independence-batch": lambda level, dtypes: 4,
    # max and omnibus over call lags; identical whole-call masks across the run
    "independence-calls": lambda level, dtypes: 3,
    # one conditional excess test per class of input values
    "independence-values": lambda level, dtypes: 4,
    # the exact test at each anchor p inside (0, 1)
    "expectation": lambda level, dtypes: sum(0.0 < p < 1.0 for p in level.p_grid),
}

#: Repeats of masks are compared only where chance repeats are expected at most a
#: ``REPEAT_MARGIN``-th of the sub-test's share (each setting's part of it): one repeat then
#: rejects even if the observed rate makes chance repeats this many times likelier than the
#: claimed one.  The sequences of the space are sized for it.
REPEAT_MARGIN = 10


def subtests(check_id: str, level: Level, dtypes: Sequence[str] = ()) -> int:
    """The number of sub-tests (Bonferroni shares) of statistical check ``check_id``."""
    return SUBTESTS[check_id](level, tuple(dtypes))


def share(ctx: CheckContext, check_id: str) -> float:
    """One sub-test's share of ``ctx.alpha`` for check ``check_id`` (``ctx.share`` of its
    declared count)."""
    return ctx.share(subtests(check_id, ctx.level, [str(d) for d in ctx.dtypes]))


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


def conclude(results: list[StatResult], summary: str) -> CheckPassed:
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
    return CheckPassed(
        f"{summary}: {len(results)} sub-tests, largest MDE {mde:.3g}; "
        f"smallest p-value {worst.p_value:.3g} (alpha {worst.alpha:.3g})",
        stats=tuple(results),
    )
