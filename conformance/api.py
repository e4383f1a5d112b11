"""The public Python API: run the battery from your own code and tests.

>>> import conformance
>>> result = conformance.check(my_dropout2d, level="quick")       # doctest: +SKIP
>>> result.conformant                                               # doctest: +SKIP
True
>>> conformance.assert_conformant("torch", level="quick")          # doctest: +SKIP

``adapter`` is anything ``--adapter`` accepts: a spec string (a registered name,
``module:attr`` or ``path/to/file.py:attr``), an ``Adapter`` subclass or instance, or a plain
callable ``f(x, p, training=True, inplace=False)`` over NCHW NumPy arrays (with declared
capabilities).  By default the implementation runs in the caller's process; ``isolate=True``
runs it in a supervised worker process instead (the CLI's way), which needs an adapter another
process can load: a spec string, or an object importable as ``module:qualname``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from conformance.defaults import (
    BETA,
    FAMILY_ALPHA,
    GATEWAY,
    LEVEL_NAMES,
    family_alpha_problem,
    timeout_scale_problem,
)

__all__ = ["CheckOutcome", "ConformanceResult", "assert_conformant", "check"]


def _frozen(value: Any) -> Any:
    """A read-only view of nested report data (dicts become mappingproxies, lists tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result: its id, requirement, verdict and message, the reproduction command,
    implementation-defined findings, and for statistical checks the statistics (``p_value``,
    ``alpha``, ``n``, ``mde``, ``observed``, ``ci`` and every sub-test)."""

    id: str
    requirement: str
    kind: str
    verdict: str  # "pass", "fail", "skip" or "error"
    message: str
    reproduce: str
    findings: Mapping[str, Any]
    statistics: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        return self.verdict in ("pass", "skip")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckOutcome:
        stats_keys = ("statistic", "p_value", "alpha", "n", "mde", "observed", "ci", "subtests",
                      "seed", "decisions", "duration_s")
        return cls(
            id=data["id"],
            requirement=data.get("requirement", ""),
            kind=data.get("kind", "deterministic"),
            verdict=data["verdict"],
            message=data.get("message", ""),
            reproduce=data.get("reproduce", ""),
            findings=_frozen(dict(data.get("findings") or {})),
            statistics=_frozen({k: data[k] for k in stats_keys if k in data}),
        )

    def describe(self) -> str:
        """Two lines for a failure message: verdict, id, requirement, message; reproduction."""
        return (f"{self.verdict.upper()} {self.id} [{self.requirement}]: {self.message}\n"
                f"    reproduce: {self.reproduce}")


@dataclass(frozen=True)
class ConformanceResult:
    """The battery's verdict on one adapter (immutable).

    ``to_json()`` gives the same document the CLI writes (``conformance.json``), so
    ``dropout2d-conformance report`` and ``merge`` accept it.
    """

    adapter: Mapping[str, Any]
    conformant: bool
    complete: bool
    checks: tuple[CheckOutcome, ...]
    findings: Mapping[str, Any]
    config: Mapping[str, Any]
    load_error: str | None
    _entry: Mapping[str, Any]

    @property
    def failures(self) -> tuple[CheckOutcome, ...]:
        """The checks that failed or errored, in battery order."""
        return tuple(c for c in self.checks if not c.ok)

    def __getitem__(self, check_id: str) -> CheckOutcome:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(f"no check {check_id!r} in this result; ran {[c.id for c in self.checks]}")

    def to_json(self) -> dict[str, Any]:
        from conformance.report import build_report

        entry = _thaw(self._entry)
        return build_report([entry], _thaw(self.config), complete=self.complete)

    def summary(self) -> str:
        """What a failing test prints: the verdict, then each failing check with its message
        and reproduction command."""
        name = self.adapter.get("name", "?")
        if self.load_error:
            return f"adapter {name!r} could not be loaded: {self.load_error}"
        ran = len(self.checks)
        if self.conformant:
            return f"adapter {name!r} is CONFORMANT ({ran} checks)"
        lines = [f"adapter {name!r} is NOT CONFORMANT: {len(self.failures)} of {ran} checks "
                 f"failed (level {self.config.get('level')}, seed {self.config.get('seed')})"]
        lines += ["  " + c.describe() for c in self.failures]
        if not self.complete:
            lines.append("  (the run was stopped before every check ran)")
        return "\n".join(lines)

    @classmethod
    def from_entry(cls, entry: dict[str, Any], config: dict[str, Any]) -> ConformanceResult:
        checks = tuple(CheckOutcome.from_dict(c) for c in entry.get("checks", ()))
        complete = bool(entry.get("complete", True))
        info_keys = ("name", "spec", "framework", "framework_version", "layout", "device",
                     "capabilities")
        return cls(
            adapter=_frozen({k: entry[k] for k in info_keys if k in entry}),
            conformant=bool(entry.get("conformant")) and complete,
            complete=complete,
            checks=checks,
            findings=_frozen({c.id: dict(c.findings) for c in checks if c.findings}),
            config=_frozen(config),
            load_error=entry.get("load_error"),
            _entry=_frozen(entry),
        )


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return copy.copy(value)


def run_config(*, level: str = "default", seed: int = 0, checks: Sequence[str] | None = None,
               family_alpha: float = FAMILY_ALPHA, timeout_scale: float = 1.0) -> Any:
    """Validate the options every front door shares; ``ValueError`` says what is wrong."""
    from conformance.runner import RunConfig

    if level not in LEVEL_NAMES:
        raise ValueError(f"level must be one of {list(LEVEL_NAMES)}, got {level!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    problem = family_alpha_problem(float(family_alpha))
    if problem:
        raise ValueError(f"family_alpha {problem}")
    problem = timeout_scale_problem(float(timeout_scale))
    if problem:
        raise ValueError(f"timeout_scale {problem}")
    if isinstance(checks, str):
        checks = [checks]
    selected = tuple(checks or ())
    if selected:
        from conformance.battery import battery

        try:
            battery(selected)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
    return RunConfig(level=level, seed=seed, family_alpha=float(family_alpha), beta=BETA,
                     checks=selected, timeout_scale=float(timeout_scale))


def check(
    adapter: Any,
    *,
    level: str = "default",
    seed: int = 0,
    checks: Sequence[str] | None = None,
    family_alpha: float = FAMILY_ALPHA,
    timeout_scale: float = 1.0,
    isolate: bool = False,
    gateway: str = GATEWAY,
) -> ConformanceResult:
    """Run the battery (or the ``checks`` named) on ``adapter`` and return the verdict.

    Raises ``ValueError`` for bad options and for an adapter that cannot be loaded (the
    message says what was tried).  Nothing the implementation does while checks run raises
    here: it becomes a ``fail`` or ``error`` verdict of the check that was running.
    """
    from conformance import engine
    from conformance.battery import check_ids

    config = run_config(level=level, seed=seed, checks=checks, family_alpha=family_alpha,
                        timeout_scale=timeout_scale)
    ids = check_ids(config.checks)
    try:
        session = engine.open_session(adapter, config, isolate=isolate, gateway=gateway)
    except engine.LoadFailed as exc:
        raise ValueError(exc.message) from None
    try:
        run = engine.run_session(session, ids)
    finally:
        session.close()
    return ConformanceResult.from_entry(run.entry(), config.as_dict())


def assert_conformant(adapter: Any, **options: Any) -> ConformanceResult:
    """:func:`check`, then ``AssertionError`` listing every failing check with its message
    and reproduction command unless the adapter is conformant.  Returns the result."""
    result = check(adapter, **options)
    if not result.conformant:
        raise AssertionError(result.summary())
    return result
