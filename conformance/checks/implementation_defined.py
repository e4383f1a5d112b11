"""What the contract leaves to the implementation, recorded as findings: how 3D input is read
(three-d-input) and what NaN and Inf become in kept and dropped maps (non-finite).  Reported,
never failed for a legitimate choice: they fail only for what the contract forbids."""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks.assertions import DtypeWatch, assert_scaled
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.inputs import (
    extract_keep_mask,
    first_offender,
    keep_from_zeros,
    maps,
    nonzero_values,
)
from conformance.contract import REQUIREMENTS
from conformance.errors import AdapterError, CheckFailed, CheckSkipped

#: a broken map structure met by another check is R2's failure (channel-structure's)
ROOT_STRUCTURE = f"R2 {REQUIREMENTS['R2'].title}"


def require_valid_call(ctx: CheckContext, x: np.ndarray, p: float, what: str) -> None:
    """Call with valid input first, for a check that passes when the implementation raises
    (R8, a 4D-only implementation's 3D input): if the valid call raises too, the raising says
    nothing, and the check's verdict is an error, not a pass."""
    try:
        ctx.forward(x, p)
    except AdapterError as exc:
        cause = exc.__cause__
        did = (f"called sys.exit({cause.code!r})" if isinstance(cause, SystemExit)
               else f"raised ({exc})")
        raise AdapterError(
            f"a valid call (4D input {x.shape}, {x.dtype}, p={p}, training=True) {did}, so "
            f"whether {what} is rejected cannot be judged"
        ) from exc


@register("three-d-input", requirement="impl-defined", title="How 3D input is interpreted")
def three_d_input(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    """3D input is unbatched (C, H, W), legacy (N, C, L), or rejected with an error (a 4D-only
    implementation); the first two are judged like 4D input (R2, R3 apply to whichever it is).

    Fails only for what the contract forbids: a result that is neither unbatched nor legacy
    (wrong shape, partial maps, one decision for the whole tensor, a wrong scale)."""
    rng = ctx.rng()
    a, b, length = 16, 12, 7
    # "rejects 3D input" means something only if 4D input is accepted.
    valid = nonzero_values(ctx.rng(1), (4, 8, 3, 3), ctx.dtypes[0])  # (rng: 3D inputs unchanged)
    require_valid_call(ctx, valid, 0.5, "3D input")
    if not adapter.capabilities.three_d:
        # 4D only: whether it says so with an error is worth reporting; what it returns for
        # 3D input is outside what it implements and is not judged.
        x = nonzero_values(rng, (a, b, length), ctx.dtypes[0])
        try:
            ctx.forward(x, 0.5)
        except AdapterError as exc:
            return CheckPassed(f"4D only (three_d=False); 3D input is rejected with an error "
                           f"({exc}), which the contract allows",
                           findings={"three_d": "rejects 3D input"})
        raise CheckSkipped(
            f"adapter {adapter.name!r} implements 4D input only (three_d=False): it accepted "
            "3D input without an error, and its result is not judged"
        )
    modes: set[str] = set()
    slices_seen: list[np.ndarray] = []
    watch = DtypeWatch()
    for i, p in enumerate((0.3, 0.5, 0.7)):
        x = nonzero_values(rng, (a, b, length), ctx.dtypes[0])
        where = f"3D input {x.shape}, p={p}"
        try:
            f = ctx.forward(x, p)
        except AdapterError as exc:
            if i == 0:
                return CheckPassed(
                    f"3D input is rejected with an error ({exc}): a 4D-only implementation, "
                    "which the contract allows",
                    findings={"three_d": "rejects 3D input"},
                )
            raise
        if f.y.shape != x.shape:
            raise CheckFailed(
                f"3D input {x.shape} gave a result of shape {f.y.shape}: neither unbatched "
                f"(C, H, W) nor legacy (N, C, L), whose results keep the input's shape ({where})"
            )
        with watch.attribute():
            y = watch.cast(actual=f.y, expected=x, where=where)
            # Rows x[i, j, :] are the finest unit either interpretation decides on.
            keep_rows = extract_keep_mask(x=x[..., None], y=y[..., None], where=where)
            assert_scaled(actual=y[..., None], x=x[..., None], keep=keep_rows, p=p,
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
    return CheckPassed(watch.message(f"3D input is treated as {mode}, kept maps scaled exactly"),
                   findings={"three_d": mode})


@register("non-finite", requirement="impl-defined", title="NaN and Inf in kept and dropped maps")
def non_finite(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    """Dropped maps may propagate NaN/Inf (multiplicative mask) or zero them (select): both are
    reported.  Fails only for what the contract forbids: a kept map that loses NaN or Inf, or
    a dropped map whose NaN/Inf becomes anything but NaN or 0."""
    rng = ctx.rng()
    policies: set[str] = set()
    specials = np.array([np.nan, np.inf, -np.inf])
    watch = DtypeWatch()
    for dtype in ctx.dtypes:
        x = nonzero_values(rng, (16, 24, 3, 4), dtype)
        flat = maps(x)  # a view: one special value at element 0 of every map
        flat[..., 0] = specials[np.arange(flat.shape[0] * flat.shape[1]) % 3].reshape(
            flat.shape[:2]
        ).astype(dtype)
        where = f"p=0.5, {dtype}, shape {x.shape}"
        f = ctx.forward(x, 0.5)
        with watch.attribute():
            y = watch.cast(actual=f.y, expected=x, where=where)
            fy = maps(y).astype(np.float64)
            # The finite elements decide kept or dropped; element 0 is the special one.
            try:
                keep = keep_from_zeros(fy[..., 1:] == 0, where=where)
            except CheckFailed as exc:
                raise CheckFailed(exc.message, root_cause=ROOT_STRUCTURE) from exc
            first_x, first_y = flat[..., 0].astype(np.float64), fy[..., 0]
            kept_ok = np.where(np.isnan(first_x), np.isnan(first_y), first_y == first_x)
            if not kept_ok[keep].all():
                index, count = first_offender(keep & ~kept_ok)
                raise CheckFailed(
                    f"a kept map must carry NaN and Inf through: {count} maps did not; first, "
                    f"map {index} had {first_x[index]!r}, output {first_y[index]!r} ({where})"
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
    return CheckPassed(
        watch.message(f"kept maps carried NaN and Inf through; dropped maps: {policy}"),
        findings={"dropped_non_finite": policy},
    )
