"""Inputs the checks feed to implementations, and masks read back from outputs."""

from __future__ import annotations

import numpy as np

from conformance.contract import ROOT_SHAPE
from conformance.errors import CheckFailed

#: shapes with H, W > 1, odd sizes and N = 1 among them
SHAPES: tuple[tuple[int, int, int, int], ...] = ((4, 16, 5, 7), (3, 9, 2, 9), (1, 32, 3, 3))

#: p values the deterministic checks cover: small, large and ones whose scale is inexact
P_VALUES: tuple[float, ...] = (0.1, 0.25, 1 / 3, 0.5, 0.7, 0.9, 0.99)


def nonzero_values(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype | type = np.float32
) -> np.ndarray:
    """Values with |x| in [0.5, 2] and random signs: never zero, so a zero means dropped."""
    # one float32 uniform per element gives both (the draws' inputs are their hot path): u < 1/2
    # is the sign, 0.5 + 3 * (u mod 1/2) the magnitude; in float64 every step is exact (3u
    # needs 26 bits), so the one rounding is the cast to ``dtype``
    u = rng.random(shape, dtype=np.float32)
    negative = u >= 0.5
    v = u.astype(np.float64)
    v *= 3.0
    v += 0.5
    v -= negative * 1.5
    v *= 1.0 - 2.0 * negative
    return v.astype(dtype)


def maps(a: np.ndarray) -> np.ndarray:
    """View (..., H, W) as (..., H*W): one row per channel decision."""
    return a.reshape((*a.shape[:-2], -1))


def first_offender(bad: np.ndarray) -> tuple[tuple[int, ...], str]:
    """The index of the first true element of ``bad`` and how many there are ("3 of 96"):
    every failure message names the first offending element or map the same way."""
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return index, f"{int(bad.sum())} of {bad.size}"


def extract_keep_mask(*, x: np.ndarray, y: np.ndarray, where: str = "") -> np.ndarray:
    """The keep decision of every map of ``y`` (computed from input ``x`` with no zeros).

    A map is dropped when it is all zero and kept when none of it is zero; anything else
    violates R2's structure and raises :class:`CheckFailed` with the first offending map.
    """
    if y.shape != x.shape:
        # R1's failure wherever it is met: the reports group it under one root cause
        raise CheckFailed(f"output shape {y.shape} != input shape {x.shape} {where}".strip(),
                          root_cause=ROOT_SHAPE)
    # compare first, then lay out by map: a non-contiguous output is copied as one byte per
    # element instead of its dtype's width
    return keep_from_zeros(maps(y == 0), where=where)


def keep_from_zeros(zero: np.ndarray, *, where: str = "") -> np.ndarray:
    """Keep decisions from a (..., K) array saying which of each map's K elements are zero."""
    if zero.shape[-1] <= 32:
        # Element-wise over the few map elements: much faster than reductions along a short
        # trailing axis, and this runs on every call of every statistical draw.
        dropped = zero[..., 0].copy()
        any_zero = zero[..., 0].copy()
        for k in range(1, zero.shape[-1]):
            dropped &= zero[..., k]
            any_zero |= zero[..., k]
        kept = ~any_zero
    else:
        dropped = zero.all(axis=-1)
        kept = ~zero.any(axis=-1)
    partial = ~(dropped | kept)
    if partial.any():
        index, _ = first_offender(partial)
        frac = float(zero[index].mean())
        raise CheckFailed(
            f"map {index} is partly zero ({frac:.0%} of its {zero.shape[-1]} elements): "
            f"dropout must zero whole channels, not elements or rows {where}".strip()
        )
    return kept


def bits(a: np.ndarray) -> np.ndarray:
    """The raw bit patterns of a float array, so NaN payloads and -0.0 compare exactly."""
    floating = a.dtype.kind == "f" or a.dtype.name == "bfloat16"  # ml_dtypes: kind "V"
    # a view of the same itemsize needs no copy, whatever the strides (channels-last outputs
    # of tens of MB are compared as they are)
    return a.view(np.dtype(f"u{a.dtype.itemsize}")) if floating else a
