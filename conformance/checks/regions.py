"""The regions of the settings space, and the guarantee a run reaches in each.

A CONFORMANT verdict says what it says only where the run looked.  The space is cut into
regions along every factor a fast path may depend on -- map size, channels, batch, dtype,
layout, input kind and p band -- and for each region the run states the drop-rate MDE it
reached there at power 1 - beta: the shift of the rate, common to the region's settings, that
``rate-homogeneity``'s test of that region detects (``stats.excess_rate_mde``).  Near p = 0 and
1 the guarantee is also stated relative to min(p, 1 - p) (``stats.excess_rate_relative_mde``).

The space sizes itself (checks/space.py) so that at every level each region reaches
``level.region_mde`` absolute and, in the bands next to 0 and 1, ``level.region_rel_mde``
relative.  In the extreme bands (p below 1e-3 or above 1 - 1e-3) every setting is sized so that
an implementation that never drops (resp. always drops) there fails ``drop-rate`` with power
0.999; the pooled relative MDE there is reported, not targeted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from conformance.checks.settings import INPUT_KINDS, MEMORIES, VALUE_CLASSES, Setting
from conformance.stats import excess_rate_mde, excess_rate_relative_mde

#: p below this (or above 1 - this) is an extreme band: never-drops / always-drops sized there
EXTREME = 1e-3
#: p below this (or above 1 - this), and not extreme: the bands with a relative guarantee
EDGE = 0.05


@dataclass(frozen=True)
class Region:
    """One region: the factor it cuts along, its name, and which settings belong to it."""

    factor: str
    name: str
    member: Callable[[Setting], bool]
    #: the guarantee near p = 0 or 1 is relative (the bands next to the extremes)
    relative: bool = False
    #: an extreme band: sized for never-drops / always-drops, its MDE reported only
    extreme: bool = False

    @property
    def label(self) -> str:
        return f"{self.factor} {self.name}"


def region_definitions(dtypes: Sequence[str]) -> tuple[Region, ...]:
    """Every region of a space over ``dtypes`` (fixed: the budget is split over all of them,
    empty or not, so that the space and the check agree on the share without a draw)."""
    out = [
        Region("map", "1x1", lambda s: s.map_size == 1),
        Region("map", "2-63 elements", lambda s: 2 <= s.map_size < 64),
        Region("map", "64-1023 elements", lambda s: 64 <= s.map_size < 1024),
        Region("map", ">= 1024 elements", lambda s: s.map_size >= 1024),
        Region("channels", "C = 1", lambda s: s.channels == 1),
        Region("channels", "C 2-511", lambda s: 2 <= s.channels < 512),
        Region("channels", "C 512-2048", lambda s: 512 <= s.channels <= 2048),
        Region("channels", "C > 2048", lambda s: s.channels > 2048),
        Region("batch", "unbatched 3D", lambda s: s.unbatched),
        Region("batch", "N = 1", lambda s: s.batch == 1 and not s.unbatched),
        Region("batch", "N 2-1023", lambda s: 2 <= s.batch < 1024),
        Region("batch", "N 1024-8192", lambda s: 1024 <= s.batch <= 8192),
        Region("batch", "N > 8192", lambda s: s.batch > 8192),
        *(Region("dtype", d, lambda s, d=d: s.dtype == d) for d in dtypes),
        *(Region("layout", m, lambda s, m=m: s.memory == m) for m in MEMORIES),
        *(Region("input", k, lambda s, k=k: s.kind == k) for k in (*INPUT_KINDS, VALUE_CLASSES)),
        Region("p", f"< {EXTREME:g}", lambda s: s.p < EXTREME, extreme=True),
        Region("p", f"[{EXTREME:g}, {EDGE:g})", lambda s: EXTREME <= s.p < EDGE, relative=True),
        Region("p", f"[{EDGE:g}, {1 - EDGE:g}]", lambda s: EDGE <= s.p <= 1 - EDGE),
        Region("p", f"({1 - EDGE:g}, {1 - EXTREME:g}]", lambda s: 1 - EDGE < s.p <= 1 - EXTREME,
               relative=True),
        Region("p", f"> {1 - EXTREME:g}", lambda s: s.p > 1 - EXTREME, extreme=True),
    ]
    return tuple(out)


@dataclass(frozen=True)
class Guarantee:
    """What the run reaches in one region: settings, decisions, and the MDEs."""

    region: Region
    settings: int
    decisions: int
    mde: float
    relative_mde: float

    def meets(self, absolute: float, relative: float) -> bool:
        if self.region.extreme:
            return True
        return self.mde <= absolute and (not self.region.relative or self.relative_mde <= relative)

    def to_dict(self) -> dict:
        return {"factor": self.region.factor, "region": self.region.name,
                "settings": self.settings, "decisions": self.decisions,
                "mde": round(self.mde, 6), "relative_mde": round(self.relative_mde, 4),
                "relative": self.region.relative, "extreme": self.region.extreme}


def guarantees(settings: Sequence[tuple[Setting, int]], regions: Sequence[Region], *,
               alpha: float, beta: float) -> list[Guarantee]:
    """Each non-empty region's guarantee over ``settings`` (a setting and its decisions),
    counting only settings of p strictly inside (0, 1), at the per-region share ``alpha``."""
    testable = [(s, n) for s, n in settings if 0.0 < s.p < 1.0]
    out = []
    for r in regions:
        members = [(s, n) for s, n in testable if r.member(s)]
        if not members:
            continue
        n = np.array([m for _, m in members], np.float64)
        p = np.array([s.p for s, _ in members])
        out.append(Guarantee(r, len(members), int(n.sum()),
                             excess_rate_mde(n, p, alpha=alpha, beta=beta),
                             excess_rate_relative_mde(n, p, alpha=alpha, beta=beta)))
    return out


def format_guarantees(rows: Sequence[Guarantee], *, absolute: float, relative: float) -> list[str]:
    """The table the ``power`` command prints: one line per region, 72 columns at most (an
    80-column terminal), marks explained in footnotes under it."""
    lines = [f"   {'region':<24} {'settings':>8} {'decisions':>12} {'MDE':>8} {'rel. MDE':>8}"]
    marks = set()
    for g in rows:
        rel = f"{g.relative_mde:.3g}" if g.region.relative or g.region.extreme else ""
        mark = "*" if g.region.extreme else "" if g.meets(absolute, relative) else "!"
        marks.add(mark)
        lines.append(f"   {g.region.label:<24} {g.settings:>8} {g.decisions:>12,} "
                     f"{g.mde:>8.4f} {rel:>8} {mark}".rstrip())
    if "*" in marks:
        lines.append("   * sized so that never drops (always drops) fails drop-rate with power "
                     "0.999;")
        lines.append("     the MDE is stated, not targeted")
    if "!" in marks:
        lines.append("   ! below the level's target")
    return lines


__all__ = ["EDGE", "EXTREME", "Guarantee", "Region", "format_guarantees", "guarantees",
           "region_definitions"]
