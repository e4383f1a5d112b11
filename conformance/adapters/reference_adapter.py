"""The reference implementation behind the adapter interface (bfloat16 through ml_dtypes)."""

from __future__ import annotations

from typing import Any

import dropout2d_reference as reference
import numpy as np

from conformance.adapters.base import FLOAT_DTYPES_BF16, Adapter, Capabilities


class ReferenceAdapter(Adapter):
    name = "reference"
    framework = "numpy"
    framework_version = np.__version__
    capabilities = Capabilities(
        inplace=True, seed=True, autograd=False, dtypes=FLOAT_DTYPES_BF16, three_d=True
    )

    def __init__(self) -> None:
        self._rng = np.random.default_rng()

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        return reference.dropout2d(x, p, training, inplace, rng=self._rng)

    def seed(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)
