"""Immutable result records, from a check to the report, and the one rule that decides verdicts.

- :class:`Verdict`: a check's verdict (pass, fail, skip, error); :class:`AdapterVerdict`: an
  adapter's or a report's (CONFORMANT, NOT CONFORMANT, INCOMPLETE).  Every other module names
  verdicts through these two enums.
- :func:`adapter_verdict` is the only place that decides whether an adapter conforms;
  :func:`report_verdict` combines adapters.  Reports read back from disk are judged by the same
  two functions (``report.jsonreport.rederive_verdicts``).
- :class:`CheckResult` (one check on one adapter) and :class:`AdapterResult` (one adapter's run)
  travel typed from the check to the report writer.  They are serialised in one format, the
  report's (``to_dict``), and read back from it (``from_dict``): at the worker boundary, between
  pytest-xdist processes, and where a stored report is rendered again.
- One fault, one root cause: :data:`EXPLAINS` names the failures each owner explains, and
  :meth:`AdapterResult.attributed` attributes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType
from typing import Any

from conformance.adapters.base import AdapterInfo
from conformance.contract import IMPL_DEFINED, REQUIREMENTS
from conformance.stats.result import StatResult


class Verdict(str, Enum):
    """A check's verdict.  ``pass`` and ``skip`` are fine; ``fail`` and ``error`` are not."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    @property
    def ok(self) -> bool:
        return self in (Verdict.PASS, Verdict.SKIP)

    @classmethod
    def parse(cls, value: object) -> Verdict:
        """A verdict from its text; anything unknown is an error (a report is never trusted
        to be conformant by default)."""
        try:
            return cls(value)
        except ValueError:
            return cls.ERROR


class AdapterVerdict(str, Enum):
    """An adapter's (or a whole report's) verdict."""

    CONFORMANT = "CONFORMANT"
    NOT_CONFORMANT = "NOT CONFORMANT"
    INCOMPLETE = "INCOMPLETE"

    def __str__(self) -> str:
        return self.value


def adapter_verdict(*, loaded: bool, complete: bool, verdicts: Iterable[object]
                    ) -> AdapterVerdict:
    """The one rule: an adapter that did not load, or whose checks include a failure or an
    error, is NOT CONFORMANT (even when its run is incomplete); otherwise an incomplete run is
    INCOMPLETE, never CONFORMANT; otherwise it is CONFORMANT (skips allowed)."""
    if not loaded or not all(Verdict.parse(v).ok for v in verdicts):
        return AdapterVerdict.NOT_CONFORMANT
    return AdapterVerdict.CONFORMANT if complete else AdapterVerdict.INCOMPLETE


def report_verdict(adapters: Iterable[AdapterVerdict], *, complete: bool) -> AdapterVerdict:
    """A report's verdict: the worst adapter's; INCOMPLETE for an incomplete run, or one with
    no adapter at all (nothing was shown to conform)."""
    verdicts = list(adapters)
    if AdapterVerdict.NOT_CONFORMANT in verdicts:
        return AdapterVerdict.NOT_CONFORMANT
    if not verdicts or not complete or AdapterVerdict.INCOMPLETE in verdicts:
        return AdapterVerdict.INCOMPLETE
    return AdapterVerdict.CONFORMANT


def verdict_counts(verdicts: Iterable[object]) -> dict[str, int]:
    """How many checks got each verdict (every verdict listed, zeros included)."""
    counts = {v.value: 0 for v in Verdict}
    for v in verdicts:
        counts[Verdict.parse(v).value] += 1
    return counts


# --- root causes --------------------------------------------------------------------------------


def default_root_cause(requirement: str, check_id: str) -> str:
    """A failure's root cause when the check names none: its own requirement ("R8 invalid p
    raises"), or the check itself for an implementation-defined one."""
    req = REQUIREMENTS.get(requirement)
    if req is not None:
        return f"{req.id} {req.title}"
    if requirement == IMPL_DEFINED:
        return f"{IMPL_DEFINED}: {check_id}"
    return f"{requirement}: {check_id}"


def error_root_cause(message: str) -> str:
    """An error's root cause: what went wrong without the per-call details, so that one
    broken adapter (or worker) that errors every check is one cause, not one per check."""
    head = message.split(" (", 1)[0].strip()
    return "error: " + (head if len(head) <= 100 else head[:99] + "…")


