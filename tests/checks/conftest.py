"""Fixtures of the check tests: an adapter that records every call it receives, so a test can
say which shapes, dtypes, layouts and p values a check really visits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from conformance.adapters.base import Capabilities
from conformance.adapters.reference_adapter import ReferenceAdapter


@dataclass(frozen=True)
class Call:
    shape: tuple[int, ...]
    dtype: str
    p: float
    training: bool
    inplace: bool
    memory: str  # as calling.forward lays the input out: contiguous, channels_last, strided


def memory_of(x: np.ndarray) -> str:
    if x.flags.c_contiguous:
        return "contiguous"
    if x.ndim == 4 and x.strides[1] == x.itemsize:  # a permuted view of an NHWC buffer
        return "channels_last"
    return "strided"


class Recording(ReferenceAdapter):
    """The reference, recording each call (optionally declaring fewer dtypes or no inplace)."""

    def __init__(self, dtypes: tuple[str, ...] | None = None, inplace: bool = True) -> None:
        super().__init__()
        base = ReferenceAdapter.capabilities
        self.capabilities = Capabilities(inplace=inplace, seed=base.seed, autograd=False,
                                         dtypes=dtypes or base.dtypes, three_d=base.three_d)
        self.calls: list[Call] = []

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        self.calls.append(Call(tuple(x.shape), x.dtype.name, float(p), training, inplace,
                               memory_of(x)))
        return super().dropout2d(x, p, training, inplace)


@pytest.fixture
def recording() -> Callable[..., Recording]:
    """``recording(dtypes=None, inplace=True)``: a fresh recording reference adapter."""
    return Recording
