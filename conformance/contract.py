"""The contract every Dropout2d is judged against, as data (the text of ``CONTRACT.md``).

``REQUIREMENTS`` maps R1-R11 to their text; ``IMPLEMENTATION_DEFINED`` lists the points where
an implementation may choose (the suite reports the choice and fails only what the contract
forbids).  The HTML report shows each requirement's text beside its checks, and the checks take
the expected scale from :func:`keep_scale` here, never from the reference implementation they
judge implementations against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Requirement:
    """One requirement: its id, a short title and the full text."""

    id: str
    title: str
    text: str


_ROWS = (
    ("R1", "shape, dtype and kept results",
     "The output has the shape and dtype of the input, and a call's result is not modified "
     "by later calls (only the in-place result aliases the input)."),
    ("R2", "whole maps, exact scale",
     "Every (n, c) feature map is either all zeros or equal to x[n, c] * s with s = 1/(1-p). "
     "The scale may be rounded to the input's dtype (x * fl(1/(1-p)) and fl(x / (1-p)) are "
     "both correct): a few ulps of the dtype, no more."),
    ("R3", "rate p at every position",
     "Each channel is dropped with probability exactly p, at every (n, c) position, for every "
     "shape (batch size 1 and unbatched 3D included), dtype, memory layout and p."),
    ("R4", "independence",
     "Decisions are independent: across channels, across samples, across successive calls "
     "(at any distance), and of the input's values."),
    ("R5", "E[y] = x",
     "E[y] = x. It follows from R2 and R3 and is tested on its own because it is what users "
     "rely on."),
    ("R6", "evaluation mode is the identity",
     "Evaluation mode (training=False) returns values bitwise identical to the input, for "
     "every p in [0, 1]."),
    ("R7", "p = 0 and p = 1",
     "p = 0 in training is the identity; p = 1 gives all zeros (no NaN, no error) for finite "
     "input."),
    ("R8", "invalid p raises",
     "p outside [0, 1], and NaN or infinite p, raise an error (at construction or at the "
     "call)."),
    ("R9", "in-place",
     "inplace=True: afterwards the input buffer holds exactly the returned result. "
     "inplace=False: the input is untouched."),
    ("R10", "seeds",
     "With a seed capability: the same seed gives the same output; seeds that differ in any "
     "bit within the seed's width (at least 32 bits, high bits included) give different "
     "masks."),
    ("R11", "gradient",
     "With autograd: the input gradient is upstream * mask * s, with the forward pass's "
     "mask."),
)

REQUIREMENTS: dict[str, Requirement] = {r[0]: Requirement(*r) for r in _ROWS}

IMPL_DEFINED = "impl-defined"

#: the points an implementation may choose; the suite reports the choice (a finding) and fails
#: only what the text says is forbidden
IMPLEMENTATION_DEFINED: dict[str, str] = {
    "three-d": "3D input is read as unbatched (C, H, W) or as PyTorch's legacy (N, C, L), or "
               "rejected with an error (a 4D-only implementation). A 3D result that is "
               "neither unbatched nor legacy is a failure.",
    "non-finite": "NaN and Inf in dropped channels are propagated (multiplicative mask: NaN, "
                  "and -0.0 for negatives) or zeroed (select). Kept channels must carry NaN "
                  "and Inf through.",
    "aliasing": "Evaluation mode, p = 0 and empty input may return the input object itself "
                "or a copy.",
    "integers": "Integer input may raise or be passed through.",
    "seed-width": "The seed's width is at least 32 bits, and reported. Seeds wider than it "
                  "may be used, rejected with an error, or truncated silently (reported as a "
                  "finding: two seeds that differ only above the width give the same mask). "
                  "Within the width, every bit must change the mask.",
}

#: the checks that detect each implementation-defined point (CONTRACT.md's last column)
IMPLEMENTATION_DEFINED_CHECKS: dict[str, tuple[str, ...]] = {
    "three-d": ("three-d-input",),
    "non-finite": ("non-finite",),
    "aliasing": ("eval-identity", "p-zero", "shape-dtype"),
    "integers": (),
    "seed-width": ("determinism",),
}


#: root causes that are not a requirement's own title: the part of R1 that broke, for the
#: failures of other checks that follow from it
ROOT_DTYPE = "R1 output dtype"
ROOT_SHAPE = "R1 output shape"


#: R2's structure (every map all zeros or x * s), for failures met outside its own check
ROOT_STRUCTURE = f"R2 {REQUIREMENTS['R2'].title}"


def requirement_text(req: str) -> str:
    """The text of requirement ``req`` (``"R1"``..``"R11"`` or ``"impl-defined"``)."""
    if req == IMPL_DEFINED:
        return "Implementation-defined: " + " ".join(IMPLEMENTATION_DEFINED.values())
    try:
        return REQUIREMENTS[req].text
    except KeyError:
        raise KeyError(f"unknown requirement {req!r}; known: {[*REQUIREMENTS, IMPL_DEFINED]}")\
            from None


def keep_scale(p: float, dtype: np.dtype | type | str) -> np.generic:
    """R2's scale ``1 / (1 - p)`` rounded to ``dtype`` (bfloat16 included), for ``0 <= p < 1``.

    The contract allows this rounding; checks that need the expected value of a kept element
    use it (the expectation check's mean, for instance).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"the keep scale 1/(1-p) is defined for 0 <= p < 1, got p={p!r}")
    from conformance.adapters.base import numpy_dtype  # registers bfloat16 with NumPy

    dt = numpy_dtype(dtype) if isinstance(dtype, str) else np.dtype(dtype)
    with np.errstate(over="ignore"):  # inf where the scale overflows the dtype (float16)
        return dt.type(1.0 / (1.0 - p))


__all__ = [
    "IMPLEMENTATION_DEFINED",
    "IMPLEMENTATION_DEFINED_CHECKS",
    "IMPL_DEFINED",
    "REQUIREMENTS",
    "ROOT_DTYPE",
    "ROOT_SHAPE",
    "ROOT_STRUCTURE",
    "Requirement",
    "keep_scale",
    "requirement_text",
]
