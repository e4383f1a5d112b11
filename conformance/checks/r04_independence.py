"""R4, independence, over the settings space: dependence at every lag and repeats anywhere.

* Lags: each setting's decisions are centred on their own position's mean over the setting's
  calls and scaled by the setting's observed variance (``stats.centred_lag_sums``), and the
  products of pairs ``k`` apart are summed by FFT over every setting, for every lag ``k``
  along the channels, along the batch and across successive calls (max over lags, and an
  omnibus over lags: ``stats.lag_test``).  Centring on observed means, not on the claimed p,
  keeps a wrong rate -- or a rate that differs between positions, a uniformity fault -- out of
  these tests: one fault, one failing check.  Settings with p in [0.25, 0.75] only, and lags
  with at least ``MIN_PAIRS`` pairs, keep the normal tails honest; call lags pool settings of
  at least ``MIN_CALLS`` calls (their null variance is exact to O(1/T)).
* The flattened (n, c) order of each call: every lag up to ``FLAT_LAGS`` in each setting (a
  sample that reuses its neighbour's decisions shifted along the channels shows at lag C +- 1;
  a channel that copies the one 2048 before it, at lag 2048): ``stats.flattened_lag_test``.
* Repeats: identical channel vectors, sample vectors and whole-call masks (across *all* calls
  of the run, every setting) compared by hashing, with masks long enough that one repeat is
  significant (``stats.identical_repeats_test``: Markov's bound at the expectation of the
  claimed or the observed rate, whichever is likelier to repeat, valid under any dependence
  between the pairs).
* Values: the rate of maps of each input sign and magnitude class against the rest of *their
  own setting* (conditional on the setting's count, ``stats.conditional_excess_test``).
"""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import pool
from conformance.checks import space as sp
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.settings import VALUE_CLASSES
from conformance.checks.subtests import REPEAT_MARGIN, conclude, share
from conformance.stats import (
    LagSums,
    StatResult,
    centred_lag_sums,
    conditional_excess_test,
    flattened_lag_test,
    identical_repeats_expected,
    identical_repeats_rate,
    identical_repeats_test,
    lag_test,
)

#: pooled lag products are tested only at lags with this many pairs (normal tails at 1e-7)
MIN_PAIRS = sp.LAG_MIN_PAIRS
#: flattened-order lags tested in each setting, and the pairs a lag needs there
FLAT_LAGS = 4096
FLAT_MIN_PAIRS = 20_000
#: settings whose p keeps standardised products close enough to normal: a product of two
#: standardised decisions has third moment ((1 - 2p) / sqrt(pq))^2, 1.33 at p = 0.25, so a sum
#: of 1e5 has skewness 0.004 and its tail at z = 7 is within ~25 % of the normal one (Edgeworth)
P_RANGE = (0.25, 0.75)
#: ... and, for the per-setting flattened lags of only 2e4 pairs, a narrower range (0.76)
FLAT_P_RANGE = (0.3, 0.7)


#: call lags pool only settings of this many calls: the centred products' null variance is
#: exact to O(1/T) there (the sequences have 1024 calls at default, the sweep up to 128)
MIN_CALLS = 64


def _lag_cells(ctx: CheckContext) -> list[sp.Cell]:
    lo, hi = P_RANGE
    return [c for c in sp.space(ctx).cells if lo <= c.setting.p <= hi]


def _pooled_lags(ctx: CheckContext, axis: int, max_lag: int) -> LagSums:
    total = LagSums.empty()
    cells = _lag_cells(ctx)
    if axis == 0:
        cells = [c for c in cells if c.calls >= MIN_CALLS]
    for d in pool.draws(ctx, cells):
        total = total + centred_lag_sums(d.dropped(), axis, max_lag)
    return total