_STATISTICAL = ("drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
                "batch-uniformity", "independence-channels", "independence-batch",
                "independence-calls", "independence-values", "expectation")
_RATE = ("drop-rate", "rate-homogeneity", "expectation")
_NOT_LAGS = tuple(c for c in _STATISTICAL if c not in (
    "independence-calls", "independence-channels", "independence-batch"))

#: One fault, one root cause: when a check on the left fails, a failure of a check on its right
#: is most likely its consequence (the owner is the first failing check in this order that
#: explains it).  A structure fault corrupts every mask the statistics read; a scale that
#: overflows to NaN hides dropped maps; dependence inflates every count's variance (the
#: omnibus tests of the rate and the positions see it); a rate that differs between positions
#: makes some settings' rates wrong; a wrong rate makes E[y] wrong.  The statistical checks
#: centre their dependence, uniformity and dispersion tests on observed rates, so a rate fault
#: does not read as anything else; what still shows twice is grouped here.
EXPLAINS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("channel-structure", _STATISTICAL),
    ("scale-exact", _RATE),
    # dependence inflates the variance of every count, the rate by value class included
    ("independence-calls", _NOT_LAGS),
    ("independence-channels", _NOT_LAGS),
    ("independence-batch", _NOT_LAGS),
    ("independence-values", _RATE),
    ("channel-uniformity", (*_RATE, "drop-count-distribution", "independence-channels",
                            "independence-batch", "independence-calls")),
    ("batch-uniformity", (*_RATE, "drop-count-distribution", "independence-channels",
                          "independence-batch", "independence-calls")),
    ("drop-rate", ("expectation",)),
    ("rate-homogeneity", ("expectation",)),
)


# --- one check ----------------------------------------------------------------------------------


def frozen(value: Any) -> Any:
    """A read-only view of nested report data (dicts become mappingproxies, lists tuples)."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(frozen(v) for v in value)
    return value


def _plain(value: Any) -> Any:
    """Findings as plain data again (read-only views become dicts and lists)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _subtest_dict(s: StatResult) -> dict[str, Any]:
    return {
        "test": s.test,
        "statistic": _finite_or_none(s.statistic),
        "p_value": _finite_or_none(s.p_value),
        "alpha": s.alpha,
        "reject": s.reject,
        "n": int(s.n),
        "mde": _finite_or_none(s.mde),
        "estimate": _finite_or_none(s.estimate),
        "ci": [_finite_or_none(c) for c in s.ci] if s.ci is not None else None,
        "detail": s.report_detail(),
    }


def _subtest_from_dict(d: Mapping[str, Any]) -> StatResult:
    """A sub-test read back from its report form: the family's own fields come back in
    ``context`` (they are the report's ``detail``), so writing it again gives the same dict."""
    ci = d.get("ci")
    p_value = d.get("p_value")
    return StatResult(
        test=str(d.get("test", "")),
        # a statistic or interval that was not finite is written as null and read back as
        # None, which the record's float annotations do not name: kept, so that writing the
        # record again gives the same dict
        statistic=d.get("statistic"),  # type: ignore[arg-type]
        p_value=float("nan") if p_value is None else float(p_value),
        alpha=float(d.get("alpha") or 0.0),
        n=int(d.get("n") or 0),
        mde=d.get("mde"),
        estimate=d.get("estimate"),
        ci=tuple(ci) if ci is not None else None,  # type: ignore[arg-type]  (may hold None)
        context=dict(d.get("detail") or {}),
    )


