"""Wrap a plain function ``f(x, p, training=True, inplace=False[, seed=None])`` as an Adapter.

Capabilities come from the signature (DESIGN.md section 3): an ``inplace`` parameter means
in-place support; an optional ``seed`` keyword means seed control.  The function receives and
returns NCHW NumPy arrays.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.adapters.base import ALL_FLOAT_DTYPES, Adapter, Capabilities, _SeedStream


def _accepts(sig: inspect.Signature | None, name: str) -> bool:
    if sig is None:
        return False
    param = sig.parameters.get(name)
    return param is not None and param.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


class CallableAdapter(Adapter):
    """An Adapter around a NumPy function; see the module docstring."""

    framework = "python"

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        try:
            sig: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            sig = None
        self._takes_training = _accepts(sig, "training")
        self._takes_inplace = _accepts(sig, "inplace")
        seed_param = sig.parameters.get("seed") if sig is not None else None
        takes_seed = seed_param is not None and seed_param.default is not inspect.Parameter.empty
        self.capabilities = Capabilities(
            inplace=self._takes_inplace,
            seed=takes_seed,
            autograd=False,
            dtypes=ALL_FLOAT_DTYPES,
            three_d=True,
        )
        self._seeds = _SeedStream()
        module = getattr(fn, "__module__", None) or "python"
        self.framework = f"python ({module})"
        self.framework_version = ""

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        kwargs: dict[str, Any] = {}
        if self._takes_training:
            kwargs["training"] = training
        elif not training:
            # A function with no ``training`` parameter only knows training mode.
            raise TypeError(f"{self.name} has no 'training' parameter")
        if self._takes_inplace:
            kwargs["inplace"] = inplace
        if self.capabilities.seed:
            seed = self._seeds.next()
            if seed is not None:
                kwargs["seed"] = seed
        return self.fn(x, p, **kwargs)

    def seed(self, seed: int) -> None:
        self._seeds = _SeedStream(base=int(seed))

    def to_numpy(self, y: Any) -> np.ndarray:
        return np.asarray(y)
