"""Drawing channel decisions from the implementation under test (decisions, never elements).

Every draw is a real call of the adapter on an (N, C, H, W) input; the output is checked for
channel structure (R2) and reduced to one boolean per (call, n, c): dropped or kept.
Statistics then count those decisions, never elements.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from conformance.checks import calling
from conformance.checks.base import CheckContext
from conformance.checks.inputs import extract_keep_mask, nonzero_values
from conformance.stats.result import StatResult

#: input kinds the statistical checks rotate through, so no check sees only constant input
INPUT_KINDS: tuple[str, ...] = ("ones", "normal", "mixed-magnitude")
#: channels of two value classes each (sign x magnitude), for independence of values
VALUE_CLASSES = "value-classes"


#: memory layouts the harness can give the input (see ``calling.forward``)
MEMORIES: tuple[str, ...] = ("contiguous", "channels_last", "strided")


@dataclass(frozen=True)
class Setting:
    """One point of the settings space: p, shape, input kind, dtype and memory layout.

    ``shape`` is (N, C, H, W), or (C, H, W) for unbatched 3D input; decisions are always
    handled as (calls, N, C), with N = 1 for unbatched input.
    """

    p: float
    shape: tuple[int, ...]
    kind: str = "ones"
    dtype: str = "float32"
    memory: str = "contiguous"

    def __post_init__(self) -> None:
        if len(self.shape) not in (3, 4) or min(self.shape) < 1:
            raise ValueError(f"a setting needs a 4D or 3D shape of positive sizes, got "
                             f"{self.shape}")
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"a setting needs p in [0, 1], got {self.p!r}")

    @property
    def unbatched(self) -> bool:
        return len(self.shape) == 3

    @property
    def batch(self) -> int:
        return 1 if self.unbatched else self.shape[0]

    @property
    def channels(self) -> int:
        return self.shape[-3]

    @property
    def map_size(self) -> int:
        return self.shape[-2] * self.shape[-1]

    @property
    def per_call(self) -> int:
        return self.batch * self.channels

    def label(self) -> str:
        dims = ", ".join(str(d) for d in self.shape)
        what = "unbatched " if self.unbatched else ""
        memory = "" if self.memory == "contiguous" else f", {self.memory}"
        return (f"p={self.p:.6g}, {what}shape=({dims}), input={self.kind}, "
                f"{self.dtype}{memory}")


def make_input(rng: np.random.Generator, setting: Setting) -> np.ndarray:
    """An input of the setting's kind with no zeros (a zero output then means 'dropped')."""
    shape, dtype = setting.shape, np.dtype(setting.dtype)
    if setting.kind == "ones":
        return np.ones(shape, dtype)
    if setting.kind == "normal":
        return nonzero_values(rng, shape, dtype)
    if setting.kind == "mixed-magnitude":
        # One magnitude per channel from 1e-3 to 1e3, random signs: values that a
        # value-dependent implementation would treat differently.
        magnitude = 10.0 ** rng.uniform(-3, 3, size=(*shape[:-2], 1, 1))
        return (nonzero_values(rng, shape, np.float64) * magnitude).astype(dtype)
    if setting.kind == VALUE_CLASSES:
        # Each channel: sign +-1 and magnitude 1e-3 or 1e3 at random, constant over the map.
        classes = rng.integers(0, 4, size=(*shape[:-2], 1, 1))
        sign = np.where(classes % 2 == 0, 1.0, -1.0)
        magnitude = np.where(classes < 2, 1e-3, 1e3)
        return np.broadcast_to(sign * magnitude, shape).astype(dtype)
    raise ValueError(f"unknown input kind {setting.kind!r}")


