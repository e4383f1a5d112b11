"""The settings space every statistical check samples: which settings a run draws, and how many
calls of each (the draws themselves, shared by the checks, are :mod:`conformance.checks.pool`).

**The space, not a grid.**  A fault that lives off a fixed grid is the one that ships, so the
run's settings are drawn from the seed (``--seed``; a failure reproduces from it) over:

* N from 1 to thousands, and unbatched 3D input where the adapter takes it; C from 1 to 2048;
  maps from 1x1 to 20x20 with odd sizes (H*W >= 64 included), in shape *categories* that each
  get an equal share of the settings (batch size 1, unbatched, 1x1 maps, >= 512 channels, large
  maps, long batches of few channels, a single channel, square);
* every dtype the adapter declares, every memory layout (contiguous, channels-last, strided) and
  every input kind, each level of each factor given an equal share of the settings (shuffled by
  the seed, so combinations vary from seed to seed);
* p densely over [0, 1]: the level's fixed anchors plus one p drawn inside each of
  ``level.sweep_cells`` strata (80 % of them evenly over [0.03, 0.97], 10 % log-evenly over
  [0.001, 0.03] and 10 % mirrored near 1), so a fault in any band of p at least 0.02 wide meets
  several settings at default level.

**Closed form.**  The space is a list of :class:`Cell` (a setting and its number of calls),
fixed from the level, the run's seed, the adapter's capabilities and the check budget: no draw
decides how much is drawn, so every process of a run (the worker that draws, the supervisor that
tests) builds the same space.

Families of cells:

* ``anchor``: at each p of ``level.p_grid``, three settings sharing the decisions that the
  drop-rate (and expectation) targets need at that p;
* ``sweep``: one setting per p-stratum, ``level.sweep_decisions`` decisions each (at most
  ``MAX_CALLS`` calls and ``MAX_ELEMENTS`` elements), for the tests across settings;
* ``channel-positions`` / ``batch-positions``: 40 positions along C (resp. N) at each p of
  ``level.short_grid``, sized for the per-position tests (and the count distribution);
* ``sequence``: a long run of ``level.sequence_calls`` calls on a small input at each p of the
  short grid, for dependence across calls at every lag and repeats of whole masks.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from conformance.checks.base import CheckContext, Level
from conformance.checks.regions import EXTREME, guarantees, region_definitions
from conformance.checks.settings import INPUT_KINDS, MEMORIES, VALUE_CLASSES, Setting
from conformance.checks.subtests import REPEAT_MARGIN, subtests
from conformance.checks.usersizes import CNN_MAPS, LONG_MAPS, MAX_BATCH, MAX_CHANNELS, ROUND_RATES
from conformance.stats import (
    binomial_count_gof_sample_size,
    binomial_edge_sample_size,
    binomial_sample_size,
    expectation_sample_size,
    identical_repeats_sample_size,
    lag_sample_size,
    positions_sample_size,
)

#: input kinds the space rotates through (value classes feed independence-values)
KINDS: tuple[str, ...] = (*INPUT_KINDS, VALUE_CLASSES)

#: shape categories, each given an equal share of the sweep's settings
CATEGORIES: tuple[str, ...] = (
    "batch-1", "unbatched", "1x1", "wide", "large-map", "long-batch", "single-channel", "square",
    "many-channels", "huge-batch",
)
#: the extreme-p settings' decisions per call (1x1 maps: 16 MB in float32, 32 MB in float64)
EXTREME_PER_CALL = 1 << 22
#: elements per call of a CNN-map setting (a few MB: large maps cost bandwidth, not decisions)
CNN_ELEMENTS = 1 << 20
#: categories with many decisions per call, for the anchor cells (few calls for their n)
ANCHOR_CATEGORIES: tuple[str, ...] = ("square", "wide", "long-batch", "1x1")
#: at least this many decisions per anchor call
ANCHOR_PER_CALL = 4096

#: a cell never makes more calls than this (per-call overhead), except the sequences ...
MAX_CALLS = 128
#: ... nor feeds more elements than this in all: large maps cost memory bandwidth, not
#: decisions, and R2's structure shows in a few calls
MAX_ELEMENTS = 1_500_000

#: Cells are sized at the shares the checks take (checks/subtests.py: ``subtests``), so the
#: planned power is the power of the test.
POSITIONS = 40  # positions per uniformity cell (channels of channel-positions, samples of batch)
#: pooled lag products are tested only at lags with this many pairs (normal tails at 1e-7)
LAG_MIN_PAIRS = 100_000


def anchor_mde(level: Level, p: float) -> float:
    """Drop-rate target at ``p``: absolute, and relative to min(p, 1-p), whichever is smaller
    (an absolute 0.005 would be a 50 % bias at p = 0.01)."""
    return min(level.drop_rate_mde, level.drop_rate_rel_mde * min(p, 1 - p))


def expectation_target(level: Level, p: float) -> float:
    """The relative bias of E[y]/x that the expectation check must find at ``p``.

    y/x has variance p/(1-p) per decision; above p = 0.5 the relative target grows with its
    standard deviation (a bias that drop-rate and scale-exact bound far more tightly there).
    """
    return level.expectation_mde * max(1.0, math.sqrt(p / (1 - p)))


@dataclass(frozen=True)
class Cell:
    """One setting of the run's space and how many calls are drawn for it."""

    index: int
    family: str
    category: str
    setting: Setting
    calls: int

    @property
    def decisions(self) -> int:
        return self.calls * self.setting.per_call

    def label(self) -> str:
        return f"{self.setting.label()}, {self.calls} calls"