@dataclass(frozen=True)
class CheckResult:
    """The verdict of one check on one adapter; statistical checks carry their sub-tests."""

    id: str
    requirement: str
    verdict: Verdict
    message: str
    kind: str = "deterministic"
    duration_s: float = 0.0
    seed: int | None = None
    findings: Mapping[str, Any] = field(default_factory=dict)
    stats: tuple[StatResult, ...] = ()
    alpha: float | None = None
    reproduce: str = ""
    warnings: tuple[str, ...] = ()
    decisions: int = 0  # channel decisions drawn from the implementation
    #: what broke, when it is not this check's own property (see :func:`default_root_cause`)
    root_cause: str | None = None
    #: the failing check whose fault this failure most likely is (see :data:`EXPLAINS`)
    explained_by: str | None = None

    def __post_init__(self) -> None:
        # immutable all the way to its findings: a result handed to a user stays as decided
        object.__setattr__(self, "findings", MappingProxyType(dict(self.findings)))

    @property
    def ok(self) -> bool:
        return self.verdict.ok

    def cause(self) -> str | None:
        """The root cause a failure or an error is grouped under (None for pass and skip)."""
        if self.verdict == Verdict.ERROR:
            return self.root_cause or error_root_cause(self.message)
        if self.verdict == Verdict.FAIL:
            return self.root_cause or default_root_cause(self.requirement, self.id)
        return None

    def primary(self) -> StatResult | None:
        """The sub-test that decided the verdict: the smallest p-value relative to its alpha."""
        usable = [s for s in self.stats if s.p_value is not None and not math.isnan(s.p_value)]
        if not usable:
            return None
        return min(usable, key=lambda s: (s.p_value / s.alpha) if s.alpha else s.p_value)

    @property
    def statistics(self) -> Mapping[str, Any]:
        """The statistics of the report's form (``p_value``, ``alpha``, ``n``, ``mde``,
        ``observed``, ``ci``, ``subtests``, ``seed``, ``decisions``, ``duration_s``)."""
        keys = ("statistic", "p_value", "alpha", "n", "mde", "observed", "ci", "subtests",
                "seed", "decisions", "duration_s")
        report = self.to_dict()
        return frozen({k: report[k] for k in keys if k in report})

    def describe(self) -> str:
        """Two lines for a failure message: verdict, id, requirement, message; reproduction."""
        return (f"{self.verdict.value.upper()} {self.id} [{self.requirement}]: {self.message}\n"
                f"    reproduce: {self.reproduce}")

    def to_dict(self) -> dict[str, Any]:
        """The report's form of this check (also the form it travels in between processes)."""
        out: dict[str, Any] = {
            "id": self.id,
            "requirement": self.requirement,
            "kind": self.kind,
            "verdict": self.verdict.value,
            "message": self.message,
            "duration_s": round(self.duration_s, 4),
            "seed": self.seed,
            "findings": _plain(self.findings),
            "reproduce": self.reproduce,
            "warnings": list(self.warnings),
            "decisions": self.decisions,
        }
        cause = self.cause()
        if cause is not None:
            out["root_cause"] = cause
        if self.explained_by:
            out["explained_by"] = self.explained_by
        if self.kind == "statistical":
            top = self.primary()
            # The decisive sub-test's p-value, Bonferroni-adjusted to the check's alpha, so
            # that the check-level p_value and alpha compare directly.
            p_adj = None
            if top is not None and self.alpha and top.alpha:
                p_adj = min(1.0, top.p_value * self.alpha / top.alpha)
            out.update(
                {
                    "statistic": _finite_or_none(top.statistic) if top else None,
                    "p_value": _finite_or_none(p_adj),
                    "alpha": self.alpha,
                    "n": self.decisions,
                    "mde": _finite_or_none(top.mde) if top else None,
                    "observed": _finite_or_none(top.estimate) if top else None,
                    "ci": [_finite_or_none(c) for c in top.ci] if top and top.ci else None,
                    "subtests": [_subtest_dict(s) for s in self.stats],
                }
            )
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckResult:
        """A check read back from the report's form (missing fields take their defaults)."""
        seed = d.get("seed")
        return cls(
            id=str(d.get("id", "?")),
            requirement=str(d.get("requirement", "")),
            verdict=Verdict.parse(d.get("verdict")),
            message=str(d.get("message", "")),
            kind=str(d.get("kind", "deterministic")),
            duration_s=float(d.get("duration_s") or 0.0),
            seed=None if seed is None else int(seed),
            findings=dict(d.get("findings") or {}),
            stats=tuple(_subtest_from_dict(s) for s in d.get("subtests") or ()
                        if isinstance(s, Mapping)),
            alpha=d.get("alpha"),
            reproduce=str(d.get("reproduce", "")),
            warnings=tuple(str(w) for w in d.get("warnings") or ()),
            decisions=int(d.get("decisions") or 0),
            root_cause=d.get("root_cause"),
            explained_by=d.get("explained_by"),
        )


