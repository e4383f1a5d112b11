"""Mutants whose fault lives off any small grid of settings (R2, R3, R4, R10).

Each is correct except in one region of the input space (a batch size, a rank, a map size, a
channel count, a dtype, a memory layout, a band of p, a lag, a call count or the seed's high
bits), where a grid of a few shapes and p values never looks.  The settings space of the
statistical checks (checks/space.py) must find every one of them.
"""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import ALL_FLOAT_DTYPES, Capabilities
from conformance.adapters.reference_adapter import ReferenceAdapter
from conformance.mutants import core
from conformance.mutants.independence import periodic_channels

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it


def _rate(rng, shape, rate):
    return rng.random(shape) < np.clip(rate, 0.0, 1.0)


# --------------------------------------------------------------- R3 in one region of the space


def _batch_one(rng, shape, p, x):
    if x.ndim == 4 and x.shape[0] == 1:
        return _rate(rng, shape, np.ceil(16 * p) / 16)
    return rng.random(shape) < p


def rate_batch_1(x, p=0.5, training=True, inplace=False, seed=None):
    """Batch size 1 takes a specialised kernel whose keep threshold is tabulated in steps of
    1/16 and rounded up: the drop rate is ceil(16 p) / 16 for N = 1 only (0.4375 at p = 0.4),
    exact for every larger batch.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_batch_one)


def _unbatched(rng, shape, p, x):
    return _rate(rng, shape, p + 0.04 if x.ndim == 3 else p)


def rate_unbatched(x, p=0.5, training=True, inplace=False, seed=None):
    """Unbatched 3D input is promoted to a batch of one through a path that adds a stale
    epsilon to the threshold: the drop rate is p + 0.04 for (C, H, W) input only.
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_unbatched)


def _one_by_one(rng, shape, p, x):
    return _rate(rng, shape, p + 0.03 if x.shape[-1] * x.shape[-2] == 1 else p)


def rate_1x1_maps(x, p=0.5, training=True, inplace=False, seed=None):
    """1x1 maps dispatch to the element-wise dropout kernel (the same thing for one element),
    whose threshold has an off-by-one: the drop rate is p + 0.03 for H * W = 1 only.
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_one_by_one)


MANY_CHANNELS = 400


def _many_channels(rng, shape, p, x):
    return _rate(rng, shape, p + 0.02 if x.shape[-3] >= MANY_CHANNELS else p)


def rate_many_channels(x, p=0.5, training=True, inplace=False, seed=None):
    """With 400 channels or more a tiled kernel takes over whose threshold is offset: the drop
    rate is p + 0.02 only when C >= 400 (a grid with C <= 256 never sees it).
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_many_channels)


def _large_maps(x):
    if x.shape[-1] * x.shape[-2] >= 64:
        return x.shape
    return core.channel_shape(x)


def element_wise_large_maps(x, p=0.5, training=True, inplace=False, seed=None):
    """Maps of 64 elements or more (8x8 and up) take an element-wise path: one decision per
    element instead of per map, so R2's whole-map structure breaks only there (a suite whose
    shapes all have H * W <= 35 never sees it).  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, shape=_large_maps)


BAND = (0.37, 0.39)


def _band(rng, shape, p, x):
    return _rate(rng, shape, p + 0.05 if BAND[0] <= p <= BAND[1] else p)


def rate_band(x, p=0.5, training=True, inplace=False, seed=None):
    """A table of per-p thresholds with one corrupt entry: the drop rate is p + 0.05 for p in
    [0.37, 0.39] only, between the points of any fixed grid.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_band)


def _float64(rng, shape, p, x):
    return _rate(rng, shape, p - 0.02 if x.dtype == np.float64 else p)


def rate_off_float64(x, p=0.5, training=True, inplace=False, seed=None):
    """The float64 kernel compares the uniform with p - 0.02 (a threshold computed once in the
    wrong precision and adjusted): drop rate p - 0.02 for float64 input only.
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_float64)


def _strided(rng, shape, p, x):
    contiguous = x.flags["C_CONTIGUOUS"]
    return _rate(rng, shape, p if contiguous else p + 0.03)


def rate_strided(x, p=0.5, training=True, inplace=False, seed=None):
    """Non-contiguous input (channels-last or strided views) goes through a gather path whose
    threshold is p + 0.03: the rate depends on the memory layout.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_strided)


def _last_channel(rng, shape, p, x):
    d = rng.random(shape) < p
    d[..., -1, :, :] = False
    return d


def last_channel_kept(x, p=0.5, training=True, inplace=False, seed=None):
    """The decision loop runs over range(C - 1): the last channel is never dropped (an
    off-by-one at the end, which a test of channels 0..39 of a 40-channel input sees only if it
    counts positions from the end too).  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_last_channel)


def _magnitude(rng, shape, p, x):
    first = np.abs(np.asarray(x[..., :1, :1], dtype=np.float64))
    return rng.random(shape) < np.clip(np.where(first > 100, p + 0.03, p), 0.0, 1.0)


def magnitude_dependent(x, p=0.5, training=True, inplace=False, seed=None):
    """Maps whose first value exceeds 100 in magnitude take an overflow-guard path that drops
    with probability p + 0.03: decisions depend on the input's values (R4).
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_magnitude)


# --------------------------------------------------------------------- R4 at untested lags


