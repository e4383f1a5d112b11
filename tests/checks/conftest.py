"""Fixtures of the check tests: an adapter that records every call it receives, so a test can
say which shapes, dtypes, layouts and p values a check really visits; checks run through the
public API at quick level (``quick``), and the sub-tests a check rejected (``rejected``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import conformance
from conformance.adapters.base import Capabilities
from conformance.adapters.reference_adapter import ReferenceAdapter
from conformance.mutants import fresh_start
from conformance.stats import StatResult


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


#: results of spec strings, which name the same implementation every time (results are
#: immutable): a test that asks again what a mutant failed on does not run it again
_BY_SPEC: dict[tuple[str, tuple[str, ...]], Any] = {}


def run_quick(adapter: Any, *check_ids: str) -> Any:
    """``check_ids`` on ``adapter`` (a spec, callable or Adapter) at quick level, seed 0, in this
    process, through the public API; the mutants' module state is reset first, so that a
    seed-less mutant gives the same masks whatever ran before it."""
    key = (adapter, check_ids) if isinstance(adapter, str) else None
    if key in _BY_SPEC:
        return _BY_SPEC[key]
    fresh_start(0)
    result = conformance.check(adapter, level="quick", seed=0, checks=list(check_ids))
    if key is not None:
        _BY_SPEC[key] = result
    return result


@pytest.fixture
def quick() -> Callable[..., Any]:
    """``quick(adapter, *check_ids) -> ConformanceResult`` (see ``run_quick``)."""
    return run_quick


@pytest.fixture
def subs() -> Callable[[Any], list[StatResult]]:
    """``subs(outcome)``: the sub-tests of a check's result, typed (``test``, ``setting``,
    ``failing``, ``reject``, and the family's own fields), in order."""
    return lambda outcome: list(outcome.stats)
