"""R6: evaluation mode returns the input bit for bit (eval-identity), on small tensors and on
the CNN-sized ones users run (checks/usersizes.py)."""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import calling, usersizes
from conformance.checks.assertions import DtypeWatch, assert_returns_input
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.inputs import SHAPES, nonzero_values
from conformance.errors import AdapterError, CheckFailed


def _with_specials(x: np.ndarray, *, copy: bool = True) -> np.ndarray:
    """Add NaN, +-Inf and -0.0 so that 'identical' is tested bit for bit, not by value."""
    x = x.copy() if copy else x
    flat = x.reshape(-1)
    flat[:4] = [np.nan, np.inf, -np.inf, -0.0]
    return x


#: p of the large calls, in turn
LARGE_P = (0.2, 0.5, 0.9)


def _eval_call(ctx: CheckContext, watch: DtypeWatch, x: np.ndarray, p: float, inplace: bool,
               where: str, aliased: set[bool], memory: str | None = None) -> None:
    """One evaluation-mode call, which must return ``x`` bit for bit (R6: the identity for
    every p in [0, 1]; an error is a failure); whether a fresh result aliases the input is
    recorded in ``aliased``."""
    kwargs = {} if memory is None else {"memory": memory}
    try:
        f = ctx.forward(x, p, training=False, inplace=inplace, **kwargs)
    except AdapterError as exc:
        raise CheckFailed(f"eval mode must return the input; {exc}") from exc
    assert_returns_input(watch=watch, f=f, x=x, what="eval", where=where)
    if not inplace:
        aliased.add(f.aliased)


@register("eval-identity", requirement="R6", title="Evaluation mode returns the input bit for bit")
def eval_identity(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    rng = ctx.rng()
    aliased: set[bool] = set()
    cases = 0
    watch = DtypeWatch()
    for dtype in ctx.dtypes:
        for p in (0.0, 0.2, 0.5, 0.9, 1.0):
            for shape in SHAPES[:2]:
                x = _with_specials(nonzero_values(rng, shape, dtype))
                for inplace in calling.inplace_modes(adapter):
                    where = f"training=False, p={p}, inplace={inplace}, {dtype}, {shape}"
                    _eval_call(ctx, watch, x, p, inplace, where, aliased)
                    cases += 1
    # CNN-sized tensors in every dtype and layout, the in-place flag in turn (one call each)
    modes = calling.inplace_modes(adapter)
    large = usersizes.large_cases(ctx.dtypes)
    for i, case in enumerate(large):
        p, inplace = LARGE_P[i % len(LARGE_P)], modes[i % len(modes)]
        x = _with_specials(usersizes.large_input(rng, case)[0], copy=False)
        where = f"training=False, p={p}, inplace={inplace}, {case.label()}"
        _eval_call(ctx, watch, x, p, inplace, where, aliased, memory=case.memory)
        cases += 1
        x = None  # type: ignore[assignment]  # free tens of MB before the next input
    return CheckPassed(
        watch.message(f"{cases} eval-mode calls (p in 0..1, every dtype, NaN/Inf/-0.0 "
                      f"included; {len(large)} of them on CNN-sized tensors up to "
                      f"{max(c.nbytes for c in large) / 1e6:.1f} MB in every dtype and "
                      "layout) returned the input bit for bit"),
        findings={"eval_return": calling.alias_finding(aliased)},
    )
