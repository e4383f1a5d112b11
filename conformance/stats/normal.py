"""Normal quantiles: the one place where z-values are computed.

Every MDE and sample-size formula uses the same convention: ``z_two_sided(alpha)`` is the
critical value of a two-sided level-``alpha`` test and ``z_power(beta)`` the quantile that
gives power ``1 - beta``.
"""

from __future__ import annotations

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


__all__ = [
    "z_power",
    "z_two_sided",
    "z_upper",
]
