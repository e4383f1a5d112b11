"""MindSpore's channel dropout on the CPU, PyNative mode (MindSpore's default): NCHW.

- ``mindspore``: ``mindspore.ops.dropout2d(x, p, training)``.
- ``mindspore-nn``: ``mindspore.nn.Dropout2d(p)``, one cell per p kept and called again and
  again as in a model, ``cell.set_train(training)`` before each call (a new cell is in
  evaluation mode until ``set_train``).

Both run the ``Dropout2D(keep_prob=1 - p)`` primitive, whose CPU kernel draws one Bernoulli
decision per (n, c) and scales the kept maps in float32.  What MindSpore 2.10.0 does,
each confirmed by hand (the README says what was run and what it printed):

- **Validation.** ``ops.dropout2d`` checks ``keep_prob`` in [0, 1] only in training mode;
  ``nn.Dropout2d`` checks p in [0, 1] at construction.  NaN passes both (every comparison is
  False) and gives zeros.  ``nn.Dropout2d`` wants a Python float (``p=1`` is a TypeError), so
  the adapter passes ``float(p)``.
- **float64 is computed in float32.**  A kept value is x * (1 / (1 - p)) done in float32:
  1.4285714626312256 for x = 1 at p = 0.3, 1.5e8 float64 ulps from 1/0.7; even at p = 0
  ``ops.dropout2d`` returns the float32 rounding of x (``nn.Dropout2d`` returns x itself at
  p = 0); gradients likewise.  float16 and float32 are within half an ulp.
- **Masks.** Dropped maps are ``+0.0`` whatever they held (NaN, Inf and negative values
  alike): a select, not a multiplication.
- **Seeds.** None: ``mindspore.set_seed`` and ``mindspore.manual_seed`` do not reach the
  kernel.  Each (p, shape) combination gets its own random stream, started from the same fixed
  state in every process: every process draws the same masks, the first call with a new shape
  gives the same mask as the first call with any other, and masks drawn at different p are
  nested (the first mask at p = 0.3 keeps every channel that the first mask at p = 0.5 keeps).
  capabilities.seed is False.
- ``mindspore.mint.nn.functional.dropout2d`` (the torch-style API, seeded through the default
  generator) is Ascend-only: on the CPU it raises ``RuntimeError: Not implement exception``.

Capabilities: inplace no (neither API has the ``inplace`` parameter its docs announce for
"after 2.9.0"); seed no (above); autograd yes (``mindspore.vjp`` of one forward call; its
pullback is called once: a second call would recompute the forward pass and draw a new mask);
dtypes float16, float32, float64 (the CPU kernel has no bfloat16: "Select CPU
operator[Dropout2D] fail! Unsupported data type"); three_d no (the primitive requires rank 4).
Non-contiguous NumPy input is made contiguous first (``Tensor`` copies it anyway).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from conformance.adapters.base import ALL_FLOAT_DTYPES, Adapter, Capabilities

_CAPABILITIES = Capabilities(
    inplace=False, seed=False, autograd=True, dtypes=ALL_FLOAT_DTYPES, three_d=False
)


class MindSporeAdapter(Adapter):
    name = "mindspore"
    framework = "mindspore (ops.dropout2d)"
    capabilities = _CAPABILITIES

    def __init__(self) -> None:
        # MindSpore logs a WARNING line for every empty tensor it casts (the suite makes many);
        # GLOG_v=3 keeps errors only, unless the user chose a level.
        os.environ.setdefault("GLOG_v", "3")
        import mindspore

        self.ms = mindspore
        self.framework_version = mindspore.__version__

    def to_native(self, x: np.ndarray) -> Any:
        return self.ms.Tensor(np.ascontiguousarray(x))

    def to_numpy(self, y: Any) -> np.ndarray:
        if not isinstance(y, self.ms.Tensor):
            raise TypeError(f"expected a mindspore.Tensor, got {type(y).__name__}")
        return np.array(y.asnumpy(), copy=True)

    def _call(self, x: Any, p: float, training: bool) -> Any:
        return self.ms.ops.dropout2d(x, float(p), training)

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        if inplace:
            raise ValueError("mindspore's dropout2d has no inplace mode")
        return self._call(x, p, training)

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        y, pullback = self.ms.vjp(lambda v: self._call(v, p, True), x)
        dx = pullback(upstream)  # once: a second call recomputes the forward pass
        return y, dx[0] if isinstance(dx, tuple) else dx


class MindSporeNnAdapter(MindSporeAdapter):
    name = "mindspore-nn"
    framework = "mindspore (nn.Dropout2d)"

    def __init__(self) -> None:
        super().__init__()
        self._cells: dict[float, Any] = {}

    def _call(self, x: Any, p: float, training: bool) -> Any:
        cell = self._cells.get(p)
        if cell is None:
            cell = self.ms.nn.Dropout2d(p=float(p))
            self._cells[p] = cell
        cell.set_train(training)
        return cell(x)
