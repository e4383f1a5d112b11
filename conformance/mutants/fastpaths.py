"""Correct implementations with separate fast paths for what users run: large maps, large
tensors and the round rates.

They are not mutants: each path gives every (n, c) decision probability p (to within 2**-32),
independently of every other decision, of the call and of the input, and a scale within R2's
tolerance, so each must pass every check.  They guard the suite against checks that would flag
a dispatch to another algorithm (a different draw, a table, chunks) as a fault merely because
it is another path: only a path that breaks the contract may fail.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from dropout2d_reference import scale_for, validate_p

from conformance.checks.usersizes import ROUND_RATES
from conformance.mutants import core

__dropout2d__ = core.DECLARATION  # 3D input is part of what the core implements: judge it

#: elements per map from which the large-map path draws (32 x 32)
LARGE_MAP = 1024
#: bytes from which the chunked path runs (4 MiB), and its chunk of channels
LARGE_BYTES = 1 << 22
CHUNK_CHANNELS = 96


# ------------------------------------------------------------------------------ large maps


def _uint32_threshold(rng, shape, p, x):
    # 32-bit integers below ceil(p * 2**32): drop rate within 2**-32 of p
    if x.shape[-1] * x.shape[-2] < LARGE_MAP:
        return core.bernoulli(rng, shape, p, x)
    threshold = np.uint64(np.ceil(p * 2.0**32))
    return rng.integers(0, 1 << 32, size=shape, dtype=np.uint64) < threshold


def large_maps_integer_draw(x, p=0.5, training=True, inplace=False, seed=None):
    """Maps of 32x32 elements and more draw their decisions as 32-bit integers compared with
    ceil(p * 2**32) (a different generator call and comparison), smaller maps as uniforms:
    the same law within 2**-32 on both paths (a correct implementation; not a mutant)."""
    return core.dropout2d(x, p, training, inplace, seed, drop=_uint32_threshold)


# ----------------------------------------------------------------------------- round rates


def _correctly_rounded_scale(p: float, dtype: np.dtype) -> np.generic:
    # 1/(1 - p) for the float p, exact as a fraction, then rounded once to float64 (and to
    # dtype): never further from the true scale than the computed one
    return dtype.type(float(1 / (1 - Fraction(p))))


#: one entry per (round rate, dtype), computed once at import (bfloat16 computes its scale)
_TABLE = {
    (p, np.dtype(d)): _correctly_rounded_scale(p, np.dtype(d))
    for p in ROUND_RATES for d in ("float16", "float32", "float64")
}


def _table_scale(p: float, dtype: np.dtype) -> np.generic:
    scale = _TABLE.get((p, dtype))
    return scale if scale is not None else scale_for(p, dtype)


def round_rate_scale_table(x, p=0.5, training=True, inplace=False, seed=None):
    """The rates users set (every round rate of the suite's list) read their keep scale from
    a table built once at import, each entry 1/(1-p) computed exactly as a fraction and
    rounded to the dtype; every other p computes it (a correct implementation; not a
    mutant)."""
    return core.dropout2d(x, p, training, inplace, seed, scale=_table_scale)


# ---------------------------------------------------------------------------- large tensors


def chunked_large_tensors(x, p=0.5, training=True, inplace=False, seed=None):
    """Tensors of more than 4 MiB are processed in chunks of 96 channels: each chunk draws its
    own decisions from the generator, in turn, and writes its slice of a preallocated output
    (or of the input, in place); smaller tensors take the one-shot path.  The chunks' draws
    are independent Bernoulli(p), so the law is that of the one-shot path (a correct
    implementation; not a mutant)."""
    p = validate_p(p)
    core.check_array(x)
    if not training or p == 0 or p == 1 or x.nbytes <= LARGE_BYTES:
        return core.dropout2d(x, p, training, inplace, seed)
    core.check_float(x)
    rng = core.generator(seed)
    out = x if inplace else np.empty_like(x)
    scale = scale_for(p, x.dtype)
    channels = x.shape[-3]
    for start in range(0, channels, CHUNK_CHANNELS):
        part = (..., slice(start, min(start + CHUNK_CHANNELS, channels)), slice(None),
                slice(None))
        chunk = x[part]
        keep = rng.random((*chunk.shape[:-2], 1, 1)) >= p
        # the factor a select, as in the core (0 where the scale overflows float16); x * 0
        # stays NaN for non-finite x by design
        with np.errstate(invalid="ignore"):
            np.multiply(chunk, np.where(keep, scale, x.dtype.type(0)), out=out[part])
    return out


__all__ = ["chunked_large_tensors", "large_maps_integer_draw", "round_rate_scale_table"]
