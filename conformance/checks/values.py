"""Output values: channel-structure and scale-exact (R2), shape-dtype (R1), and the
implementation-defined three-d-input and non-finite behaviour (reported, DESIGN.md section 1)."""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks._assert import SCALE_ULPS, assert_scaled, assert_shape_dtype
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._inputs import (
    P_VALUES,
    SHAPES,
    extract_keep_mask,
    keep_from_zeros,
    maps,
    nonzero_values,
)
from conformance.errors import CheckFailed


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
                extract_keep_mask(x=x, y=f.y, where=where)
                decisions += shape[0] * shape[1]
    return Outcome(
        f"{decisions} maps over shapes {list(SHAPES)}, contiguous, strided and channels-last "
        "input: every map all zero or all non-zero"
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
                    f = ctx.forward(x, p, training=training)
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
    ctx.require("three_d")
    rng = ctx.rng()
    a, b, length = 16, 12, 7
    slice_uniform = True
    for _ in range(3):
        x = nonzero_values(rng, (a, b, length), ctx.dtypes[0])
        f = ctx.forward(x, 0.5)
        assert_shape_dtype(actual=f.y, expected=x, where="3D input (16, 12, 7), p=0.5")
        zero = f.y == 0
        rows_zero, rows_kept = zero.all(axis=-1), ~zero.any(axis=-1)
        if not (rows_zero | rows_kept).all():
            raise CheckFailed(
                "3D input (16, 12, 7): some row x[i, j, :] is partly zero, so it is neither "
                "unbatched (C, H, W) nor legacy (N, C, L) channel dropout"
            )
        slices_zero, slices_kept = rows_zero.all(axis=-1), rows_kept.all(axis=-1)
        slice_uniform &= bool((slices_zero | slices_kept).all())
    if slice_uniform:
        mode = "unbatched (C, H, W)"
    else:
        mode = "legacy (N, C, L): each x[n, c, :] is one decision"
    return Outcome(f"3D input is treated as {mode}", findings={"three_d": mode})


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
