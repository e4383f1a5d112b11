"""R9: inplace=True writes the result into the input; inplace=False leaves the input untouched
(inplace); on small tensors and on the CNN-sized ones users run (checks/usersizes.py)."""

from __future__ import annotations

from conformance.adapters.base import Adapter
from conformance.checks import calling, usersizes
from conformance.checks.assertions import assert_bitwise_equal
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.inputs import SHAPES, extract_keep_mask, nonzero_values
from conformance.errors import CheckFailed


@register("inplace", requirement="R9", title="inplace=True writes the result into the input")
def inplace(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
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
    notes.append(_large(adapter, ctx))
    return CheckPassed("; ".join(notes))


def _large(adapter: Adapter, ctx: CheckContext) -> str:
    """CNN-sized tensors in every dtype and layout, the in-place flag in turn (the largest in
    both where it meets only one dtype).  The buffer alone is judged: whether the result's
    zeros come in whole maps is channel-structure's question (one fault, one failing check)."""
    rng = ctx.rng(1)
    modes = calling.inplace_modes(adapter)
    large = usersizes.large_cases(ctx.dtypes)
    calls = [(case, modes[i % len(modes)]) for i, case in enumerate(large)]
    met = {m for c, m in calls if c.largest}
    calls += [(large[-1], m) for m in modes if m not in met]  # one dtype: the other mode too
    for case, inplace_ in calls:
        x = usersizes.large_input(rng, case)[0]
        where = f"inplace={inplace_}, p=0.5, {case.label()}"
        f = ctx.forward(x, 0.5, inplace=inplace_, memory=case.memory)
        if not inplace_:
            assert_bitwise_equal(actual=f.x_after, expected=x, what="input after inplace=False",
                                 where=where)
        else:
            if f.y.shape != x.shape:
                raise CheckFailed(f"shape {f.y.shape} != input shape {x.shape} ({where})")
            assert_bitwise_equal(
                actual=f.x_after, expected=f.y,
                what="input buffer after inplace=True (must hold the result)", where=where,
            )
        x = f = None  # type: ignore[assignment]  # free tens of MB before the next input
    done = " and ".join(f"inplace={m}" for m in modes)
    return (f"{done} held on {len(calls)} CNN-sized tensors up to "
            f"{max(c.nbytes for c in large) / 1e6:.1f} MB in every dtype and layout")
