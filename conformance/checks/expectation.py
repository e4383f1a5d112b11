"""R5: E[y] = x, with the exact variance of the dropout estimator and the dtype-rounded scale."""

from __future__ import annotations

import math

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._sampling import Sampler, Setting
from conformance.checks._stat import tag, verdict
from conformance.contract import keep_scale as scale_for
from conformance.stats import (
    expectation_sample_size,
    expectation_test,
    expectation_validity_sample_size,
)

SHAPE = (64, 128, 2, 2)


@check("expectation", requirement="R5", title="E[y] = x", kind="statistical", timeout_s=600)
def expectation(adapter: Adapter, ctx: CheckContext) -> Outcome:
    kinds = ("ones", "normal")
    settings = [Setting(p, SHAPE, kinds[i % 2]) for i, p in enumerate(ctx.level.p_grid)]
    alpha = ctx.alpha / len(settings)
    results = []
    for key, s in enumerate(settings):
        sampler = Sampler(ctx, s, key=key, record=True)
        first = np.stack([x[..., 0, 0] for x in sampler.inputs]).astype(np.float64)
        # The sample-size formula assumes |x| constant; unequal |x| wastes samples by the
        # factor (mean |x|)^2 / mean x^2, so ask for that many more.
        efficiency = float(np.mean(np.abs(first)) ** 2 / np.mean(first**2))
        m2 = float(np.mean(first**2))
        skew_factor = float(np.mean(np.abs(first) ** 3)) / m2**1.5
        kurt_factor = float(np.mean(first**4)) / m2**2
        # y/x has variance p/(1-p) per decision: above p = 0.5 the target relative bias grows
        # with its standard deviation, so every p costs the same n as p = 0.5 (a bias that
        # drop-rate and scale-exact already bound far more tightly there).
        target = ctx.level.expectation_mde * max(1.0, math.sqrt(s.p / (1 - s.p)))
        n = expectation_sample_size(target, s.p, alpha=alpha, beta=ctx.beta) / efficiency
        # ... and never fewer than the normal approximation needs to keep its alpha (at p far
        # from 0.5 the statistic is skewed; this, not power, then sets n)
        n = max(n, expectation_validity_sample_size(
            s.p, alpha=alpha, skew_factor=skew_factor, kurt_factor=kurt_factor))
        sampler.draw(max(1, -(-int(n) // s.per_call)))
        x, y = sampler.values()
        scale = float(scale_for(s.p, np.dtype(s.dtype)))
        result = expectation_test(
            y.reshape(-1), x.reshape(-1), s.p, scale=scale, alpha=alpha, beta=ctx.beta
        )
        results.append(tag(result, s))
    return verdict(results, "the mean output equals the input")
