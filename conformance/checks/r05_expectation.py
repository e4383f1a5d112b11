"""R5: E[y] = x at each anchor p, from the space's shared draws, with an exact p-value.

Every kept map's first element gives the ratio y/x, which a correct implementation makes the
scale 1/(1-p) rounded to the dtype (within ``SCALE_ULPS``; dropped maps give 0).  So
``E[y/x] = s (1 - p)``, and its estimate ``sum(y/x) / n`` is the scale times the kept fraction
K/n with K ~ Binomial(n, 1 - p): the exact binomial p-value of K is the exact p-value of the
mean (``stats.expectation_test``), provided every kept ratio is the scale -- this check finds
the settings where a kept ratio leaves it, and the sub-test then fails outright (p-value 0)
and says so.  The anchors are sized (``stats.expectation_sample_size``) so that a relative
bias of the mean of ``level.expectation_mde`` (grown with y/x's standard deviation above
p = 0.5: ``space.expectation_target``) is found with power 1 - beta.
"""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter, dtype_finfo
from conformance.checks import pool
from conformance.checks import space as sp
from conformance.checks.assertions import SCALE_ULPS
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.subtests import conclude, share
from conformance.contract import keep_scale as scale_for  # the contract's, not the reference's
from conformance.stats import StatResult, expectation_test


def _tolerance(dtype: str) -> float:
    return SCALE_ULPS * float(dtype_finfo(dtype).eps)  # bfloat16 too (ml_dtypes)


def _mean_test(draws: list[pool.Draw], p: float, *, alpha: float, beta: float) -> StatResult:
    """The anchor's draws pooled: their kept count and kept ratios, and the settings whose kept
    ratios leave the dtype's scale (which fail the sub-test outright)."""
    off = []
    for d in draws:
        s = d.cell.setting
        scale = float(scale_for(p, np.dtype(s.dtype)))
        tol = _tolerance(s.dtype) * scale
        if d.kept and (d.ratio_min < scale - tol or d.ratio_max > scale + tol):
            off.append(f"{s.label()}: kept y/x in [{d.ratio_min:.8g}, {d.ratio_max:.8g}], "
                       f"scale {scale:.8g}")
    return expectation_test(sum(d.kept for d in draws), sum(d.n for d in draws),
                            sum(d.ratio_sum for d in draws), p, alpha=alpha, beta=beta,
                            scale_off=off, label=f"p={p:g}, pooled over {len(draws)} settings")


@register("expectation", requirement="R5", title="E[y] = x", kind="statistical", timeout_s=900)
def expectation(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    space = sp.space(ctx)
    grid = [p for p in ctx.level.p_grid if 0.0 < p < 1.0]
    alpha = share(ctx, "expectation")
    results = []
    for p in grid:
        result = _mean_test(pool.draws(ctx, space.at(p)), p, alpha=alpha, beta=ctx.beta)
        results.append(result)
    return conclude(results, "the mean output equals the input")
