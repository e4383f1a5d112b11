"""PyTorch's ``torch.nn.functional.dropout2d`` (the module ``nn.Dropout2d`` calls the same op).

Device is selectable (``torch@cuda``); seeds go through ``torch.manual_seed``, which seeds
every device (on CPU, the CPU generator alone).  bfloat16 travels as ``ml_dtypes.bfloat16``
on the NumPy side: the bits are reinterpreted through uint16/int16 both ways, since
``torch.from_numpy`` knows no bfloat16.

On CPU the adapter runs torch with one intra-op thread (``DROPOUT2D_TORCH_THREADS`` overrides):
the suite makes thousands of calls on small tensors, where threading costs more than it gives
(measured here: 0.36 ms a call with one thread, 5.7 ms with two on a busy 2-core machine).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from conformance.adapters.base import FLOAT_DTYPES_BF16, Adapter, Capabilities


class TorchAdapter(Adapter):
    name = "torch"
    framework = "torch"
    capabilities = Capabilities(
        inplace=True, seed=True, autograd=True, dtypes=FLOAT_DTYPES_BF16, three_d=True
    )

    def __init__(self, device: str = "cpu") -> None:
        import torch

        self.torch = torch
        self.framework_version = torch.__version__
        self.device = str(torch.device(device))
        if self.device == "cpu":
            torch.set_num_threads(int(os.environ.get("DROPOUT2D_TORCH_THREADS", "1")))
        if self.device != "cpu":
            self.name = f"torch@{self.device}"
            _require_cuda(torch, torch.device(device))
            torch.empty(0, device=self.device)  # fail at load time if the device is absent

    def to_native(self, x: np.ndarray) -> Any:
        if any(s < 0 for s in x.strides):
            x = np.ascontiguousarray(x)
        # from_numpy keeps the strides, so a non-contiguous array stays non-contiguous.
        # same bits, same strides: a view, not a copy (kind first: dtype.name is slow)
        if x.dtype.kind == "V" and x.dtype.name == "bfloat16":
            t = self.torch.from_numpy(x.view(np.uint16)).view(self.torch.bfloat16)
        else:
            t = self.torch.from_numpy(x)
        return t if self.device == "cpu" else t.to(self.device)

    def to_numpy(self, y: Any) -> np.ndarray:
        # A view of the tensor's memory, not a copy: the array keeps the tensor alive, so the
        # result stays as the call left it unless the implementation itself writes to it again
        # (which results-kept is there to see); copying every output would double the suite's
        # memory traffic on large tensors.
        if not isinstance(y, self.torch.Tensor):
            raise TypeError(f"expected a torch.Tensor, got {type(y).__name__}")
        y = y.detach().cpu()
        if y.dtype == self.torch.bfloat16:
            return y.view(self.torch.int16).numpy().view(np.dtype("bfloat16"))
        return y.numpy()

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        return self.torch.nn.functional.dropout2d(x, p, training, inplace)

    def seed(self, seed: int) -> None:
        if self.device == "cpu":
            # the CPU generator alone: torch.manual_seed also queues a lazy seed for every
            # accelerator back end, formatting a stack trace each time (1.4 ms a call here)
            self.torch.default_generator.manual_seed(seed)
        else:
            self.torch.manual_seed(seed)

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        x = x.detach().clone().requires_grad_(True)
        y = self.torch.nn.functional.dropout2d(x, p, True, False)
        # d/dx sum(y * upstream) is upstream * dy/dx exactly (the product's backward multiplies
        # upstream by ones); autograd.grad(y, x, upstream) gives the same values but imports
        # torch.fx's symbolic shapes and sympy on first use (0.4 s a run)
        (y * upstream).sum().backward()
        return y, x.grad


def _require_cuda(torch: Any, device: Any) -> None:
    """A usage error naming what is missing, where torch itself would raise
    ``AssertionError: Torch not compiled with CUDA enabled`` or a driver's error text."""
    if device.type != "cuda":
        return
    from conformance.errors import SpecError

    if torch.version.cuda is None:
        raise SpecError(
            f"torch@{device}: no CUDA device is available: torch {torch.__version__} is a "
            "build without CUDA. Use --adapter torch for the CPU, or install a CUDA build "
            "of torch on a machine with an NVIDIA GPU")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if count == 0:
        raise SpecError(
            f"torch@{device}: no CUDA device is available: torch {torch.__version__} "
            f"(CUDA {torch.version.cuda}) finds no GPU (torch.cuda.is_available() is False: "
            "no device, no driver, or CUDA_VISIBLE_DEVICES hides them)")
    if device.index is not None and device.index >= count:
        raise SpecError(f"torch@{device}: there is no CUDA device {device.index}; this "
                        f"machine has {count} (cuda:0..cuda:{count - 1})")
