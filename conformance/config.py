"""A run's configuration: the options every front door shares, validated in one place.

Light on purpose (no checks, no NumPy): the CLI, the pytest door and the Python API build a
:class:`RunConfig` with :func:`run_config` before anything heavy is imported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.defaults import (
    BETA,
    FAMILY_ALPHA,
    LEVEL_NAMES,
    family_alpha_problem,
    timeout_scale_problem,
)


@dataclass(frozen=True)
class RunConfig:
    """What changes a run's outcome: level, seed, error budget, selected checks, timeouts."""

    level: str = "default"
    seed: int = 0
    family_alpha: float = FAMILY_ALPHA
    beta: float = BETA
    checks: tuple[str, ...] = ()
    timeout_scale: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        """The report's ``config`` (the timeout scale included)."""
        return {
            "level": self.level,
            "seed": self.seed,
            "family_alpha": self.family_alpha,
            "beta": self.beta,
            "checks": list(self.checks),
            "timeout_scale": self.timeout_scale,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        return cls(
            level=str(data.get("level", "default")),
            seed=int(data.get("seed", 0)),
            family_alpha=float(data.get("family_alpha", FAMILY_ALPHA)),
            beta=float(data.get("beta", BETA)),
            checks=tuple(data.get("checks") or ()),
            timeout_scale=float(data.get("timeout_scale", 1.0)),
        )


def run_config(*, level: str = "default", seed: int = 0, checks: Sequence[str] | None = None,
               family_alpha: float = FAMILY_ALPHA, timeout_scale: float = 1.0) -> RunConfig:
    """Validate the options every front door shares; ``ValueError`` says what is wrong."""
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


__all__ = ["RunConfig", "run_config"]
