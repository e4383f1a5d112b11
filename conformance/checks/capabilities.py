"""Checks of optional capabilities: determinism under a seed (R10) and the gradient (R11)."""

from __future__ import annotations

import numpy as np

from conformance import harness
from conformance.adapters.base import Adapter
from conformance.checks._assert import assert_bitwise_equal, assert_scaled
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._inputs import extract_keep_mask, nonzero_values
from conformance.errors import CheckFailed


@check("determinism", requirement="R10", title="Same seed, same output; other seed, other mask")
def determinism(adapter: Adapter, ctx: CheckContext) -> Outcome:
    ctx.require("seed")
    rng = ctx.rng()
    shape = (16, 64, 3, 3)  # 1024 decisions: two independent masks agree with prob. 2**-1024
    x = nonzero_values(rng, shape, ctx.dtypes[0])
    outputs = []
    for seed in (ctx.seed, ctx.seed, ctx.seed + 1):
        harness.seed_adapter(adapter, seed)
        first = ctx.forward(x, 0.5).y
        second = ctx.forward(x, 0.5).y
        outputs.append((first, second))
    (a1, a2), (b1, b2), (c1, _) = outputs
    assert_bitwise_equal(actual=b1, expected=a1, what="first output after re-seeding",
                         where=f"seed={ctx.seed}")
    assert_bitwise_equal(actual=b2, expected=a2, what="second output after re-seeding",
                         where=f"seed={ctx.seed}")
    mask_a = extract_keep_mask(x=x, y=a1, where="determinism")
    mask_c = extract_keep_mask(x=x, y=c1, where="determinism")
    if np.array_equal(mask_a, mask_c):
        raise CheckFailed(
            f"seeds {ctx.seed} and {ctx.seed + 1} gave the same mask over {mask_a.size} "
            "decisions (probability 2**-1024 if the seed is used): the seed is ignored"
        )
    return Outcome(
        "re-seeding reproduced two successive outputs bit for bit; another seed gave "
        "another mask"
    )


@check("gradient", requirement="R11", title="Input gradient is upstream * mask * s")
def gradient(adapter: Adapter, ctx: CheckContext) -> Outcome:
    ctx.require("autograd")
    rng = ctx.rng()
    cases = 0
    for dtype in ctx.dtypes:
        for p in (0.2, 0.5, 0.9):
            shape = (8, 32, 3, 5)
            x = nonzero_values(rng, shape, dtype)
            upstream = nonzero_values(rng, shape, dtype)
            where = f"gradient, p={p}, {dtype}"
            y, dx = harness.gradient(adapter, x, p, upstream)
            keep = extract_keep_mask(x=x, y=y, where=where + " (forward)")
            if dx.shape != x.shape:
                raise CheckFailed(f"gradient shape {dx.shape} != input shape {x.shape} ({where})")
            assert_scaled(
                actual=dx, x=upstream, keep=keep, p=p, what="input gradient", where=where
            )
            cases += 1
    return Outcome(f"{cases} backward passes: gradient = upstream * forward mask * 1/(1-p)")
