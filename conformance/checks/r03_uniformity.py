"""R3 at every position: channel-uniformity and batch-uniformity, over the settings space.

A position is a channel index (or a batch index) counted from the start and, separately, from
the end (an off-by-one at the last channel is as likely as one at the first).  Each position's
drops are pooled over every setting of the space that has it, each compared with its own
setting's *observed* rate (conditional on the setting's count, ``stats.conditional_z``: a rate
that is wrong for a whole setting is drop-rate's fault, not a position's), and tested by a
per-position max-|z| (Bonferroni over positions, powerful against one bad position) beside the
omnibus chi-square (powerful against many small deviations): ``stats.positions_test``.
The ``*-positions`` cells of the space (40 positions at each p of the short grid)
give every position the level's ``position_mde``; every other setting adds to it.
"""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import pool
from conformance.checks import space as sp
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.subtests import conclude, share
from conformance.stats import (
    ConditionalZ,
    PositionRates,
    StatResult,
    conditional_z,
    positions_test,
)


def position_counts(
    draws: list[pool.Draw], axis: int, positions: int, from_end: bool,
) -> tuple[ConditionalZ, np.ndarray, np.ndarray]:
    """Per position (0..positions-1): conditional z pooled over every setting, each
    position's drops compared with its setting's own observed rate; and each position's
    decisions and drops (for the report's picture)."""
    k = np.zeros((positions, len(draws)))
    m = np.zeros_like(k)
    big_k = np.zeros(len(draws))
    big_m = np.zeros(len(draws))
    for j, d in enumerate(draws):
        dropped = d.dropped()
        other = 3 - axis
        counts = dropped.sum(axis=(0, other)).astype(np.float64)
        if from_end:
            counts = counts[::-1]
        use = min(positions, counts.size)
        k[:use, j] = counts[:use]
        m[:use, j] = dropped.shape[0] * dropped.shape[other]
        big_k[j], big_m[j] = float(d.k), float(d.n)
    return conditional_z(k, m, big_k, big_m), m.sum(axis=1), k.sum(axis=1)


def _picture(c: ConditionalZ, trials: np.ndarray, drops: np.ndarray) -> PositionRates | None:
    """Per-position rates for the report's plot: each position's excess over its settings'
    own rates, shown around the pooled rate (the settings' p differ)."""
    ok = trials > 0
    if ok.sum() < 2:
        return None
    p_bar = float(drops[ok].sum() / trials[ok].sum())
    rates = p_bar + c.excess[ok] / trials[ok]
    return PositionRates(rates=tuple(round(float(r), 6) for r in rates), p=round(p_bar, 6),
                         trials=tuple(int(t) for t in trials[ok]))


def _uniformity(ctx: CheckContext, axis: int, what: str, check_id: str) -> CheckPassed:
    space = sp.space(ctx)
    alpha = share(ctx, check_id)
    cells = [c for c in space.cells if 0.0 < c.setting.p < 1.0]
    draws = pool.draws(ctx, cells)
    results: list[StatResult] = []
    for from_end in (False, True):
        c, trials, drops = position_counts(draws, axis, sp.POSITIONS, from_end)
        label = f"{what} from the end" if from_end else what
        results += positions_test(c, alpha=alpha, beta=ctx.beta, what=label,
                                  picture=_picture(c, trials, drops))
    return conclude(results, f"drop rate is the same at every {what} position over "
                            f"{len(draws)} settings (each at its own observed rate)")


@register("channel-uniformity", requirement="R3", title="Same drop rate at every channel index",
          kind="statistical", timeout_s=900)
def channel_uniformity(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    return _uniformity(ctx, axis=2, what="channel", check_id="channel-uniformity")


@register("batch-uniformity", requirement="R3", title="Same drop rate at every batch index",
          kind="statistical", timeout_s=900)
def batch_uniformity(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    return _uniformity(ctx, axis=1, what="batch index", check_id="batch-uniformity")
