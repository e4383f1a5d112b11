"""Keyword-only assertion helpers; every failure message carries the values involved and says
what the values most likely mean (computed in lower precision, the input scaled, all NaN...).

Root causes: one broken property is reported once, by the check that owns it.  A check that
meets an output of the wrong dtype records it in a :class:`DtypeWatch`, casts the output back
to the input's dtype and judges its own property on that; if it still fails, the failure is
attributed to the dtype (``root_cause="R1 output dtype"``) and the message says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import numpy as np

from conformance.adapters.base import dtype_finfo
from conformance.checks.inputs import bits, first_offender
from conformance.contract import ROOT_DTYPE, ROOT_SHAPE, keep_scale
from conformance.errors import CheckFailed

if TYPE_CHECKING:  # calling imports this module
    from conformance.checks.calling import Forward

#: R2 allows the scale to be rounded to the dtype.  A correct x*fl(s) or fl(x/fl(1-p)) is within
#: 2 ulps of x/(1-p) (two roundings of at most half an ulp of relative size <= 1 ulp each);
#: 4 ulps leaves room for a fused or reassociated multiply and nothing more.
SCALE_ULPS = 4


#: narrower float dtypes an implementation may silently compute in, widest first
_LOWER_PRECISIONS = ("float32", "float16", "bfloat16")


def ulp(values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The spacing of ``dtype`` (bfloat16 included, from ``ml_dtypes.finfo``) at ``values``.

    For a normal number ``|v| = m * 2**e`` with ``m`` in [0.5, 1) the spacing is
    ``2**(e - 1 - nmant)``; below the smallest normal it is the smallest subnormal.
    """
    info = dtype_finfo(dtype)
    _, exponent = np.frexp(np.abs(np.asarray(values, dtype=np.float64)))
    spacing = np.ldexp(1.0, exponent - 1 - int(info.nmant))
    return np.maximum(spacing, float(info.smallest_subnormal))


def _lower_dtypes(dtype: np.dtype) -> list[np.dtype]:
    from conformance.adapters.base import numpy_dtype

    bits_ = dtype_finfo(dtype).bits
    nmant = dtype_finfo(dtype).nmant
    out = []
    for name in _LOWER_PRECISIONS:
        lower = numpy_dtype(name)
        if name != dtype.name and (dtype_finfo(lower).nmant < nmant or
                                   dtype_finfo(lower).bits < bits_):
            out.append(lower)
    return out


def lower_precision_match(
    *, actual: np.ndarray, x: np.ndarray, p: float, keep: np.ndarray | None = None
) -> str | None:
    """The narrower dtype whose computation of x/(1-p) the kept values equal, if any.

    Tried: ``x * fl(1/(1-p))`` and ``fl(x / (1-p))`` done in float32, float16 or bfloat16 and
    widened back.  A match means the result is correct in a lower precision: the implementation
    computed in it (or rounded the scale to it).
    """
    if x.size == 0:
        return None
    sel = np.ones(x.shape, bool) if keep is None else np.broadcast_to(keep[..., None, None],
                                                                       x.shape)
    if not sel.any():
        return None
    got = actual.astype(np.float64)[sel]
    for lower in _lower_dtypes(x.dtype):
        xl = x.astype(lower)
        with np.errstate(all="ignore"):
            candidates = (
                (xl * keep_scale(p, lower)).astype(np.float64),
                (xl / lower.type(1.0 - p)).astype(np.float64),
                x.astype(np.float64) * float(keep_scale(p, lower)),
            )
        # done in the lower dtype: within its ulps; only the scale rounded to it (the third):
        # within the input dtype's, or any scale error smaller than the lower dtype's ulp
        # (a typo in a float64 table) would read as "computed in float32"
        narrow, wide = ulp(got, lower), SCALE_ULPS * ulp(got, x.dtype)
        for cand, tolerance in zip(candidates, (narrow, narrow, wide), strict=True):
            if np.all(np.abs(cand[sel] - got) <= tolerance):
                return lower.name
    return None


