"""R7: p = 0 in training is the identity (p-zero); p = 1 gives all zeros, no NaN, no error
(p-one)."""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import calling
from conformance.checks.assertions import DtypeWatch, assert_bitwise_equal
from conformance.checks.base import CheckContext, Outcome, check
from conformance.checks.inputs import SHAPES, first_offender, nonzero_values
from conformance.errors import AdapterError, CheckFailed


@check("p-zero", requirement="R7", title="p = 0 in training is the identity")
def p_zero(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    aliased: set[bool] = set()
    watch = DtypeWatch()
    for dtype in ctx.dtypes:
        for shape in SHAPES:
            x = nonzero_values(rng, shape, dtype)
            x.reshape(-1)[0] = -0.0
            for inplace_ in calling.inplace_modes(adapter):
                where = f"p=0, training=True, inplace={inplace_}, {dtype}, {shape}"
                f = ctx.forward(x, 0.0, inplace=inplace_)
                with watch.attribute():
                    y = watch.cast(actual=f.y, expected=x, where=where)
                    assert_bitwise_equal(actual=y, expected=x, what="p=0 output", where=where)
                    assert_bitwise_equal(actual=f.x_after, expected=x, what="input after p=0",
                                         where=where)
                if not inplace_:
                    aliased.add(f.aliased)
    return Outcome(
        watch.message("p=0 returned the input bit for bit for every dtype and shape"),
        findings={"p_zero_return": calling.alias_finding(aliased)},
    )


@check("p-one", requirement="R7", title="p = 1 gives all zeros, no NaN, no error")
def p_one(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    watch = DtypeWatch()
    for dtype in ctx.dtypes:
        for shape in SHAPES:
            x = nonzero_values(rng, shape, dtype)
            for inplace_ in calling.inplace_modes(adapter):
                where = f"p=1, training=True, inplace={inplace_}, {dtype}, {shape}"
                try:
                    f = ctx.forward(x, 1.0, inplace=inplace_)
                except AdapterError as exc:
                    # R7 says "no error": raising at p = 1 is a failure of the contract.
                    raise CheckFailed(f"p=1 must give zeros without an error; {exc}") from exc
                y = watch.cast(actual=f.y, expected=x, where=where).astype(np.float64)
                nonzero = y != 0  # NaN != 0 is True, so NaN counts as not zero
                if nonzero.any():
                    index, count = first_offender(nonzero)
                    nan = int(np.isnan(y).sum())
                    what = (
                        "all NaN (1/(1-p) computed as inf, times 0)" if nan == y.size
                        else f"{nan} NaN" if nan else "nonzero values"
                    )
                    raise CheckFailed(
                        f"p=1 must give all zeros for finite input; got {what}: {count} "
                        f"elements are not zero, first at {index}: {f.y[index]!r} "
                        f"(x={x[index]!r}) ({where})"
                    )
                if inplace_:
                    assert_bitwise_equal(
                        actual=f.x_after, expected=f.y, what="input buffer", where=where
                    )
    return Outcome(
        watch.message("p=1 gave all zeros (no NaN, no error) for every dtype and shape")
    )
