"""Runs one check on a loaded adapter: seeds, error budget, timeouts, errors turned into verdicts.

This is the innermost layer: :mod:`conformance.engine` calls :func:`run_check` either in a
supervised worker process (``isolated=True``, the default of the CLI and the pytest door) or in
the caller's own process (the Python API's default).
"""

from __future__ import annotations

import hashlib
import shlex
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

from conformance import battery
from conformance.adapters.base import Adapter
from conformance.checks import Check, CheckContext, Outcome
from conformance.errors import AdapterError, CheckFailed, CheckSkipped, SpecError
from conformance.results import CheckResult, Verdict


@dataclass(frozen=True)
class RunConfig:
    level: str = "default"
    seed: int = 0
    family_alpha: float = battery.FAMILY_ALPHA
    beta: float = battery.BETA
    checks: tuple[str, ...] = ()
    timeout_scale: float = 1.0

    def as_dict(self) -> dict:
        """The report's ``config`` (what changes the outcome; the timeout scale included)."""
        return {
            "level": self.level,
            "seed": self.seed,
            "family_alpha": self.family_alpha,
            "beta": self.beta,
            "checks": list(self.checks),
            "timeout_scale": self.timeout_scale,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        return cls(
            level=data.get("level", "default"),
            seed=int(data.get("seed", 0)),
            family_alpha=float(data.get("family_alpha", battery.FAMILY_ALPHA)),
            beta=float(data.get("beta", battery.BETA)),
            checks=tuple(data.get("checks") or ()),
            timeout_scale=float(data.get("timeout_scale", 1.0)),
        )


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


class _Timeout(Exception):
    pass


def _call_with_timeout(fn: Callable[[], Outcome], timeout_s: float) -> Outcome:
    """Run ``fn`` in a daemon thread; a hung adapter costs this check, not the whole run.

    A thread cannot be killed: a check that times out keeps running in the background until
    the process ends, which is why each check is given a generous timeout.
    """
    values: list[Outcome] = []
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
        raise _Timeout(f"the check did not finish within {timeout_s:.0f} s")
    if errors:
        raise errors[0]
    return values[0]


def run_check(
    adapter: Adapter,
    check: Check,
    config: RunConfig,
    run_cache: dict | None = None,
    *,
    isolated: bool = False,
) -> CheckResult:
    """Run one check and turn whatever happens into a :class:`CheckResult`.

    ``isolated``: this process is a supervised worker.  The check then runs in the main thread
    (the supervisor enforces the timeout from outside and kills the worker) and every
    exception, ``KeyboardInterrupt`` and ``SystemExit`` included, is the adapter's doing.
    In the caller's own process a check runs in a thread with a timeout, and
    ``KeyboardInterrupt`` is taken for the user's Ctrl-C.
    """
    seed = derive_seed(config.seed, check.id)
    alpha = battery.check_alpha(config.family_alpha) if check.kind == "statistical" else None
    ctx = CheckContext(
        adapter=adapter,
        level=battery.LEVELS[config.level],
        seed=seed,
        run_seed=config.seed,  # the run's settings are shared by every check (draw once)
        alpha=alpha or 0.0,
        beta=config.beta,
        run_cache=run_cache if run_cache is not None else {},
    )
    common = {
        "id": check.id,
        "requirement": check.requirement,
        "kind": check.kind,
        "seed": seed,
        "alpha": alpha,
        "reproduce": reproduce_command(adapter.spec or adapter.name, check.id, config),
    }
    start = time.perf_counter()

    def body() -> Outcome:
        if adapter.capabilities.seed:
            adapter.seed(seed)  # so that the implementation's draws reproduce too
        return check.fn(adapter, ctx)

    with warnings.catch_warnings(record=True) as caught:
        # Warnings the implementation emits (deprecations, 3D interpretation) go to the report.
        warnings.simplefilter("always")
        timeout = None if isolated else check.timeout_s * config.timeout_scale
        result = _run_body(body, timeout, start, common, catch_all=isolated)
    seen = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return replace(result, warnings=tuple(seen[:5]), decisions=ctx.decisions)


def _run_body(
    body: Callable[[], Outcome],
    timeout_s: float | None,
    start: float,
    common: dict,
    *,
    catch_all: bool = False,
) -> CheckResult:
    def result(verdict: Verdict, message: str, **extra: object) -> CheckResult:
        return CheckResult(verdict=verdict, message=message,
                           duration_s=time.perf_counter() - start, **common, **extra)

    try:
        outcome = body() if timeout_s is None else _call_with_timeout(body, timeout_s)
    except CheckFailed as exc:
        return result(Verdict.FAIL, exc.message, findings=exc.findings, stats=exc.stats,
                      root_cause=exc.root_cause)
    except CheckSkipped as exc:
        return result(Verdict.SKIP, str(exc))
    except AdapterError as exc:
        return result(Verdict.ERROR, f"the adapter misbehaved: {exc}")
    except _Timeout as exc:
        return result(Verdict.ERROR, f"timeout: {exc} (the adapter hangs or is very slow)")
    except (Exception, SystemExit) as exc:  # an adapter that exits must not end the run
        return result(Verdict.ERROR, f"unexpected {type(exc).__name__} while checking: {exc}")
    except BaseException as exc:
        # KeyboardInterrupt, asyncio.CancelledError, GeneratorExit...: in a worker they can
        # only come from the implementation; in the caller's process Ctrl-C is the user's.
        if not catch_all and isinstance(exc, KeyboardInterrupt):
            raise
        return result(Verdict.ERROR, f"the adapter raised {type(exc).__name__}: {exc}")
    return result(Verdict.PASS, outcome.message, findings=outcome.findings, stats=outcome.stats)


__all__ = ["RunConfig", "SpecError", "derive_seed", "reproduce_command", "run_check"]
