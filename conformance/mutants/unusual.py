"""Correct implementations that draw their masks in unusual but valid ways.

They are not mutants: each gives every (n, c) decision probability exactly p, independently of
every other decision, of the call and of the input, so each must pass every check.  They guard
the suite against tests that encode *how* a mask is usually drawn (one uniform per channel, in
(n, c) order) instead of *what* the contract says.
"""

from __future__ import annotations

import numpy as np

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it


def _count_then_positions(rng, shape, p, x):
    # K ~ Binomial(M, p), then K distinct positions uniformly: the same law as M Bernoulli(p)
    total = int(np.prod(shape))
    k = int(rng.binomial(total, p))
    d = np.zeros(total, bool)
    d[rng.choice(total, size=k, replace=False)] = True
    return d.reshape(shape)


def count_then_positions(x, p=0.5, training=True, inplace=False, seed=None):
    """Draws the number of dropped channels of the call from Binomial(N * C, p) first, then
    which channels, uniformly without replacement: exactly the law of independent Bernoulli(p)
    decisions (a correct implementation; not a mutant)."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_count_then_positions)


def _geometric_gaps(rng, shape, p, x):
    # the gaps between successive drops of a Bernoulli(p) sequence are Geometric(p)
    total = int(np.prod(shape))
    d = np.zeros(total, bool)
    position = -1
    while True:
        gaps = rng.geometric(p, size=max(16, int(2 * p * (total - position)) + 16))
        steps = position + np.cumsum(gaps)
        inside = steps[steps < total]
        d[inside] = True
        if inside.size < steps.size:
            break
        position = int(steps[-1])
    return d.reshape(shape)


def geometric_gaps(x, p=0.5, training=True, inplace=False, seed=None):
    """Skips from one dropped channel to the next by Geometric(p) gaps over the flattened
    (n, c) order (sequential sampling, as in sparse samplers): exactly the law of independent
    Bernoulli(p) decisions (a correct implementation; not a mutant)."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_geometric_gaps)


def _transposed_integer(rng, shape, p, x):
    # draw in (C, N) order as 53-bit integers compared with round(p * 2**53): rate within 2**-53
    n_first = (shape[-3], *shape[:-3], *shape[-2:]) if len(shape) == 4 else shape
    draws = rng.integers(0, 1 << 53, size=n_first, dtype=np.int64) < round(p * (1 << 53))
    return np.moveaxis(draws, 0, -3) if len(shape) == 4 else draws


def transposed_integer(x, p=0.5, training=True, inplace=False, seed=None):
    """Draws channel-major ((C, N) order) 53-bit integers and drops where they fall below
    round(p * 2**53): a different order of draws and an integer threshold, same law up to
    2**-53 (a correct implementation; not a mutant)."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_transposed_integer)


def _blockwise_permutation(rng, shape, p, x):
    # blocks of 64 decisions: a Binomial(64, p) count placed by a random permutation
    total = int(np.prod(shape))
    blocks = -(-total // 64)
    counts = rng.binomial(64, p, size=blocks)
    ranks = rng.permuted(np.tile(np.arange(64), (blocks, 1)), axis=1)
    return (ranks < counts[:, None]).reshape(-1)[:total].reshape(shape)


def blockwise_permutation(x, p=0.5, training=True, inplace=False, seed=None):
    """Splits the flattened decisions into blocks of 64; each block drops a Binomial(64, p)
    number of them at positions given by a random permutation (the tail of the last block is
    discarded): the law of independent Bernoulli(p) decisions (correct; not a mutant)."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_blockwise_permutation)


__all__ = [
    "blockwise_permutation",
    "count_then_positions",
    "geometric_gaps",
    "transposed_integer",
]
