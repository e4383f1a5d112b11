"""Runs the battery on adapters: seeds, error budget, timeouts, and errors turned into verdicts."""

from __future__ import annotations

import hashlib
import shlex
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from conformance import battery
from conformance.adapters.base import Adapter
from conformance.adapters.registry import load_adapter
from conformance.checks import Check, CheckContext, Outcome
from conformance.errors import AdapterError, CheckFailed, CheckSkipped, SpecError
from conformance.results import AdapterResult, CheckResult, Verdict


@dataclass(frozen=True)
class RunConfig:
    level: str = "default"
    seed: int = 0
    family_alpha: float = battery.FAMILY_ALPHA
    beta: float = battery.BETA
    checks: tuple[str, ...] = ()
    timeout_scale: float = 1.0

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "seed": self.seed,
            "family_alpha": self.family_alpha,
            "beta": self.beta,
            "checks": list(self.checks),
        }


def derive_seed(seed: int, check_id: str) -> int:
    """A check's seed: fixed by the global seed and the check id, so every failure reproduces."""
    digest = hashlib.sha256(f"{seed}:{check_id}".encode()).digest()
    return int.from_bytes(digest[:4], "little")


def reproduce_command(spec: str, check_id: str, config: RunConfig) -> str:
    return (
        f"dropout2d-conformance run --adapter {shlex.quote(spec)} --check {check_id} "
        f"--level {config.level} --seed {config.seed}"
    )


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
    adapter: Adapter, check: Check, config: RunConfig, run_cache: dict | None = None
) -> CheckResult:
    """Run one check and turn whatever happens into a :class:`CheckResult`."""
    seed = derive_seed(config.seed, check.id)
    alpha = battery.check_alpha(config.family_alpha) if check.kind == "statistical" else None
    ctx = CheckContext(
        adapter=adapter,
        level=battery.LEVELS[config.level],
        seed=seed,
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
        result = _run_body(body, check.timeout_s * config.timeout_scale, start, common)
    seen = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    return replace(result, warnings=tuple(seen[:5]), decisions=ctx.decisions)


def _run_body(
    body: Callable[[], Outcome], timeout_s: float, start: float, common: dict
) -> CheckResult:
    def result(verdict: Verdict, message: str, **extra: object) -> CheckResult:
        return CheckResult(verdict=verdict, message=message,
                           duration_s=time.perf_counter() - start, **common, **extra)

    try:
        outcome = _call_with_timeout(body, timeout_s)
    except CheckFailed as exc:
        return result(Verdict.FAIL, exc.message, findings=exc.findings, stats=exc.stats)
    except CheckSkipped as exc:
        return result(Verdict.SKIP, str(exc))
    except AdapterError as exc:
        return result(Verdict.ERROR, f"the adapter misbehaved: {exc}")
    except _Timeout as exc:
        return result(Verdict.ERROR, f"timeout: {exc} (the adapter hangs or is very slow)")
    except (Exception, SystemExit) as exc:  # an adapter that exits must not end the run
        return result(Verdict.ERROR, f"unexpected {type(exc).__name__} while checking: {exc}")
    return result(Verdict.PASS, outcome.message, findings=outcome.findings, stats=outcome.stats)


ProgressFn = Callable[[str, str, str], None]


@dataclass
class Runner:
    """Runs the configured battery on adapters; ``progress(adapter, check_id, event)``."""

    config: RunConfig = field(default_factory=RunConfig)
    progress: ProgressFn | None = None

    def checks(self) -> list[Check]:
        return battery.battery(list(self.config.checks) or None)

    def run_adapter(
        self, adapter: Adapter, on_result: Callable[[CheckResult], None] | None = None
    ) -> AdapterResult:
        """Run every check; ``on_result`` sees each result as it comes (kept if interrupted)."""
        results = []
        run_cache: dict = {}  # shared draws of this adapter's run
        for check in self.checks():
            if self.progress:
                self.progress(adapter.name, check.id, "start")
            result = run_check(adapter, check, self.config, run_cache)
            if self.progress:
                self.progress(adapter.name, check.id, result.verdict.value)
            results.append(result)
            if on_result:
                on_result(result)
        return AdapterResult(info=adapter.info(), checks=tuple(results))

    def run_spec(self, spec: str) -> AdapterResult:
        """Load and run; a spec that does not load raises :class:`SpecError` (usage error)."""
        return self.run_adapter(load_adapter(spec))


__all__ = ["RunConfig", "Runner", "SpecError", "derive_seed", "run_check"]
