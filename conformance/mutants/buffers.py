"""Mutants of output buffers: results that later calls overwrite (R1)."""

from __future__ import annotations

import numpy as np

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it

#: one output buffer per (shape, dtype), reused by every call: the fault this module models
_BUFFERS: dict[tuple[tuple[int, ...], str], np.ndarray] = {}


def reused_output(x, p=0.5, training=True, inplace=False, seed=None):
    """Every training call writes its result into one preallocated output buffer and returns
    that buffer, so each call overwrites the result the caller kept from the previous one (R1:
    a call's result is not modified by later calls).  Each single result is correct.  Bug
    class: a kernel wrapper that caches its output allocation across calls (a static
    workspace) instead of allocating one result per call; no public issue known."""
    y = core.dropout2d(x, p, training, inplace, seed)
    if y is x:  # eval, p = 0, empty or in-place: the input itself, which is allowed
        return y
    key = (y.shape, y.dtype.str)
    buffer = _BUFFERS.get(key)
    if buffer is None:
        buffer = _BUFFERS[key] = np.empty_like(y)
    np.copyto(buffer, y)
    return buffer
