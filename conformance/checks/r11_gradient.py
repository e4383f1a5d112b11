"""R11, with autograd: the input gradient is upstream * mask * s, with the forward pass's mask
(gradient)."""

from __future__ import annotations

from conformance.adapters.base import Adapter
from conformance.checks import calling
from conformance.checks.assertions import assert_scaled
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.inputs import extract_keep_mask, nonzero_values
from conformance.errors import CheckFailed


@register("gradient", requirement="R11", title="Input gradient is upstream * mask * s")
def gradient(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    ctx.require("autograd")
    rng = ctx.rng()
    cases = 0
    for dtype in ctx.dtypes:
        for p in (0.2, 0.5, 0.9):
            shape = (8, 32, 3, 5)
            x = nonzero_values(rng, shape, dtype)
            upstream = nonzero_values(rng, shape, dtype)
            where = f"gradient, p={p}, {dtype}"
            y, dx = calling.gradient(adapter, x, p, upstream)
            keep = extract_keep_mask(x=x, y=y, where=where + " (forward)")
            if dx.shape != x.shape:
                raise CheckFailed(f"gradient shape {dx.shape} != input shape {x.shape} ({where})")
            assert_scaled(
                actual=dx, x=upstream, keep=keep, p=p, what="input gradient", where=where
            )
            cases += 1
    return CheckPassed(f"{cases} backward passes: gradient = upstream * forward mask * 1/(1-p)")
