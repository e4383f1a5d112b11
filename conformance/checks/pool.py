"""The pool of draws every statistical check shares: draw once, test many.

The first check that needs a cell of the space (:mod:`conformance.checks.space`) draws it whole
(:func:`draw`) and keeps it in ``ctx.run_cache`` as packed bits plus the sufficient statistics
of the kept maps' values; every later check reads the same draw.  A seedable adapter is
re-seeded from the run seed and the cell before the cell is drawn, so ``--check X`` alone draws
exactly the data of the full run and reproduces its p-values, and any process can draw any
cell: a supervised run's worker draws the cells (:func:`draw_cell`) and the statistical checks
read them in the supervisor (``ctx.draw_source``).  Bonferroni holds under any dependence, so
sharing draws between sub-tests costs no validity.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from conformance.checks import calling
from conformance.checks.base import CheckContext
from conformance.checks.inputs import extract_keep_mask, first_offender, keep_from_zeros, maps
from conformance.checks.settings import make_input
from conformance.checks.space import Cell
from conformance.contract import ROOT_STRUCTURE
from conformance.contract import keep_scale as scale_for  # the contract's, not the reference's
from conformance.errors import CheckFailed


@dataclass(frozen=True)
class Draw:
    """What one cell's calls gave: decisions as packed bits and the kept maps' value ratios.

    ``ratio_*`` summarise y/x at the first element of every kept map (float64): their sum,
    smallest and largest value, enough for E[y]/x without keeping the outputs.
    """

    cell: Cell
    #: uint8 (calls, ceil(N * C / 8)): np.packbits of each call's dropped decisions in (n, c)
    #: order (per call, not per sample: one channel would otherwise take a byte a decision)
    packed: np.ndarray
    kept: int
    ratio_sum: float
    ratio_min: float
    ratio_max: float
    #: the warnings the implementation emitted while the cell was drawn (every check that reads
    #: the cell reports them)
    warnings: tuple[str, ...] = ()

    def dropped(self) -> np.ndarray:
        """The dropped decisions: bool (calls, N, C)."""
        s = self.cell.setting
        bits = np.unpackbits(self.packed, axis=-1, count=s.per_call)
        return bits.view(bool).reshape(self.cell.calls, s.batch, s.channels)

    @property
    def n(self) -> int:
        return self.cell.decisions

    @property
    def k(self) -> int:
        return self.n - self.kept


def cell_seed(space_seed: int, cell: Cell) -> int:
    """The adapter's seed before ``cell`` is drawn: fixed by the run seed and the setting."""
    text = f"{space_seed}:{cell_key(cell)}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def inputs(space_seed: int, cell: Cell, count: int = 2) -> list[np.ndarray]:
    """The cell's input pool (call t uses input t % count), fixed by the run seed and cell."""
    rng = np.random.default_rng([space_seed, 0x1D, cell_seed(space_seed, cell)])
    return [make_input(rng, cell.setting) for _ in range(count)]


class DrawSource(Protocol):
    """Where a context's draws come from when its process does not call the implementation:
    the supervisor's statistical checks read the draws a worker makes
    (``engine.worker_session``).  ``fetch`` raises what drawing raised (``CheckFailed``,
    ``AdapterError``) or ``CheckAborted`` when the worker was lost."""

    def prefetch(self, ctx: CheckContext, cells: Sequence[Cell]) -> None: ...

    def fetch(self, ctx: CheckContext, cell: Cell) -> Draw: ...


def cell_key(cell: Cell) -> str:
    """What identifies a cell's draw (its setting and number of calls)."""
    return f"{cell.setting!r}:{cell.calls}"


def _cache_key(ctx: CheckContext, cell: Cell) -> str:
    return f"space:{ctx.space_seed}:{ctx.dry_run}:{cell_key(cell)}"


