"""Jittor's ``jittor.nn.Dropout2d`` on the CPU (NCHW, or unbatched CHW).

**Import settings.** By default ``import jittor`` looks for ``nvcc`` and, finding none,
downloads a CUDA toolkit, and downloads oneDNN (MKL) to link against.  Both are switched off
by Jittor's own environment settings, which the adapter sets before the import unless the
user set them: ``nvcc_path=""`` (no CUDA; ``jittor_utils.install_cuda`` returns early) and
``use_mkl=0`` (``compile_extern.setup_mkl`` returns early); ``log_silent=1`` keeps Jittor's
compile progress off the suite's output.  Jittor compiles its core with the system C++
compiler on first import (about 11 minutes on 2 cores; cached under ``~/.cache/jittor``) and
every new operator after that (seconds, cached too).

What jittor 1.3.11.0 computes (``Dropout2d.execute``)::

    if self.p > 0 and self.is_train:
        if self.p == 1: output = jt.zeros(input.shape)            # float32, whatever x is
        else: output = x * (jt.random(x.shape[:-2]) > p).int().broadcast(...) / (1.0 - p)

- A multiplicative mask: dropped maps of NaN and Inf become NaN, negative maps ``-0.0``.
- The int32 mask promotes float16 (and bfloat16) to float32 in training mode; p = 1 returns
  float32 zeros for every dtype.  Evaluation mode and p = 0 return the input itself.
- p is checked with ``assert 0 <= p <= 1`` at construction (NaN and Inf fail it, with
  ``AssertionError``; under ``python -O`` nothing is checked).
- The module starts in evaluation mode (``is_train=False``), and so does the functional
  ``jittor.nn.dropout2d(x, p, is_train=False)``: the adapter calls ``train()`` / ``eval()``
  on one module per p, kept and called again and again as in a model.
- 3D input gets a mask of shape ``x.shape[:-2]``, i.e. unbatched (C, H, W) -- although the
  docstring says ``[N,C,L]``.

Conversions: ``jt.array`` turns float64 NumPy data into float32 (``jt.flags.
auto_convert_64_to_32``), so the adapter passes the dtype; bfloat16 goes through float32 (exact
both ways) and ``Var.bfloat16()``, and comes back as ``ml_dtypes.bfloat16``.

Capabilities: inplace no (no ``inplace`` parameter); seed yes (``jt.set_seed``, Jittor's own
generator -- not ``set_global_seed``, which also reseeds Python's and NumPy's global state);
autograd yes (``jt.grad`` of ``sum(y * upstream)``, evaluated together with y so both use one
mask); dtypes float32 first (the checks that use one dtype test the dtype Jittor keeps), then
float16, float64 and bfloat16; three_d yes.
"""

from __future__ import annotations

import os
from typing import Any

import ml_dtypes
import numpy as np

from conformance.adapters.base import Adapter, Capabilities

#: Jittor's documented environment settings for a CPU-only import without downloads
JITTOR_ENV = {"nvcc_path": "", "use_mkl": "0", "log_silent": "1"}


def import_jittor() -> Any:
    """Import Jittor for the CPU without downloads (see the module docstring)."""
    for key, value in JITTOR_ENV.items():
        os.environ.setdefault(key, value)
    import jittor

    jittor.flags.use_cuda = 0
    return jittor


class JittorAdapter(Adapter):
    name = "jittor"
    framework = "jittor (nn.Dropout2d)"
    capabilities = Capabilities(
        inplace=False,
        seed=True,
        autograd=True,
        dtypes=("float32", "float16", "float64", "bfloat16"),
        three_d=True,
    )

    def __init__(self) -> None:
        self.jt = import_jittor()
        self.framework_version = self.jt.__version__
        self._modules: dict[float, Any] = {}

    def to_native(self, x: np.ndarray) -> Any:
        x = np.ascontiguousarray(x)
        if x.dtype == np.dtype(ml_dtypes.bfloat16):
            return self.jt.array(x.astype(np.float32)).bfloat16()
        return self.jt.array(x, dtype=x.dtype.name)

    def to_numpy(self, y: Any) -> np.ndarray:
        if not isinstance(y, self.jt.Var):
            raise TypeError(f"expected a jittor.Var, got {type(y).__name__}")
        if y.dtype == self.jt.bfloat16:
            return y.float32().numpy().astype(ml_dtypes.bfloat16)
        return np.array(y.numpy(), copy=True)

    def _module(self, p: float, training: bool) -> Any:
        module = self._modules.get(p)
        if module is None:
            module = self.jt.nn.Dropout2d(p=p)
            self._modules[p] = module
        if training:
            module.train()
        else:
            module.eval()
        return module

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        if inplace:
            raise ValueError("jittor's Dropout2d has no inplace mode")
        return self._module(p, training)(x)

    def seed(self, seed: int) -> None:
        self.jt.set_seed(int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        y = self._module(p, True)(x)
        dx = self.jt.grad((y * upstream).sum(), x)
        self.jt.sync([y, dx])  # one evaluation of the lazy graph: one mask for both
        return y, dx