def _shifted(rng, shape, p, x):
    d = np.array(rng.random(shape) < p)
    pairs = shape[0] // 2 if x.ndim == 4 else 0
    if pairs:
        d[1:2 * pairs:2] = np.roll(d[0:2 * pairs:2], 1, axis=1)
    return d


def shifted_neighbour(x, p=0.5, training=True, inplace=False, seed=None):
    """Sample n + 1 reuses sample n's decisions shifted by one channel (a random buffer read
    with a stride off by one): half of all decisions are copies, yet the pairs (n, c), (n+1, c)
    and (n, c), (n, c+1) are independent.  Shows at lag C + 1 of the flattened (n, c) order.
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_shifted)


def _fixed_count(rng, shape, p, x):
    total = int(np.prod(shape))
    k = round(p * total)
    d = np.zeros(total, bool)
    d[rng.choice(total, size=k, replace=False)] = True
    return d.reshape(shape)


def count_fixed_per_call(x, p=0.5, training=True, inplace=False, seed=None):
    """Every call drops exactly round(p * N * C) channels at uniformly random positions
    (sampling without replacement): each decision has rate p, but the per-call count has no
    variance and decisions are negatively correlated.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_fixed_count)


LAG = 7


def _lag_copies(rng, shape, p, x):
    d = np.array(rng.random(shape) < p)
    copy = rng.random(shape) < 0.2
    for c in range(LAG, shape[-3]):
        take = copy[..., c, :, :]
        d[..., c, :, :] = np.where(take, d[..., c - LAG, :, :], d[..., c, :, :])
    return d


def channel_lag_7(x, p=0.5, training=True, inplace=False, seed=None):
    """Channel c + 7 copies channel c's decision with probability 0.2 (a vectorised kernel
    whose 8-wide lanes share a random word now and then): exact rates, correlation 0.2 at
    channel lag 7 only, a lag no fixed list of lags (1, 5, C/2) tests.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_lag_copies)


CHANNEL_PERIOD = 23
_period_23 = periodic_channels(CHANNEL_PERIOD)


def channel_period_23(x, p=0.5, training=True, inplace=False, seed=None):
    """Random numbers come from a per-sample buffer of 23 entries: channel c + 23 repeats
    channel c's decision.  Exact rates, no dependence at lags 1, 5 or C/2 (C = 64).
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_period_23)


_HALF: list[np.ndarray | None] = [None]


def calls_half_repeat(x, p=0.5, training=True, inplace=False):
    """Each call refills only half of its random buffer: the first half of the channels of
    call t + 1 repeat call t's decisions when the shapes match (correlation 1/2 at call lag 1).
    No public issue known."""

    def drop(rng, shape, p, x):
        d = np.array(rng.random(shape) < p)
        previous = _HALF[0]
        if previous is not None and previous.shape == d.shape:
            half = d.shape[-3] // 2
            d[..., :half, :, :] = previous[..., :half, :, :]
        _HALF[0] = d.copy()
        return d

    return core.dropout2d(x, p, training, inplace, drop=drop)


def _fp16_shared(rng, shape, p, x):
    if x.dtype == np.float16 and x.ndim == 4:
        return np.broadcast_to(rng.random((1, *shape[1:])) < p, shape)
    return rng.random(shape) < p


def float16_batch_shared(x, p=0.5, training=True, inplace=False, seed=None):
    """The float16 kernel draws one (C,) mask and broadcasts it over the batch (a half-precision
    path vectorised over N by mistake): every sample of a call shares its mask, for float16
    input only.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_fp16_shared)


RNG_PERIOD = 300
_PERIOD_CALLS = [0]


def rng_period_300(x, p=0.5, training=True, inplace=False):
    """The generator's state is a counter that wraps after 300 calls (an offset kept in a small
    ring buffer): call t + 300 draws exactly the mask of call t.  A run that makes fewer than
    300 calls of one shape, or compares masks only within one setting, never sees it.
    No public issue known."""
    _PERIOD_CALLS[0] += 1
    return core.dropout2d(x, p, training, inplace, seed=_PERIOD_CALLS[0] % RNG_PERIOD)


# --------------------------------------------------------------------------- R10, the seed


class SeedLow16Bits(ReferenceAdapter):
    """The seed is stored in a 16-bit field: seeds that differ only above bit 15 give the same
    masks (``seed(s)`` uses ``s & 0xFFFF``), so runs seeded 2**16 apart are identical (R10).
    Seeds s and s + 1 still differ.  No public issue known."""

    name = "seed-low-16-bits"
    capabilities = Capabilities(inplace=True, seed=True, dtypes=ALL_FLOAT_DTYPES)

    def seed(self, seed: int) -> None:
        super().seed(int(seed) & 0xFFFF)


__all__ = [
    "SeedLow16Bits",
    "calls_half_repeat",
    "channel_lag_7",
    "channel_period_23",
    "count_fixed_per_call",
    "element_wise_large_maps",
    "float16_batch_shared",
    "last_channel_kept",
    "magnitude_dependent",
    "rate_1x1_maps",
    "rate_band",
    "rate_batch_1",
    "rate_many_channels",
    "rate_off_float64",
    "rate_strided",
    "rate_unbatched",
    "rng_period_300",
    "shifted_neighbour",
]
