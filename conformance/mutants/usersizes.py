"""Mutants whose fault lives where users run and today's deterministic checks never looked: CNN
feature maps of 32x32 and up, tensors of a few MB and more, and the round rates that
configurations contain (R1, R2, R6, R7, R9).

Each is the correct core (:mod:`conformance.mutants.core`) but for one path taken only for a
large map, a large tensor or one round rate, the way fast paths ship: a kernel for big inputs,
a workspace, a precomputed table.  Every one passes a battery whose deterministic checks use
small tensors and p values off the round rates; the large cases and round rates of
:mod:`conformance.checks.usersizes` must catch each in exactly one check.
"""

from __future__ import annotations

import numpy as np
from dropout2d_reference import scale_for, validate_p

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it

#: "a few MB": where the large-tensor paths of these mutants start (4 MiB)
LARGE_BYTES = 1 << 22
#: elements per map from which the large-map path runs (32 x 32, the smallest CNN map)
LARGE_MAP = 1024


def _large(x: np.ndarray) -> bool:
    return isinstance(x, np.ndarray) and x.nbytes > LARGE_BYTES


# ------------------------------------------------------------------------- R2: CNN-sized maps


def _per_element_on_cnn_maps(a: np.ndarray) -> tuple[int, ...]:
    return a.shape if a.shape[-1] * a.shape[-2] >= LARGE_MAP else core.channel_shape(a)


def element_wise_cnn_maps(x, p=0.5, training=True, inplace=False, seed=None):
    """Maps of 32x32 elements and more take a vectorised kernel that draws one decision per
    element (``F.dropout``'s kernel reused for "big" maps) instead of one per (n, c) map; every
    smaller map is channel-wise and correct.  The large-map cousin of element-wise dropout:
    a structure check whose maps stop below 1024 elements never sees it.  No public issue
    known."""
    return core.dropout2d(x, p, training, inplace, seed, shape=_per_element_on_cnn_maps)


# ------------------------------------------------------------- R9, R1, R6, R7: large tensors


def inplace_copies_large(x, p=0.5, training=True, inplace=False, seed=None):
    """``inplace=True`` on a tensor of more than 4 MiB returns a new array and leaves the
    input as it was (R9): the large-tensor kernel allocates its output (a tiled path that
    cannot work in place, e.g. one that stages tiles in a scratch buffer) and the in-place
    flag is dropped on the way.  Smaller tensors are modified in place, correctly.  No public
    issue known."""
    return core.dropout2d(x, p, training, inplace and not _large(x), seed)


#: the workspace of the large-tensor path: one output buffer per size in bytes
_WORKSPACE: dict[int, np.ndarray] = {}


def workspace_by_size(x, p=0.5, training=True, inplace=False, seed=None):
    """Results of more than 4 MiB are written into a module-level workspace keyed by the
    size in bytes and that buffer is returned, so the next call of the same size overwrites
    the result the caller kept (R1: a call's result is not modified by later calls).  Each
    single result is right, and smaller results are fresh arrays.  Bug class: an allocation
    cache for big outputs (a caching allocator handing back a block still in use); no public
    issue known."""
    y = core.dropout2d(x, p, training, inplace, seed)
    if y is x or not _large(y):  # the input itself (eval, p = 0, in-place) is allowed
        return y
    buffer = _WORKSPACE.get(y.nbytes)
    if buffer is None or buffer.dtype != y.dtype:
        buffer = _WORKSPACE[y.nbytes] = np.empty_like(y)
    buffer = buffer.reshape(y.shape)
    np.copyto(buffer, y)
    return buffer


def eval_float32_large(x, p=0.5, training=True, inplace=False, seed=None):
    """Evaluation mode on a float64 tensor of more than 4 MiB goes through a "fast" path that
    copies it in float32 (a bandwidth-saving kernel meant for activations), so float64 values
    lose their low bits (R6: bit for bit the input).  Small tensors and every other dtype are
    returned as they are.  No public issue known."""
    if training or not _large(x) or x.dtype != np.float64:
        return core.dropout2d(x, p, training, inplace, seed)
    validate_p(p)
    core.check_array(x)
    return x.astype(np.float32).astype(np.float64)


