"""MLX's ``mlx.nn.Dropout2d`` (NHWC, or unbatched HWC), on the CPU (``pip install "mlx[cpu]"``).

MLX 0.32 computes ``mask = mx.random.bernoulli(1 - p, shape=(N, 1, 1, C))`` and
``(mask * x) * (1 / (1 - p))``: a multiplicative mask (dropped maps of negative values are
-0.0, NaN/Inf become NaN) and a scale rounded to the dtype.  The constructor rejects
``p < 0`` and ``p >= 1`` -- p = 1 included -- but a NaN p passes (every comparison is False).
One module per p is kept; ``module.train(training)`` switches the mode before each call.

Conversions: ``mx.array(x)`` turns float64 NumPy data into float32 unless asked, so the adapter
passes ``dtype=`` explicitly; float64 arrays exist on the CPU device.  Non-contiguous input is
made contiguous first (``mx.array`` copies; MLX exposes no strides).

Capabilities: inplace no (MLX arrays are immutable); seed yes (``mx.random.seed``, MLX's
global key); autograd yes (``mx.vjp`` of one forward call); dtypes float16, float32, float64
(float64 on the CPU only); three_d yes (HWC input gets a (1, 1, C) mask: unbatched).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.adapters.base import ALL_FLOAT_DTYPES, Adapter, Capabilities


class MlxAdapter(Adapter):
    name = "mlx"
    framework = "mlx"
    layout = "NHWC"
    capabilities = Capabilities(
        inplace=False, seed=True, autograd=True, dtypes=ALL_FLOAT_DTYPES, three_d=True
    )

    def __init__(self, device: str = "cpu") -> None:
        import mlx.core as mx
        import mlx.nn as nn

        self.mx, self.nn = mx, nn
        self.framework_version = mx.__version__
        mx.set_default_device(mx.cpu if device == "cpu" else mx.gpu)
        self.device = device
        if device != "cpu":
            self.name = f"mlx@{device}"
        self._dtypes = {
            np.dtype("float16"): mx.float16,
            np.dtype("float32"): mx.float32,
            np.dtype("float64"): mx.float64,
        }
        self._modules: dict[float, Any] = {}

    def to_native(self, x: np.ndarray) -> Any:
        dtype = self._dtypes.get(x.dtype)
        x = np.ascontiguousarray(x)
        return self.mx.array(x) if dtype is None else self.mx.array(x, dtype=dtype)

    def to_numpy(self, y: Any) -> np.ndarray:
        if not isinstance(y, self.mx.array):
            raise TypeError(f"expected an mlx.core.array, got {type(y).__name__}")
        return np.array(y, copy=True)

    def _module(self, p: float, training: bool) -> Any:
        module = self._modules.get(p)
        if module is None:
            module = self.nn.Dropout2d(p=p)
            self._modules[p] = module
        module.train(training)
        return module

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        if inplace:
            raise ValueError("mlx arrays are immutable: inplace=True is not supported")
        return self._module(p, training)(x)

    def seed(self, seed: int) -> None:
        self.mx.random.seed(int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        module = self._module(p, True)
        (y,), (dx,) = self.mx.vjp(lambda v: module(v), [x], [upstream])
        return y, dx
