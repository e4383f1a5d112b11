"""Normal quantiles and argument validation shared by every test in ``conformance.stats``.

The one place where z-values are computed, so every MDE / sample-size formula uses the same
convention: ``z_two_sided(alpha)`` is the critical value of a two-sided level-``alpha`` test and
``z_power(beta)`` the quantile that gives power ``1 - beta``.
"""

from __future__ import annotations

# Wrong types raise TypeError, wrong values (including NaN) raise ValueError; every message
# names the argument and carries the offending value.
import math
from numbers import Integral, Real

from conformance.stats._scipy import special


def z_upper(q: float) -> float:
    """Upper-tail standard normal quantile: ``P(Z > z_upper(q)) = q``.

    ``scipy.special.ndtri`` on the smaller tail (what ``scipy.stats.norm.isf`` computes, to full
    precision for tiny ``q``, without its ~0.1 ms of argument handling).
    """
    return float(-special.ndtri(q)) if q <= 0.5 else float(special.ndtri(1.0 - q))


def z_two_sided(alpha: float) -> float:
    """Critical value of a two-sided level-``alpha`` z-test, ``z_{1 - alpha/2}``."""
    return z_upper(alpha / 2.0)


def z_power(beta: float) -> float:
    """Quantile ``z_{1 - beta}`` that gives power ``1 - beta`` in normal-approximation formulas."""
    return z_upper(beta)


def check_error_rate(name: str, value: float) -> float:
    """Validate an error rate (alpha or beta): a real number strictly inside (0, 1)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {value!r}")
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be in (0, 1), got {name}={value!r}")
    return v


def check_rates(alpha: float, beta: float) -> tuple[float, float]:
    """Validate ``alpha`` and ``beta`` together; power ``1 - beta`` must exceed ``alpha``."""
    a = check_error_rate("alpha", alpha)
    b = check_error_rate("beta", beta)
    if a + b >= 1.0:
        raise ValueError(f"need alpha + beta < 1 (power above size), got alpha={a}, beta={b}")
    return a, b


def check_open_probability(name: str, value: float) -> float:
    """Validate a probability strictly inside (0, 1) (p = 0 and p = 1 are deterministic cases)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number in (0, 1), got {value!r}")
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(
            f"{name} must be in the open interval (0, 1), got {name}={value!r}; "
            "p = 0 and p = 1 are deterministic and must be checked exactly by the caller"
        )
    return v


def check_closed_probability(name: str, value: float) -> float:
    """Validate a probability in the closed interval [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number in [0, 1], got {value!r}")
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {name}={value!r}")
    return v


def check_count(name: str, value: int, *, minimum: int = 0) -> int:
    """Validate an integer count ``>= minimum`` (NumPy integers accepted, floats and bools not)."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    v = int(value)
    if v < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {name}={v}")
    return v


def check_effect(name: str, value: float) -> float:
    """Validate an effect size: a finite real number > 0."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number > 0, got {value!r}")
    v = float(value)
    if not (v > 0.0 and math.isfinite(v)):
        raise ValueError(f"{name} must be > 0, got {name}={value!r}")
    return v


def ceil_count(x: float) -> int:
    """``ceil`` that forgives floating-point noise just above an integer (1e-9 relative)."""
    r = round(x)
    if abs(x - r) <= 1e-9 * max(1.0, abs(x)):
        return int(r)
    return math.ceil(x)
