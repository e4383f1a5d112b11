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

**Compilation.** Calls that draw a mask run under ``jax.jit``, as in a jitted train step, once
a setting is drawn from often enough: the eager module call dispatches every primitive
separately (7 ms a call for linen, 2 ms for nnx, against 0.4-0.6 ms jitted).  Flax branches in
Python on ``rate`` (``if self.rate == 0.0``), so p is a static argument and every (p, shape,
dtype) compiles anew; ``jax_adapter.CompileWhenWorthIt`` runs a setting eagerly until the time
spent on it would have paid for its compilation.  The key is split (linen) or the module's
stream advanced (nnx) inside the step function, so a jitted call is one dispatch.  nnx goes
through its functional API (``nnx.split`` once per module, ``nnx.merge`` inside the step, the
new stream state returned), which advances the same stream as the module's own call.  Calls
that draw nothing (evaluation mode, p = 0) run eagerly: Flax returns its input object there,
and the report's findings should describe Flax, not ``jax.jit`` (whose outputs are always new
arrays).

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
from conformance.adapters.jax_adapter import (
    CompileWhenWorthIt,
    JaxArrayMixin,
    entropy_seed,
    x64,
)

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

        def step(key: Any, x: Any, p: float) -> tuple[Any, Any]:
            key, sub = jax.random.split(key)
            return key, self._module(p, True).apply({}, x, rngs={"dropout": sub})

        def step_vjp(key: Any, x: Any, p: float, upstream: Any) -> tuple[Any, Any, Any]:
            key, sub = jax.random.split(key)
            module = self._module(p, True)
            y, pullback = jax.vjp(lambda v: module.apply({}, v, rngs={"dropout": sub}), x)
            (dx,) = pullback(upstream)
            return key, y, dx

        self._step = CompileWhenWorthIt(jax, step, static_argnums=(2,))
        self._step_vjp = CompileWhenWorthIt(jax, step_vjp, static_argnums=(2,))

    def _module(self, p: float, training: bool) -> Any:
        return self.nn.Dropout(rate=p, broadcast_dims=BROADCAST_DIMS, deterministic=not training)

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        _no_inplace(inplace)
        with x64(self.jax):
            if not training or p == 0.0:  # draws nothing: eager (see the module docstring)
                return self._module(p, training).apply({}, x)
            self._key, y = self._step((p, x.shape, x.dtype), self._key, x, p)
            return y

    def seed(self, seed: int) -> None:
        with x64(self.jax):
            self._key = self.jax.random.key(int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        with x64(self.jax):
            self._key, y, dx = self._step_vjp((p, x.shape, x.dtype), self._key, x, p, upstream)
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
        # p -> (graphdef, state) of that p's module: one module per p, kept, as a model holds
        # its Dropout and calls it every step; the state (its RNG stream) advances each call.
        self._modules: dict[float, tuple[Any, Any]] = {}

        def step(graphdef: Any, state: Any, x: Any) -> tuple[Any, Any]:
            module = nnx.merge(graphdef, state)
            y = module(x, deterministic=False)
            return nnx.state(module), y

        def step_vjp(graphdef: Any, state: Any, x: Any, upstream: Any) -> tuple[Any, Any, Any]:
            module = nnx.merge(graphdef, state)
            key = module.rngs()  # the module's own stream, drawn once for both passes
            y, pullback = jax.vjp(lambda v: module(v, deterministic=False, rngs=key), x)
            (dx,) = pullback(upstream)
            return nnx.state(module), y, dx

        self._step = CompileWhenWorthIt(jax, step, static_argnums=(0,))
        self._step_vjp = CompileWhenWorthIt(jax, step_vjp, static_argnums=(0,))
        self.seed(entropy_seed())

    def _module(self, p: float) -> tuple[Any, Any]:
        split = self._modules.get(p)
        if split is None:
            module = self.nnx.Dropout(rate=p, broadcast_dims=BROADCAST_DIMS, rngs=self._rngs)
            split = self._modules[p] = self.nnx.split(module)
        return split

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        _no_inplace(inplace)
        with x64(self.jax):
            if not training or p == 0.0:  # draws nothing: eager (see the module docstring)
                return self.nnx.Dropout(rate=p, broadcast_dims=BROADCAST_DIMS)(
                    x, deterministic=not training
                )
            graphdef, state = self._module(p)
            state, y = self._step((p, x.shape, x.dtype), graphdef, state, x)
            self._modules[p] = (graphdef, state)
            return y

    def seed(self, seed: int) -> None:
        with x64(self.jax):
            self._rngs = self.nnx.Rngs(dropout=int(seed))
        self._modules = {}

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        with x64(self.jax):
            graphdef, state = self._module(p)
            state, y, dx = self._step_vjp((p, x.shape, x.dtype), graphdef, state, x, upstream)
            self._modules[p] = (graphdef, state)
            return y, dx
