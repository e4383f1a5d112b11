"""Modes and edge values of p.

eval-identity (R6), inplace (R9), p-zero and p-one (R7), invalid-p (R8).
"""

from __future__ import annotations

import math

import numpy as np

from conformance import harness
from conformance.adapters.base import Adapter, dtype_finfo
from conformance.checks._assert import (
    DtypeWatch,
    assert_bitwise_equal,
    describe_difference,
    first_offender,
)
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._inputs import SHAPES, extract_keep_mask, maps, nonzero_values
from conformance.errors import AdapterError, CheckFailed


def _with_specials(x: np.ndarray) -> np.ndarray:
    """Add NaN, +-Inf and -0.0 so that 'identical' is tested bit for bit, not by value."""
    x = x.copy()
    flat = x.reshape(-1)
    flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return x


def _inplace_modes(adapter: Adapter) -> tuple[bool, ...]:
    """The inplace flags to call with: False always, True where the adapter supports it."""
    return (False, True) if adapter.capabilities.inplace else (False,)


def _alias(aliased_seen: set[bool]) -> str:
    if aliased_seen == {True}:
        return "returns the input object"
    if aliased_seen == {False}:
        return "returns a copy"
    return "sometimes the input object, sometimes a copy"


@check("eval-identity", requirement="R6", title="Evaluation mode returns the input bit for bit")
def eval_identity(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    aliased: set[bool] = set()
    cases = 0
    watch = DtypeWatch()
    for dtype in ctx.dtypes:
        for p in (0.0, 0.2, 0.5, 0.9, 1.0):
            for shape in SHAPES[:2]:
                x = _with_specials(nonzero_values(rng, shape, dtype))
                for inplace in _inplace_modes(adapter):
                    where = f"training=False, p={p}, inplace={inplace}, {dtype}, {shape}"
                    try:
                        f = ctx.forward(x, p, training=False, inplace=inplace)
                    except AdapterError as exc:
                        # R6: evaluation mode is the identity for every p in [0, 1]
                        raise CheckFailed(f"eval mode must return the input; {exc}") from exc
                    with watch.attribute():
                        y = watch.cast(actual=f.y, expected=x, where=where)
                        assert_bitwise_equal(actual=y, expected=x, what="eval output",
                                             where=where)
                        assert_bitwise_equal(
                            actual=f.x_after, expected=x, what="input after eval", where=where
                        )
                    if not inplace:
                        aliased.add(f.aliased)
                    cases += 1
    return Outcome(
        watch.message(f"{cases} eval-mode calls (p in 0..1, every dtype, NaN/Inf/-0.0 "
                      "included) returned the input bit for bit"),
        findings={"eval_return": _alias(aliased)},
    )


@check("inplace", requirement="R9", title="inplace=True writes the result into the input")
def inplace(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    notes = []
    layouts = ("contiguous", "strided", "channels_last")
    for dtype in ctx.dtypes:
        for p, memory in zip((0.3, 0.5, 0.5), layouts, strict=True):
            x = nonzero_values(rng, SHAPES[0], dtype)
            where = f"p={p}, {dtype}, memory={memory}"
            f = ctx.forward(x, p, inplace=False, memory=memory)
            assert_bitwise_equal(
                actual=f.x_after, expected=x, what="input after inplace=False", where=where
            )
    notes.append("inplace=False left the input untouched")
    if adapter.capabilities.inplace:
        for dtype in ctx.dtypes:
            for p, memory in zip((0.3, 0.5, 0.5), layouts, strict=True):
                x = nonzero_values(rng, SHAPES[0], dtype)
                where = f"inplace=True, p={p}, {dtype}, memory={memory}"
                f = ctx.forward(x, p, inplace=True, memory=memory)
                if f.y.shape != x.shape:
                    raise CheckFailed(f"shape {f.y.shape} != input shape {x.shape} ({where})")
                keep = extract_keep_mask(x=x, y=f.y, where=where)
                if keep.all():
                    continue  # nothing dropped (probability < 2**-64): no evidence either way
                assert_bitwise_equal(
                    actual=f.x_after,
                    expected=f.y,
                    what="input buffer after inplace=True (must hold the result)",
                    where=where,
                )
        notes.append(
            "inplace=True left the input buffer holding exactly the result "
            "(contiguous, strided and channels-last input)"
        )
    else:
        notes.append("inplace=True not tested: the adapter has no inplace capability")
    return Outcome("; ".join(notes))


@check("p-zero", requirement="R7", title="p = 0 in training is the identity")
def p_zero(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    aliased: set[bool] = set()
    watch = DtypeWatch()
    for dtype in ctx.dtypes:
        for shape in SHAPES:
            x = nonzero_values(rng, shape, dtype)
            x.reshape(-1)[0] = -0.0
            for inplace_ in _inplace_modes(adapter):
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
        findings={"p_zero_return": _alias(aliased)},
    )


@check("p-one", requirement="R7", title="p = 1 gives all zeros, no NaN, no error")
def p_one(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    watch = DtypeWatch()
    for dtype in ctx.dtypes:
        for shape in SHAPES:
            x = nonzero_values(rng, shape, dtype)
            for inplace_ in _inplace_modes(adapter):
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


def _describe_output(ctx: CheckContext, x: np.ndarray, p: float) -> str:
    """What a call with an invalid p gave back, and what that most likely means."""
    try:
        f = ctx.forward(x, p)
    except AdapterError as exc:
        return f"a result the first time, then raised on a second call ({exc})"
    y = f.y.astype(np.float64)
    if y.shape != x.shape:
        return f"an array of shape {y.shape}"
    if np.isnan(y).all():
        return "an all-NaN output"
    if (y == 0).all():
        return "all zeros (every channel dropped)"
    xf = x.astype(np.float64)
    kept = ~(maps(y) == 0).all(axis=-1)
    ratio = maps(y)[kept] / maps(xf)[kept]
    tol = 4 * float(dtype_finfo(x.dtype).eps)  # the ratio is only as exact as the dtype
    if ratio.size and np.isfinite(ratio).all() and np.ptp(ratio) <= tol * abs(ratio.mean()):
        k = float(ratio.mean())
        if 1.0 - p != 0 and abs(k * (1.0 - p) - 1.0) <= tol:
            scale = f"the input scaled by 1/(1-p) = 1/{1 - p:.10g} (the rate is used unvalidated)"
        elif abs(k - 1.0) <= tol:
            scale = "the input unchanged"
        else:
            scale = f"the input scaled by {k:.6g} = 1/{1 / k:.6g}"
        if kept.all():
            return scale
        return f"{int((~kept).sum())} of {kept.size} maps dropped, the rest {scale}"
    return describe_difference(actual=f.y, expected=x)


INVALID_P: tuple[float, ...] = (-0.1, -1e-7, 1.0000001, 1.1, 2.0, math.nan, math.inf, -math.inf)


@check("invalid-p", requirement="R8", title="p outside [0, 1], NaN or infinite raises")
def invalid_p(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    x = nonzero_values(rng, SHAPES[0], ctx.dtypes[0])
    accepted = []
    raised: dict[str, str] = {}
    for p in INVALID_P:
        exc = harness.expect_error(adapter, x, p, training=True)
        if exc is None:
            accepted.append(p)
        else:
            raised[repr(p)] = type(exc).__name__
    if accepted:
        returned = "; ".join(
            f"p={p!r} returned {_describe_output(ctx, x, p)}" for p in accepted
        )
        raise CheckFailed(
            f"training-mode calls with invalid p returned instead of raising: {returned}. "
            "p outside [0, 1], NaN or infinite must raise at construction or at the call",
            findings={"raises": raised},
        )
    eval_accepts = [
        p for p in INVALID_P if harness.expect_error(adapter, x, p, training=False) is None
    ]
    kinds = sorted(set(raised.values()))
    return Outcome(
        f"every invalid p {list(INVALID_P)} raised ({', '.join(kinds)})",
        findings={
            "error_types": kinds,
            "eval_mode_accepts": [repr(p) for p in eval_accepts],
        },
    )
