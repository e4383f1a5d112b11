"""R7: p = 0 in training is the identity (p-zero); p = 1 gives all zeros, no NaN, no error
(p-one); on small tensors and on the CNN-sized ones users run (checks/usersizes.py)."""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import calling, usersizes
from conformance.checks.assertions import (
    DtypeWatch,
    assert_bitwise_equal,
    assert_returns_input,
)
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.inputs import SHAPES, first_offender, nonzero_values
from conformance.errors import AdapterError, CheckFailed


@register("p-zero", requirement="R7", title="p = 0 in training is the identity")
def p_zero(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
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
                assert_returns_input(watch=watch, f=f, x=x, what="p=0", where=where)
                if not inplace_:
                    aliased.add(f.aliased)
    # CNN-sized tensors in every dtype and layout, the in-place flag in turn (one call each)
    modes = calling.inplace_modes(adapter)
    large = usersizes.large_cases(ctx.dtypes)
    for i, case in enumerate(large):
        inplace_ = modes[i % len(modes)]
        x = usersizes.large_input(rng, case)[0]
        x.reshape(-1)[0] = -0.0
        where = f"p=0, training=True, inplace={inplace_}, {case.label()}"
        f = ctx.forward(x, 0.0, inplace=inplace_, memory=case.memory)
        assert_returns_input(watch=watch, f=f, x=x, what="p=0", where=where)
        if not inplace_:
            aliased.add(f.aliased)
        x = f = None  # type: ignore[assignment]  # free tens of MB before the next input
    return CheckPassed(
        watch.message(f"p=0 returned the input bit for bit for every dtype and shape, CNN-sized "
                      f"tensors up to {_largest(large)} in every dtype and layout included"),
        findings={"p_zero_return": calling.alias_finding(aliased)},
    )


@register("p-one", requirement="R7", title="p = 1 gives all zeros, no NaN, no error")
def p_one(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    rng = ctx.rng()
    watch = DtypeWatch()
    for dtype in ctx.dtypes:
        for shape in SHAPES:
            x = nonzero_values(rng, shape, dtype)
            for inplace_ in calling.inplace_modes(adapter):
                where = f"p=1, training=True, inplace={inplace_}, {dtype}, {shape}"
                f = _call_p_one(ctx, x, inplace_, "contiguous")
                _assert_zeros(watch, f, x, where)
                if inplace_:
                    assert_bitwise_equal(
                        actual=f.x_after, expected=f.y, what="input buffer", where=where
                    )
    # CNN-sized tensors in every dtype and layout, the in-place flag in turn (one call each).
    # Only the zeros are judged here: whether the in-place buffer holds them is the inplace
    # check's question, which meets these sizes itself (one fault, one failing check).
    modes = calling.inplace_modes(adapter)
    large = usersizes.large_cases(ctx.dtypes)
    for i, case in enumerate(large):
        inplace_ = modes[i % len(modes)]
        x = usersizes.large_input(rng, case)[0]
        where = f"p=1, training=True, inplace={inplace_}, {case.label()}"
        _assert_zeros(watch, _call_p_one(ctx, x, inplace_, case.memory), x, where)
        x = None  # type: ignore[assignment]  # free tens of MB before the next input
    return CheckPassed(
        watch.message(f"p=1 gave all zeros (no NaN, no error) for every dtype and shape, "
                      f"CNN-sized tensors up to {_largest(large)} in every dtype and layout "
                      "included")
    )


def _largest(cases: list[usersizes.LargeCase]) -> str:
    return f"{max(c.nbytes for c in cases) / 1e6:.1f} MB"


def _call_p_one(ctx: CheckContext, x: np.ndarray, inplace: bool, memory: str) -> calling.Forward:
    try:
        return ctx.forward(x, 1.0, inplace=inplace, memory=memory, read_input=inplace)
    except AdapterError as exc:
        # R7 says "no error": raising at p = 1 is a failure of the contract.
        raise CheckFailed(f"p=1 must give zeros without an error; {exc}") from exc


def _assert_zeros(watch: DtypeWatch, f: calling.Forward, x: np.ndarray, where: str) -> None:
    y = watch.cast(actual=f.y, expected=x, where=where)
    nonzero = y != 0  # NaN != 0 is True, so NaN counts as not zero
    if nonzero.any():
        index, count = first_offender(nonzero)
        nan = int(np.isnan(y.astype(np.float32)).sum())
        what = (
            "all NaN (1/(1-p) computed as inf, times 0)" if nan == y.size
            else f"{nan} NaN" if nan else "nonzero values"
        )
        raise CheckFailed(
            f"p=1 must give all zeros for finite input; got {what}: {count} "
            f"elements are not zero, first at {index}: {f.y[index]!r} "
            f"(x={x[index]!r}) ({where})"
        )