def describe_difference(*, actual: np.ndarray, expected: np.ndarray) -> str:
    """What ``actual`` most likely is, compared with ``expected`` (same shape), in words."""
    a = actual.astype(np.float64)
    e = expected.astype(np.float64)
    finite = np.isfinite(e)
    if a.size == 0:
        return "an empty array"
    if np.isnan(a).all():
        return "an all-NaN output"
    if (a == 0).all():
        return "all zeros"
    if expected.dtype != actual.dtype:
        return f"an output of dtype {actual.dtype}"
    for lower in _lower_dtypes(expected.dtype):
        rounded = expected.astype(lower).astype(np.float64)
        same = (rounded == a) | (np.isnan(rounded) & np.isnan(a))
        if same.all():
            return (f"the input rounded to {lower.name} (computed in lower precision than "
                    f"{expected.dtype})")
    both = finite & np.isfinite(a) & (e != 0)
    if both.any():
        ratio = a[both] / e[both]
        if np.allclose(ratio, ratio[0], rtol=1e-3, atol=0) and ratio[0] != 1.0:
            return f"the input scaled by {ratio[0]:.6g}"
    if a.ndim >= 3:
        zero_maps = (a.reshape(*a.shape[:-2], -1) == 0).all(axis=-1)
        e_zero = (e.reshape(*e.shape[:-2], -1) == 0).all(axis=-1)
        dropped = zero_maps & ~e_zero
        if dropped.any():
            return (f"the input with {int(dropped.sum())} of {dropped.size} maps zeroed "
                    "(channels dropped)")
    neg_zero = (e == 0) & np.signbit(e) & (a == 0) & ~np.signbit(a)
    if neg_zero.any() and ((a == e) | np.isnan(a) & np.isnan(e) | neg_zero).all():
        return "the input with -0.0 turned into +0.0 (an arithmetic identity such as x * 1 + 0)"
    if (np.isnan(e) & np.isnan(a)).any() and ((a == e) | np.isnan(a) & np.isnan(e)).all():
        return "the input with NaN payloads changed"
    return "values that differ from the input"


class DtypeWatch:
    """Records outputs whose dtype differs from the input's; lets a check judge its own
    property after casting back, and attributes its failures to the dtype (one root cause).

    Mutable by design: one watch lives for one check call.
    """

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def cast(self, *, actual: np.ndarray, expected: np.ndarray, where: str) -> np.ndarray:
        """``actual`` in ``expected``'s dtype; a shape mismatch fails (nothing to judge)."""
        if actual.shape != expected.shape:
            raise CheckFailed(
                f"shape {actual.shape} != input shape {expected.shape} ({where})",
                root_cause=ROOT_SHAPE,
            )
        if actual.dtype == expected.dtype:
            return actual
        self.seen[str(expected.dtype)] = str(actual.dtype)
        with np.errstate(all="ignore"):
            return actual.astype(expected.dtype)

    def note(self) -> str:
        """What could not be assessed, for the check's message ("" when nothing)."""
        if not self.seen:
            return ""
        pairs = ", ".join(f"{i} input -> {o} output" for i, o in self.seen.items())
        return (f"output dtype differs from the input's ({pairs}; R1, reported by "
                "shape-dtype): judged here after casting the output back, so whether the "
                "values are right in the input's own dtype could not be assessed")

    def message(self, text: str) -> str:
        note = self.note()
        return f"{text}; {note}" if note else text

    @contextmanager
    def attribute(self) -> Iterator[DtypeWatch]:
        """Re-raise a failure met after a dtype mismatch with the dtype as its root cause."""
        try:
            yield self
        except CheckFailed as exc:
            if not self.seen or exc.root_cause is not None:
                raise
            raise CheckFailed(
                f"{exc.message} [likely because {self.note()}]",
                stats=exc.stats, findings=exc.findings, root_cause=ROOT_DTYPE,
            ) from exc


def assert_shape_dtype(*, actual: np.ndarray, expected: np.ndarray, where: str) -> None:
    """R1: the output has the input's shape and dtype (shape-dtype owns this property)."""
    if actual.shape != expected.shape:
        raise CheckFailed(f"shape {actual.shape} != input shape {expected.shape} ({where})",
                          root_cause=ROOT_SHAPE)
    if actual.dtype != expected.dtype:
        lower = (actual.dtype.name in _LOWER_PRECISIONS
                 and dtype_finfo(actual.dtype).nmant < dtype_finfo(expected.dtype).nmant)
        hint = " (a lower precision than the input's)" if lower else ""
        raise CheckFailed(
            f"dtype {actual.dtype} != input dtype {expected.dtype}{hint} ({where})",
            root_cause=ROOT_DTYPE,
        )


