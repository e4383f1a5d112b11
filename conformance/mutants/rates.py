"""Mutants whose decisions have the wrong probability somewhere (R3, and R4 of values).

Each is correct in every deterministic respect: only the statistics of the mask are wrong.
"""

from __future__ import annotations

import numpy as np

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it


def _swapped(rng, shape, p, x):
    return rng.random(shape) >= p


def p_swapped(x, p=0.5, training=True, inplace=False, seed=None):
    """Decisions keep with probability p instead of 1-p (drop rate 1-p) while the scale stays
    1/(1-p): TF1 ``keep_prob`` vs TF2 ``rate`` confusion in the sampling only.  Invisible at
    p = 0.5.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_swapped)


def _offset(delta):
    def drop(rng, shape, p, x):
        return rng.random(shape) < min(p + delta, 1.0)

    return drop


def rate_off_0_01(x, p=0.5, training=True, inplace=False, seed=None):
    """Drop rate p + 0.01 (clipped at 1): a threshold computed with a constant off-by-a-bit
    error.  Twice the default level's drop-rate MDE.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_offset(0.01))


def rate_off_0_005(x, p=0.5, training=True, inplace=False, seed=None):
    """Drop rate p + 0.005 (clipped at 1): exactly the default level's drop-rate MDE.
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_offset(0.005))


def _uniform_8bit(rng, shape, p, x):
    u = np.floor(rng.random(shape) * 256) / 256
    return u < p


def uniform_8bit(x, p=0.5, training=True, inplace=False, seed=None):
    """The drop decision compares an 8-bit random number with p (u = floor(256 U) / 256, drop
    if u < p, as fused kernels that spend one random byte per decision do): the drop rate is
    ceil(256 p) / 256, e.g. 0.703125 at p = 0.7 and 0.01171875 at p = 0.01.  Exact at
    multiples of 1/256.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_uniform_8bit)


def round_to_bfloat16(u: np.ndarray) -> np.ndarray:
    """Round float32 values to bfloat16 precision (8 significant bits), to nearest even."""
    bits = np.asarray(u, dtype=np.float32).view(np.uint32)
    bits = (bits + np.uint32(0x7FFF) + ((bits >> 16) & np.uint32(1))) & np.uint32(0xFFFF0000)
    return bits.view(np.float32)


def _uniform_bf16(rng, shape, p, x):
    return round_to_bfloat16(rng.random(shape, dtype=np.float32)).astype(np.float64) < p


def uniform_bf16(x, p=0.5, training=True, inplace=False, seed=None):
    """The uniform is rounded to bfloat16 (8 significant bits) before the comparison with p, as
    when random numbers are generated in float and cast to a bf16 output (PyTorch PR #190931
    fixed the same rounding in MPS ``torch.rand``): the drop rate is off by up to ~0.0012 in
    [0.5, 1), e.g. 179.5/256 = 0.70117 at p = 0.7, and 0.5 - 2**-10 at p = 0.5."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_uniform_bf16)


BIASED_CHANNEL = 3
CHANNEL_BIAS = 0.05


def _channel_biased(rng, shape, p, x):
    rate = np.full(shape, p)
    if len(shape) >= 3 and shape[-3] > BIASED_CHANNEL:
        rate[..., BIASED_CHANNEL, :, :] = min(p + CHANNEL_BIAS, 1.0)
    return rng.random(shape) < rate


def channel_biased(x, p=0.5, training=True, inplace=False, seed=None):
    """Channel 3 is dropped with probability p + 0.05; every other channel with p.  Models a
    per-lane threshold or a per-channel RNG stream with an off-by-one; the overall rate moves
    by only 0.05 / C.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_channel_biased)


def _first_sample_kept(rng, shape, p, x):
    dropped = rng.random(shape) < p
    if len(shape) == 4:
        dropped[0] = False
    return dropped


def first_sample_kept(x, p=0.5, training=True, inplace=False, seed=None):
    """Sample 0 of every batch is always kept (and scaled): a batch loop that starts at 1 for
    the drop and at 0 for the scale.  Unbatched 3D input is correct.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_first_sample_kept)


def value_shift(p: float) -> float:
    """How far value-dependent moves the rate: 0.02, less near 0 and 1 to stay in [0, 1]."""
    return min(0.02, p / 2, (1 - p) / 2)


def _value_dependent(rng, shape, p, x):
    first = x.reshape((*x.shape[:-2], -1))[..., :1, None]  # each map's first value
    rate = np.where(first < 0, p + value_shift(p), p - value_shift(p))
    return rng.random(shape) < rate


def value_dependent(x, p=0.5, training=True, inplace=False, seed=None):
    """The drop probability depends on the input: p + 0.02 for maps whose first value is
    negative, p - 0.02 otherwise (0.02 shrinks near p = 0 and 1), so the mean rate is p only
    when signs are balanced.  Models random bits derived from (or compared against) the data,
    e.g. a content-keyed RNG; no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_value_dependent)


def _fixed_count(rng, shape, p, x):
    channels = shape[-3]
    samples = int(np.prod(shape[:-3], dtype=np.int64))
    whole = np.floor(p * channels)
    k = whole + (rng.random(samples) < p * channels - whole)  # E[k] = p C exactly
    ranks = rng.random((samples, channels)).argsort(axis=1).argsort(axis=1)
    return (ranks < k[:, None]).reshape(shape)


def drop_count_fixed(x, p=0.5, training=True, inplace=False, seed=None):
    """Each sample drops floor(pC) or ceil(pC) channels chosen at random (stochastic rounding,
    so every channel's marginal rate is exactly p): the per-sample count has almost no
    variance instead of Binomial(C, p).  Models sampling without replacement (``randperm``
    channel selection); no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_fixed_count)


FLOAT16_OFFSET = 0.02


def _float16_offset(rng, shape, p, x):
    delta = FLOAT16_OFFSET if x.dtype == np.float16 else 0.0
    return rng.random(shape) < min(p + delta, 1.0)


def rate_off_float16(x, p=0.5, training=True, inplace=False, seed=None):
    """Drop rate p + 0.02 for float16 input only; float32 and float64 are exact.  Models a
    dtype-specialised kernel (a separate half-precision path) with its own threshold bug;
    R3 asks for the exact rate "for every shape, dtype and p".  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_float16_offset)
