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
  ``jax.random.key(s)``); without a seed it starts from OS entropy.  The split happens inside
  the jitted function, which returns the next key with the output: one dispatch a call instead
  of two (an eager ``split`` cost as much as the whole jitted draw on a 64 x 256 input).
- **Compilation.** One ``jax.jit`` function with ``p`` traced: a new p does not recompile,
  a new shape or dtype does (JAX always specialises on shapes; jit caches by shape and dtype).
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

import math
import os
import statistics
import time
from collections.abc import Callable, Hashable
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


class CompileWhenWorthIt:
    """``fn`` run eagerly for a setting until compiling it is worth it, then through ``jax.jit``.

    For frameworks whose dropout branches in Python on the rate (Flax, Keras), p must be a
    static argument of ``jax.jit``, so every (p, shape, dtype) compiles anew, while the suite
    draws from hundreds of such settings, most of them only a few times (measured at default
    level: 429 settings, 244 of them with fewer than 32 calls).  Eager calls cost a few ms
    each; a compilation costs hundreds of ms (0.2-1 s here).  The rule is ski rental: a
    setting runs eagerly until the time spent on it eagerly reaches the median of the
    compilations timed so far (first guess ``GUESS_S``), then compiles and runs jitted.  The
    total is at most about twice what the better choice in hindsight would cost for each
    setting.  ``fn`` must be a pure function of its arguments: eager and jitted calls then
    return the same values, so the choice never shows in the results.
    """

    #: the cost of a compilation before one has been timed (seconds, measured order)
    GUESS_S = 0.3

    def __init__(
        self,
        jax: Any,
        fn: Callable[..., Any],
        static_argnums: tuple[int, ...] = (),
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._fn = fn
        self._clock = clock
        self._jitted = jax.jit(fn, static_argnums=static_argnums)
        self._eager_s: dict[Hashable, float] = {}
        self._compile_s: list[float] = []

    def __call__(self, setting: Hashable, *args: Any) -> Any:
        spent = self._eager_s.get(setting, 0.0)
        if spent == math.inf:
            return self._jitted(*args)
        start = self._clock()
        if spent >= self._compile_estimate():
            out = self._jitted(*args)  # compiles here: jit compiles before it dispatches
            self._compile_s.append(self._clock() - start)
            self._eager_s[setting] = math.inf
            return out
        out = self._fn(*args)
        self._eager_s[setting] = spent + self._clock() - start
        return out

    def _compile_estimate(self) -> float:
        return statistics.median(self._compile_s[-16:]) if self._compile_s else self.GUESS_S

    def compiled(self) -> int:
        """How many settings were compiled (for tests and benchmarks)."""
        return sum(1 for s in self._eager_s.values() if s == math.inf)


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

        def step(key: Any, x: Any, p: Any) -> tuple[Any, Any]:
            key, sub = jax.random.split(key)
            return key, drop(sub, x, p)

        def step_vjp(key: Any, x: Any, p: Any, upstream: Any) -> tuple[Any, Any, Any]:
            key, sub = jax.random.split(key)
            y, pullback = jax.vjp(lambda v: drop(sub, v, p), x)
            (dx,) = pullback(upstream)
            return key, y, dx

        self._step = jax.jit(step)
        self._step_vjp = jax.jit(step_vjp)
        self.seed(entropy_seed())

    def to_native(self, x: np.ndarray) -> Any:
        with x64(self.jax):
            return self.jax.device_put(x, self._device)

    @staticmethod
    def _validate(p: float) -> float:
        p = float(p)
        if not 0.0 <= p <= 1.0:  # False for NaN too
            raise ValueError(f"dropout probability must be in [0, 1], got {p!r}")
        return p

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        p = self._validate(p)
        if inplace:
            raise ValueError("jax arrays are immutable: inplace=True is not supported")
        if not training:
            return x
        with x64(self.jax):
            self._key, y = self._step(self._key, x, p)
            return y

    def seed(self, seed: int) -> None:
        with x64(self.jax):
            # Committed to the device like the inputs (to_native), as the keys the jitted
            # step returns are: an uncommitted first key would cost a second compilation.
            self._key = self.jax.device_put(self.jax.random.key(int(seed)), self._device)

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        p = self._validate(p)
        with x64(self.jax):
            self._key, y, dx = self._step_vjp(self._key, x, p, upstream)
            return y, dx