def assert_bitwise_equal(
    *, actual: np.ndarray, expected: np.ndarray, what: str, where: str
) -> None:
    """``actual`` is ``expected`` bit for bit (same shape and dtype, NaN payloads and -0.0)."""
    assert_shape_dtype(actual=actual, expected=expected, where=f"{what}, {where}")
    diff = bits(actual) != bits(expected)
    if diff.any():
        index, count = first_offender(diff)
        looks = describe_difference(actual=actual, expected=expected)
        raise CheckFailed(
            f"{what} is {looks}: it differs from the expected value at {count} elements; "
            f"first at {index}: got {actual[index]!r}, expected {expected[index]!r} ({where})"
        )


def _implied_scale_meaning(ratio: float, p: float) -> str:
    """Name a wrong scale when it is a recognisable one."""
    candidates = {
        "1 (kept maps not rescaled)": 1.0,
        "1/p instead of 1/(1-p)": 1.0 / p if p > 0 else float("nan"),
        "1-p (the inverse of the scale)": 1.0 - p,
    }
    for name, value in candidates.items():
        if np.isfinite(value) and abs(ratio - value) <= 1e-3 * abs(value):
            return f": the scale is {name}"
    return ""


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

    ``actual`` is judged in ``x``'s dtype: an output of another dtype is cast back first (the
    dtype itself is shape-dtype's to judge).  Returns the largest error seen, in ulps.
    """
    dtype = x.dtype
    cast_from = None
    if actual.dtype != dtype:
        cast_from = actual.dtype
        with np.errstate(all="ignore"):
            actual = actual.astype(dtype)
    exact = x.astype(np.float64) / (1.0 - p)
    factor = keep[..., None, None]
    expected = np.where(factor, exact, 0.0)
    spacing = ulp(expected.astype(dtype).astype(np.float64), dtype)
    err = np.abs(actual.astype(np.float64) - expected)
    in_ulps = np.where(factor, err / spacing, np.where(err == 0, 0.0, np.inf))
    worst = float(np.nanmax(in_ulps)) if in_ulps.size else 0.0
    bad = ~(in_ulps <= ulps)
    if bad.any():
        index, count = first_offender(bad)
        got = float(actual[index])
        want = float(expected[index])
        ratio = got / float(x[index]) if x[index] != 0 else float("nan")
        lower = lower_precision_match(actual=actual, x=x, p=p, keep=keep)
        if lower is not None:
            meaning = (f"the {dtype} result equals the computation in {lower}: computed in "
                       f"lower precision (implied scale {ratio!r})")
        else:
            meaning = (f"implied scale {ratio!r} vs 1/(1-p)={1.0 / (1.0 - p)!r}"
                       f"{_implied_scale_meaning(ratio, p)}")
        dtype_note = (f" [the result's dtype was {cast_from}, judged here cast back to {dtype}: "
                      "R1, reported by shape-dtype]" if cast_from is not None else "")
        raise CheckFailed(
            f"{what}: {count} elements off by more than {ulps} ulps of "
            f"{dtype}; {meaning}; first at {index}: got {got!r}, expected {want!r} = x/(1-p) "
            f"(x={float(x[index])!r}, p={p!r}) ({where}){dtype_note}",
            root_cause=ROOT_DTYPE if cast_from is not None else None,
        )
    return worst


def assert_returns_input(*, watch: DtypeWatch, f: Forward, x: np.ndarray, what: str,
                         where: str) -> None:
    """A call that must be the identity (R6 eval mode, R7 p = 0): its output, cast back by
    ``watch`` if its dtype differs, and the input after it equal ``x`` bit for bit."""
    with watch.attribute():
        y = watch.cast(actual=f.y, expected=x, where=where)
        assert_bitwise_equal(actual=y, expected=x, what=f"{what} output", where=where)
        assert_bitwise_equal(actual=f.x_after, expected=x, what=f"input after {what}",
                             where=where)
