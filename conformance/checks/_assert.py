"""Keyword-only assertion helpers; every failure message carries the values involved."""

from __future__ import annotations

import numpy as np

from conformance.checks._inputs import bits
from conformance.errors import CheckFailed

#: R2 allows the scale to be rounded to the dtype.  A correct x*fl(s) or fl(x/fl(1-p)) is within
#: 2 ulps of x/(1-p) (two roundings of at most half an ulp of relative size <= 1 ulp each);
#: 4 ulps leaves room for a fused or reassociated multiply and nothing more.
SCALE_ULPS = 4


def assert_shape_dtype(*, actual: np.ndarray, expected: np.ndarray, where: str) -> None:
    if actual.shape != expected.shape:
        raise CheckFailed(f"shape {actual.shape} != input shape {expected.shape} ({where})")
    if actual.dtype != expected.dtype:
        raise CheckFailed(f"dtype {actual.dtype} != input dtype {expected.dtype} ({where})")


def assert_bitwise_equal(
    *, actual: np.ndarray, expected: np.ndarray, what: str, where: str
) -> None:
    """``actual`` is ``expected`` bit for bit (same shape and dtype, NaN payloads and -0.0)."""
    assert_shape_dtype(actual=actual, expected=expected, where=f"{what}, {where}")
    diff = bits(actual) != bits(expected)
    if diff.any():
        index = tuple(int(i) for i in np.argwhere(diff)[0])
        raise CheckFailed(
            f"{what} differs from the expected value at {int(diff.sum())} of {diff.size} "
            f"elements; first at {index}: got {actual[index]!r}, expected {expected[index]!r} "
            f"({where})"
        )


def assert_scaled(
    *,
    actual: np.ndarray,
    x: np.ndarray,
    keep: np.ndarray,
    p: float,
    ulps: int = SCALE_ULPS,
    what: str = "kept maps",
    where: str,
) -> float:
    """Kept maps equal ``x / (1 - p)`` within ``ulps`` of the dtype; dropped maps are zero.

    Returns the largest error seen, in ulps.
    """
    dtype = x.dtype
    exact = x.astype(np.float64) / (1.0 - p)
    factor = keep[..., None, None]
    expected = np.where(factor, exact, 0.0)
    spacing = np.spacing(np.abs(expected).astype(dtype)).astype(np.float64)
    err = np.abs(actual.astype(np.float64) - expected)
    in_ulps = np.where(factor, err / spacing, np.where(err == 0, 0.0, np.inf))
    worst = float(np.nanmax(in_ulps)) if in_ulps.size else 0.0
    bad = ~(in_ulps <= ulps)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        got = float(actual[index])
        want = float(expected[index])
        ratio = got / float(x[index]) if x[index] != 0 else float("nan")
        raise CheckFailed(
            f"{what}: {int(bad.sum())} of {bad.size} elements off by more than {ulps} ulps of "
            f"{dtype}; first at {index}: got {got!r}, expected {want!r} = x/(1-p) "
            f"(x={float(x[index])!r}, p={p!r}, implied scale {ratio!r} vs 1/(1-p)="
            f"{1.0 / (1.0 - p)!r}) ({where})"
        )
    return worst
