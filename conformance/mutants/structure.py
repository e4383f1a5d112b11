"""Mutants that put the decisions on the wrong elements (R2 structure, 3D interpretation)."""

from __future__ import annotations

import numpy as np

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it


def element_wise(x, p=0.5, training=True, inplace=False, seed=None):
    """Element-wise dropout (``nn.Dropout``) where channel-wise ``nn.Dropout2d`` was meant:
    one decision per element instead of per (n, c) map.  The classic mix-up of
    ``F.dropout`` and ``F.dropout2d``; no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, shape=lambda a: a.shape)


def nhwc_axis(x, p=0.5, training=True, inplace=False, seed=None):
    """Layout mix-up: an NCHW array treated as NHWC, so the 'channel' is the last axis and
    each decision covers a column x[n, :, :, w] across all channels.  Models ports between
    channels-first and channels-last frameworks (MLX's Dropout2d is channels-last, mlx PR
    #250); no public issue known for this exact fault."""
    return core.dropout2d(
        x, p, training, inplace, seed, shape=lambda a: (*a.shape[:-3], 1, 1, a.shape[-1])
    )


def _columns_for_3d(a: np.ndarray) -> tuple[int, ...]:
    if a.ndim == 4:
        return core.channel_shape(a)
    return (a.shape[0], 1, a.shape[2])


def three_d_columns(x, p=0.5, training=True, inplace=False, seed=None):
    """3D (C, H, W) input: one decision per column x[c, :, w] (legacy (N, C, L) applied to a
    view with the last two axes swapped), which is neither unbatched nor legacy dropout.
    4D input is correct.  Bug class: the 3D ambiguity of PyTorch issue #69801 (PR #79549
    restored the legacy path) handled by a port that transposes first; no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, shape=_columns_for_3d)


def _last_axis_for_3d(a: np.ndarray) -> tuple[int, ...]:
    return core.channel_shape(a) if a.ndim == 4 else (1, 1, a.shape[-1])


def three_d_channels_last(x, p=0.5, training=True, inplace=False, seed=None):
    """3D input taken as unbatched channels-last (H, W, C): one decision per last-axis index,
    shared by every x[:, :, w].  4D input is correct.  Models a port whose unbatched path keeps
    a channels-last convention; no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, shape=_last_axis_for_3d)


def _whole_for_3d(a: np.ndarray) -> tuple[int, ...]:
    return core.channel_shape(a) if a.ndim == 4 else (1, 1, 1)


def three_d_one_decision(x, p=0.5, training=True, inplace=False, seed=None):
    """3D input wrapped as one sample with one channel (``x[None, None]``-style promotion), so
    the whole (C, H, W) tensor shares a single decision.  4D input is correct.  Bug class:
    unbatched-input promotion at the wrong axis (cf. PyTorch issue #69801); no public issue
    known for this fault."""
    return core.dropout2d(x, p, training, inplace, seed, shape=_whole_for_3d)


def ignores_strides(x, p=0.5, training=True, inplace=False, seed=None):
    """A kernel that ignores strides: it reads the input's memory linearly as if it were
    C-contiguous NCHW and writes a C-contiguous output.  Correct for contiguous (and simply
    strided) input; for channels-last input each output map holds scrambled input values.
    Models PyTorch issue #47176 (dropout on discontiguous channels-last CUDA input)."""
    core.check_array(x)
    if x.flags.c_contiguous:
        return core.dropout2d(x, p, training, inplace, seed)
    linear = np.ravel(x, order="K").reshape(x.shape)  # memory order, read as NCHW
    y = core.dropout2d(linear, p, training, False, seed)
    if y is linear:  # eval, p = 0 or empty: the kernel does not run
        return x
    if inplace:
        x[...] = y
        return x
    return y


def three_d_unscaled(x, p=0.5, training=True, inplace=False, seed=None):
    """3D input: channel-wise decisions are right but kept maps are not rescaled (the unbatched
    path calls a mask-only helper).  4D input is correct.  Bug class: a separate unbatched
    code path that drifts from the batched one; no public issue known."""
    if getattr(x, "ndim", None) == 3:
        return core.dropout2d(x, p, training, inplace, seed, scale=lambda p, dt: dt.type(1))
    return core.dropout2d(x, p, training, inplace, seed)
