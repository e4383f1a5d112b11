"""Immutable result records of the statistical tests (modelled on scipy.stats results).

Every test returns a :class:`StatResult`: the fields every test has (``statistic``,
``p_value``, ``alpha``, ``n``, ``mde``, ``estimate``, ``ci``, ``reject``), and, in a frozen
subclass per family, that family's own named fields (``BinomialResult.k``,
``MaxAbsZResult.worst_entry``, ...).  The check that ran a test attaches where it ran and
what failed (:meth:`StatResult.annotated`); the report's ``detail`` object is the family's
fields followed by those annotations (:meth:`StatResult.report_detail`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R", bound="StatResult")


def optional() -> Any:
    """A family field that only some outcomes carry (``None`` otherwise): the report leaves
    it out when ``None`` (e.g. the Pearson statistic of a table that was not testable)."""
    return field(default=None, metadata={"optional": True})


def _jsonable(value: Any) -> Any:
    """A field's value as the report writes it: non-finite floats as text ("inf"), since
    reports are strict JSON; tuples as lists; nested records as objects."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class StatResult:
    """Outcome of one statistical sub-test.

    ``reject`` is ``p_value <= alpha``.  ``mde`` is the minimum detectable effect of this
    test at this ``n``, ``alpha`` and the caller's ``beta`` (same units as ``estimate``).
    ``ci`` is a confidence interval for ``estimate`` at level ``1 - alpha`` (or ``None``).
    ``context`` is what the check that ran the test attaches for its report, in the order it
    was given (the setting, the grid point's ``p``, where it failed); read it through
    :attr:`setting` and :attr:`failing`.
    """

    test: str
    statistic: float
    p_value: float
    alpha: float
    n: int
    mde: float | None = None
    estimate: float | None = None
    ci: tuple[float, float] | None = None
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def reject(self) -> bool:
        return bool(self.p_value <= self.alpha)

    @property
    def setting(self) -> str | None:
        """Where in the space of settings the check ran this test (``None``: not attached)."""
        return self.context.get("setting")

    @property
    def failing(self) -> tuple[str, ...]:
        """Where the test failed, as the check listed it for the message (empty: nowhere).
        The expectation check lists the settings whose kept values leave the scale as
        ``scale_off``."""
        return tuple(self.context.get("failing") or self.context.get("scale_off") or ())

    def annotated(self: R, **context: Any) -> R:
        """This result with ``context`` attached after what is attached already (a key given
        again keeps its place and takes the new value)."""
        return dataclasses.replace(self, context={**self.context, **context})

    def report_detail(self) -> dict[str, Any]:
        """The report's ``detail`` object: this family's named fields (optional ones only when
        set), then the check's context, which overrides a field of the same name in place."""
        own = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in _COMMON
            and not (f.metadata.get("optional") and getattr(self, f.name) is None)
        }
        return _jsonable({**own, **self.context})


_COMMON = frozenset(f.name for f in dataclasses.fields(StatResult))


def not_testable(cls: type[R], *, test: str, alpha: float, n: int, reason: str,
                 **fields: Any) -> R:
    """The result of a test that the data cannot support: ``p_value = 1`` (never rejects),
    ``statistic = 0``, and ``reason`` (prefixed "not testable: ") in the family's ``reason``
    field; ``fields`` are the family's other fields."""
    return cls(test=test, statistic=0.0, p_value=1.0, alpha=alpha, n=n,
               reason=f"not testable: {reason}", **fields)


__all__ = [
    "StatResult",
]
