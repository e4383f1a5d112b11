"""The correct core every NumPy mutant is built from: each mutant changes one hook or one branch.

:func:`dropout2d` behaves exactly like ``reference.dropout2d`` (validation, unbatched 3D,
multiplicative mask, dtype-rounded scale, alias return for eval / p = 0 / empty input,
zeros at p = 1) and takes an optional ``seed`` like the suite's seedable plain functions.
The hooks are where mutants differ:

* ``validate(p) -> float``: R8;
* ``shape(x) -> tuple``: the decision shape, broadcast against ``x`` (R2 structure);
* ``drop(rng, shape, p, x) -> bool``: which decisions drop (R3, R4), broadcastable to ``shape``;
* ``scale(p, dtype) -> scalar``: the keep scale (R2 values);
* ``factor(keep, p, dtype) -> array``: keep mask times scale;
* ``apply(x, factor, inplace) -> array``: the multiply (R9, non-finite values);
* ``p_one_zeros``: whether p = 1 takes the all-zeros branch (R7).

Without a ``seed``, draws come from one module-level generator (like a framework's global RNG);
:func:`reseed` fixes it, so tests of seed-less mutants are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from dropout2d_reference import scale_for, validate_p

_GLOBAL: list[np.random.Generator] = [np.random.default_rng()]

#: what every NumPy mutant declares (a module-level declaration, read by the callable
#: adapter): the core reads 3D input as unbatched, so a mutant's 3D behaviour is judged
DECLARATION = {"three_d": True}
__dropout2d__ = DECLARATION


def reseed(seed: int | None) -> None:
    """Reseed the generator that seed-less calls draw from (``torch.manual_seed`` for mutants)."""
    _GLOBAL[0] = np.random.default_rng(seed)


def generator(seed: int | None = None) -> np.random.Generator:
    """A fresh generator for ``seed``, or the module-level one when ``seed`` is None."""
    return np.random.default_rng(seed) if seed is not None else _GLOBAL[0]


def channel_shape(x: np.ndarray) -> tuple[int, ...]:
    """One decision per (n, c) map (per c for unbatched 3D)."""
    return (*x.shape[:-2], 1, 1)


def bernoulli(rng: np.random.Generator, shape: tuple[int, ...], p: float, x: np.ndarray) -> Any:
    """Each decision drops with probability exactly ``p``, independently."""
    return rng.random(shape) < p


def keep_factor(scale: Callable[[float, np.dtype], Any]) -> Callable[..., np.ndarray]:
    def factor(keep: np.ndarray, p: float, dtype: np.dtype) -> np.ndarray:
        # a select, as the reference: a dropped map stays 0 where the scale overflows; in the
        # dtype that keep * scale has (a float64 scale still promotes float32, NEP 50)
        s = scale(p, dtype)
        out = np.result_type(np.empty(0, dtype), s)
        return np.where(keep, s, 0).astype(out)

    return factor


def multiply(x: np.ndarray, factor: np.ndarray, inplace: bool) -> np.ndarray:
    """``x * factor``, into ``x`` when ``inplace``; 0 * inf is NaN by design, without a warning."""
    with np.errstate(invalid="ignore"):
        if inplace:
            np.multiply(x, factor, out=x)
            return x
        return x * factor


def check_array(x: Any) -> None:
    if not isinstance(x, np.ndarray):
        raise TypeError(f"dropout2d expects a numpy.ndarray, got {type(x).__name__}")
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d expects a 4D or 3D array, got shape {x.shape}")


def check_float(x: np.ndarray) -> None:
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"dropout2d in training mode needs a floating dtype, got {x.dtype}")


def dropout2d(
    x: np.ndarray,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    seed: int | None = None,
    *,
    validate: Callable[[Any], float] = validate_p,
    shape: Callable[[np.ndarray], tuple[int, ...]] = channel_shape,
    drop: Callable[..., Any] = bernoulli,
    scale: Callable[[float, np.dtype], Any] = scale_for,
    factor: Callable[..., np.ndarray] | None = None,
    apply: Callable[[np.ndarray, np.ndarray, bool], np.ndarray] = multiply,
    p_one_zeros: bool = True,
) -> np.ndarray:
    """Correct channel-wise dropout with every hook at its default; see the module docstring."""
    p = validate(p)
    check_array(x)
    if not training or p == 0.0 or x.size == 0:
        return x
    check_float(x)
    decisions = shape(x)
    if p == 1.0 and p_one_zeros:
        f = np.zeros(decisions, dtype=x.dtype)
    else:
        keep = ~np.broadcast_to(drop(generator(seed), decisions, p, x), decisions)
        f = (factor or keep_factor(scale))(keep, p, x.dtype)
    return apply(x, f, inplace)


def correct(
    x: np.ndarray,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    seed: int | None = None,
) -> np.ndarray:
    """The core with no fault: a control that must pass every check (not a mutant)."""
    return dropout2d(x, p, training, inplace, seed)


def correct_unseeded(
    x: np.ndarray, p: float = 0.5, training: bool = True, inplace: bool = False
) -> np.ndarray:
    """The core without seed control, like the seed-less mutants (a control, not a mutant)."""
    return dropout2d(x, p, training, inplace)
