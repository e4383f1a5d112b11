"""Flax's Dropout used as channel dropout: ``broadcast_dims=(1, 2)`` on NHWC input.

Both APIs share one implementation in Flax 0.12 (``random.bernoulli(key, 1 - rate, shape)``
over the non-broadcast dims, then ``lax.select(mask, x / (1 - rate), 0)``), reached through
different state handling:

- ``flax-linen``: ``flax.linen.Dropout(rate=p, broadcast_dims=(1, 2), deterministic=not
  training)`` applied with ``rngs={'dropout': key}``; the adapter holds a PRNG key and splits
  it on every call, as a training loop does.  ``seed(s)`` resets it to ``jax.random.key(s)``.
- ``flax-nnx``: ``flax.nnx.Dropout(rate=p, broadcast_dims=(1, 2), rngs=rngs)`` with
  ``rngs = nnx.Rngs(dropout=seed)`` held by the adapter; one module per p is kept and called
  again and again (its forked RNG stream advances on every call, as in a model), train vs eval
  through ``deterministic=``.  ``seed(s)`` makes a new ``nnx.Rngs(dropout=s)`` and new modules.

Both are called eagerly (no ``jax.jit``), as a module called outside a jitted train step.

What the adapter does *not* do: validate p.  Flax's Dropout does not check ``rate``; the
suite's invalid-p check shows what it does with p < 0, p > 1, NaN and Inf.

Capabilities:

- inplace: no (JAX arrays are immutable).
- seed: yes (explicit keys / ``nnx.Rngs``).
- autograd: yes, through ``jax.vjp`` of one forward call with one key, so the backward pass
  uses the forward pass's mask.  For nnx the key is drawn from the module's own stream first
  (``module.rngs()``) and passed as ``rngs=key`` to the call inside ``jax.vjp``.
- dtypes: float16, float32, float64 and bfloat16 (``ml_dtypes`` on the NumPy side); float64
  exists in JAX only under x64, which these adapters enable around their own calls only (see
  ``jax_adapter``).
- three_d: no.  ``broadcast_dims=(1, 2)`` means (H, W) of a 4D NHWC tensor; on a 3D (H, W, C)
  input the same module would share the mask over (W, C) and drop rows of H, which is not
  channel dropout.  A 3D user would write ``broadcast_dims=(0, 1)``: another configuration.
"""

from __future__ import annotations

from typing import Any

from conformance.adapters.base import FLOAT_DTYPES_BF16, Adapter, Capabilities
from conformance.adapters.jax_adapter import JaxArrayMixin, entropy_seed, x64

BROADCAST_DIMS = (1, 2)  # H and W of NHWC

_CAPABILITIES = Capabilities(
    inplace=False, seed=True, autograd=True, dtypes=FLOAT_DTYPES_BF16, three_d=False
)


def _no_inplace(inplace: bool) -> None:
    if inplace:
        raise ValueError("jax arrays are immutable: inplace=True is not supported")


class FlaxLinenAdapter(JaxArrayMixin, Adapter):
    name = "flax-linen"
    framework = "flax.linen"
    layout = "NHWC"
    capabilities = _CAPABILITIES

    def __init__(self) -> None:
        import flax
        import flax.linen as nn
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp, self.nn = jax, jnp, nn
        self.framework_version = f"{flax.__version__} (jax {jax.__version__})"
        with x64(jax):
            self._key = jax.random.key(entropy_seed())

    def _next_key(self) -> Any:
        self._key, key = self.jax.random.split(self._key)
        return key

    def _module(self, p: float, training: bool) -> Any:
        return self.nn.Dropout(rate=p, broadcast_dims=BROADCAST_DIMS, deterministic=not training)

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        _no_inplace(inplace)
        with x64(self.jax):
            module = self._module(p, training)
            return module.apply({}, x, rngs={"dropout": self._next_key()})

    def seed(self, seed: int) -> None:
        with x64(self.jax):
            self._key = self.jax.random.key(int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        with x64(self.jax):
            module = self._module(p, True)
            key = self._next_key()
            y, pullback = self.jax.vjp(
                lambda v: module.apply({}, v, rngs={"dropout": key}), x
            )
            (dx,) = pullback(upstream)
            return y, dx


class FlaxNnxAdapter(JaxArrayMixin, Adapter):
    name = "flax-nnx"
    framework = "flax.nnx"
    layout = "NHWC"
    capabilities = _CAPABILITIES

    def __init__(self) -> None:
        import flax
        import jax
        import jax.numpy as jnp
        from flax import nnx

        self.jax, self.jnp, self.nnx = jax, jnp, nnx
        self.framework_version = f"{flax.__version__} (jax {jax.__version__})"
        self._modules: dict[float, Any] = {}
        self.seed(entropy_seed())

    def _module(self, p: float) -> Any:
        # One module per p, kept: a model holds its Dropout and calls it every step.
        module = self._modules.get(p)
        if module is None:
            module = self.nnx.Dropout(rate=p, broadcast_dims=BROADCAST_DIMS, rngs=self._rngs)
            self._modules[p] = module
        return module

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        _no_inplace(inplace)
        with x64(self.jax):
            return self._module(p)(x, deterministic=not training)

    def seed(self, seed: int) -> None:
        with x64(self.jax):
            self._rngs = self.nnx.Rngs(dropout=int(seed))
        self._modules = {}

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        with x64(self.jax):
            module = self._module(p)
            key = module.rngs()  # the module's own stream, drawn once for both passes
            y, pullback = self.jax.vjp(
                lambda v: module(v, deterministic=False, rngs=key), x
            )
            (dx,) = pullback(upstream)
            return y, dx
