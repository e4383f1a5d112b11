"""R4, independence: across channels, samples and calls (2x2 contingency of paired decisions,
and counts of identical masks with their exact null probability), and of the input's values."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks._base import CheckContext, Outcome, check
from conformance.checks._sampling import INPUT_KINDS, VALUE_CLASSES, Sampler, Setting, sequential
from conformance.checks._stat import tag, verdict
from conformance.stats import contingency_2x2, identical_mask_test, phi_sample_size

Pairs = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]

SHAPE = (64, 64, 2, 2)


def _lag(axis: int, lag: int) -> Pairs:
    """Pairs of decisions ``lag`` apart along ``axis`` of the (calls, N, C) array."""

    def pairs(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        head = [slice(None)] * 3
        tail = [slice(None)] * 3
        head[axis], tail[axis] = slice(None, -lag), slice(lag, None)
        return d[tuple(head)].reshape(-1), d[tuple(tail)].reshape(-1)

    return pairs


def _collisions(vectors: np.ndarray) -> int:
    """Pairs of identical rows among ``vectors`` (rows compared whole, by hashing)."""
    counts = Counter(row.tobytes() for row in np.packbits(vectors, axis=-1))
    return sum(m * (m - 1) // 2 for m in counts.values())


def _identical_within_calls(d: np.ndarray, axis: int) -> tuple[int, int, int]:
    """Identical mask vectors among all pairs of positions along ``axis`` (1 samples,
    2 channels) within each call: (identical pairs, pairs, vector length).  All pairs, not
    only neighbours, so a channel that copies any other channel is caught."""
    vectors = np.moveaxis(d, axis, 1)  # (calls, positions, length)
    positions, length = vectors.shape[1], vectors.shape[2]
    identical = sum(_collisions(v) for v in vectors)
    return identical, d.shape[0] * positions * (positions - 1) // 2, length


def _identical_calls(d: np.ndarray) -> tuple[int, int, int]:
    """Pairs of calls (any two, not only successive) with the same whole mask."""
    calls = d.shape[0]
    identical = _collisions(d.reshape(calls, -1))
    return identical, calls * (calls - 1) // 2, d.shape[1] * d.shape[2]


def _independence(
    ctx: CheckContext, pair_tests: dict[str, Pairs], identical: Callable, what: str
) -> Outcome:
    settings = [
        Setting(p, SHAPE, INPUT_KINDS[i % len(INPUT_KINDS)])
        for i, p in enumerate(ctx.level.short_grid)
    ]
    per_setting = len(pair_tests) + 1
    alpha = ctx.alpha / (per_setting * len(settings))
    needed = phi_sample_size(ctx.level.phi_mde, alpha=alpha, beta=ctx.beta)
    results = []
    for key, s in enumerate(settings):
        first_name, first_pairs = next(iter(pair_tests.items()))
        # n is needed by every pair test: size the calls for the one with fewest pairs
        probe = np.zeros((2, *SHAPE[:2]), bool)
        pairs_per_call = max(1, min(f(probe)[0].size for f in pair_tests.values()) // 2)
        calls = max(3, -(-needed // pairs_per_call))

        def test(d: np.ndarray, a: float, pairs: Pairs = first_pairs):
            x, y = pairs(d)
            return contingency_2x2(x, y, alpha=a, beta=ctx.beta)

        first, data = sequential(Sampler(ctx, s, key=key), calls, test, alpha)
        results.append(tag(first, s, pairs=first_name))
        for name, pairs in list(pair_tests.items())[1:]:
            a, b = pairs(data)
            results.append(tag(contingency_2x2(a, b, alpha=alpha, beta=ctx.beta), s, pairs=name))
        k, n_pairs, length = identical(data)
        # pairs share masks, so their identities are dependent: Markov's bound (overlapping)
        same = identical_mask_test(k, n_pairs, length, s.p, alpha=alpha, overlapping=True)
        results.append(tag(same, s, pairs=f"identical masks ({what})"))
    return verdict(results, f"decisions independent across {what}")


@check("independence-channels", requirement="R4", title="Channels decide independently",
       kind="statistical", timeout_s=600)
def independence_channels(adapter: Adapter, ctx: CheckContext) -> Outcome:
    return _independence(
        ctx,
        {"channels c, c+1": _lag(2, 1), "channels c, c+5": _lag(2, 5),
         "channels c, c+C/2": _lag(2, SHAPE[1] // 2)},
        lambda d: _identical_within_calls(d, axis=2),
        "channels",
    )


@check("independence-batch", requirement="R4", title="Samples decide independently",
       kind="statistical", timeout_s=600)
def independence_batch(adapter: Adapter, ctx: CheckContext) -> Outcome:
    return _independence(
        ctx,
        {"samples n, n+1": _lag(1, 1), "samples n, n+5": _lag(1, 5),
         "samples n, n+N/2": _lag(1, SHAPE[0] // 2)},
        lambda d: _identical_within_calls(d, axis=1),
        "samples",
    )


@check("independence-calls", requirement="R4", title="Successive calls decide independently",
       kind="statistical", timeout_s=600)
def independence_calls(adapter: Adapter, ctx: CheckContext) -> Outcome:
    return _independence(ctx, {"calls t, t+1": _lag(0, 1)}, _identical_calls, "calls")


@check("independence-values", requirement="R4",
       title="Decisions do not depend on the input's values", kind="statistical", timeout_s=600)
def independence_values(adapter: Adapter, ctx: CheckContext) -> Outcome:
    settings = [Setting(p, SHAPE, VALUE_CLASSES) for p in ctx.level.short_grid]
    alpha = ctx.alpha / (2 * len(settings))  # sign and magnitude per setting
    needed = phi_sample_size(ctx.level.phi_mde, alpha=alpha, beta=ctx.beta)
    results = []
    for key, s in enumerate(settings):
        sampler = Sampler(ctx, s, key=key, record=True)
        dropped = sampler.draw(max(2, -(-needed // s.per_call)))
        x, _ = sampler.values()
        d = dropped.reshape(-1)
        for name, cls in (("sign", x.reshape(-1) < 0), ("magnitude", np.abs(x.reshape(-1)) > 1)):
            result = contingency_2x2(cls, d, alpha=alpha, beta=ctx.beta)
            results.append(tag(result, s, pairs=f"input {name} vs dropped"))
    return verdict(results, "decisions independent of the input's sign and magnitude")
