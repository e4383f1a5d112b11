"""A channel dropout written directly with ``jax.random``: the model of a custom JAX implementation.

What it computes (select style, like ``flax.linen.Dropout``)::

    keep = jax.random.bernoulli(key, 1 - p, shape=x.shape[:-2] + (1, 1))
    y = jnp.where(keep, x / (1 - p), 0)

Choices, and why:

- **Select, not multiply.** A dropped map is exactly ``+0.0``: NaN and Inf in dropped maps are
  zeroed, negative values do not become ``-0.0``.  At p = 1, ``x / 0`` is computed but never
  selected, so the output is zeros without NaN.  The gradient of the select is
  ``where(keep, upstream / (1 - p), 0)``, with the forward pass's mask.
- **Rounding.** ``x / (1 - p)`` with ``p`` a weakly-typed scalar is computed in x's dtype, i.e.
  ``fl(x / fl(1 - p))``: within R2's tolerance.
- **Keys.** The adapter holds a PRNG key and splits it on every call (``seed(s)`` resets it to
  ``jax.random.key(s)``); without a seed it starts from OS entropy.
- **Compilation.** One ``jax.jit`` function with ``p`` traced: a new p does not recompile,
  a new shape or dtype does (JAX always specialises on shapes).
- **Validation.** p outside [0, 1] or NaN raises ``ValueError`` before anything is traced, in
  training and in evaluation mode: this is "our" implementation, so it follows the contract.
- **3D input** is unbatched (C, H, W): the mask has shape ``(C, 1, 1)``.
- **float64.** JAX computes in float64 only with ``jax_enable_x64``; with the default
  configuration ``jnp.asarray`` silently turns float64 into float32.  Flipping the global flag
  would change every other JAX user in the process (Flax, Keras on JAX) depending on which
  adapter loaded first, so the JAX adapters enable x64 only around their own conversions and
  calls, with the thread-local ``jax.enable_x64(True)`` context.  float16, float32 and float64
  are then all supported.
- **Memory layout.** JAX arrays have no strides: non-contiguous NumPy input is copied by
  ``jnp.asarray``, so the suite's strided and channels-last cases test only the conversion.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from conformance.adapters.base import FLOAT_DTYPES_BF16, Adapter, Capabilities


def x64(jax: Any) -> AbstractContextManager[Any]:
    """The thread-local context in which float64 exists in JAX (see the module docstring)."""
    return jax.enable_x64(True)


def entropy_seed() -> int:
    """A fresh seed for adapters that were not seeded (so unseeded runs differ)."""
    return int.from_bytes(os.urandom(4), "little")


class JaxArrayMixin:
    """NumPy <-> jax.Array conversions shared by the JAX-based adapters, inside x64."""

    jax: Any
    jnp: Any

    def to_native(self, x: np.ndarray) -> Any:
        with x64(self.jax):
            return self.jnp.asarray(x)

    def to_numpy(self, y: Any) -> np.ndarray:
        if not isinstance(y, self.jax.Array):
            raise TypeError(f"expected a jax.Array, got {type(y).__name__}")
        return np.array(y, copy=True)


class JaxAdapter(JaxArrayMixin, Adapter):
    name = "jax"
    framework = "jax"
    capabilities = Capabilities(
        inplace=False, seed=True, autograd=True, dtypes=FLOAT_DTYPES_BF16, three_d=True
    )

    def __init__(self, device: str = "cpu") -> None:
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.framework_version = jax.__version__
        devices = jax.devices(device)  # raises if the platform is absent
        self._device = devices[0]
        self.device = str(self._device.platform)
        if device != "cpu":
            self.name = f"jax@{device}"

        def drop(key: Any, x: Any, p: Any) -> Any:
            keep = jax.random.bernoulli(key, 1.0 - p, shape=(*x.shape[:-2], 1, 1))
            return jnp.where(keep, x / (1.0 - p), jnp.zeros((), x.dtype))

        def drop_vjp(key: Any, x: Any, p: Any, upstream: Any) -> tuple[Any, Any]:
            y, pullback = jax.vjp(lambda v: drop(key, v, p), x)
            (dx,) = pullback(upstream)
            return y, dx

        self._drop = jax.jit(drop)
        self._drop_vjp = jax.jit(drop_vjp)
        with x64(jax):
            self._key = jax.random.key(entropy_seed())

    def to_native(self, x: np.ndarray) -> Any:
        with x64(self.jax):
            return self.jax.device_put(x, self._device)

    @staticmethod
    def _validate(p: float) -> float:
        p = float(p)
        if not 0.0 <= p <= 1.0:  # False for NaN too
            raise ValueError(f"dropout probability must be in [0, 1], got {p!r}")
        return p

    def _next_key(self) -> Any:
        self._key, key = self.jax.random.split(self._key)
        return key

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        p = self._validate(p)
        if inplace:
            raise ValueError("jax arrays are immutable: inplace=True is not supported")
        if not training:
            return x
        with x64(self.jax):
            return self._drop(self._next_key(), x, p)

    def seed(self, seed: int) -> None:
        with x64(self.jax):
            self._key = self.jax.random.key(int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        p = self._validate(p)
        with x64(self.jax):
            return self._drop_vjp(self._next_key(), x, p, upstream)
