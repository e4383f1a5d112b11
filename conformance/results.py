"""Immutable result records: one per check, one per adapter, one per run."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from conformance.contract import IMPL_DEFINED, REQUIREMENTS
from conformance.stats.result import StatResult


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


def _finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def stat_to_dict(s: StatResult) -> dict[str, Any]:
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


def attribute_root_causes(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The report dicts with each failure that an owner explains (``EXPLAINS``) attributed to
    the owner's root cause, and ``explained_by`` naming it (copies).

    Owners are taken in ``EXPLAINS`` order, and an owner is never itself explained: where two
    failing checks could each explain the other (channel-uniformity and independence-calls on
    masks that repeat), the earlier one owns both, so every group is led by its owner."""
    failing = {c.get("id"): c for c in checks if c.get("verdict") == Verdict.FAIL.value}
    owner_of: dict[Any, Any] = {}
    owners: set[Any] = set()
    for candidate, explains in EXPLAINS:
        if candidate not in failing or candidate in owner_of:
            continue
        for e in explains:
            if (e in failing and e != candidate and e not in owner_of and e not in owners
                    and not failing[e].get("explained_by")):
                owner_of[e] = candidate
                owners.add(candidate)
    out = []
    for c in checks:
        if c.get("id") not in owner_of:
            out.append(c)
            continue
        owner = failing[owner_of[c.get("id")]]
        cause = owner.get("root_cause") or default_root_cause(
            str(owner.get("requirement", "")), str(owner.get("id", "")))
        out.append({**c, "root_cause": cause, "explained_by": owner.get("id")})
    return out


def group_by_root_cause(checks: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Failing and erroring checks' ids by root cause (report dicts), in check order, except
    that a group lists first the checks that own the cause (those not ``explained_by``
    another)."""
    groups: dict[str, list[str]] = {}
    explained = {str(c.get("id", "")) for c in checks if c.get("explained_by")}
    for c in checks:
        if c.get("verdict") == Verdict.ERROR.value:
            cause = c.get("root_cause") or error_root_cause(str(c.get("message", "")))
        elif c.get("verdict") == Verdict.FAIL.value:
            cause = c.get("root_cause") or default_root_cause(
                str(c.get("requirement", "")), str(c.get("id", ""))
            )
        else:
            continue
        groups.setdefault(cause, []).append(str(c.get("id", "")))
    return {cause: sorted(ids, key=lambda i: i in explained) for cause, ids in groups.items()}


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
    findings: dict[str, Any] = field(default_factory=dict)
    stats: tuple[StatResult, ...] = ()
    alpha: float | None = None
    reproduce: str = ""
    warnings: tuple[str, ...] = ()
    decisions: int = 0  # channel decisions drawn from the implementation
    #: what broke, when it is not this check's own property (see :func:`default_root_cause`)
    root_cause: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict in (Verdict.PASS, Verdict.SKIP)

    def primary(self) -> StatResult | None:
        """The sub-test that decided the verdict: the smallest p-value relative to its alpha."""
        if not self.stats:
            return None
        return min(self.stats, key=lambda s: (s.p_value / s.alpha) if s.alpha else s.p_value)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "requirement": self.requirement,
            "kind": self.kind,
            "verdict": self.verdict.value,
            "message": self.message,
            "duration_s": round(self.duration_s, 4),
            "seed": self.seed,
            "findings": self.findings,
            "reproduce": self.reproduce,
            "warnings": list(self.warnings),
            "decisions": self.decisions,
        }
        if self.verdict == Verdict.ERROR:
            out["root_cause"] = self.root_cause or error_root_cause(self.message)
        elif self.verdict == Verdict.FAIL:
            out["root_cause"] = self.root_cause or default_root_cause(self.requirement, self.id)
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
                    "subtests": [stat_to_dict(s) for s in self.stats],
                }
            )
        return out


def adapter_entry(
    info: dict[str, Any], checks: list[dict[str, Any]], load_error: str | None = None
) -> dict[str, Any]:
    """One adapter's report entry from its info and its checks' dicts (also used by pytest)."""
    checks = attribute_root_causes(checks)
    counts = {v.value: 0 for v in Verdict}
    for c in checks:
        counts[c["verdict"]] += 1
    ok = {Verdict.PASS.value, Verdict.SKIP.value}
    return {
        **info,
        "conformant": load_error is None and all(c["verdict"] in ok for c in checks),
        "load_error": load_error,
        "summary": counts,
        "findings": {c["id"]: c["findings"] for c in checks if c.get("findings")},
        "root_causes": group_by_root_cause(checks),
        "checks": checks,
    }
