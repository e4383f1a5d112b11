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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.config import RunConfig, run_config
from conformance.defaults import FAMILY_ALPHA, GATEWAY
from conformance.results import AdapterResult, CheckResult
from conformance.results import frozen as _frozen

__all__ = ["CheckOutcome", "ConformanceResult", "assert_conformant", "check"]

#: one check's result: ``id``, ``requirement``, ``kind``, ``verdict`` (compares equal to
#: "pass", "fail", "skip", "error"), ``message``, ``reproduce``, ``findings`` and, for statistical
#: checks, ``statistics`` (``p_value``, ``alpha``, ``n``, ``mde``, ``observed``, ``ci`` and every
#: sub-test); the record the engine gives, under the name this API has always used
CheckOutcome = CheckResult


@dataclass(frozen=True)
class ConformanceResult:
    """The battery's verdict on one adapter (immutable).

    ``to_json()`` gives the same document the CLI writes (``conformance.json``), so
    ``dropout2d-conformance report`` and ``merge`` accept it.
    """

    result: AdapterResult
    run: RunConfig

    @property
    def config(self) -> Mapping[str, Any]:
        """The run's options as the report's ``config`` (read-only)."""
        return _frozen(self.run.as_dict())

    @property
    def adapter(self) -> Mapping[str, Any]:
        """What the report says about the adapter (name, spec, framework, version, ...)."""
        return _frozen(self.result.info.to_dict())

    @property
    def conformant(self) -> bool:
        return self.result.conformant

    @property
    def complete(self) -> bool:
        return self.result.complete

    @property
    def load_error(self) -> str | None:
        return self.result.load_error

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        """Every check's result, in battery order, failures attributed to their root cause."""
        return self.result.checks

    @property
    def findings(self) -> Mapping[str, Any]:
        return _frozen({k: dict(v) for k, v in self.result.findings.items()})

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """The checks that failed or errored, in battery order."""
        return self.result.failures

    def __getitem__(self, check_id: str) -> CheckResult:
        return self.result[check_id]

    def to_json(self) -> dict[str, Any]:
        from conformance.report import build_report

        return build_report([self.result], self.run.as_dict(), complete=self.complete)

    def summary(self) -> str:
        """What a failing test prints: the verdict, then each failing check with its message
        and reproduction command."""
        name = self.result.info.name
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
        result = engine.run_session(session, ids)
    finally:
        session.close()
    return ConformanceResult(result, config)


def assert_conformant(adapter: Any, **options: Any) -> ConformanceResult:
    """:func:`check`, then ``AssertionError`` listing every failing check with its message
    and reproduction command unless the adapter is conformant.  Returns the result."""
    result = check(adapter, **options)
    if not result.conformant:
        raise AssertionError(result.summary())
    return result
