"""R3, the drop rate: drop-rate (exact binomial) and drop-count-distribution (chi-square)."""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._sampling import INPUT_KINDS, Sampler, Setting, calls_for, sequential
from conformance.checks._stat import tag, verdict
from conformance.stats import (
    binomial_count_gof,
    binomial_pvalues,
    binomial_sample_size,
    binomial_test,
    chi2_gof_sample_size,
)

#: a wide batch of many channels, and a long batch of few channels with odd map sizes
RATE_SHAPES: tuple[tuple[int, int, int, int], ...] = ((64, 256, 2, 2), (2048, 3, 3, 5))


def rate_settings(ctx: CheckContext) -> list[Setting]:
    """p x shape, with the input kinds and the adapter's dtypes rotating over the grid: R3
    holds for every dtype, and a rate computed in low precision shows at some p."""
    grid = [(p, shape) for p in ctx.level.p_grid for shape in RATE_SHAPES]
    dtypes = [str(d) for d in ctx.dtypes]
    return [
        Setting(p, shape, INPUT_KINDS[i % 3], dtypes[(i // 3) % len(dtypes)])
        for i, (p, shape) in enumerate(grid)
    ]


@check("drop-rate", requirement="R3", title="Drop rate equals p (exact binomial)",
       kind="statistical", timeout_s=600)
def drop_rate(adapter: Adapter, ctx: CheckContext) -> Outcome:
    settings = rate_settings(ctx)
    alpha = ctx.alpha / len(settings)  # Bonferroni over the grid
    results = []
    for key, s in enumerate(settings):
        # An absolute MDE is weak at p = 0.01 (0.005 would be 50 %): bound it relative to
        # min(p, 1-p) too, so a 10 % bias of a small rate is found at default level.
        mde = min(ctx.level.drop_rate_mde, ctx.level.drop_rate_rel_mde * min(s.p, 1 - s.p))
        n = binomial_sample_size(mde, s.p, alpha=alpha, beta=ctx.beta)

        def test(dropped: np.ndarray, a: float, s: Setting = s):
            return binomial_test(int(dropped.sum()), int(dropped.size), s.p, alpha=a,
                                 beta=ctx.beta)

        def screen(dropped: np.ndarray, a: float, s: Setting = s) -> bool:
            k = np.array([dropped.sum()])
            return bool(binomial_pvalues(k, dropped.size, s.p)[0] <= a)

        result, _ = sequential(
            Sampler(ctx, s, key=key), calls_for(n, s), test, alpha, screen=screen
        )
        results.append(tag(result, s))
    return verdict(results, f"drop rate equals p at p in {list(ctx.level.p_grid)}")


#: one sample's channels: enough for a rich count distribution, few enough to draw many samples
COUNT_SHAPE = (128, 32, 2, 2)


@check("drop-count-distribution", requirement="R3",
       title="Dropped channels per sample ~ Binomial(C, p)", kind="statistical", timeout_s=600)
def drop_count_distribution(adapter: Adapter, ctx: CheckContext) -> Outcome:
    settings = [
        Setting(p, COUNT_SHAPE, INPUT_KINDS[i % len(INPUT_KINDS)])
        for i, p in enumerate(ctx.level.p_grid)
    ]
    alpha = ctx.alpha / len(settings)
    channels = COUNT_SHAPE[1]
    results = []
    for key, s in enumerate(settings):
        # df = C bounds the pooled degrees of freedom from above, so n is conservative.
        samples = chi2_gof_sample_size(ctx.level.gof_w, channels, alpha=alpha, beta=ctx.beta)

        def test(dropped: np.ndarray, a: float, s: Setting = s):
            counts = dropped.sum(axis=-1).reshape(-1)
            return binomial_count_gof(counts, channels, s.p, alpha=a, beta=ctx.beta)

        calls = max(1, -(-samples // COUNT_SHAPE[0]))
        result, _ = sequential(Sampler(ctx, s, key=key), calls, test, alpha)
        results.append(tag(result, s))
    return verdict(results, "per-sample drop counts follow Binomial(C, p)")
