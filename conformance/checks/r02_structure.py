"""R2: every (n, c) map is dropped or kept whole (channel-structure), and kept maps carry the
exact scale 1/(1-p) within a few ulps of the dtype (scale-exact).

Both draw their settings from the run's seed: shapes from batch size 1, unbatched 3D and 1x1
maps to a thousand channels and maps up to 24x24 (odd sizes), every dtype and memory layout the
adapter takes, fixed p values plus p drawn from the seed.  Both then meet the tensors users run
(checks/usersizes.py: CNN maps of 32x32 to 224x224, long 1 x L maps, 8192 channels, a batch of
16383, tens of MB), a few calls each; scale-exact also visits every round rate users set,
exactly.  Neither stops at the first bad setting: the verdict names every setting where R2
broke.
"""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import usersizes
from conformance.checks.assertions import SCALE_ULPS, DtypeWatch, assert_scaled
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.inputs import P_VALUES, SHAPES, extract_keep_mask, nonzero_values
from conformance.checks.settings import MEMORIES
from conformance.errors import CheckFailed

#: p values of channel-structure besides those drawn from the seed
STRUCTURE_P = (0.1, 0.5, 0.9)


def structure_shapes(ctx: CheckContext) -> list[tuple[int, ...]]:
    """The fixed shapes plus one of each kind drawn from the run's seed: batch size 1, 1x1
    maps, >= 512 channels, two large maps (>= 8x8), a long batch and unbatched (C, 1, W) input
    (one decision per channel whether the adapter reads 3D input as unbatched or legacy)."""
    rng = np.random.default_rng([ctx.space_seed, 0x57])

    def r(lo: int, hi: int) -> int:
        return int(rng.integers(lo, hi + 1))

    shapes: list[tuple[int, ...]] = list(SHAPES)
    shapes += [
        (1, r(3, 64), r(2, 7), r(2, 7)),
        (r(2, 8), r(2, 32), 1, 1),
        (r(1, 3), r(512, 1100), r(1, 3), r(2, 3)),
        (r(1, 4), r(2, 12), r(8, 16), r(8, 24)),
        (r(1, 2), r(2, 6), r(16, 24), r(17, 25)),
        (r(256, 1024), r(1, 3), r(1, 3), r(2, 3)),
    ]
    if ctx.adapter.capabilities.three_d:
        shapes.append((r(2, 64), 1, r(2, 9)))
    return shapes


def structure_ps(ctx: CheckContext) -> list[float]:
    rng = np.random.default_rng([ctx.space_seed, 0x58])
    drawn = [float(rng.uniform(0.01, 0.99)), float(10 ** rng.uniform(-3, -1)),
             1 - float(10 ** rng.uniform(-3, -1))]
    return [*STRUCTURE_P, *(round(p, 6) for p in drawn)]


def _fail_all(failures: list[str], total: int, what: str) -> None:
    if failures:
        shown = "; ".join(failures[:8])
        more = f" (+{len(failures) - 8} more)" if len(failures) > 8 else ""
        raise CheckFailed(f"{what} broke in {len(failures)} of {total} settings: {shown}{more}")


