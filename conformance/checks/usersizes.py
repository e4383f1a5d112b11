"""What users run: the rates their configurations contain and the tensor sizes of real CNNs.

One home for the edges of the space that are set by use, not by what is cheap to draw: the
statistical space (checks/space.py) and the deterministic checks both read them, so a fault on
a fast path for a round rate or a CNN-sized tensor meets every check that can see it.

The deterministic checks feed :data:`LARGE_SHAPES` through :func:`large_cases` (the same
(shape, dtype) pairs in every check, so a compiling framework builds each program once) with
inputs from :func:`large_input`, whose values repeat with a period of :data:`TILE` elements:
:func:`assert_scaled_tiled` then judges R2's values on tens of MB for the cost of a few
comparisons, where :func:`conformance.checks.assertions.assert_scaled` needs a dozen float64
passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conformance.checks.assertions import SCALE_ULPS, DtypeWatch, lower_precision_match, ulp
from conformance.checks.base import CheckContext
from conformance.checks.inputs import extract_keep_mask, first_offender, maps, nonzero_values
from conformance.checks.settings import MEMORIES
from conformance.errors import CheckFailed

#: every multiple of 0.05 strictly inside (0, 1), and the small rates people set (0.01, 0.02,
#: 0.001, 1e-4) with their mirrors 1 - p: each is visited exactly (never only near) by every run
ROUND_RATES: tuple[float, ...] = tuple(sorted(
    {round(0.05 * i, 2) for i in range(1, 20)}
    | {0.01, 0.02, 0.001, 1e-4}
    | {round(1 - p, 4) for p in (0.01, 0.02, 0.001, 1e-4)}
))

#: the feature-map sizes of CNNs (ResNet/VGG stages at 224x224 input), and long 1 x L maps
CNN_MAPS: tuple[tuple[int, int], ...] = ((32, 32), (56, 56), (112, 112), (224, 224))
LONG_MAPS: tuple[tuple[int, int], ...] = ((1, 1031), (1, 4096))

#: the largest channel count and batch the space and the checks reach
MAX_CHANNELS = 8192
MAX_BATCH = 16384

#: tensors as users feed them, for the deterministic checks (a few calls each: they cost memory
#: bandwidth, not decisions): every CNN map size (32x32 is the smallest a fault on "large maps"
#: may start at), more channels than any power-of-two chunk, a batch past 2**13, long maps, and
#: the largest, last, which every check meets in every dtype: 3.2 M elements, 25.7 MB in
#: float64, 12.8 MB in float32 and 6.4 MB in 16 bits (twice that would double the deterministic
#: checks' time, which its memory traffic dominates, for no fault class a few MB do not show)
LARGE_SHAPES: tuple[tuple[int, int, int, int], ...] = (
    (4, 64, 32, 32),
    (2, 64, 56, 56),
    (1, 16, 224, 224),
    (2, 8192, 3, 3),
    (16383, 3, 2, 2),
    (4, 32, *LONG_MAPS[0]),
    (2, 32, 112, 112),
    (4, 64, 112, 112),
)

#: the period of the large inputs' values: a prime above the largest map (224 x 224 = 50176), so
#: no two maps of any large shape hold the same values (a kernel that reads the wrong map or
#: ignores strides shows) while the allowed output values are computed for one period only
TILE = 65521


@dataclass(frozen=True)
class LargeCase:
    """One call of a deterministic check on a large tensor: shape, dtype and memory layout."""

    shape: tuple[int, ...]
    dtype: np.dtype
    memory: str

    @property
    def largest(self) -> bool:
        return self.shape == LARGE_SHAPES[-1]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape)) * self.dtype.itemsize

    def label(self) -> str:
        memory = "" if self.memory == "contiguous" else f", memory={self.memory}"
        return f"shape={self.shape} ({self.nbytes / 1e6:.1f} MB), {self.dtype}{memory}"


def large_cases(dtypes: Sequence[np.dtype]) -> list[LargeCase]:
    """The large calls of one deterministic property: each of :data:`LARGE_SHAPES` once, with
    the dtype and the memory layout rotating, and the largest shape in every dtype.

    Every dtype and every layout meets a large tensor, and the largest tensor meets every dtype,
    in ``len(LARGE_SHAPES) - 1 + len(dtypes)`` calls.  The (shape, dtype) pairs depend on the
    dtypes alone, so every check makes the same ones (a framework that compiles one program per
    shape and dtype compiles each once per run); only the layouts differ by position.
    """
    if not dtypes:
        raise ValueError("large_cases needs at least one dtype")
    nd, nm = len(dtypes), len(MEMORIES)
    # dtype i % nd and layout i % nm run through every pair unless nd is a multiple of nm,
    # where the layouts shift by one each round so that no dtype is tied to one layout
    shift = nd % nm == 0
    cases = [
        LargeCase(shape, np.dtype(dtypes[i % nd]), MEMORIES[(i + (i // nd if shift else 0)) % nm])
        for i, shape in enumerate(LARGE_SHAPES[:-1])
    ]
    # the largest last, from the layout after the rotation's: with three dtypes or more it
    # meets every layout too
    start = len(cases)
    cases += [LargeCase(LARGE_SHAPES[-1], np.dtype(d), MEMORIES[(start + j) % nm])
              for j, d in enumerate(dtypes)]
    return cases


def large_input(rng: np.random.Generator, case: LargeCase) -> tuple[np.ndarray, np.ndarray]:
    """A C-contiguous input for ``case`` with no zeros, and its period: ``x.flat[i]`` is
    ``tile[i % TILE]``.  One pass to build (drawing tens of MB of values would cost more than
    the call under test)."""
    tile = nonzero_values(rng, (TILE,), case.dtype)
    return np.resize(tile, case.shape), tile


def _int_view(a: np.ndarray) -> np.ndarray:
    return a.view(np.dtype(f"i{a.dtype.itemsize}"))


def _bounds(tile: np.ndarray, p: float, ulps: int) -> tuple[np.ndarray, np.ndarray]:
    """For each value of ``tile``: the range of the bit patterns, read as signed integers, of
    the ``tile.dtype`` values within ``ulps`` ulps of ``tile / (1 - p)``.

    Floats of one sign are ordered like their bit patterns as signed integers (increasing with
    the magnitude for both signs), and every bound here has its value's sign (|x| >= 0.5), so
    "y within the bounds" is one integer range test on y's bits: no float arithmetic on the
    tensor at all."""
    dtype = tile.dtype
    exact = tile.astype(np.float64) / (1.0 - p)
    spacing = ulp(exact.astype(dtype).astype(np.float64), dtype)
    out = []
    for bound, up in ((exact - ulps * spacing, True), (exact + ulps * spacing, False)):
        rounded = bound.astype(dtype)
        value = rounded.astype(np.float64)
        # never round outward: one step in the magnitude (+1 in the bit pattern) toward inside
        outside = value < bound if up else value > bound
        step = np.where(outside, np.where((bound > 0) == up, 1, -1), 0)
        out.append(_int_view(rounded).astype(np.int64) + step)
    lo, hi = np.minimum(*out), np.maximum(*out)
    itype = np.dtype(f"i{dtype.itemsize}")
    return lo.astype(itype), (hi - lo).astype(np.dtype(f"u{dtype.itemsize}"))


def assert_scaled_tiled(
    *,
    actual: np.ndarray,
    x: np.ndarray,
    tile: np.ndarray,
    p: float,
    ulps: int = SCALE_ULPS,
    what: str = "kept values",
    where: str,
) -> None:
    """Every element of ``actual`` is 0 or within ``ulps`` ulps of ``x / (1 - p)``, for an ``x``
    made by :func:`large_input` (period ``tile``): the criterion of
    :func:`~conformance.checks.assertions.assert_scaled` on kept values, exactly, with the
    bounds computed for one period and compared as integers on the output's bits.

    Zeros are not judged here: whether they come in whole maps is channel-structure's question
    (which calls :func:`~conformance.checks.inputs.extract_keep_mask` first).
    """
    dtype = x.dtype
    if actual.dtype != dtype:
        raise ValueError(f"assert_scaled_tiled: output dtype {actual.dtype} != {dtype} (cast "
                         "it back first: the dtype is shape-dtype's to judge)")
    lo, width = _bounds(tile, p, ulps)
    values = _int_view(np.ascontiguousarray(actual)).reshape(-1)
    magnitude = np.iinfo(values.dtype).max  # every bit but the sign: zero for +0.0 and -0.0
    unsigned = np.dtype(f"u{dtype.itemsize}")
    whole = values.size // TILE * TILE
    ok = np.empty(values.size, bool)
    for part, out, n in ((values[:whole].reshape(-1, TILE), ok[:whole].reshape(-1, TILE), TILE),
                         (values[whole:], ok[whole:], values.size - whole)):
        # lo <= v <= lo + width as one unsigned comparison of the wrapped difference
        np.less_equal(np.subtract(part, lo[:n]).view(unsigned), width[:n], out=out)
        out |= (part & magnitude) == 0
    if ok.all():
        return
    bad = ~ok.reshape(actual.shape)
    index, count = first_offender(bad)
    got, value = float(actual[index]), float(x[index])
    # the message's diagnosis on the offending sample only (the whole tensor would cost more
    # than the check)
    n = index[0]
    ys, xs = actual[n:n + 1], x[n:n + 1]
    lower = lower_precision_match(actual=ys, x=xs, p=p, keep=(maps(ys) != 0).all(axis=-1))
    meaning = (f"the {dtype} result equals the computation in {lower}: computed in lower "
               f"precision" if lower else f"implied scale {got / value!r} vs "
               f"1/(1-p)={1.0 / (1.0 - p)!r}")
    raise CheckFailed(
        f"{what}: {count} elements neither 0 nor within {ulps} ulps of {dtype} of x/(1-p); "
        f"{meaning}; first at {index}: got {got!r}, expected {value / (1.0 - p)!r} "
        f"(x={value!r}, p={p!r}) ({where})"
    )


#: p of the shared large training calls, in turn: today's fixed structure rates (a fault at
#: one round rate is scale-exact's to find, on its own calls, not channel-structure's too)
LARGE_TRAINING_P = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class LargeTraining:
    """What one large training call showed: R2's structure and R2's values, judged apart."""

    case: LargeCase
    p: float
    #: input dtype -> output dtype where they differed (for the checks' DtypeWatch)
    dtype_seen: dict[str, str]
    #: why the zeros do not come in whole maps (None: they do)
    structure: str | None
    #: why some value is neither 0 nor x/(1-p) within the ulps (None: every value is)
    values: str | None

    @property
    def where(self) -> str:
        return f"p={self.p:g}, {self.case.label()}"


def large_training(ctx: CheckContext) -> list[LargeTraining]:
    """The training calls on :func:`large_cases` that channel-structure and scale-exact share
    (draw once, test many: they cost the implementation's time on tens of MB, not the suite's):
    made by whichever of the two runs first and kept in ``ctx.run_cache``.

    Their inputs come from the run's seed, so the calls are the same whichever check makes
    them, and a check run alone judges exactly what it judges in the full battery.  An adapter
    that raises is not cached: the next check calls again and meets it itself."""
    key = "usersizes.large-training"
    cached = ctx.run_cache.get(key)
    if cached is not None:
        return cached
    rng = np.random.default_rng([ctx.space_seed, 0x1A6E])
    out = []
    for i, case in enumerate(large_cases(ctx.dtypes)):
        p = LARGE_TRAINING_P[i % len(LARGE_TRAINING_P)]
        x, tile = large_input(rng, case)
        where = f"p={p:g}, {case.label()}"
        watch = DtypeWatch()
        y = watch.cast(actual=ctx.forward(x, p, memory=case.memory, read_input=False).y,
                       expected=x, where=where)
        structure = values = None
        try:
            extract_keep_mask(x=x, y=y, where=where)
        except CheckFailed as exc:
            structure = exc.message
        try:
            assert_scaled_tiled(actual=y, x=x, tile=tile, p=p, what="kept maps", where=where)
        except CheckFailed as exc:
            values = exc.message
        out.append(LargeTraining(case, p, dict(watch.seen), structure, values))
        x = y = None  # type: ignore[assignment]  # free tens of MB before the next input
    ctx.run_cache[key] = out
    return out


__all__ = ["CNN_MAPS", "LARGE_SHAPES", "LONG_MAPS", "MAX_BATCH", "MAX_CHANNELS", "ROUND_RATES",
           "TILE", "LargeCase", "LargeTraining", "assert_scaled_tiled", "large_cases",
           "large_input", "large_training"]
