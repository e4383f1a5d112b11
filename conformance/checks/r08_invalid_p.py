"""R8: p outside [0, 1], NaN or infinite raises (invalid-p)."""

from __future__ import annotations

import math

import numpy as np

from conformance.adapters.base import Adapter, dtype_finfo
from conformance.checks import calling
from conformance.checks.assertions import describe_difference
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.implementation_defined import require_valid_call
from conformance.checks.inputs import SHAPES, maps, nonzero_values
from conformance.errors import AdapterError, CheckFailed


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


@register("invalid-p", requirement="R8", title="p outside [0, 1], NaN or infinite raises")
def invalid_p(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    rng = ctx.rng()
    x = nonzero_values(rng, SHAPES[0], ctx.dtypes[0])
    # Raising is what passes here: only an implementation seen to work on a valid p has
    # rejected the invalid ones (one that raises on every call has validated nothing).
    require_valid_call(ctx, x, 0.5, "invalid p")
    accepted = []
    raised: dict[str, str] = {}
    for p in INVALID_P:
        exc = calling.expect_error(adapter, x, p, training=True)
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
        p for p in INVALID_P if calling.expect_error(adapter, x, p, training=False) is None
    ]
    kinds = sorted(set(raised.values()))
    return CheckPassed(
        f"every invalid p {list(INVALID_P)} raised ({', '.join(kinds)})",
        findings={
            "error_types": kinds,
            "eval_mode_accepts": [repr(p) for p in eval_accepts],
        },
    )
