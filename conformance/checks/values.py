"""Output shape and dtype (R1), and the implementation-defined three-d-input and non-finite
behaviour (reported, never failed for a legitimate choice)."""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks._assert import assert_scaled, assert_shape_dtype
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._inputs import (
    SHAPES,
    extract_keep_mask,
    keep_from_zeros,
    maps,
    nonzero_values,
)
from conformance.errors import AdapterError, CheckFailed

EMPTY_SHAPES = ((0, 4, 3, 3), (2, 0, 3, 3), (2, 4, 0, 3), (2, 4, 3, 0))


@check("shape-dtype", requirement="R1", title="Output has the input's shape and dtype")
def shape_dtype(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    cases = 0
    empty_alias: set[bool] = set()
    for dtype in ctx.dtypes:
        for shape in SHAPES + EMPTY_SHAPES:
            for p in (0.0, 0.5, 1.0):
                for training in (True, False):
                    x = nonzero_values(rng, shape, dtype)
                    where = f"shape={shape}, {dtype}, p={p}, training={training}"
                    try:
                        f = ctx.forward(x, p, training=training)
                    except AdapterError:
                        if training and p == 1.0:
                            continue  # raising at p = 1 is R7's failure (p-one), not R1's
                        raise
                    assert_shape_dtype(actual=f.y, expected=x, where=where)
                    if x.size == 0 and training and p == 0.5:
                        empty_alias.add(f.aliased)
                    cases += 1
    findings = {}
    if empty_alias:
        findings["empty_return"] = (
            "returns the input object" if empty_alias == {True} else "returns a new array"
        )
    return Outcome(f"{cases} calls, empty tensors included: shape and dtype preserved", findings)


@check("three-d-input", requirement="impl-defined", title="How 3D input is interpreted")
def three_d_input(adapter: Adapter, ctx: CheckContext) -> Outcome:
    """3D input is unbatched (C, H, W) or legacy (N, C, L); either way kept maps are scaled
    exactly and decisions vary (R2, R3 apply to whichever interpretation it is)."""
    ctx.require("three_d")
    rng = ctx.rng()
    a, b, length = 16, 12, 7
    modes: set[str] = set()
    slices_seen: list[np.ndarray] = []
    for p in (0.3, 0.5, 0.7):
        x = nonzero_values(rng, (a, b, length), ctx.dtypes[0])
        where = f"3D input {x.shape}, p={p}"
        f = ctx.forward(x, p)
        assert_shape_dtype(actual=f.y, expected=x, where=where)
        # Rows x[i, j, :] are the finest unit either interpretation decides on.
        keep_rows = extract_keep_mask(x=x[..., None], y=f.y[..., None], where=where)
        assert_scaled(actual=f.y[..., None], x=x[..., None], keep=keep_rows, p=p,
                      what="kept maps of 3D input", where=where)
        slice_kept = keep_rows.all(axis=-1)
        uniform = (slice_kept | ~keep_rows.any(axis=-1)).all()
        modes.add("unbatched" if uniform else "legacy")
        slices_seen.append(slice_kept if uniform else keep_rows.reshape(-1))
    if len(modes) > 1:
        raise CheckFailed(f"3D input is treated inconsistently across calls: {sorted(modes)}")
    # With independent decisions over >= 16 units per call at p in 0.3..0.7, no call with
    # both kept and dropped units has probability < 1e-9.
    if not any(seen.any() and not seen.all() for seen in slices_seen):
        raise CheckFailed(
            "3D input: in each of three calls every unit was kept or every unit dropped: "
            "one decision for the whole tensor instead of one per channel"
        )
    mode = (
        "unbatched (C, H, W)" if modes == {"unbatched"}
        else "legacy (N, C, L): each x[n, c, :] is one decision"
    )
    return Outcome(f"3D input is treated as {mode}, kept maps scaled exactly",
                   findings={"three_d": mode})


@check("non-finite", requirement="impl-defined", title="NaN and Inf in kept and dropped maps")
def non_finite(adapter: Adapter, ctx: CheckContext) -> Outcome:
    rng = ctx.rng()
    policies: set[str] = set()
    specials = np.array([np.nan, np.inf, -np.inf])
    for dtype in ctx.dtypes:
        x = nonzero_values(rng, (16, 24, 3, 4), dtype)
        flat = maps(x)  # a view: one special value at element 0 of every map
        flat[..., 0] = specials[np.arange(flat.shape[0] * flat.shape[1]) % 3].reshape(
            flat.shape[:2]
        )
        where = f"p=0.5, {dtype}, shape {x.shape}"
        f = ctx.forward(x, 0.5)
        assert_shape_dtype(actual=f.y, expected=x, where=where)
        fy = maps(f.y)
        # The finite elements decide kept or dropped; element 0 is the special one.
        keep = keep_from_zeros(fy[..., 1:] == 0, where=where)
        first_x, first_y = flat[..., 0], fy[..., 0]
        kept_ok = np.where(np.isnan(first_x), np.isnan(first_y), first_y == first_x)
        if not kept_ok[keep].all():
            index = tuple(int(i) for i in np.argwhere(keep & ~kept_ok)[0])
            raise CheckFailed(
                f"a kept map must carry NaN and Inf through: map {index} had "
                f"{first_x[index]!r}, output {first_y[index]!r} ({where})"
            )
        dropped = first_y[~keep]
        if dropped.size:
            if np.isnan(dropped).all():
                policies.add("propagated")
            elif (dropped == 0).all():
                policies.add("zeroed")
            elif (np.isnan(dropped) | (dropped == 0)).all():
                policies.add("mixed")
            else:
                bad = dropped[~(np.isnan(dropped) | (dropped == 0))]
                raise CheckFailed(
                    f"a dropped map's NaN/Inf became {bad[0]!r}; it must become NaN "
                    f"(multiplicative mask) or 0 (select) ({where})"
                )
    names = {
        frozenset({"propagated"}): "propagated (multiplicative mask: NaN and Inf become NaN)",
        frozenset({"zeroed"}): "zeroed (select)",
    }
    policy = names.get(frozenset(policies), "mixed: " + ", ".join(sorted(policies)))
    return Outcome(
        f"kept maps carried NaN and Inf through; dropped maps: {policy}",
        findings={"dropped_non_finite": policy},
    )
