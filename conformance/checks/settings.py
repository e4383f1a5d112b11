"""One point of the settings space (p, shape, input kind, dtype, memory layout) and its input.

Inputs never hold a zero, so a zero in the output means "dropped"; the space
(:mod:`conformance.checks.space`) draws the settings and counts channel decisions, never
elements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.checks.inputs import nonzero_values

#: input kinds the statistical checks rotate through, so no check sees only constant input
INPUT_KINDS: tuple[str, ...] = ("ones", "normal", "mixed-magnitude")
#: channels of two value classes each (sign x magnitude), for independence of values
VALUE_CLASSES = "value-classes"


#: memory layouts the input can be given in (see ``calling.forward``)
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