class Sampler:
    """Draws the decisions of successive calls for one setting (inputs cycle through a pool).

    With ``record=True`` it also keeps each map's first input and output value, for the
    checks that relate decisions or outputs to input values.
    """

    POOL = 4

    def __init__(
        self, ctx: CheckContext, setting: Setting, *, key: int = 0, record: bool = False
    ) -> None:
        self.ctx = ctx
        self.setting = setting
        rng = ctx.rng(key)
        self.inputs = [make_input(rng, setting) for _ in range(self.POOL)]
        self.calls = 0
        self.where = f"({setting.label()})"
        self.record = record
        self.xs: list[np.ndarray] = []
        self.ys: list[np.ndarray] = []

    def draw(self, calls: int) -> np.ndarray:
        """The dropped decisions of ``calls`` successive calls: bool (calls, N, C)."""
        if self.ctx.dry_run:
            return self._simulate(calls)
        s = self.setting
        out = np.empty((calls, s.batch, s.channels), dtype=bool)
        for t in range(calls):
            x = self.inputs[self.calls % self.POOL]
            f = calling.forward(self.ctx.adapter, x, s.p, memory=s.memory)
            out[t] = ~extract_keep_mask(x=x, y=f.y, where=self.where).reshape(out.shape[1:])
            if self.record:
                self.xs.append(x[..., 0, 0].astype(np.float64).reshape(out.shape[1:]))
                self.ys.append(f.y[..., 0, 0].astype(np.float64).reshape(out.shape[1:]))
            self.calls += 1
        self.ctx.decisions += out.size
        self.ctx.calls += calls
        return out

    def _simulate(self, calls: int) -> np.ndarray:
        """Decisions of a correct implementation (for planning; no adapter call)."""
        p = self.setting.p
        rng = self.ctx.rng(self.calls, 99)
        out = rng.random((calls, self.setting.batch, self.setting.channels)) < p
        if self.record:
            scale = 1.0 / (1.0 - p)
            for t in range(calls):
                x = self.inputs[(self.calls + t) % self.POOL][..., 0, 0].astype(np.float64)
                x = x.reshape(out.shape[1:])
                self.xs.append(x)
                self.ys.append(np.where(out[t], 0.0, x * scale))
        self.calls += calls
        self.ctx.decisions += out.size
        self.ctx.calls += calls
        return out

    def values(self) -> tuple[np.ndarray, np.ndarray]:
        """The recorded (x, y) first values of every map so far, each (calls, N, C)."""
        return np.stack(self.xs), np.stack(self.ys)


def calls_for(decisions: int, setting: Setting) -> int:
    """Calls needed for at least ``decisions`` channel decisions in this setting."""
    return max(1, math.ceil(decisions / setting.per_call))


#: share of a sub-test's alpha spent on early looks (the final look keeps the rest)
EARLY_SHARE = 1e-3
#: number of early looks at most
LOOKS = 4


def sequential(
    sampler: Sampler,
    total_calls: int,
    test: Callable[[np.ndarray, float], StatResult],
    alpha: float,
    *,
    min_chunk: int = 2,
    screen: Callable[[np.ndarray, float], bool] | None = None,
) -> tuple[StatResult, np.ndarray]:
    """Draw ``total_calls`` calls in chunks; stop early only on overwhelming evidence.

    Each of at most ``LOOKS`` early looks tests at ``alpha * EARLY_SHARE / LOOKS`` and the
    final look at ``alpha * (1 - EARLY_SHARE)``: by Bonferroni over the looks the sub-test's
    false-alarm rate stays at most ``alpha``.  A pass always uses the full sample (rule 7).
    ``test(dropped, alpha)`` returns a StatResult for the decisions so far; every look has at
    least ``min_chunk`` calls (two, so that pairs of successive calls exist).  ``screen(dropped,
    alpha) -> bool``, if given, decides the early looks more cheaply than the full test (no MDE
    or interval); the full test then confirms at the same alpha.
    """
    total_calls = max(total_calls, min_chunk)
    chunk = max(min_chunk, math.ceil(total_calls / (LOOKS + 1)))
    parts: list[np.ndarray] = []
    drawn = 0
    early_alpha = alpha * EARLY_SHARE / LOOKS
    while drawn + chunk < total_calls:
        parts.append(sampler.draw(chunk))
        drawn += chunk
        data = np.concatenate(parts)
        if screen is not None and not screen(data, early_alpha):
            continue
        result = test(data, early_alpha)
        if result.reject:
            return result, data
    parts.append(sampler.draw(total_calls - drawn))
    data = np.concatenate(parts)
    return test(data, alpha * (1 - EARLY_SHARE)), data