@dataclass(frozen=True)
class Space:
    """The run's cells, with the identity of what they were derived from."""

    level: str
    seed: int
    cells: tuple[Cell, ...]

    def family(self, *names: str) -> list[Cell]:
        return [c for c in self.cells if c.family in names]

    def at(self, p: float, family: str = "anchor") -> list[Cell]:
        return [c for c in self.cells if c.family == family and c.setting.p == p]

    @property
    def decisions(self) -> int:
        return sum(c.decisions for c in self.cells)

    @property
    def calls(self) -> int:
        return sum(c.calls for c in self.cells)


def _log_uniform(rng: np.random.Generator, lo: int, hi: int) -> int:
    return round(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _small_map(rng: np.random.Generator) -> tuple[int, int]:
    return int(rng.integers(1, 6)), int(rng.integers(1, 6))


def category_shape(rng: np.random.Generator, category: str) -> tuple[int, ...]:
    """A shape of ``category`` drawn from ``rng`` (odd and even sizes alike)."""
    if category == "batch-1":
        return (1, _log_uniform(rng, 64, 2048), *_small_map(rng))
    if category == "unbatched":
        # (C, 1, W): one decision per channel whether the adapter reads 3D input as unbatched
        # (C, H, W) or as PyTorch's legacy (N, C, L) -- both are allowed (implementation-defined)
        return (_log_uniform(rng, 64, 2048), 1, int(rng.integers(1, 8)))
    if category == "1x1":
        return (_log_uniform(rng, 8, 512), _log_uniform(rng, 8, 256), 1, 1)
    if category == "wide":
        return (_log_uniform(rng, 2, 32), _log_uniform(rng, 512, 2048), *_small_map(rng))
    if category == "large-map":
        h, w = int(rng.integers(8, 21)), int(rng.integers(8, 21))
        return (_log_uniform(rng, 8, 64), _log_uniform(rng, 16, 128), h, w)
    if category == "long-batch":
        return (_log_uniform(rng, 1024, 8192), int(rng.integers(2, 9)), *_small_map(rng))
    if category == "single-channel":
        return (_log_uniform(rng, 256, 4096), 1, *_small_map(rng))
    if category == "square":
        return (_log_uniform(rng, 16, 256), _log_uniform(rng, 16, 256),
                int(rng.integers(1, 10)), int(rng.integers(1, 10)))
    if category == "many-channels":
        # past any power-of-two chunk of channels a kernel may process (2048, 4096)
        return (int(rng.integers(1, 5)), int(rng.integers(2049, MAX_CHANNELS + 1)),
                *_small_map(rng))
    if category == "huge-batch":
        return (int(rng.integers(8193, MAX_BATCH + 1)), int(rng.integers(1, 4)),
                *_small_map(rng))
    raise ValueError(f"unknown shape category {category!r}; known: {list(CATEGORIES)}")


def _balanced(rng: np.random.Generator, levels: Sequence[str], n: int) -> list[str]:
    """``n`` values with every level equally often (up to one), in an order drawn from rng."""
    values = [levels[i % len(levels)] for i in range(n)]
    return [values[i] for i in rng.permutation(n)]


def strata_count(strata: int) -> int:
    """How many p ``sweep_ps`` draws for ``strata`` (without drawing them)."""
    edge = max(1, strata // 10)
    return max(1, strata - 2 * edge) + 2 * edge


def sweep_ps(rng: np.random.Generator, strata: int) -> list[float]:
    """One p drawn inside each stratum: 80 % evenly over [0.03, 0.97], 10 % log-evenly over
    [0.001, 0.03] and 10 % mirrored, so p near 0 and near 1 are visited densely too."""
    edge = max(1, strata // 10)
    middle = max(1, strata - 2 * edge)
    ps = []
    for i in range(middle):
        ps.append(0.03 + 0.94 * (i + rng.random()) / middle)
    lo, hi = math.log(0.001), math.log(0.03)
    for i in range(edge):
        small = math.exp(lo + (hi - lo) * (i + rng.random()) / edge)
        ps += [small, 1.0 - math.exp(lo + (hi - lo) * (i + rng.random()) / edge)]
    return [round(p, 6) for p in ps]


def _calls(decisions: int, setting: Setting, *, capped: bool = True, minimum: int = 2) -> int:
    """Calls for ``decisions`` decisions, within the cell's call and element caps (``capped``)."""
    calls = max(minimum, math.ceil(decisions / setting.per_call))
    if not capped:
        return calls
    elements = setting.per_call * setting.map_size
    return max(minimum, min(calls, MAX_CALLS, MAX_ELEMENTS // elements))


@functools.lru_cache(maxsize=32)
def build_space(
    level: Level,
    seed: int,
    dtypes: tuple[str, ...],
    three_d: bool,
    alpha: float,
    beta: float,
) -> Space:
    """The run's cells, in closed form (no draws decide sizes): see the module docstring.

    ``alpha`` is one statistical check's share of the family budget: the cells are sized for
    the sub-test shares the checks use (``checks.subtests.subtests``).
    """
    rng = np.random.default_rng([seed, 0x5BACE])
    categories = [c for c in CATEGORIES if three_d or c != "unbatched"]
    cells: list[Cell] = []

    def add(family: str, category: str, setting: Setting, calls: int) -> None:
        cells.append(Cell(len(cells), family, category, setting, calls))

    # anchors: the fixed p grid, three settings per p sharing the drop-rate / expectation n
    k_rate = subtests("drop-rate", level)
    n_anchor = len(level.p_grid) * 3
    a_dtypes = _balanced(rng, dtypes, n_anchor)
    a_memory = _balanced(rng, MEMORIES, n_anchor)
    a_kinds = _balanced(rng, KINDS, n_anchor)
    a_cats = _balanced(rng, ANCHOR_CATEGORIES, n_anchor)
    i = 0
    for p in level.p_grid:
        need = max(
            binomial_sample_size(anchor_mde(level, p), p, alpha=alpha / k_rate, beta=beta),
            expectation_sample_size(expectation_target(level, p), p,
                                    alpha=alpha / subtests("expectation", level), beta=beta),
        )
        for _ in range(3):
            shape = category_shape(rng, a_cats[i])
            # many decisions per call and small maps: the anchors' n then costs few calls and
            # little memory traffic (the sweep covers large maps)
            n = shape[0] * math.ceil(ANCHOR_PER_CALL / (shape[0] * shape[1]))
            shape = (n, shape[1], *(_small_map(rng) if shape[2] * shape[3] > 25 else shape[2:]))
            s = Setting(p, shape, a_kinds[i], a_dtypes[i], a_memory[i])
            # the anchors carry the level's rate targets: never capped (their maps are small)
            add("anchor", a_cats[i], s, _calls(math.ceil(need / 3), s, capped=False))
            i += 1

    # sweep: one setting per p-stratum, every factor balanced over the sweep.  Each category
    # has a small vocabulary of (shape, dtype) pairs that its settings cycle through (with
    # their own p, layout and input kind): frameworks that compile per shape and dtype (JAX,
    # torch.compile) then compile a few dozen programs, not one per setting.
    ps = sweep_ps(rng, level.sweep_cells)
    m = len(ps)
    # a multiple of the dtypes, so that cycling through a category's vocabulary gives each
    # dtype an equal share of the sweep
    per_category = len(dtypes) * max(1, m // (len(categories) * 4 * len(dtypes)))
    vocabulary = {
        cat: [(category_shape(rng, cat), dtypes[(j + ci) % len(dtypes)])
              for j in range(per_category)]
        for ci, cat in enumerate(categories)
    }
    cats = _balanced(rng, categories, m)
    mems, kinds = _balanced(rng, MEMORIES, m), _balanced(rng, KINDS, m)
    order = rng.permutation(m)
    used: dict[str, int] = {}
    for j in range(m):
        cat = cats[j]
        shape, dtype = vocabulary[cat][used.get(cat, 0) % per_category]
        used[cat] = used.get(cat, 0) + 1
        s = Setting(ps[order[j]], shape, kinds[j], dtype, mems[j])
        add("sweep", cat, s, _calls(level.sweep_decisions, s))

    # positions: 40 channels (resp. samples) at each p of the short grid, sized for the
    # per-position max-|z| and for the per-sample count distribution's chi-square
    n_pos = len(level.short_grid) * 2
    p_dtypes, p_memory = _balanced(rng, dtypes, n_pos), _balanced(rng, MEMORIES, n_pos)
    i = 0
    for p in level.short_grid:
        # sized by the df that pooling the count's bins leaves, not by C
        samples = binomial_count_gof_sample_size(
            level.gof_w, POSITIONS, p, alpha=alpha / subtests("drop-count-distribution", level),
            beta=beta)
        for family, shape, check in (("channel-positions", (64, POSITIONS), "channel-uniformity"),
                                     ("batch-positions", (POSITIONS, 64), "batch-uniformity")):
            trials = positions_sample_size(level.position_mde, POSITIONS, p,
                                           alpha=alpha / subtests(check, level), beta=beta)
            h, w = _small_map(rng)
            s = Setting(p, (*shape, h, w), KINDS[i % len(INPUT_KINDS)], p_dtypes[i], p_memory[i])
            per_position = shape[1] if family == "batch-positions" else shape[0]
            calls = math.ceil(trials / per_position)
            if family == "channel-positions":
                calls = max(calls, math.ceil(samples / shape[0]))
            add(family, "positions", s, max(2, calls))
            i += 1

    # sequences: many calls of a small input, long enough masks that one repeat is damning
    for j, p in enumerate(level.short_grid):
        calls = level.sequence_calls
        calls_share = alpha / subtests("independence-calls", level)
        pairs_needed = lag_sample_size(level.phi_mde, calls, alpha=calls_share, beta=beta)
        # one repeat among all pairs of the sequence's calls is significant at a
        # REPEAT_MARGIN-th of independence-calls' share (so the whole run's comparison keeps
        # its power)
        length = max(256, identical_repeats_sample_size(calls * calls, p,
                                                        alpha=calls_share / REPEAT_MARGIN))
        # ... and enough pairs at every lag that independence-calls may test (LAG_MIN_PAIRS)
        length = max(length, math.ceil(max(pairs_needed, LAG_MIN_PAIRS) / max(1, calls - 1)))
        n = 2 ** (j % 3)  # N = 1, 2, 4: successive calls of the same small input
        c = math.ceil(length / n)
        s = Setting(p, (n, c, 1, int(rng.integers(1, 4))), "normal", dtypes[j % len(dtypes)],
                    MEMORIES[j % len(MEMORIES)])
        add("sequence", "sequence", s, calls)

    # channel lags past 2048 and 4096 (a kernel that wraps its uniforms per chunk of
    # channels): two settings of ~8000 channels at p in the lag tests' range, with
    # LAG_MIN_PAIRS pairs at every lag up to 4096
    for j, p in enumerate((0.5, 0.4)):
        c = int(rng.integers(MAX_CHANNELS - 256, MAX_CHANNELS + 1))
        n = 4
        calls = max(2, math.ceil(LAG_MIN_PAIRS / ((c - 4096) * n)))
        s = Setting(p, (n, c, 1, 1), KINDS[j], dtypes[j % len(dtypes)], MEMORIES[j])
        add("wide-lags", "many-channels", s, calls)

    # drop-rate's every-setting share, over every setting the space will hold (closed form)
    total = (len(cells) + len(ROUND_RATES) * len(dtypes) + strata_count(level.cnn_cells)
             + 2 * level.extreme_strata)
    per_setting = alpha / k_rate / total
    _round_rates(rng, level, dtypes, per_setting, add)
    _cnn_maps(rng, level, dtypes, alpha, beta, add)
    _extremes(rng, level, dtypes, per_setting, add)
    cells = _top_up(cells, level, dtypes, alpha, beta)
    return Space(level.name, seed, tuple(cells))


def _round_rates(rng: np.random.Generator, level: Level, dtypes: tuple[str, ...],
                 per_setting: float, add) -> None:
    """Every round rate (usersizes.ROUND_RATES) exactly, once in every dtype: a fast path for
    p = 0.2 or 0.25 meets the per-setting test of drop-rate in each dtype it may take.  Rates
    below 0.01 (or above 0.99) get at least the decisions that make "never drops" there fail
    drop-rate (so a rate ten times too high, as float16 uniforms of 10 bits give at 1e-4,
    fails with power ~1)."""
    n = len(ROUND_RATES) * len(dtypes)
    mems, kinds = _balanced(rng, MEMORIES, n), _balanced(rng, KINDS, n)
    # a few shapes (compiled once by frameworks that compile per shape), each of about a
    # quarter of the setting's decisions per call, from batch size 1 to one channel
    per_call = max(1, level.round_decisions // 4)
    shapes = []
    for _ in range(4):
        c = _log_uniform(rng, 1, per_call)
        shapes.append((max(1, per_call // c), c, int(rng.integers(1, 4)), int(rng.integers(1, 4))))
    i = 0
    for p in ROUND_RATES:
        for dtype in dtypes:
            s = Setting(p, shapes[i % len(shapes)], kinds[i], dtype, mems[i])
            need = level.round_decisions
            if min(p, 1 - p) < 0.01:
                need = max(need, binomial_edge_sample_size(p, alpha=per_setting))
            add("round", "round-rate", s, _calls(need, s, capped=False))
            i += 1


def _cnn_maps(rng: np.random.Generator, level: Level, dtypes: tuple[str, ...], alpha: float,
              beta: float, add) -> None:
    """Feature maps of CNN size (32x32 to 224x224, long 1xL), a few MB a call: the 32x32 and
    1xL settings carry the decisions the region of large maps needs (``level.region_mde``),
    the larger maps two calls each (their structure and rate, at little bandwidth)."""
    maps = (*CNN_MAPS, *LONG_MAPS)
    ps = sweep_ps(rng, level.cnn_cells)
    m = len(ps)
    mems, kinds = _balanced(rng, MEMORIES, m), _balanced(rng, KINDS, m)
    for j, p in enumerate(ps):
        h, w = maps[j % len(maps)]
        # a few MB a call at default, less at quick
        per_call = max(1, min(CNN_ELEMENTS, 64 * level.sweep_decisions) // (h * w))
        n = max(1, per_call // int(rng.integers(1, 9)))
        shape = (n, max(1, per_call // n), h, w)
        s = Setting(p, shape, kinds[j], dtypes[j % len(dtypes)], mems[j])
        # two calls each; _top_up then grows the cheapest (32x32, 1x1031) to the region's MDE
        add("cnn", "cnn-map", s, 2)


def _extremes(rng: np.random.Generator, level: Level, dtypes: tuple[str, ...],
              per_setting: float, add) -> None:
    """p log-evenly in [level.extreme_low, 1e-3] and mirrored near 1, each dtype in turn:
    sized so that "never drops" below 1e-3 (or "always drops" above 1 - 1e-3) fails drop-rate's
    every-setting test (Bonferroni over every testable setting) with power 0.999."""
    k = level.extreme_strata
    sides = 2 * k
    lo, hi = math.log(level.extreme_low), math.log(EXTREME)
    dts = _balanced(rng, dtypes, sides)
    mems = _balanced(rng, MEMORIES, sides)
    for i in range(sides):
        j = i // 2
        q = round(math.exp(lo + (hi - lo) * (j + rng.random()) / k), 9)
        p = q if i % 2 == 0 else round(1.0 - q, 12)
        need = binomial_edge_sample_size(q, alpha=per_setting)
        calls = max(2, math.ceil(need / EXTREME_PER_CALL))
        per_call = math.ceil(need / calls)
        n = int(rng.integers(8193, MAX_BATCH + 1)) if per_call > MAX_BATCH else per_call
        s = Setting(p, (n, math.ceil(per_call / n), 1, 1), "ones", dts[i], mems[i])
        add("extreme", "extreme-p", s, calls)


def _top_up(cells: list[Cell], level: Level, dtypes: tuple[str, ...], alpha: float,
            beta: float) -> list[Cell]:
    """Grow the settings of any region short of the level's guarantee (closed form: the
    sizes follow from the cells, never from a draw) until every region reaches it."""
    regions = region_definitions(dtypes)
    share = alpha / subtests("rate-homogeneity", level, dtypes)
    for _ in range(20):
        rows = guarantees([(c.setting, c.decisions) for c in cells], regions, alpha=share,
                          beta=beta)
        short = [g for g in rows if not g.meets(level.region_mde, level.region_rel_mde)]
        if not short:
            return cells
        grow: dict[int, float] = {}
        for g in short:
            factor = max(g.mde / level.region_mde,
                         g.relative_mde / level.region_rel_mde if g.region.relative else 0.0)
            members = [c for c in cells
                       if c.family in ("sweep", "round", "cnn") and g.region.member(c.setting)]
            # the cheapest members grow (fewest elements per decision): large maps cost
            # bandwidth, and the region's guarantee is about its rate, not its map size
            cheapest = min(c.setting.map_size for c in members)
            for c in members:
                if c.setting.map_size <= 2 * cheapest:
                    grow[c.index] = max(grow.get(c.index, 1.0), factor ** 2 * 1.05)
        cells = [Cell(c.index, c.family, c.category, c.setting,
                      math.ceil(c.calls * grow[c.index])) if c.index in grow else c
                 for c in cells]
    return cells


def stream_order(cells: Sequence[Cell]) -> list[Cell]:
    """The cells in the order a worker draws them for a run: the settings near p = 0 and 1
    (below 0.01, above 0.99: the extremes and the smallest round rates, about a fifth of the
    drawing) last, since only some checks read them; the rest in the space's own order."""
    return sorted(cells, key=lambda c: (not 0.01 <= c.setting.p <= 0.99, c.index))


def space(ctx: CheckContext) -> Space:
    """The run's space for this context (the same for every check of a run)."""
    caps = ctx.adapter.capabilities
    return build_space(ctx.level, ctx.space_seed, tuple(str(d) for d in ctx.dtypes),
                       bool(caps.three_d), ctx.alpha, ctx.beta)


__all__ = [
    "CATEGORIES",
    "KINDS",
    "Cell",
    "Setting",
    "Space",
    "build_space",
    "category_shape",
    "space",
    "stream_order",
]
