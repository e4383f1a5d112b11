"""PaddlePaddle's ``paddle.nn.functional.dropout2d`` (NCHW, ``mode="upscale_in_train"``), on CPU.

``dropout2d`` calls ``dropout(x, p, axis=[0, 1])``: one Bernoulli decision per (n, c),
multiplied in (a multiplicative mask: dropped maps of negative values are -0.0 and NaN/Inf
become NaN).  It rejects p < 0, p > 1 and infinite p with ``ValueError`` -- but not NaN.

Non-contiguous NumPy input is made contiguous before ``paddle.to_tensor`` (which copies).

Capabilities:

- inplace: no (``dropout2d`` has no ``inplace`` parameter).
- seed: yes, ``paddle.seed(s)``.
- autograd: yes, ``paddle.grad`` of one forward call (the mask is saved for backward).
- dtypes: float32 and float64.  float16 is not offered on CPU: Paddle 3.3 has no CPU
  float16 kernel for the ``multiply`` the op uses (``RuntimeError (NotFound) The kernel with
  key (CPU, Undefined(AnyLayout), float16) of kernel `multiply` is not registered``).
- three_d: no (``ValueError: dimensions of x should be 4, but received 3 != 4``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.adapters.base import Adapter, Capabilities


class PaddleAdapter(Adapter):
    name = "paddle"
    framework = "paddle"
    capabilities = Capabilities(
        inplace=False, seed=True, autograd=True, dtypes=("float32", "float64"), three_d=False
    )

    def __init__(self, device: str = "cpu") -> None:
        import paddle

        self.paddle = paddle
        self.framework_version = paddle.__version__
        paddle.device.set_device(device)
        self.device = device
        if device != "cpu":
            self.name = f"paddle@{device}"

    def to_native(self, x: np.ndarray) -> Any:
        return self.paddle.to_tensor(np.ascontiguousarray(x))

    def to_numpy(self, y: Any) -> np.ndarray:
        if not isinstance(y, self.paddle.Tensor):
            raise TypeError(f"expected a paddle.Tensor, got {type(y).__name__}")
        return np.array(y.numpy(), copy=True)

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        if inplace:
            raise ValueError("paddle's dropout2d has no inplace mode")
        return self.paddle.nn.functional.dropout2d(x, p=p, training=training)

    def seed(self, seed: int) -> None:
        self.paddle.seed(int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        x = x.detach().clone()
        x.stop_gradient = False
        y = self.paddle.nn.functional.dropout2d(x, p=p, training=True)
        (dx,) = self.paddle.grad(y, x, upstream)
        return y.detach(), dx
