"""What users run: the rates their configurations contain and the tensor sizes of real CNNs.

One home for the edges of the space that are set by use, not by what is cheap to draw: the
statistical space (checks/space.py) and the deterministic checks both read them, so a fault on
a fast path for a round rate or a CNN-sized tensor meets every check that can see it.
"""

from __future__ import annotations

#: every multiple of 0.05 strictly inside (0, 1), and the small rates people set (0.01, 0.02,
#: 0.001, 1e-4) with their mirrors 1 - p: each is visited exactly (never only near) by every run
ROUND_RATES: tuple[float, ...] = tuple(sorted(
    {round(0.05 * i, 2) for i in range(1, 20)}
    | {0.01, 0.02, 0.001, 1e-4}
    | {round(1 - p, 4) for p in (0.01, 0.02, 0.001, 1e-4)}
))

#: the feature-map sizes of CNNs (ResNet/VGG stages at 224x224 input), and long 1 x L maps
CNN_MAPS: tuple[tuple[int, int], ...] = ((32, 32), (56, 56), (112, 112), (224, 224))
LONG_MAPS: tuple[tuple[int, int], ...] = ((1, 1031), (1, 4096))

#: the largest channel count and batch the space and the checks reach
MAX_CHANNELS = 8192
MAX_BATCH = 16384

#: tensors as users feed them, for the deterministic checks (a few calls each: they cost memory
#: bandwidth, not decisions): CNN maps, more channels than any power-of-two chunk, a batch past
#: 2**13, long maps, and one tensor of tens of MB (25.7 MB in float32)
LARGE_SHAPES: tuple[tuple[int, int, int, int], ...] = (
    (2, 64, 56, 56),
    (1, 16, 224, 224),
    (2, 8192, 3, 3),
    (16383, 3, 2, 2),
    (4, 32, *LONG_MAPS[0]),
    (2, 32, 112, 112),
    (8, 64, 112, 112),
)

__all__ = ["CNN_MAPS", "LARGE_SHAPES", "LONG_MAPS", "MAX_BATCH", "MAX_CHANNELS", "ROUND_RATES"]
