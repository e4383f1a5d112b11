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


def group_by_root_cause(checks: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Failing and erroring checks' ids by root cause (report dicts), in check order."""
    groups: dict[str, list[str]] = {}
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
    return groups


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
