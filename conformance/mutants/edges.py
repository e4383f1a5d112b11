"""Statistical mutants at the edges where users live (R3, R4): round rates, p next to 0 and 1,
float16 uniforms, CNN-sized maps, thousands of channels, the last decisions of a call and
random streams that overlap between calls.

Each is correct except on one fast path or in one region that a space set by what is cheap to
draw never visited (maps to 20x20, 2048 channels, no p below 1e-3, never the round rates
people configure).  The settings space (checks/space.py, checks/usersizes.py) must find each.
"""

from __future__ import annotations

import numpy as np

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it


def _rate(rng, shape, rate):
    return rng.random(shape) < np.clip(rate, 0.0, 1.0)


# --------------------------------------------------------------- the rates people set

#: a fast path's table of thresholds, with the entries for 0.2 and 0.25 swapped
_TABLE = {0.2: 0.25, 0.25: 0.2}


def _round_table(rng, shape, p, x):
    return _rate(rng, shape, _TABLE.get(p, p))


def round_rate_table(x, p=0.5, training=True, inplace=False, seed=None):
    """The rates that configurations contain (0.2, 0.25) take a precomputed-threshold fast
    path whose table has two entries swapped: p = 0.2 drops a quarter of the channels and
    p = 0.25 a fifth; any other p, however close, is exact.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_round_table)


def _never_below(rng, shape, p, x):
    return np.zeros(shape, bool) if p < 1e-3 else rng.random(shape) < p


def never_drops_below_1e3(x, p=0.5, training=True, inplace=False, seed=None):
    """p below 1e-3 is treated as 0 (an "effectively disabled" shortcut, or a threshold kept
    in 10 bits): nothing is ever dropped there.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_never_below)


def _always_above(rng, shape, p, x):
    return np.ones(shape, bool) if p > 1 - 1e-3 else rng.random(shape) < p


def always_drops_above_0999(x, p=0.5, training=True, inplace=False, seed=None):
    """p above 0.999 is treated as 1: every channel is dropped (the keep probability rounded
    to zero).  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_always_above)


def _float16_uniforms(rng, shape, p, x):
    if x.dtype == np.float16:
        # a float16 uniform in [0, 1) from 10 random mantissa bits: k / 1024
        u = np.floor(rng.random(shape) * 1024) / 1024
        return u < p
    return rng.random(shape) < p


def float16_uniforms(x, p=0.5, training=True, inplace=False, seed=None):
    """float16 input draws its uniforms in float16, 10 random mantissa bits (as
    tf.random.uniform does for float16): the drop rate is ceil(1024 p) / 1024, 1/1024 for any
    p below it (10x the rate at p = 1e-4, +7 % of p at 0.01).  TensorFlow's float16 uniform
    has this resolution (no public issue known for dropout)."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_float16_uniforms)


# --------------------------------------------------------------- sizes as users run them


def _large_maps(rng, shape, p, x):
    return _rate(rng, shape, p + 0.03 if x.shape[-1] * x.shape[-2] >= 1024 else p)


def rate_cnn_maps(x, p=0.5, training=True, inplace=False, seed=None):
    """Feature maps of 32x32 and more take a vectorised kernel with its own threshold, off by
    0.03: the drop rate is p + 0.03 on CNN-sized maps only.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_large_maps)


CHUNK = 2048


def _channel_chunks(rng, shape, p, x):
    drop = rng.random(shape) < p
    channels = shape[-3]
    if channels > CHUNK:
        c = np.arange(CHUNK, channels)
        drop[..., c, :, :] = drop[..., c % CHUNK, :, :]
    return drop


def channels_repeat_above_2048(x, p=0.5, training=True, inplace=False, seed=None):
    """A kernel draws 2048 uniforms per sample and wraps: channel c >= 2048 takes the decision
    of channel c mod 2048 (only more than 2048 channels show it).  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_channel_chunks)


def _last_kept(rng, shape, p, x):
    drop = rng.random(shape) < p
    flat = drop.reshape(-1)
    flat[-3:] = False  # the tail of the call's decisions is never written
    return flat.reshape(shape)


def last_decisions_kept(x, p=0.5, training=True, inplace=False, seed=None):
    """A vectorised mask kernel processes decisions in blocks and never writes the last three
    of a call: the last three (n, c) decisions in (n, c) order are always kept.
    No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_last_kept)


class _Overlap:
    """A counter-based stream whose offset advances by half the numbers each call uses."""

    def __init__(self) -> None:
        self.tail: np.ndarray | None = None

    def drop(self, rng, shape, p, x):
        n = int(np.prod(shape))
        u = rng.random(n)
        half = n // 2
        if self.tail is not None and self.tail.size == n - half:
            u[:n - half] = self.tail
        self.tail = u[half:].copy()
        return (u < p).reshape(shape)


_OVERLAP = _Overlap()


def calls_overlap(x, p=0.5, training=True, inplace=False):
    """Philox-style counter offset advanced by half the numbers a call consumes: the first
    half of each call's decisions repeat the second half of the previous call's (same size).
    Seed-less, like a framework's global stream.  No public issue known (the bug class of
    PyTorch's philox offset increments)."""
    return core.dropout2d(x, p, training, inplace, drop=_OVERLAP.drop)


__all__ = [
    "always_drops_above_0999",
    "calls_overlap",
    "channels_repeat_above_2048",
    "float16_uniforms",
    "last_decisions_kept",
    "never_drops_below_1e3",
    "rate_cnn_maps",
    "round_rate_table",
]
