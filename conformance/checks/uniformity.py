"""R3 at every position: channel-uniformity and batch-uniformity.

Each setting runs the per-position max-|z| test (Bonferroni over positions, powerful against
one bad position) beside the omnibus chi-square (powerful against many small deviations).
"""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._sampling import INPUT_KINDS, Sampler, Setting, sequential
from conformance.checks._stat import tag, verdict
from conformance.stats import homogeneity_chi2, homogeneity_sample_size, max_abs_z


def _uniformity(
    ctx: CheckContext, shape: tuple[int, int, int, int], axis: int, what: str
) -> Outcome:
    """``axis`` of the (calls, N, C) decisions holds the positions: 1 batch, 2 channel."""
    other = 3 - axis
    positions, per_call = shape[axis - 1], shape[other - 1]
    settings = [
        Setting(p, shape, INPUT_KINDS[i % len(INPUT_KINDS)])
        for i, p in enumerate(ctx.level.short_grid)
    ]
    alpha = ctx.alpha / (2 * len(settings))  # two sub-tests per setting
    results = []
    for key, s in enumerate(settings):
        trials = homogeneity_sample_size(
            ctx.level.position_mde, positions, s.p, alpha=alpha, beta=ctx.beta
        )
        calls = max(1, -(-trials // per_call))

        def counts(dropped: np.ndarray) -> tuple[np.ndarray, int]:
            # drops at each position, summed over calls and the other axis
            return dropped.sum(axis=(0, other)), dropped.shape[0] * dropped.shape[other]

        def test(dropped: np.ndarray, a: float, s: Setting = s):
            k, n = counts(dropped)
            return max_abs_z(k, n, s.p, alpha=a, beta=ctx.beta)

        result, data = sequential(Sampler(ctx, s, key=key), calls, test, alpha)
        k, n = counts(data)
        omnibus = homogeneity_chi2(k, n, s.p, alpha=result.alpha, beta=ctx.beta)
        results += [tag(result, s, positions=what), tag(omnibus, s, positions=what)]
    return verdict(results, f"drop rate equals p at every {what} position")


@check("channel-uniformity", requirement="R3", title="Same drop rate at every channel index",
       kind="statistical", timeout_s=600)
def channel_uniformity(adapter: Adapter, ctx: CheckContext) -> Outcome:
    return _uniformity(ctx, (64, 40, 2, 2), axis=2, what="channel")


@check("batch-uniformity", requirement="R3", title="Same drop rate at every batch index",
       kind="statistical", timeout_s=600)
def batch_uniformity(adapter: Adapter, ctx: CheckContext) -> Outcome:
    return _uniformity(ctx, (40, 64, 2, 2), axis=1, what="batch")
