"""The inner check runner: one check on one adapter, whatever happens, becomes a CheckResult.

Seeds, the check's share of the error budget, warnings, and exceptions turned into verdicts.
The sessions call :func:`run_check` where the check runs:

- in a supervised worker (``where="worker"``): in the main thread (the supervisor enforces
  timeouts from outside by killing the worker), and every exception, ``KeyboardInterrupt`` and
  ``SystemExit`` included, is the adapter's doing;
- in the supervisor (``where="supervisor"``), for the statistical checks: they read the draws
  that a worker makes (``draw_source``) and never call the implementation themselves;
- in the caller's own process (``where="caller"``, the Python API's default): in a thread with
  the check's timeout, and ``KeyboardInterrupt`` is the user's Ctrl-C.
"""

from __future__ import annotations

import hashlib
import shlex
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

from conformance import battery
from conformance.adapters.base import Adapter
from conformance.checks import CheckContext, CheckPassed, RegisteredCheck, calling
from conformance.config import RunConfig
from conformance.errors import AdapterError, CheckAborted, CheckFailed, CheckSkipped
from conformance.results import CheckResult, Verdict

Where = Literal["worker", "supervisor", "caller"]


def derive_seed(seed: int, check_id: str) -> int:
    """A check's seed: fixed by the global seed and the check id, so every failure reproduces."""
    digest = hashlib.sha256(f"{seed}:{check_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def reproduce_command(spec: str, check_id: str, config: RunConfig) -> str:
    """The command that reruns one check with every option that changes its outcome."""
    words = [
        "dropout2d-conformance", "run", "--adapter", shlex.quote(spec), "--check", check_id,
        "--level", config.level, "--seed", str(config.seed),
    ]
    if config.family_alpha != battery.FAMILY_ALPHA:
        words += ["--family-alpha", repr(config.family_alpha)]
    if config.timeout_scale != 1.0:
        words += ["--timeout-scale", repr(config.timeout_scale)]
    return " ".join(words)


def check_alpha(check: RegisteredCheck, config: RunConfig) -> float | None:
    """The check's share of the family budget (statistical checks only)."""
    return battery.check_alpha(config.family_alpha) if check.kind == "statistical" else None


def decided_elsewhere(check: RegisteredCheck, config: RunConfig, spec: str, message: str,
                      duration_s: float) -> CheckResult:
    """The ``error`` verdict of a check that the supervisor decides (a worker lost, a run
    given up), with the same seed, alpha and reproduction command as a run of the check."""
    return CheckResult(
        id=check.id, requirement=check.requirement, verdict=Verdict.ERROR, message=message,
        kind=check.kind, duration_s=duration_s, seed=derive_seed(config.seed, check.id),
        alpha=check_alpha(check, config), reproduce=reproduce_command(spec, check.id, config))


def space_context(adapter: Adapter, config: RunConfig) -> CheckContext:
    """A context for the run's settings space alone (what the statistical checks' contexts
    build it from: the level, the run's seed, their alpha and beta), for drawing it."""
    return CheckContext(adapter=adapter, level=battery.LEVELS[config.level], seed=config.seed,
                        run_seed=config.seed, alpha=battery.check_alpha(config.family_alpha),
                        beta=config.beta)


def verdict_of(exc: BaseException) -> tuple[Verdict, str]:
    """The verdict and message of what a check (or a draw it needed) raised."""
    if isinstance(exc, CheckFailed):
        return Verdict.FAIL, exc.message
    if isinstance(exc, CheckSkipped):
        return Verdict.SKIP, str(exc)
    if isinstance(exc, CheckAborted):
        return Verdict.ERROR, exc.message
    if isinstance(exc, AdapterError):
        return Verdict.ERROR, f"the adapter misbehaved: {exc}"
    if isinstance(exc, _Timeout):
        return Verdict.ERROR, f"timeout: {exc} (the adapter hangs or is very slow)"
    if isinstance(exc, (Exception, SystemExit)):  # an adapter that exits must not end the run
        return Verdict.ERROR, f"unexpected {type(exc).__name__} while checking: {exc}"
    # KeyboardInterrupt, asyncio.CancelledError, GeneratorExit...
    return Verdict.ERROR, f"the adapter raised {type(exc).__name__}: {exc}"


class _Timeout(Exception):
    pass


def _call_with_timeout(fn: Callable[[], CheckPassed], timeout_s: float) -> CheckPassed:
    """Run ``fn`` in a daemon thread; a hung adapter costs this check, not the whole run.

    A thread cannot be killed: a check that times out is abandoned (``calling.abandon``): the
    call it is in may go on, but it makes no further call and leaves the process's state alone.
    """
    values: list[CheckPassed] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            values.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread below
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True, name="dropout2d-check")
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        calling.abandon(thread)
        raise _Timeout(f"the check did not finish within {timeout_s:.0f} s")
    if errors:
        raise errors[0]
    return values[0]


def run_check(
    adapter: Adapter,
    check: RegisteredCheck,
    config: RunConfig,
    run_cache: dict | None = None,
    *,
    where: Where = "caller",
    draw_source: Any = None,
) -> CheckResult:
    """Run one check and turn whatever happens into a :class:`CheckResult` (see the module
    docstring for ``where``).  ``draw_source``: where the settings space's draws come from
    when the check does not draw them itself (``checks.pool.DrawSource``)."""
    seed = derive_seed(config.seed, check.id)
    alpha = check_alpha(check, config)
    ctx = CheckContext(
        adapter=adapter,
        level=battery.LEVELS[config.level],
        seed=seed,
        run_seed=config.seed,  # the run's settings are shared by every check (draw once)
        alpha=alpha or 0.0,
        beta=config.beta,
        run_cache=run_cache if run_cache is not None else {},
        draw_source=draw_source,
    )
    start = time.perf_counter()

    def body() -> CheckPassed:
        if adapter.capabilities.seed and where != "supervisor":
            adapter.seed(seed)  # so that the implementation's draws reproduce too
        return check.fn(adapter, ctx)

    with warnings.catch_warnings(record=True) as caught:
        # Warnings the implementation emits (deprecations, 3D interpretation) go to the report.
        warnings.simplefilter("always")
        outcome: CheckPassed | None = None
        error: BaseException | None = None
        try:
            outcome = body() if where != "caller" else _call_with_timeout(
                body, check.timeout_s * config.timeout_scale)
        except BaseException as exc:
            # In the caller's process Ctrl-C is the user's; in a worker it can only come from
            # the implementation, and in the supervisor the CLI's own signal handler has it.
            if where != "worker" and isinstance(exc, KeyboardInterrupt):
                raise
            error = exc
    seen = list(dict.fromkeys([*(f"{w.category.__name__}: {w.message}" for w in caught),
                               *ctx.warnings]))
    result = CheckResult(
        id=check.id, requirement=check.requirement, kind=check.kind, seed=seed, alpha=alpha,
        reproduce=reproduce_command(adapter.spec or adapter.name, check.id, config),
        verdict=Verdict.PASS, message="", duration_s=time.perf_counter() - start,
        warnings=tuple(seen[:5]), decisions=ctx.decisions)
    if outcome is not None:
        return replace(result, message=outcome.message, findings=outcome.findings,
                       stats=outcome.stats)
    assert error is not None
    verdict, message = verdict_of(error)
    if isinstance(error, CheckFailed):
        return replace(result, verdict=verdict, message=message, findings=error.findings,
                       stats=error.stats, root_cause=error.root_cause)
    return replace(result, verdict=verdict, message=message)


__all__ = ["decided_elsewhere", "derive_seed", "reproduce_command", "run_check",
           "space_context", "verdict_of"]
