"""Searches and roundings shared by the MDE and sample-size functions.

Every ``*_sample_size`` inverts its ``*_mde`` by one of these, so each inverse is as exact as
its MDE and none is written twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable


def ceil_count(x: float) -> int:
    """``ceil`` that forgives floating-point noise just above an integer (1e-9 relative)."""
    r = round(x)
    if abs(x - r) <= 1e-9 * max(1.0, abs(x)):
        return int(r)
    return math.ceil(x)


def smallest(ok: Callable[[int], bool], lo: int, hi: int) -> int:
    """Smallest ``n`` in ``[lo, hi]`` with ``ok(n)``, for ``ok`` false then true (``ok(hi)``
    must hold): bisection."""
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def smallest_by_doubling(
    ok: Callable[[int], bool], *, minimum: int, give_up: Callable[[int], None]
) -> int:
    """Smallest ``n >= minimum`` with ``ok(n)``: double from 2 until ``ok`` holds, then bisect.

    ``give_up(n)`` is called with each doubled ``n`` before it is tried and raises when no
    ``n`` can qualify (the caller knows why, and says so).
    """
    hi = 2
    while not ok(hi):
        hi *= 2
        give_up(hi)
    return smallest(ok, hi // 2 + 1 if hi > 2 else minimum, hi)
