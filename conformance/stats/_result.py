"""Immutable result record shared by every statistical test (modelled on scipy.stats results)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StatResult:
    """Outcome of one statistical sub-test.

    ``reject`` is ``p_value <= alpha``.  ``mde`` is the minimum detectable effect of this
    test at this ``n``, ``alpha`` and the caller's ``beta`` (same units as ``estimate``).
    ``ci`` is a confidence interval for ``estimate`` at level ``1 - alpha`` (or ``None``).
    """

    test: str
    statistic: float
    p_value: float
    alpha: float
    n: int
    mde: float | None = None
    estimate: float | None = None
    ci: tuple[float, float] | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def reject(self) -> bool:
        return bool(self.p_value <= self.alpha)
