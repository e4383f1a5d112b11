"""Mutants whose decisions are dependent: across samples, channels or calls, or on the seed (R4,
R10).  The marginal drop rate is exactly p in each, so only joint statistics can see them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it


def _batch_shared(rng, shape, p, x):
    return rng.random((1,) * (len(shape) - 3) + shape[-3:]) < p


def batch_shared_mask(x, p=0.5, training=True, inplace=False, seed=None):
    """One (C,) mask shared by every sample of the batch (noise shape (1, C, 1, 1)), the
    "are masks per sample or per batch?" confusion (Keras issue #217 asked exactly this).
    Every sample of a call is identical; rates are exact."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_batch_shared)


def _per_sample(rng, shape, p, x):
    return rng.random((*shape[:-3], 1, 1, 1)) < p


def per_sample_mask(x, p=0.5, training=True, inplace=False, seed=None):
    """One decision per sample shared by all its channels (noise shape (N, 1, 1, 1)): stochastic
    depth / DropPath where Dropout2d was meant.  Every channel of a sample is identical; rates
    are exact.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_per_sample)


GROUP = 4


def _grouped(rng, shape, p, x):
    channels = shape[-3]
    groups = -(-channels // GROUP)
    draw = rng.random((*shape[:-3], groups, 1, 1)) < p
    return np.repeat(draw, GROUP, axis=-3)[..., :channels, :, :]


def grouped_channels_4(x, p=0.5, training=True, inplace=False, seed=None):
    """Groups of 4 adjacent channels share one draw (a vectorised kernel that draws one random
    number per 4-wide vector and broadcasts it over the lanes).  Reported as PyTorch issue
    #198333 according to the project's brief (number not verified here)."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_grouped)


COPY_PROBABILITY = 0.05


def _adjacent(rng, shape, p, x):
    fresh = rng.random(shape) < p
    copy = rng.random(shape) < COPY_PROBABILITY
    copy[..., 0, :, :] = False
    # Channel c takes the fresh draw of the first channel of its run of copies.
    index = np.arange(shape[-3]).reshape(-1, 1, 1)
    start = np.maximum.accumulate(np.where(copy, 0, index), axis=-3)
    return np.take_along_axis(fresh, start, axis=-3)


def adjacent_correlated(x, p=0.5, training=True, inplace=False, seed=None):
    """Channel c+1 copies channel c's decision with probability 0.05, else draws afresh: the
    marginal rate stays exactly p, adjacent channels correlate with phi = 0.05, and channels
    k apart with 0.05**k.  Models overlapping random streams between neighbouring lanes (a
    counter-based RNG with colliding offsets); no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_adjacent)


def same_mask_every_call(x, p=0.5, training=True, inplace=False):
    """Every call draws from the same fixed key, so the mask is the same on every call for a
    given shape: a JAX PRNG key that is never split, or a seed captured once into a graph.
    Paddle issue #7796 ("dropout always uses the same random seed") and Axon issue #423
    ("Dropout keys are too deterministic")."""
    return core.dropout2d(x, p, training, inplace, seed=0)


SEED_SPACE = 16


def small_seed_space(x, p=0.5, training=True, inplace=False):
    """Each call reseeds from one of only 16 seeds (a 4-bit seed source: a thread or lane id,
    time in coarse units), so masks repeat across calls at random.  Cf. the review of ngraph
    PR #3006: an RNG seeded with the OpenMP thread number gives each thread the same sequence
    on every invocation."""
    seed = int(core.generator().integers(SEED_SPACE))
    return core.dropout2d(x, p, training, inplace, seed)


PERIOD = 8
_CALLS = [0]


def mask_period(x, p=0.5, training=True, inplace=False):
    """The RNG cycles every 8 calls: its per-call offset is kept in a 3-bit counter that wraps,
    so call t and call t+8 draw the same mask.  No public issue known."""
    _CALLS[0] += 1
    return core.dropout2d(x, p, training, inplace, seed=_CALLS[0] % PERIOD)


def seed_ignored(x, p=0.5, training=True, inplace=False, seed=None):
    """Accepts a ``seed`` and ignores it, drawing from the global generator: runs do not
    reproduce (R10).  No public issue known."""
    return core.dropout2d(x, p, training, inplace)


_SEEDED_CALLS = [0]


def seed_offset_not_reset(x, p=0.5, training=True, inplace=False, seed=None):
    """The seed is used, but mixed with a process-wide call counter that re-seeding does not
    reset (a Philox offset that ``manual_seed`` leaves alone), so the same seed does not give
    the same output twice (R10).  No public issue known."""
    _SEEDED_CALLS[0] += 1
    mixed = None if seed is None else int(seed) + _SEEDED_CALLS[0]
    return core.dropout2d(x, p, training, inplace, mixed)


def periodic_channels(period: int) -> Callable[..., np.ndarray]:
    """A ``drop`` hook whose channel c + ``period`` repeats channel c's decision (random
    numbers from a per-sample buffer of ``period`` entries); exact rates otherwise."""

    def drop(rng, shape, p, x):
        channels = shape[-3]
        draw = rng.random((*shape[:-3], min(channels, period), 1, 1)) < p
        return np.take(draw, np.arange(channels) % period, axis=-3)

    return drop


CHANNEL_PERIOD = 32
_channel_period = periodic_channels(CHANNEL_PERIOD)


def channel_period_32(x, p=0.5, training=True, inplace=False, seed=None):
    """Random numbers come from a per-sample buffer of 32: channel c + 32 repeats channel c's
    decision.  Exact rates; channels closer than 32 apart are independent.  Models a kernel
    whose per-sample random buffer is sized for a fixed lane count; no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_channel_period)