@register("channel-structure", requirement="R2", title="Each (n, c) map is dropped or kept whole")
def channel_structure(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    rng = ctx.rng()
    shapes, ps = structure_shapes(ctx), structure_ps(ctx)
    failures, total, decisions = [], 0, 0
    watch = DtypeWatch()
    for i, shape in enumerate(shapes):
        for memory in MEMORIES:
            # one dtype per shape, rotating: every dtype at every shape would cost a compiling
            # framework dtypes x shapes programs for little
            dtype = ctx.dtypes[i % len(ctx.dtypes)]
            for p in ps:
                x = nonzero_values(rng, shape, dtype)
                where = f"p={p:g}, shape={shape}, {dtype}, memory={memory}"
                total += 1
                try:
                    f = ctx.forward(x, p, memory=memory)
                    # a wrong dtype is shape-dtype's failure: judge the values cast back
                    y = watch.cast(actual=f.y, expected=x, where=where)
                    keep = extract_keep_mask(x=x, y=y, where=where)
                    # R2 is about values too: a kernel that ignores strides keeps whole maps
                    # of the wrong elements.
                    assert_scaled(actual=y, x=x, keep=keep, p=p, what="kept maps",
                                  where=where)
                except CheckFailed as exc:
                    failures.append(exc.message)
                decisions += int(np.prod(shape[:-2]))
    # CNN-sized tensors (calls shared with scale-exact): the zeros in whole maps, then, with
    # whole maps established, each element 0 or x/(1-p), R2's value part
    large = usersizes.large_training(ctx)
    for call in large:
        watch.seen.update(call.dtype_seen)
        total += 1
        if call.structure or call.values:
            failures.append(call.structure or call.values)
        decisions += int(np.prod(call.case.shape[:-2]))
    if failures:
        with watch.attribute():
            _fail_all(failures, total, "R2's channel structure")
    return CheckPassed(watch.message(
        f"{decisions} maps over {len(shapes)} shapes {shapes} (batch size 1, 1x1 and large maps, "
        f"many channels, unbatched), contiguous, strided and channels-last input, p in "
        f"{ps}, and {len(large)} calls on CNN-sized tensors ({_large_summary(large)}): every "
        "map all zero or x[n, c] * 1/(1-p)"
    ))


def _large_summary(calls: list[usersizes.LargeTraining]) -> str:
    cases = [c.case for c in calls]
    shapes = sorted({c.shape for c in cases}, key=lambda s: int(np.prod(s)))
    dtypes = sorted({str(c.dtype) for c in cases})
    layouts = sorted({c.memory for c in cases})
    return (f"shapes {shapes}, up to {max(c.nbytes for c in cases) / 1e6:.1f} MB, dtypes "
            f"{dtypes}, layouts {layouts}")


#: scale-exact's shape at the round rates up to 0.95: 1024 decisions keep some (miss < 1e-22)
ROUND_RATE_SHAPE = (16, 64, 2, 3)
#: decisions of scale-exact's calls at p near 1: some kept (miss < 1e-17) even at p = 0.9999
_KEPT = 40


def _round_rate_shape(p: float, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of scale-exact's call at the round rate ``p``: a small one where 1024
    decisions keep some maps (miss < 1e-22), its usual one (4096 decisions) up to p = 0.99;
    beyond, one shape of 1x1 maps for every such rate (400 000 decisions at p = 0.9999), so
    that a compiling framework compiles it once."""
    if p <= 0.95:
        return ROUND_RATE_SHAPE
    if p <= 0.99:
        return shape
    near_one = max(q for q in usersizes.ROUND_RATES if q > 0.99)
    return (int(np.ceil(_KEPT / (1 - near_one) / shape[1])), shape[1], 1, 1)


def _judge_scale(ctx: CheckContext, watch: DtypeWatch, x: np.ndarray, p: float, where: str,
                 worst: dict[str, float], dtype: str) -> None:
    """One training call whose kept values must be x times the scale (R2); the worst error in
    ulps is kept per dtype.  A wrong dtype is shape-dtype's failure: the values are judged
    cast back."""
    y = watch.cast(actual=ctx.forward(x, p).y, expected=x, where=where)
    keep = extract_keep_mask(x=x, y=y, where=where)
    err = assert_scaled(actual=y, x=x, keep=keep, p=p, where=where)
    worst[dtype] = max(worst.get(dtype, 0.0), err)


@register("scale-exact", requirement="R2", title="Kept maps equal x / (1 - p) within a few ulps")
def scale_exact(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    rng = ctx.rng()
    worst: dict[str, float] = {}
    failures: list[str] = []
    bad: dict[str, list[float]] = {}
    watch = DtypeWatch()
    shape = (64, 64, 2, 3)  # 4096 decisions: some kept even at p = 0.99 (miss < 1e-17)
    ps = [*P_VALUES, *structure_ps(ctx)[len(STRUCTURE_P):]]
    total = 0
    for dtype in ctx.dtypes:
        for p in ps:
            # at p near 1, enough decisions that some are kept (miss < 1e-17)
            n = shape[0] if p <= 0.99 else int(np.ceil(_KEPT / (1 - p) / shape[1]))
            x = nonzero_values(rng, (n, *shape[1:]), dtype)
            where = f"p={p!r}, {dtype}"
            total += 1
            try:
                _judge_scale(ctx, watch, x, p, where, worst, str(dtype))
            except CheckFailed as exc:
                failures.append(exc.message)
                bad.setdefault(str(dtype), []).append(p)
    # Every rate users set, exactly (a fast path keyed on p == 0.2 is invisible at 0.2000001),
    # in every dtype: a scale table in the wrong precision shows in one dtype only.  After
    # today's p values, so those draw the inputs they always drew.
    rates = [p for p in usersizes.ROUND_RATES if p not in ps]
    for dtype in ctx.dtypes:
        for p in rates:
            rate_shape = _round_rate_shape(p, shape)
            where = f"p={p!r} (a round rate), {dtype}"
            total += 1
            try:
                if rate_shape[-2:] == (1, 1):
                    # 1x1 maps: whole by construction; hundreds of thousands of values
                    # judged against one period's bounds
                    x, tile = usersizes.large_input(
                        rng, usersizes.LargeCase(rate_shape, dtype, "contiguous"))
                    y = watch.cast(actual=ctx.forward(x, p, read_input=False).y, expected=x,
                                   where=where)
                    usersizes.assert_scaled_tiled(actual=y, x=x, tile=tile, p=p, where=where)
                    continue
                x = nonzero_values(rng, rate_shape, dtype)
                _judge_scale(ctx, watch, x, p, where, worst, str(dtype))
            except CheckFailed as exc:
                failures.append(exc.message)
                bad.setdefault(str(dtype), []).append(p)
    # CNN-sized tensors (calls shared with channel-structure): the values only, element by
    # element, of the contiguous calls, as above; zeros, whether they come in whole maps, and
    # other layouts (a kernel that reads the wrong elements) are channel-structure's, so that
    # a large-map or a stride fault fails that check alone
    large = [c for c in usersizes.large_training(ctx) if c.case.memory == "contiguous"]
    for call in large:
        watch.seen.update(call.dtype_seen)
        total += 1
        if call.values:
            failures.append(call.values)
            bad.setdefault(str(call.case.dtype), []).append(call.p)
    if failures:
        where = ", ".join(f"{d} at p in {[round(q, 4) for q in qs]}" for d, qs in bad.items())
        with watch.attribute():
            _fail_all(failures, total, f"the scale ({where})")
    summary = ", ".join(f"{d}: {u:.2g}" for d, u in worst.items())
    return CheckPassed(
        watch.message(f"kept maps equal x/(1-p) within {SCALE_ULPS} ulps at p in "
                      f"{[round(p, 4) for p in ps]} and at every round rate "
                      f"{list(usersizes.ROUND_RATES)} (largest error in ulps: {summary}), and on "
                      f"{len(large)} contiguous CNN-sized tensors ({_large_summary(large)})"),
        findings={},
    )
