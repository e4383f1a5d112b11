"""R2: every (n, c) map is dropped or kept whole (channel-structure), and kept maps carry the
exact scale 1/(1-p) within a few ulps of the dtype (scale-exact)."""

from __future__ import annotations

from conformance.adapters.base import Adapter
from conformance.checks._assert import SCALE_ULPS, assert_scaled, assert_shape_dtype
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._inputs import P_VALUES, SHAPES, extract_keep_mask, nonzero_values


@check("channel-structure", requirement="R2", title="Each (n, c) map is dropped or kept whole")
def channel_structure(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    decisions = 0
    for memory in ("contiguous", "strided", "channels_last"):
        for shape in SHAPES:
            for p in (0.1, 0.5, 0.9):
                x = nonzero_values(rng, shape, ctx.dtypes[0])
                where = f"p={p}, shape={shape}, memory={memory}"
                f = ctx.forward(x, p, memory=memory)
                keep = extract_keep_mask(x=x, y=f.y, where=where)
                # R2 is about values too: a kernel that ignores strides keeps whole maps of
                # the wrong elements.
                assert_scaled(actual=f.y, x=x, keep=keep, p=p, what="kept maps", where=where)
                decisions += shape[0] * shape[1]
    return Outcome(
        f"{decisions} maps over shapes {list(SHAPES)}, contiguous, strided and channels-last "
        "input: every map all zero or x[n, c] * 1/(1-p)"
    )


@check("scale-exact", requirement="R2", title="Kept maps equal x / (1 - p) within a few ulps")
def scale_exact(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    worst: dict[str, float] = {}
    shape = (64, 64, 2, 3)  # 4096 decisions: some kept even at p = 0.99 (miss < 1e-17)
    for dtype in ctx.dtypes:
        for p in P_VALUES:
            x = nonzero_values(rng, shape, dtype)
            where = f"p={p!r}, {dtype}"
            f = ctx.forward(x, p)
            assert_shape_dtype(actual=f.y, expected=x, where=where)
            keep = extract_keep_mask(x=x, y=f.y, where=where)
            err = assert_scaled(actual=f.y, x=x, keep=keep, p=p, where=where)
            worst[str(dtype)] = max(worst.get(str(dtype), 0.0), err)
    summary = ", ".join(f"{d}: {u:.2g}" for d, u in worst.items())
    return Outcome(
        f"kept maps equal x/(1-p) within {SCALE_ULPS} ulps at p in "
        f"{[round(p, 4) for p in P_VALUES]} (largest error in ulps: {summary})",
        findings={},
    )