def p_zero_float32_large(x, p=0.5, training=True, inplace=False, seed=None):
    """p = 0 on a float64 tensor of more than 4 MiB is not short-cut: the large-tensor kernel
    runs with every channel kept and computes in float32, so the output is the input rounded
    to float32 (R7: p = 0 is the identity, bit for bit).  Smaller tensors return the input.
    Bug class: an early return that only the small-tensor path has; no public issue known."""
    if p != 0 or not training or not _large(x) or x.dtype != np.float64:
        return core.dropout2d(x, p, training, inplace, seed)
    validate_p(p)
    core.check_array(x)
    y = x.astype(np.float32).astype(np.float64)
    if inplace:
        x[...] = y
        return x
    return y


def _product(keep, p, dtype):
    # mask * (1 / (1 - p)) as a product, not the core's select: 0 * inf = NaN at p = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        return keep.astype(dtype) * np.divide(dtype.type(1), dtype.type(1 - p))


def p_one_nan_large(x, p=0.5, training=True, inplace=False, seed=None):
    """p = 1 on a tensor of more than 4 MiB goes through the large-tensor kernel, which lacks
    the all-zeros special case and computes x * mask / (1 - p): 0 * inf = NaN everywhere
    (R7).  Smaller tensors take the special case and give zeros.  The p = 1 fault of Flax
    before PR #2055 ("Handle edge-case of rate==1.0"), confined to one path."""
    if p == 1 and _large(x):
        return core.dropout2d(x, p, training, inplace, seed, factor=_product,
                              p_one_zeros=False)
    return core.dropout2d(x, p, training, inplace, seed)


# ------------------------------------------------------------------ R2 values: round rates

#: the keep scales of the multiples of 0.05, as a generated table would hold them, but for
#: one transposed pair of digits in the entry of 0.15 (1/0.85 = 1.1764705882352942)
_TYPO_TABLE = {round(0.05 * i, 2): 1.0 / (1.0 - round(0.05 * i, 2)) for i in range(1, 20)}
_TYPO_TABLE[0.15] = 1.1764705882352492


def _table_scale(p, dtype):
    return dtype.type(_TYPO_TABLE[p]) if p in _TYPO_TABLE else scale_for(p, dtype)


def round_rate_table_typo(x, p=0.5, training=True, inplace=False, seed=None):
    """The rates people set (multiples of 0.05) read their keep scale from a literal table
    instead of computing 1/(1-p), and the entry of p = 0.15 has two digits transposed
    (1.1764705882352492 for 1.1764705882352942): 4e-14 relative, hundreds of float64 ulps and
    nothing in float32 or below (R2's scale, float64 only).  Every other p is computed.  No
    public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, scale=_table_scale)


def _tiny_p_unscaled(p, dtype):
    return dtype.type(1) if p <= 1e-3 else scale_for(p, dtype)


def tiny_p_unscaled(x, p=0.5, training=True, inplace=False, seed=None):
    """For p <= 0.001 the rescale is skipped as "1/(1-p) is 1 to within rounding" (an
    approximation that holds in float16 only): kept maps are x instead of x * 1.001 at
    p = 0.001 and x * 1.0001 at p = 1e-4, wrong in float32 and float64 by far more than a few
    ulps (R2) and invisible to any test of E[y] (0.1 % at most).  Drops are right.  No public
    issue known."""
    return core.dropout2d(x, p, training, inplace, seed, scale=_tiny_p_unscaled)


__all__ = [
    "element_wise_cnn_maps",
    "eval_float32_large",
    "inplace_copies_large",
    "p_one_nan_large",
    "p_zero_float32_large",
    "round_rate_table_typo",
    "tiny_p_unscaled",
    "workspace_by_size",
]
