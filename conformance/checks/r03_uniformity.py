"""R3 at every position: channel-uniformity and batch-uniformity, over the settings space.

A position is a channel index (or a batch index) counted from the start and, separately, from
the end (an off-by-one at the last channel is as likely as one at the first).  Each position's
drops are pooled over every setting of the space that has it, each count standardised by its
own setting's p, and tested by a per-position max-|z| (Bonferroni over positions, powerful
against one bad position) beside the omnibus chi-square (powerful against many small
deviations).  The ``*-positions`` cells of the space (40 positions at each p of the short grid)
give every position the level's ``position_mde``; every other setting adds to it.
"""

from __future__ import annotations

import math

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import space as sp
from conformance.checks.base import CheckContext, Outcome, check
from conformance.checks.pooled import bonferroni_p, bonferroni_z, omnibus_chi2, significant
from conformance.checks.subtests import verdict
from conformance.stats import StatResult
from conformance.stats._scipy import stats  # imported on first use


def position_counts(
    draws: list[sp.Draw], axis: int, positions: int, from_end: bool,
    trials: np.ndarray | None = None, expected: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per position (0..positions-1): sum of (k - m p) and of m p q over every setting.

    ``trials`` and ``expected``, if given, receive each position's decisions m and expected
    drops m p (for the report's per-position picture).
    """
    excess = np.zeros(positions)
    var = np.zeros(positions)
    for d in draws:
        s = d.cell.setting
        dropped = d.dropped()
        other = 3 - axis
        k = dropped.sum(axis=(0, other)).astype(np.float64)
        m = dropped.shape[0] * dropped.shape[other]
        if from_end:
            k = k[::-1]
        use = min(positions, k.size)
        excess[:use] += k[:use] - m * s.p
        var[:use] += m * s.p * (1 - s.p)
        if trials is not None and expected is not None:
            trials[:use] += m
            expected[:use] += m * s.p
    return excess, var


def _picture(excess: np.ndarray, trials: np.ndarray, expected: np.ndarray) -> dict:
    """Per-position rates for the report's plot: each position's excess drop rate over its
    own expected rate, shown around the pooled expected rate (the settings' p differ)."""
    ok = trials > 0
    if ok.sum() < 2:
        return {}
    p_bar = float(expected[ok].sum() / trials[ok].sum())
    rates = p_bar + excess[ok] / trials[ok]
    return {"rates": [round(float(r), 6) for r in rates], "p": round(p_bar, 6),
            "trials": [int(t) for t in trials[ok]]}


def _tests(
    excess: np.ndarray, var: np.ndarray, *, alpha: float, beta: float, what: str,
    picture: dict | None = None,
) -> list[StatResult]:
    ok = var > 0
    z = excess[ok] / np.sqrt(var[ok])
    positions = int(ok.sum())
    worst = int(np.argmax(np.abs(z)))
    za = bonferroni_z(alpha, positions)
    zb = float(stats.norm.isf(beta))
    # In rate units at p = 1/2 for the weakest position (sd of a rate is sqrt(pq / m)).
    weakest = float(var[ok].min())
    failing = [f"{what} {i}: z {z[i]:.3g}" for i in significant(z, alpha)]
    index = int(np.flatnonzero(ok)[worst])
    rate = float(excess[index] / (4 * var[index]))  # excess rate at pq = 1/4
    maxz = StatResult(
        test="max-abs-z-pooled",
        statistic=float(z[worst]),
        p_value=bonferroni_p(z[worst], positions),
        alpha=alpha,
        n=int(4 * var[ok].sum()),
        mde=(za + zb) * math.sqrt(weakest) / (4 * weakest),
        estimate=rate,
        context={"setting": f"{what} {index}", "positions": positions, "failing": failing,
                "p": None, **(picture or {})},
    )
    omnibus = omnibus_chi2(
        z, alpha=alpha, beta=beta, weight=4 * float(var[ok].sum()), test="positions-chi2",
        context={"setting": f"positions 0..{positions - 1} ({what})", "positions": positions,
                "p": None},
    )
    return [maxz, omnibus]


def _uniformity(ctx: CheckContext, axis: int, what: str) -> Outcome:
    space = sp.space(ctx)
    alpha = ctx.share(sp.UNIFORMITY_SUBTESTS)
    cells = [c for c in space.cells if 0.0 < c.setting.p < 1.0]
    draws = sp.draws(ctx, cells)
    results = []
    for from_end in (False, True):
        trials, expected = np.zeros(sp.POSITIONS), np.zeros(sp.POSITIONS)
        excess, var = position_counts(draws, axis, sp.POSITIONS, from_end, trials, expected)
        label = f"{what} from the end" if from_end else what
        results += _tests(excess, var, alpha=alpha, beta=ctx.beta, what=label,
                          picture=_picture(excess, trials, expected))
    return verdict(results, f"drop rate equals p at every {what} position over "
                            f"{len(draws)} settings")


@check("channel-uniformity", requirement="R3", title="Same drop rate at every channel index",
       kind="statistical", timeout_s=900)
def channel_uniformity(adapter: Adapter, ctx: CheckContext) -> Outcome:
    return _uniformity(ctx, axis=2, what="channel")


@check("batch-uniformity", requirement="R3", title="Same drop rate at every batch index",
       kind="statistical", timeout_s=900)
def batch_uniformity(adapter: Adapter, ctx: CheckContext) -> Outcome:
    return _uniformity(ctx, axis=1, what="batch index")
