"""Mutants with the wrong keep scale or output dtype (R1, R2 values, R5)."""

from __future__ import annotations

import numpy as np
from dropout2d_reference import validate_p

from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it


def no_scaling(x, p=0.5, training=True, inplace=False, seed=None):
    """Kept maps are not rescaled by 1/(1-p) (x * mask only), so E[y] = (1-p) x.  Bug class:
    forgotten inverted-dropout scaling in hand-written kernels; no public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, scale=lambda p, dt: dt.type(1))


def scale_1_over_p(x, p=0.5, training=True, inplace=False, seed=None):
    """Scale 1/p instead of 1/(1-p): the keep probability and the drop probability confused in
    the scale only (TF1 ``keep_prob`` vs TF2 ``rate``).  Right at p = 0.5 only; no public
    issue known."""
    return core.dropout2d(x, p, training, inplace, seed, scale=lambda p, dt: dt.type(1 / p))


def scale_in_eval(x, p=0.5, training=True, inplace=False, seed=None):
    """Paddle's ``mode='downscale_in_infer'`` semantics: training output x * mask with no
    scale, evaluation output x * (1-p).  Documented Paddle behaviour, not a Paddle bug; as a
    Dropout2d it violates R2 and R6 (a port that picked up the wrong mode).  No public issue
    known."""
    if training:
        return core.dropout2d(x, p, True, inplace, seed, scale=lambda p, dt: dt.type(1))
    p = validate_p(p)
    core.check_array(x)
    return core.multiply(x, x.dtype.type(1 - p), inplace)


def p_rounded_fp16(x, p=0.5, training=True, inplace=False, seed=None):
    """p rounded to float16 before use (held in the half compute dtype of a mixed-precision
    kernel): 1/(1-p) is then off by far more than a few ulps, e.g. 102.4 instead of 100 at
    p = 0.99, and about 3e-5 relative at p = 0.1.  No public issue known."""
    return core.dropout2d(x, float(np.float16(validate_p(p))), training, inplace, seed)


def _round_to_bits(value: float, bits: int) -> float:
    mantissa, exponent = np.frexp(value)
    return float(np.ldexp(np.round(mantissa * 2.0**bits) / 2.0**bits, exponent))


def approx_reciprocal(x, p=0.5, training=True, inplace=False, seed=None):
    """The scale from a fast approximate reciprocal with about 12 correct bits (x86 RCPSS or a
    GPU ``rcp.approx`` under fast-math, no Newton step): exact at p = 0.5, off by ~2**-13
    relative elsewhere, i.e. hundreds of float32 ulps.  No public issue known."""
    return core.dropout2d(
        x, p, training, inplace, seed,
        scale=lambda p, dt: dt.type(_round_to_bits(1 / (1 - p), 12)),
    )


def scale_float32_in_float64(x, p=0.5, training=True, inplace=False, seed=None):
    """The scale computed in float32 whatever the input dtype (``float scale = 1.0f/(1.0f-p)``
    in a kernel templated on the data type only), so float64 output is off by ~1e-8
    relative.  Correct for float16 and float32.  No public issue known."""
    return core.dropout2d(
        x, p, training, inplace, seed, scale=lambda p, dt: dt.type(np.float32(1 / (1 - p)))
    )


def _realised(keep: np.ndarray, p: float, dtype: np.dtype) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return keep.astype(dtype) * dtype.type(keep.size / np.count_nonzero(keep))


def scale_by_realised_keep(x, p=0.5, training=True, inplace=False, seed=None):
    """Kept maps rescaled by (decisions / kept decisions) of this call instead of 1/(1-p), as
    DropBlock implementations do (``x * mask * mask.numel() / mask.sum()``): a scale that
    varies from call to call, and E[y] != x.  No public issue known."""
    return core.dropout2d(x, p, training, inplace, seed, factor=_realised)


def upcast_output(x, p=0.5, training=True, inplace=False, seed=None):
    """Output upcast to float64 for float16/float32 input: the scale is a float64 NumPy scalar,
    which NumPy 2's promotion rules (NEP 50) treat as strong.  Values are right; dtype is
    not (R1).  Bug class: NEP 50 promotion changes; no public issue known."""
    return core.dropout2d(
        x, p, training, inplace, seed, scale=lambda p, dt: np.float64(1 / (1 - p))
    )
