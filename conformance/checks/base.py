"""What a check is: a plain function of (adapter, context) registered under a stable id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import calling
from conformance.errors import CheckSkipped
from conformance.stats.result import StatResult


@dataclass(frozen=True)
class Level:
    """A level of rigour: targets from which statistical sample sizes are computed."""

    name: str
    p_grid: tuple[float, ...]  # p values the rate checks sweep (drop-rate, drop-count, expectation)
    drop_rate_mde: float  # absolute MDE of each drop-rate sub-test
    drop_rate_rel_mde: float  # ... and relative to min(p, 1-p), which binds at small p
    position_mde: float  # absolute MDE of the drop rate at any single channel / batch position
    phi_mde: float  # MDE of the correlation between paired decisions (independence)
    gof_w: float  # MDE of the drop-count goodness of fit, as Cohen's w
    expectation_mde: float  # relative MDE of E[y] against x
    short_grid: tuple[float, ...] = (0.1, 0.5, 0.9)  # p values of the costlier checks
    #: the settings space (checks/space.py): how many settings with p drawn from the seed,
    #: each with about this many decisions, and the calls of each long call sequence
    sweep_cells: int = 200
    sweep_decisions: int = 30_000
    sequence_calls: int = 1024
    #: where users live (checks/usersizes.py): decisions at each round rate in each dtype,
    #: p-strata per side in [extreme_low, 1e-3] (and mirrored), settings of CNN-sized maps
    round_decisions: int = 16_000
    extreme_strata: int = 3
    extreme_low: float = 1e-6
    cnn_cells: int = 12
    #: the guarantee per region of the space (map size, channels, batch, dtype, layout, input
    #: kind, p band): the drop-rate MDE each reaches at power 1 - beta, absolute, and relative
    #: to min(p, 1 - p) in the bands near 0 and 1
    region_mde: float = 0.02
    region_rel_mde: float = 0.25


@dataclass(frozen=True)
class CheckPassed:
    """What a passing check returns: a message, implementation-defined findings, sub-tests."""

    message: str
    findings: dict[str, Any] = field(default_factory=dict)
    stats: tuple[StatResult, ...] = ()


@dataclass
class CheckContext:
    """Everything a check may use besides the adapter: level, seed, its share of alpha."""

    adapter: Adapter
    level: Level
    seed: int
    alpha: float
    beta: float
    #: channel decisions (and calls) of the space's settings this check has read: what its
    #: statistics rest on, the same whichever check of the run drew them first
    decisions: int = 0
    calls: int = 0
    #: plan only: samplers simulate a correct implementation instead of calling the adapter,
    #: so the real sample-size code runs without the cost of drawing (``power`` uses this)
    dry_run: bool = False
    #: shared by every check of one adapter's run (in one worker process): statistical checks
    #: keep the masks they draw here so that other checks can test them again (draw once,
    #: test many).  A check must give the same result with a fresh, empty dict (a single-check
    #: run, or a worker restarted after a crash).
    run_cache: dict[str, Any] = field(default_factory=dict)
    #: the run's global seed (``--seed``), which picks the settings every statistical check of
    #: the run shares; ``None`` (a context built by hand) falls back to the check's own seed
    run_seed: int | None = None
    #: where the space's draws come from when this process does not call the implementation
    #: (a statistical check run by the supervisor reads a worker's draws): a
    #: ``checks.pool.DrawSource``; None: drawn here, by calling ``adapter``
    draw_source: Any = None
    #: warnings the implementation emitted while drawing what this check read, for its report
    warnings: list[str] = field(default_factory=list)
    #: the settings this check has read (``checks.pool``: counted once each)
    read: set[str] = field(default_factory=set)

    @property
    def space_seed(self) -> int:
        """The seed that picks the run's settings and the inputs of the shared draws."""
        return self.seed if self.run_seed is None else self.run_seed

    def share(self, k: int, *, of: float | None = None) -> float:
        """One of ``k`` equal Bonferroni shares of this check's alpha (or of ``of``).

        Every statistical check splits its budget through this method, never by hand, so that
        the sub-tests of a check provably sum to at most ``ctx.alpha``.
        """
        if k < 1:
            raise ValueError(f"cannot split alpha into {k} shares (need k >= 1)")
        return (self.alpha if of is None else of) / k

    def rng(self, *keys: int) -> np.random.Generator:
        """A generator for the suite's own inputs, fixed by the check's seed and ``keys``."""
        return np.random.default_rng([self.seed, *keys])

    def forward(self, x: np.ndarray, p: float, **kwargs: Any) -> calling.Forward:
        return calling.forward(self.adapter, x, p, **kwargs)

    def require(self, capability: str) -> None:
        if not getattr(self.adapter.capabilities, capability):
            raise CheckSkipped(f"adapter {self.adapter.name!r} has no {capability} capability")

    @property
    def dtypes(self) -> list[np.dtype]:
        return [np.dtype(d) for d in self.adapter.capabilities.dtypes]


CheckFn = Callable[[Adapter, CheckContext], CheckPassed]


@dataclass(frozen=True)
class RegisteredCheck:
    """A catalogue entry: stable id, the requirement it tests, and the function."""

    id: str
    requirement: str
    kind: str  # "deterministic" or "statistical"
    title: str
    fn: CheckFn
    timeout_s: float = 120.0
    #: a statistical check that reads every setting of the space: when it runs on a worker's
    #: draws, the whole space is asked for at once, so that the worker draws while the
    #: statistics are computed
    reads_whole_space: bool = False


CATALOGUE: dict[str, RegisteredCheck] = {}


def register(
    id: str, *, requirement: str, title: str, kind: str = "deterministic", timeout_s: float = 120.0,
    reads_whole_space: bool = False,
) -> Callable[[CheckFn], CheckFn]:
    """Register a check function under a stable id (ids, once published, never change)."""

    def deco(fn: CheckFn) -> CheckFn:
        if id in CATALOGUE:
            raise ValueError(f"duplicate check id {id!r}")
        CATALOGUE[id] = RegisteredCheck(id, requirement, kind, title, fn, timeout_s,
                                        reads_whole_space)
        return fn

    return deco