def attribute_root_causes(checks: Sequence[CheckResult]) -> tuple[CheckResult, ...]:
    """The checks with each failure that an owner explains (:data:`EXPLAINS`) attributed to
    the owner's root cause, and ``explained_by`` naming it.

    Owners are taken in ``EXPLAINS`` order, and an owner is never itself explained: where two
    failing checks could each explain the other (channel-uniformity and independence-calls on
    masks that repeat), the earlier one owns both, so every group is led by its owner."""
    failing = {c.id: c for c in checks if c.verdict == Verdict.FAIL}
    owner_of: dict[str, str] = {}
    # (attributed before, e.g. read back from a report: an owner stays an owner)
    owners: set[str] = {c.explained_by for c in checks if c.explained_by}
    for candidate, explains in EXPLAINS:
        if candidate not in failing or candidate in owner_of:
            continue
        for e in explains:
            if (e in failing and e != candidate and e not in owner_of and e not in owners
                    and not failing[e].explained_by):
                owner_of[e] = candidate
                owners.add(candidate)
    return tuple(
        replace(c, root_cause=failing[owner_of[c.id]].cause(), explained_by=owner_of[c.id])
        if c.id in owner_of else c
        for c in checks
    )


def group_by_root_cause(checks: Sequence[CheckResult]) -> dict[str, list[str]]:
    """Failing and erroring checks' ids by root cause, in check order, except that a group
    lists first the checks that own the cause (those not ``explained_by`` another)."""
    groups: dict[str, list[CheckResult]] = {}
    for c in checks:
        cause = c.cause()
        if cause is not None:
            groups.setdefault(cause, []).append(c)
    return {cause: [c.id for c in sorted(members, key=lambda c: bool(c.explained_by))]
            for cause, members in groups.items()}


# --- one adapter --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdapterResult:
    """One adapter's run: what it is, its checks in battery order (each failure that another
    explains attributed to it, see :data:`EXPLAINS`), whether the run finished (``complete``)
    and, for an adapter that never loaded, why (``load_error``)."""

    info: AdapterInfo
    checks: tuple[CheckResult, ...] = ()
    complete: bool = True
    load_error: str | None = None

    def __post_init__(self) -> None:
        # one fault, one owner: consequences carry their owner's root cause (EXPLAINS)
        object.__setattr__(self, "checks", attribute_root_causes(tuple(self.checks)))

    @property
    def verdict(self) -> AdapterVerdict:
        return adapter_verdict(loaded=self.load_error is None, complete=self.complete,
                               verdicts=(c.verdict for c in self.checks))

    @property
    def conformant(self) -> bool:
        return self.verdict == AdapterVerdict.CONFORMANT

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The checks that failed or errored, in battery order."""
        return tuple(c for c in self.checks if not c.ok)

    @property
    def findings(self) -> dict[str, Mapping[str, Any]]:
        """Implementation-defined findings by check id."""
        return {c.id: c.findings for c in self.checks if c.findings}

    def __getitem__(self, check_id: str) -> CheckResult:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(f"no check {check_id!r} in this result; ran {[c.id for c in self.checks]}")

    def to_dict(self) -> dict[str, Any]:
        """The report's adapter entry."""
        checks = self.checks
        return {
            **self.info.to_dict(),
            "complete": self.complete,
            "conformant": self.conformant,
            "load_error": self.load_error,
            "summary": verdict_counts(c.verdict for c in checks),
            "findings": {k: _plain(v) for k, v in self.findings.items()},
            "root_causes": group_by_root_cause(checks),
            "checks": [c.to_dict() for c in checks],
        }

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any]) -> AdapterResult:
        """An adapter entry read back from a report (its stored verdict is not trusted: it is
        derived again from the checks)."""
        return cls(
            info=AdapterInfo.from_dict(entry),
            checks=tuple(CheckResult.from_dict(c) for c in entry.get("checks") or ()
                         if isinstance(c, Mapping)),
            complete=bool(entry.get("complete", True)),
            load_error=entry.get("load_error"),
        )


__all__ = [
    "EXPLAINS",
    "AdapterResult",
    "AdapterVerdict",
    "CheckResult",
    "Verdict",
    "adapter_verdict",
    "attribute_root_causes",
    "default_root_cause",
    "error_root_cause",
    "group_by_root_cause",
    "report_verdict",
    "verdict_counts",
]