def draw(ctx: CheckContext, cell: Cell) -> Draw:
    """The cell's draw: from ``ctx.run_cache`` if a check of this run drew it, else drawn now
    (or read from ``ctx.draw_source``).

    A seedable adapter is seeded from the run seed and the cell first, so that whichever check
    draws the cell, the data are the same (a single-check run reproduces the full run).
    """
    key = _cache_key(ctx, cell)
    result = ctx.run_cache.get(key)
    if result is None:
        if ctx.dry_run:
            result = _simulate(ctx, cell)
        elif ctx.draw_source is not None:
            result = ctx.draw_source.fetch(ctx, cell)
        else:
            result = draw_cell(ctx, cell)
        ctx.run_cache[key] = result
    if key not in ctx.read:
        ctx.read.add(key)
        ctx.decisions += cell.decisions
        ctx.calls += cell.calls
        ctx.warnings.extend(result.warnings)
    return result


#: the outputs of this many elements are read back together (per-call NumPy work is the
#: suite's overhead on top of the adapter's own cost: one pass over a chunk of calls, not
#: one per call); 1 M elements keep the chunk's copies under about 25 MB
CHUNK_ELEMENTS = 1 << 20


def draw_cell(ctx: CheckContext, cell: Cell) -> Draw:
    """Draw the cell now, calling ``ctx.adapter`` (what a worker does for the supervisor).

    Outputs are read in chunks of calls (one NumPy pass per chunk, not per call).  A call
    whose output fills a chunk by itself is read at once, before the next call; smaller ones
    are copied into a chunk buffer reused for the whole cell (an implementation that reuses
    its output buffer, R1's fault and the results-kept check's, must not also corrupt the
    decisions read back later, and fresh memory would cost a page fault per 4 KB)."""
    s = cell.setting
    xs = inputs(ctx.space_seed, cell)
    firsts = np.stack([x[..., 0, 0].astype(np.float64).reshape(s.batch, s.channels)
                       for x in xs])
    calling.seed_adapter(ctx.adapter, cell_seed(ctx.space_seed, cell))
    packed = np.empty((cell.calls, (s.per_call + 7) // 8), np.uint8)
    tally = _Tally(ones=s.kind == "ones")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _draw_calls(ctx, cell, xs, firsts, packed, tally)
        except BaseException as exc:  # (what the calls warned of goes with the failure)
            failure: BaseException | None = exc
        else:
            failure = None
    if failure is not None:
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        raise failure
    seen = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return Draw(cell, packed, tally.kept, tally.total, tally.lo, tally.hi, seen)


def _draw_calls(ctx: CheckContext, cell: Cell, xs: list[np.ndarray], firsts: np.ndarray,
                packed: np.ndarray, tally: _Tally) -> None:
    """The cell's calls, read in chunks into ``packed`` and ``tally``."""
    s = cell.setting
    where = f"({s.label()})"
    per_chunk = max(1, CHUNK_ELEMENTS // (s.per_call * s.map_size))
    chunk: np.ndarray | None = None
    with calling.guarded():  # one guard for the whole loop, not one per call (hot path)
        call = calling.RepeatedCall(ctx.adapter, xs, s.p, memory=s.memory)
        for t0 in range(0, cell.calls, per_chunk):
            ts = range(t0, min(cell.calls, t0 + per_chunk))
            for j, t in enumerate(ts):
                x = xs[t % len(xs)]
                y = call(t % len(xs))
                if y.shape != x.shape:
                    extract_keep_mask(x=x, y=y, where=f"call {t} {where}")  # R1's failure
                if per_chunk == 1:
                    chunk = y[None]
                    break
                if chunk is None or chunk.dtype != y.dtype:
                    if j:  # (a dtype that changes between calls: read what came before)
                        tally.add(cell, chunk[:j], firsts[np.arange(t0, t) % len(xs)],
                                  packed[t0:t], f"(the first index counts calls from call "
                                  f"{t0}) {where}")
                        t0 = t
                    chunk = np.empty((per_chunk, *y.shape), y.dtype)
                chunk[t - t0] = y
            n = ts.stop - t0
            tally.add(cell, chunk[:n], firsts[np.arange(t0, ts.stop) % len(xs)],
                      packed[t0:ts.stop],
                      f"(the first index counts calls from call {t0}) {where}")


class _Tally:
    """What a cell's calls gave so far: kept count, the kept ratios' sum, smallest and largest
    value (a NaN map of finite input fails R2 at once)."""

    def __init__(self, ones: bool = False) -> None:
        self.kept, self.total, self.lo, self.hi = 0, 0.0, math.inf, -math.inf
        self.ones = ones  # every input element is 1: a kept map's y/x is y

    def add(self, cell: Cell, y: np.ndarray, firsts: np.ndarray, packed: np.ndarray,
            where: str) -> None:
        """Calls ``y`` (calls, *shape), whose inputs' first elements are ``firsts`` (calls, N,
        C): their decisions into ``packed`` (calls, ceil(N * C / 8))."""
        s = cell.setting
        calls = len(y)
        # compare first, then lay out by map: a channels-last or strided output is then copied
        # as one byte per element, not its dtype's width
        keep = keep_from_zeros(maps(y == 0), where=where).reshape(calls, s.batch, s.channels)
        packed[...] = np.packbits(~keep.reshape(calls, -1), axis=-1)
        y0 = y[..., 0, 0].reshape(calls, s.batch, s.channels)
        if not (y0.dtype.kind == "f" and y0.dtype.itemsize >= 4):
            y0 = y0.astype(np.float64)  # (float16, bfloat16, integers: where NumPy knows them)
        # x * s may overflow a narrow dtype (1e3 / (1 - 0.999) in float16): inf is then the
        # correct output and says nothing about the scale, so such maps give no ratio
        finite = keep & np.isfinite(y0)
        nan = keep & np.isnan(y0)
        if nan.any():
            # finite input never gives a NaN map: neither dropped (zeros) nor kept (x * s),
            # e.g. 0 * inf where the scale overflows the dtype; no rate can be read from it
            index, count = first_offender(nan)
            raise CheckFailed(
                f"map {index} is NaN for finite, nonzero input ({count} maps) {where}: a map "
                f"must be all zeros or x * {float(scale_for(s.p, np.dtype(s.dtype))):.6g} "
                "(R2; a dropped map computed as 0 * inf where 1/(1-p) overflows the dtype?)",
                root_cause=ROOT_STRUCTURE)
        kept = int(keep.sum())
        self.kept += kept
        n_finite = int(finite.sum())
        if n_finite:
            # y/x in float64 at every kept, finite map (the input's first element is 1 for
            # inputs of ones: then y itself)
            ratio = y0[finite].astype(np.float64)
            if not self.ones:
                ratio /= firsts[finite]
            # the kept maps that overflowed count at the mean ratio of the chunk's finite ones
            self.total += float(ratio.sum()) / n_finite * kept
            self.lo, self.hi = min(self.lo, float(ratio.min())), max(self.hi, float(ratio.max()))


def _simulate(ctx: CheckContext, cell: Cell) -> Draw:
    """A correct implementation's draw, for planning (no adapter call)."""
    s = cell.setting
    rng = np.random.default_rng([ctx.space_seed, 99, cell.index])
    dropped = rng.random((cell.calls, s.batch, s.channels)) < s.p
    kept = int((~dropped).sum())
    ratio = float(scale_for(s.p, np.dtype(s.dtype))) if s.p < 1 else 0.0
    return Draw(cell, np.packbits(dropped.reshape(cell.calls, -1), axis=-1), kept, kept * ratio,
                ratio if kept else math.inf, ratio if kept else -math.inf)


def draws(ctx: CheckContext, cells: Iterable[Cell]) -> list[Draw]:
    cells = list(cells)
    if ctx.draw_source is not None and not ctx.dry_run:  # ask for them all at once
        ctx.draw_source.prefetch(ctx, [c for c in cells if _cache_key(ctx, c) not in
                                       ctx.run_cache])
    return [draw(ctx, c) for c in cells]


__all__ = ["Draw", "DrawSource", "cell_key", "cell_seed", "draw", "draw_cell", "draws", "inputs"]