def _identical(vectors: np.ndarray) -> int:
    """Pairs of identical rows of a 2-D bool/uint8 array (by hashing whole rows)."""
    counts = Counter(row.tobytes() for row in vectors)
    return sum(m * (m - 1) // 2 for m in counts.values())


def _rate(d: pool.Draw) -> float:
    """The rate at which a draw's masks are expected to repeat (its claimed or its observed
    rate, whichever makes repeats likelier: ``stats.identical_repeats_rate``)."""
    p = d.cell.setting.p
    return identical_repeats_rate(p, d.k / d.n if d.n else p)


def _within_calls(
    ctx: CheckContext, axis: int, alpha: float, what: str
) -> StatResult:
    """Identical vectors among the positions along ``axis`` (1 samples, 2 channels) of each
    call, in every setting whose vectors are long enough (E[identical] <= alpha / settings /
    REPEAT_MARGIN)."""
    cells = [c for c in sp.space(ctx).cells if 0.0 < c.setting.p < 1.0]
    eligible = []
    for c in cells:
        s = c.setting
        positions = s.batch if axis == 1 else s.channels
        length = s.channels if axis == 1 else s.batch
        pairs = c.calls * positions * (positions - 1) // 2
        if pairs and identical_repeats_expected([(pairs, s.p, s.p)], length) <= (
                alpha / len(cells) / REPEAT_MARGIN):
            eligible.append((c, pairs, length))
    identical, expected, n_pairs, where = 0, 0.0, 0, []
    for c, pairs, length in eligible:
        d = pool.draw(ctx, c)
        dropped = d.dropped()
        rate = _rate(d)
        found = 0
        for call in dropped:
            vectors = call if axis == 1 else call.T
            found += _identical(np.packbits(vectors, axis=-1))
        identical += found
        expected += identical_repeats_expected([(pairs, rate, rate)], length)
        n_pairs += pairs
        if found:
            where.append(f"{c.label()}: {found} identical pairs")
    ps = sorted({c.setting.p for c, _, _ in eligible})
    label = (f"identical {what} within a call, {len(eligible)} settings with p in "
             f"[{min(ps, default=0):.3g}, {max(ps, default=0):.3g}]")
    result = identical_repeats_test(identical, expected, alpha=alpha, label=label,
                                    n_pairs=max(1, n_pairs))
    return result.annotated(failing=where[:10], p_values_covered=len(ps))


def _across_run(ctx: CheckContext, alpha: float) -> StatResult:
    """Identical whole-call masks across every call of the run (same (N, C), any setting)."""
    cells = [c for c in sp.space(ctx).cells if 0.0 < c.setting.p < 1.0]
    by_shape: dict[tuple[int, int], list[sp.Cell]] = defaultdict(list)
    for c in cells:
        by_shape[(c.setting.batch, c.setting.channels)].append(c)
    eligible: list[sp.Cell] = []
    bound = 0.0
    n_pairs = 0
    for (n, ch), group in by_shape.items():
        if _repeat_expectation(group, [c.setting.p for c in group], n * ch) <= (
                alpha / REPEAT_MARGIN / len(by_shape)):
            eligible += group
            calls = sum(c.calls for c in group)
            n_pairs += calls * (calls - 1) // 2
    # the null expectation of repeats at the observed rates (fixed sizes, drawn rates)
    by_eligible: dict[tuple[int, int], list[sp.Cell]] = defaultdict(list)
    for c in eligible:
        by_eligible[(c.setting.batch, c.setting.channels)].append(c)
    for (n, ch), group in by_eligible.items():
        rates = [_rate(pool.draw(ctx, c)) for c in group]
        bound += _repeat_expectation(group, rates, n * ch)
    expected = bound
    seen: Counter = Counter()
    where: dict[bytes, str] = {}
    for c in eligible:
        packed = pool.draw(ctx, c).packed
        head = f"{c.setting.batch}x{c.setting.channels}".encode()
        for t in range(packed.shape[0]):
            key = head + packed[t].tobytes()
            seen[key] += 1
            where.setdefault(key, f"{c.label()} call {t}")
    identical = sum(m * (m - 1) // 2 for m in seen.values())
    repeats = [f"{where[k]} (x{m})" for k, m in seen.most_common(5) if m > 1]
    label = f"identical whole-call masks across {sum(c.calls for c in eligible)} calls"
    result = identical_repeats_test(identical, expected, alpha=alpha, label=label,
                                    n_pairs=max(1, n_pairs))
    return result.annotated(failing=repeats)


def _repeat_expectation(group: list[sp.Cell], rates: list[float], length: int) -> float:
    """Expected identical pairs among every call of ``group`` (one (N, C)), each cell at its
    rate in ``rates``: the pairs within each cell's calls and between every two cells'."""
    pairs = []
    for i, (a, ra) in enumerate(zip(group, rates, strict=True)):
        pairs.append((a.calls * (a.calls - 1) / 2, ra, ra))
        pairs += [(a.calls * b.calls, ra, rb)
                  for b, rb in zip(group[i + 1:], rates[i + 1:], strict=True)]
    return identical_repeats_expected(pairs, length)


def _flattened(ctx: CheckContext, alpha: float, beta: float) -> StatResult:
    """Every lag up to FLAT_LAGS of each call's flattened (n, c) order, in each setting of at
    least three decisions a call; Bonferroni over settings and lags (one pooled max)."""
    lo, hi = FLAT_P_RANGE
    draws = pool.draws(ctx, [c for c in _lag_cells(ctx) if lo <= c.setting.p <= hi])
    strata = ((d.cell.label(), d.dropped()) for d in draws if d.cell.setting.per_call >= 3)
    return flattened_lag_test(strata, alpha=alpha, beta=beta, max_lag=FLAT_LAGS,
                              min_pairs=FLAT_MIN_PAIRS)


def _lags(ctx: CheckContext, axis: int, max_lag: int, alpha: float, what: str) -> list:
    maxed, omnibus = lag_test(_pooled_lags(ctx, axis, max_lag), alpha=alpha, beta=ctx.beta,
                              min_pairs=MIN_PAIRS,
                              label=f"{what}, pooled over settings with p in {P_RANGE}, "
                                    "each centred on its own positions' means")
    return [maxed, omnibus]


def _max_extent(ctx: CheckContext, attr: str) -> int:
    return max(getattr(c.setting, attr) for c in _lag_cells(ctx)) - 1


@register("independence-channels", requirement="R4", title="Channels decide independently",
          kind="statistical", timeout_s=900)
def independence_channels(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    alpha = share(ctx, "independence-channels")
    results = _lags(ctx, 2, _max_extent(ctx, "channels"), alpha, "channel lags")
    results.append(_within_calls(ctx, 2, alpha, "channel vectors (across the batch)"))
    return conclude(results, "decisions independent across channels at every lag")


@register("independence-batch", requirement="R4", title="Samples decide independently",
          kind="statistical", timeout_s=900)
def independence_batch(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    alpha = share(ctx, "independence-batch")
    results = _lags(ctx, 1, _max_extent(ctx, "batch"), alpha, "batch lags")
    results.append(_flattened(ctx, alpha, ctx.beta))
    results.append(_within_calls(ctx, 1, alpha, "sample vectors (across the channels)"))
    return conclude(results, "decisions independent across samples and the (n, c) order")


@register("independence-calls", requirement="R4", title="Successive calls decide independently",
          kind="statistical", timeout_s=900)
def independence_calls(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    alpha = share(ctx, "independence-calls")
    longest = max(c.calls for c in _lag_cells(ctx) if c.calls >= MIN_CALLS) - 1
    results = _lags(ctx, 0, longest, alpha, "call lags")
    results.append(_across_run(ctx, alpha))
    return conclude(results, "decisions independent across calls at every lag; no mask repeats")


#: the value classes of independence-values: (label, class of the map's first input value)
VALUE_GROUPS = (
    ("negative inputs", lambda x: x < 0),
    ("positive inputs", lambda x: x > 0),
    ("inputs of magnitude 1e-3", lambda x: np.abs(x) < 1),
    ("inputs of magnitude 1e3", lambda x: np.abs(x) > 1),
)


@register("independence-values", requirement="R4",
          title="Decisions do not depend on the input's values", kind="statistical", timeout_s=900)
def independence_values(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    alpha = share(ctx, "independence-values")
    cells = [c for c in sp.space(ctx).cells
             if c.setting.kind == VALUE_CLASSES and 0.0 < c.setting.p < 1.0]
    k = np.zeros((len(VALUE_GROUPS), len(cells)), np.int64)
    n = np.zeros_like(k)
    big_k = np.zeros(len(cells), np.int64)
    big_n = np.zeros(len(cells), np.int64)
    for j, c in enumerate(cells):
        s = c.setting
        d = pool.draw(ctx, c)
        dropped = d.dropped()
        big_k[j], big_n[j] = d.k, d.n
        firsts = [x[..., 0, 0].astype(np.float64).reshape(s.batch, s.channels)
                  for x in pool.inputs(ctx.space_seed, c)]
        for g, (_, member) in enumerate(VALUE_GROUPS):
            for i, x in enumerate(firsts):
                mask = member(x)
                calls = dropped[i::len(firsts)]
                k[g, j] += int(calls[:, mask].sum())
                n[g, j] += int(mask.sum()) * calls.shape[0]
    results = []
    for g, (name, _) in enumerate(VALUE_GROUPS):
        use = n[g] > 0
        label = f"maps with {name} against the rest of their setting, {int(use.sum())} settings"
        results.append(conditional_excess_test(k[g][use], n[g][use], big_k[use], big_n[use],
                                               alpha=alpha, beta=ctx.beta, label=label))
    return conclude(results, "decisions independent of the input's sign and magnitude")
