"""Argument validation shared by every function in ``conformance.stats``.

Imported as a namespace (``from conformance.stats import _validate as validate``) so call
sites read ``validate.rates(alpha, beta)``.  Wrong types raise TypeError, wrong values
(including NaN) raise ValueError; every message names the argument and carries the value.
"""

from __future__ import annotations

import math
from numbers import Integral, Real


def _real(name: str, value: float, domain: str) -> float:
    """``value`` as a float, or TypeError naming ``domain`` (bools are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number {domain}, got {value!r}")
    return float(value)


def error_rate(name: str, value: float) -> float:
    """An error rate (alpha or beta): a real number strictly inside (0, 1)."""
    v = _real(name, value, "in (0, 1)")
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {name}={value!r}")
    return v


def rates(alpha: float, beta: float) -> tuple[float, float]:
    """``alpha`` and ``beta`` together; power ``1 - beta`` must exceed ``alpha``."""
    a = error_rate("alpha", alpha)
    b = error_rate("beta", beta)
    if a + b >= 1.0:
        raise ValueError(f"need alpha + beta < 1 (power above size), got alpha={a}, beta={b}")
    return a, b


def open_probability(name: str, value: float) -> float:
    """A probability strictly inside (0, 1) (p = 0 and p = 1 are deterministic cases)."""
    v = _real(name, value, "in (0, 1)")
    if not 0.0 < v < 1.0:
        raise ValueError(
            f"{name} must be in the open interval (0, 1), got {name}={value!r}; "
            "p = 0 and p = 1 are deterministic and must be checked exactly by the caller"
        )
    return v


def closed_probability(name: str, value: float) -> float:
    """A probability in the closed interval [0, 1]."""
    v = _real(name, value, "in [0, 1]")
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {name}={value!r}")
    return v


def count(name: str, value: int, *, minimum: int = 0) -> int:
    """An integer count ``>= minimum`` (NumPy integers accepted, floats and bools not)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={v}")
    return v


def effect(name: str, value: float) -> float:
    """An effect size: a finite real number > 0."""
    v = _real(name, value, "> 0")
    if not (v > 0.0 and math.isfinite(v)):
        raise ValueError(f"{name} must be > 0, got {name}={value!r}")
    return v
