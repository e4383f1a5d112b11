"""R3, the drop rate, over the whole settings space (checks/space.py):

* drop-rate: the exact binomial at each anchor p (pooled over its settings), every setting of
  the space on its own (a fault in a narrow band of p, or in one odd setting, shows there) and
  an omnibus over all settings (many small faults add up);
* rate-homogeneity: the rate must not depend on the setting -- one test per kind of setting
  (batch size 1, unbatched 3D, 1x1 maps, many channels, large maps, each dtype, layout and
  input kind, p near 0 or 1), each pooling every setting of its kind;
* drop-count-distribution: dispersion of dropped counts at every level of aggregation (per
  sample, per call, per channel position across the batch) and the per-sample count
  distribution against Binomial(C, p).
"""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import pool
from conformance.checks import space as sp
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.regions import Region, region_definitions
from conformance.checks.subtests import conclude, share, tag
from conformance.stats import (
    binomial_count_gof_test,
    binomial_test,
    dispersion_test,
    excess_rate_test,
    homogeneity_chi2_test,
    max_abs_z_test,
)


def _counts(draws: list[pool.Draw]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    k = np.array([d.k for d in draws], np.int64)
    n = np.array([d.n for d in draws], np.int64)
    p = np.array([d.cell.setting.p for d in draws])
    return k, n, p, [d.cell.label() for d in draws]


def _testable(cells: list[sp.Cell]) -> list[sp.Cell]:
    """Settings whose p is strictly inside (0, 1): a rate of exactly 0 or 1 has no variance."""
    return [c for c in cells if 0.0 < c.setting.p < 1.0]


@register("drop-rate", requirement="R3", title="Drop rate equals p (exact binomial, every setting)",
          kind="statistical", timeout_s=900, reads_whole_space=True)
def drop_rate(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    space = sp.space(ctx)
    alpha = share(ctx, "drop-rate")
    results = []
    for p in ctx.level.p_grid:
        draws = pool.draws(ctx, space.at(p))
        k, n = sum(d.k for d in draws), sum(d.n for d in draws)
        result = binomial_test(k, n, p, alpha=alpha, beta=ctx.beta)
        label = f"p={p:g}, pooled over {len(draws)} settings"
        results.append(result.annotated(setting=label, p=p,
                                        settings=[d.cell.label() for d in draws]))
    draws = pool.draws(ctx, _testable(list(space.cells)))
    k, n, p, labels = _counts(draws)
    # every setting on its own (Bonferroni over settings): a narrow band of p, one odd setting
    every = max_abs_z_test(k, n, p, alpha=alpha, beta=ctx.beta, labels=labels)
    results.append(every.annotated(settings=int(k.size)))
    omnibus = homogeneity_chi2_test(k, n, p, alpha=alpha, beta=ctx.beta)
    results.append(omnibus.annotated(p=None, setting=f"all {len(draws)} settings"))
    return conclude(results, f"drop rate equals p at {len(draws)} settings, p in [{p.min():.3g}, "
                            f"{p.max():.3g}]")


def homogeneity_groups(ctx: CheckContext) -> list[tuple[Region, list[sp.Cell]]]:
    """The non-empty regions of the run's space (fixed by the space: no draw decides them)."""
    cells = _testable(list(sp.space(ctx).cells))
    found = [(r, [c for c in cells if r.member(c.setting)]) for r in region_definitions(
        [str(d) for d in ctx.dtypes])]
    return [(r, members) for r, members in found if members]


@register("rate-homogeneity", requirement="R3",
          title="Drop rate does not depend on shape, dtype, layout or input kind",
          kind="statistical", timeout_s=900)
def drop_rate_homogeneity(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    """One excess-rate test per region of the space (checks/regions.py); each sub-test's MDE
    is the guarantee the run reached in that region (``relative_mde`` near p = 0 and 1)."""
    found = homogeneity_groups(ctx)
    # the share of every defined region, empty or not: the space was sized with the same
    alpha = share(ctx, "rate-homogeneity")
    results = []
    for region, members in found:
        k, n, p, _ = _counts(pool.draws(ctx, members))
        label = f"{region.label}: {len(members)} settings, p in [{p.min():.3g}, {p.max():.3g}]"
        result = excess_rate_test(k, n, p, alpha=alpha, beta=ctx.beta, label=label)
        results.append(result.annotated(region=region.label, guarantee=(
            "relative" if region.relative else "never-drops" if region.extreme else "absolute")))
    return conclude(results, f"the drop rate is the same in {len(found)} regions of the space")


#: counts need at least this many decisions at a non-extreme rate to enter the dispersion
MIN_TRIALS = 8
#: at most this many counts in all enter one dispersion test (each setting gives its first
#: ones, an equal share): enough for power, and memory stays flat at thorough level (the
#: saddlepoint works per count)
MAX_COUNTS = 2_000_000


@register("drop-count-distribution", requirement="R3",
          title="Dropped counts per sample, per call and per channel are binomial",
          kind="statistical", timeout_s=900)
def drop_count_distribution(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    space = sp.space(ctx)
    alpha = share(ctx, "drop-count-distribution")
    results = []
    for d in pool.draws(ctx, space.family("channel-positions")):
        s = d.cell.setting
        counts = d.dropped().sum(axis=-1).reshape(-1)
        # the shape of the distribution at the setting's own rate: a wrong rate is drop-rate's
        results.append(tag(binomial_count_gof_test(counts, s.channels, s.p, alpha=alpha,
                                                   beta=ctx.beta, fit_rate=True), s))
    cells = [c for c in _testable(list(space.cells)) if 0.01 <= c.setting.p <= 0.99]
    draws = pool.draws(ctx, cells)
    levels: dict[str, list] = {"per sample": [], "per call": [],
                               "per channel across the batch": []}
    first = max(1000, MAX_COUNTS // max(1, len(draws)))
    for d in draws:
        s = d.cell.setting
        dropped = d.dropped()
        if s.channels >= MIN_TRIALS:
            counts = dropped.sum(axis=2).reshape(-1)[:first]
            levels["per sample"].append((counts, s.channels))
        levels["per call"].append((dropped.sum(axis=(1, 2)), s.per_call))
        if s.batch >= MIN_TRIALS:
            counts = dropped.sum(axis=1).reshape(-1)[:first]
            levels["per channel across the batch"].append((counts, s.batch))
    for name, parts in levels.items():
        # each setting at its own observed rate (conditional on its count): dispersion, not
        # the rate, is what this test sees
        parts = [(c, m, c.sum() / (c.size * m)) for c, m in parts]
        parts = [(c, m, r) for c, m, r in parts if 0.0 < r < 1.0]
        counts = np.concatenate([c.reshape(-1) for c, _, _ in parts])
        trials = np.concatenate([np.full(c.size, m) for c, m, _ in parts])
        rates = np.concatenate([np.full(c.size, r) for c, _, r in parts])
        strata = np.concatenate([np.full(c.size, i) for i, (c, _, _) in enumerate(parts)])
        result = dispersion_test(counts, trials, rates, alpha=alpha, beta=ctx.beta,
                                 fitted=strata)
        label = f"counts {name}, {len(parts)} settings, each at its observed rate"
        results.append(result.annotated(setting=label, p=None))
    return conclude(results, "dropped counts are binomial per sample, per call and per channel")
