"""R2: every (n, c) map is dropped or kept whole (channel-structure), and kept maps carry the
exact scale 1/(1-p) within a few ulps of the dtype (scale-exact).

Both draw their settings from the run's space (checks/space.py): shapes from batch size 1,
unbatched 3D and 1x1 maps to a thousand channels and large maps (up to 24x24, odd sizes), every
dtype and memory layout the adapter takes, fixed p values plus p drawn from the seed.  Neither
stops at the first bad setting: the verdict names every setting where R2 broke.
"""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks.assertions import SCALE_ULPS, DtypeWatch, assert_scaled
from conformance.checks.base import CheckContext, Outcome, check
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


@check("channel-structure", requirement="R2", title="Each (n, c) map is dropped or kept whole")
def channel_structure(adapter: Adapter, ctx: CheckContext) -> Outcome:
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
    if failures:
        with watch.attribute():
            _fail_all(failures, total, "R2's channel structure")
    return Outcome(watch.message(
        f"{decisions} maps over {len(shapes)} shapes {shapes} (batch size 1, 1x1 and large maps, "
        f"many channels, unbatched), contiguous, strided and channels-last input, p in "
        f"{ps}: every map all zero or x[n, c] * 1/(1-p)"
    ))


@check("scale-exact", requirement="R2", title="Kept maps equal x / (1 - p) within a few ulps")
def scale_exact(adapter: Adapter, ctx: CheckContext) -> Outcome:
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
            n = shape[0] if p <= 0.99 else int(np.ceil(40 / (1 - p) / shape[1]))
            x = nonzero_values(rng, (n, *shape[1:]), dtype)
            where = f"p={p!r}, {dtype}"
            total += 1
            try:
                f = ctx.forward(x, p)
                # a wrong dtype is shape-dtype's failure: judge the values cast back
                y = watch.cast(actual=f.y, expected=x, where=where)
                keep = extract_keep_mask(x=x, y=y, where=where)
                err = assert_scaled(actual=y, x=x, keep=keep, p=p, where=where)
                worst[str(dtype)] = max(worst.get(str(dtype), 0.0), err)
            except CheckFailed as exc:
                failures.append(exc.message)
                bad.setdefault(str(dtype), []).append(p)
    if failures:
        where = ", ".join(f"{d} at p in {[round(q, 4) for q in qs]}" for d, qs in bad.items())
        with watch.attribute():
            _fail_all(failures, total, f"the scale ({where})")
    summary = ", ".join(f"{d}: {u:.2g}" for d, u in worst.items())
    return Outcome(
        watch.message(f"kept maps equal x/(1-p) within {SCALE_ULPS} ulps at p in "
                      f"{[round(p, 4) for p in ps]} (largest error in ulps: {summary})"),
        findings={},
    )
