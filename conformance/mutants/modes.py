"""Mutants of modes and edge cases: eval, inplace, p = 1, invalid p, non-finite values."""

from __future__ import annotations

import numpy as np
from dropout2d_reference import validate_p

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it


def eval_drops(x, p=0.5, training=True, inplace=False, seed=None):
    """The ``training`` flag is ignored: evaluation mode still drops (R6).  Bug class: a
    module that does not forward ``self.training`` to the functional op (PyTorch PR #10417
    discussed ``F.dropout``'s ``training`` default); no public issue known for this fault."""
    return core.dropout2d(x, p, True, inplace, seed)


def eval_adds_zero(x, p=0.5, training=True, inplace=False, seed=None):
    """Evaluation mode implemented as an arithmetic no-op, x + 0, which turns -0.0 into +0.0:
    equal by value, not bit for bit (R6).  No public issue known."""
    if training:
        return core.dropout2d(x, p, True, inplace, seed)
    validate_p(p)
    core.check_array(x)
    return x + x.dtype.type(0)


def eval_float32_roundtrip(x, p=0.5, training=True, inplace=False, seed=None):
    """Evaluation mode passes the input through the framework's default float32 (a cast to the
    compute dtype and back, as with JAX's x64 disabled): float64 values lose their low bits
    (R6).  Training mode is correct.  No public issue known."""
    if training:
        return core.dropout2d(x, p, True, inplace, seed)
    validate_p(p)
    core.check_array(x)
    return x.astype(np.float32).astype(x.dtype)


def inplace_ignored(x, p=0.5, training=True, inplace=False, seed=None):
    """``inplace=True`` is accepted and ignored: a new array is returned and the input buffer
    is left as it was (R9).  No public issue known."""
    return core.dropout2d(x, p, training, False, seed)


def mutates_input(x, p=0.5, training=True, inplace=False, seed=None):
    """``inplace=False`` still writes into the input (an in-place multiply on what was assumed
    to be a copy), so the caller's array changes (R9).  No public issue known."""
    return core.dropout2d(x, p, training, True, seed)


def inplace_noncontiguous_lost(x, p=0.5, training=True, inplace=False, seed=None):
    """``inplace=True`` on non-contiguous input works on a contiguous temporary and returns it;
    the caller's buffer is untouched (R9).  Correct for contiguous input.  Bug class: an
    in-place op that silently makes a contiguous copy; no public issue known."""
    core.check_array(x)
    if inplace and not x.flags.c_contiguous:
        return core.dropout2d(np.ascontiguousarray(x), p, training, True, seed)
    return core.dropout2d(x, p, training, inplace, seed)


def _inf_scale(p, dtype):
    with np.errstate(divide="ignore"):
        return np.divide(dtype.type(1), dtype.type(1 - p))


def _product_at_one(keep, p, dtype):
    """mask * (1 / (1 - p)) at p = 1 (0 * inf = NaN); the core's select elsewhere."""
    if p == 1.0:
        with np.errstate(invalid="ignore"):
            return keep.astype(dtype) * _inf_scale(p, dtype)
    return core.keep_factor(core.scale_for)(keep, p, dtype)


def p_one_nan(x, p=0.5, training=True, inplace=False, seed=None):
    """p = 1 goes through the general formula x * mask / (1-p): 0 * inf = NaN everywhere (R7).
    Models Flax's Dropout before PR #2055 ("Handle edge-case of rate==1.0")."""
    return core.dropout2d(x, p, training, inplace, seed, factor=_product_at_one,
                          p_one_zeros=False)


def p_one_nan_inplace(x, p=0.5, training=True, inplace=False, seed=None):
    """Only the in-place path lacks the p = 1 special case (``x.mul_(mask).div_(1 - p)``), so
    p = 1 with ``inplace=True`` gives NaN (R7).  No public issue known."""
    if inplace:
        return core.dropout2d(x, p, training, True, seed, factor=_product_at_one,
                              p_one_zeros=False)
    return core.dropout2d(x, p, training, False, seed)


def p_one_raises(x, p=0.5, training=True, inplace=False, seed=None):
    """p = 1 computes 1/(1-p) in Python floats and raises ZeroDivisionError; R7 demands all
    zeros and no error.  Same bug class as Flax PR #2055, failing loudly."""
    return core.dropout2d(x, p, training, inplace, seed, p_one_zeros=False)


def _clamp(p) -> float:
    return min(max(float(p), 0.0), 1.0)  # NaN passes through: max(nan, 0.0) is nan


def invalid_p_accepted(x, p=0.5, training=True, inplace=False, seed=None):
    """No validation of p: out-of-range p is silently clamped (negative acts as 0, above 1 as
    1) and NaN gives NaN output (R8).  Bug class: missing argument checks (Flax's Dropout does
    not validate ``rate``); no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, validate=_clamp)


def invalid_p_clamped(x, p=0.5, training=True, inplace=False, seed=None):
    """p outside [0, 1], NaN or infinite returns the input unchanged instead of raising (R8):
    an early ``if not 0 <= p <= 1: return x`` guard.  No public issue known."""
    try:
        p = validate_p(p)
    except ValueError:
        core.check_array(x)
        return x
    return core.dropout2d(x, p, training, inplace, seed)


def _nan_to_num(x, factor, inplace):
    return np.nan_to_num(core.multiply(x, factor, inplace), copy=False)


def nan_to_num(x, p=0.5, training=True, inplace=False, seed=None):
    """``nan_to_num`` applied to the output to hide the NaN that 0 * inf gives in dropped maps:
    it also rewrites NaN and Inf in kept maps, which must pass through.  No public issue
    known."""
    return core.dropout2d(x, p, training, inplace, seed, apply=_nan_to_num)
