"""Reference channel-wise dropout in pure NumPy (no framework imports).

Contract (``CONTRACT.md``, R1-R11) and the choices it names for implementation-defined points:

* Input is (N, C, H, W), or unbatched (C, H, W); anything else raises ``ValueError``.
* Each (n, c) map is kept with probability ``1 - p`` and then multiplied by the scale
  ``s = fl(1 / (1 - p))`` rounded to the input's dtype, or dropped (multiplied by zero).
  The mask is multiplicative, as in PyTorch, so NaN in a dropped channel stays NaN and a
  negative value becomes -0.0.
* Evaluation mode, ``p == 0`` and empty input return the input object itself (as PyTorch does).
* ``p == 1`` multiplies by zero: all zeros for finite input, no NaN from ``1/(1-p)``.
* ``p`` outside [0, 1], NaN or infinite raises ``ValueError``; a non-real ``p`` ``TypeError``.
* Non-floating input raises ``TypeError`` in training mode (a scaled integer is not defined).
* bfloat16 arrays (``ml_dtypes.bfloat16``, NumPy's only bfloat16) are floating: the scale is
  rounded to bfloat16 like any other dtype.  ``ml_dtypes`` is not imported here: whoever makes
  a bfloat16 array has already imported it.
"""

from __future__ import annotations

import math
import numbers

import numpy as np


def validate_p(p: object) -> float:
    """Return ``p`` as a float, or raise if it is not a probability (R8)."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"dropout probability must be a real number, got {p!r}")
    value = float(p)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    return value


def is_floating(dtype: np.dtype) -> bool:
    """NumPy floats, and ml_dtypes' bfloat16 (whose dtype kind is "V", not "f")."""
    return dtype.kind == "f" or dtype.name == "bfloat16"


def scale_for(p: float, dtype: np.dtype | type) -> np.generic:
    """The keep scale ``1 / (1 - p)`` rounded to ``dtype`` (R2 allows this rounding); inf
    where it overflows the dtype (float16 above p = 0.99998), which is that rounding too."""
    with np.errstate(over="ignore"):
        return np.dtype(dtype).type(1.0 / (1.0 - p))


def dropout2d(
    x: np.ndarray,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Channel-wise dropout of ``x`` (NCHW or CHW); see the module docstring for the contract."""
    p = validate_p(p)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"dropout2d expects a numpy.ndarray, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(
            f"dropout2d expects a 4D (N, C, H, W) or 3D (C, H, W) array, got shape {x.shape}"
        )
    if not training or p == 0.0 or x.size == 0:
        return x
    if not is_floating(x.dtype):
        raise TypeError(f"dropout2d in training mode needs a floating dtype, got {x.dtype}")
    if rng is None:
        rng = np.random.default_rng()
    # One decision per (n, c) map; trailing singleton axes broadcast it over H and W.
    decision_shape = (*x.shape[:-2], 1, 1)
    if p == 1.0:
        factor = np.zeros(decision_shape, dtype=x.dtype)
    else:
        keep = rng.random(decision_shape) >= p
        # a select, not keep * scale: where the scale overflows the dtype (1 / (1 - p) above
        # 65504 in float16) a dropped map must still be 0, not 0 * inf = NaN
        factor = np.where(keep, scale_for(p, x.dtype), x.dtype.type(0))
    # Inf * 0 is NaN by design (multiplicative mask), and a kept value times the scale may
    # round to inf in its dtype (R2): neither is an error, so neither warns nor raises.
    with np.errstate(invalid="ignore", over="ignore"):
        if inplace:
            np.multiply(x, factor, out=x)
            return x
        return x * factor


class Dropout2d:
    """Module form of :func:`dropout2d`; ``p`` is validated at construction (R8)."""

    def __init__(
        self, p: float = 0.5, inplace: bool = False, *, rng: np.random.Generator | None = None
    ) -> None:
        self.p = validate_p(p)
        self.inplace = inplace
        self.training = True
        self.rng = rng if rng is not None else np.random.default_rng()

    def train(self, mode: bool = True) -> Dropout2d:
        self.training = mode
        return self

    def eval(self) -> Dropout2d:
        return self.train(False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return dropout2d(x, self.p, self.training, self.inplace, rng=self.rng)

    def __repr__(self) -> str:
        return f"Dropout2d(p={self.p}, inplace={self.inplace})"
