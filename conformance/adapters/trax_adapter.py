"""Trax's ``trax.layers.Dropout`` with ``shared_axes=(-3, -2)``: channel dropout on NHWC input.

Trax (1.4.1, its last release; JAX backend) has no Dropout2d; its Dropout shares the mask over
``shared_axes``, and sharing it over H and W is how a Trax user writes channel dropout.  The
negative axes name H and W of NHWC and of unbatched HWC alike.  What it computes
(``trax.layers.core.Dropout.forward``)::

    if mode != "train" or rate == 0.0: return x
    keep = fastmath.random.bernoulli(rng, 1.0 - rate, mask_shape)
    return x * (keep.astype(x.dtype) / (1.0 - rate))

- **No validation.** p = 1 divides 0 by 0: all NaN; NaN does the same; p > 1 and inf give
  ``-0.0`` everywhere; p < 0 keeps everything and scales by 1/(1 - p) < 1.
- **A multiplicative mask**: dropped maps of NaN and Inf become NaN, negative maps ``-0.0``.
- **Mode** is fixed at construction (``mode="train"`` or ``"eval"``), so the adapter keeps one
  layer per (p, mode), initialised once (``layer.init``; Dropout has no weights).
- **Keys.** A layer called as ``layer(x)`` reuses the key it was initialised with: every call
  draws the same mask.  Trax's training loop passes a fresh key each step; so does the adapter,
  through the pure function ``layer.pure_fn(x, weights, state, rng)``.  It holds a key and
  splits it on every call; ``seed(s)`` resets it to ``jax.random.PRNGKey(s)``.

Capabilities: inplace no (JAX arrays); seed yes; autograd yes (``jax.vjp`` of one
``pure_fn`` call with one key); dtypes float16, float32, float64 (under the scoped x64 of
``jax_adapter``) and bfloat16; three_d yes (unbatched HWC: a (1, 1, C) mask).
"""

from __future__ import annotations

from typing import Any

from conformance.adapters._jax_keyed import ExplicitKeyAdapter
from conformance.adapters.jax_adapter import x64

#: H and W of NHWC, and of unbatched HWC
SHARED_AXES = (-3, -2)


class TraxAdapter(ExplicitKeyAdapter):
    name = "trax"
    framework = "trax (layers.Dropout, shared_axes=(-3, -2))"

    def __init__(self) -> None:
        import importlib.metadata

        import jax
        import jax.numpy as jnp
        import trax.layers as tl
        from trax import shapes

        self.jax, self.jnp, self.tl, self.shapes = jax, jnp, tl, shapes
        version = importlib.metadata.version("trax")  # trax has no __version__
        self.framework_version = f"{version} (jax {jax.__version__})"
        self._layers: dict[tuple[float, bool], Any] = {}
        self._start()

    def _new_key(self, seed: int) -> Any:
        return self.jax.random.PRNGKey(seed)  # the raw uint32 keys Trax's layers take

    def _layer(self, p: float, training: bool, x: Any) -> Any:
        layer = self._layers.get((p, training))
        if layer is None:
            mode = "train" if training else "eval"
            layer = self.tl.Dropout(rate=p, shared_axes=SHARED_AXES, mode=mode)
            layer.init(self.shapes.signature(x))
            self._layers[(p, training)] = layer
        return layer

    def _drop(self, key: Any, x: Any, p: float, training: bool) -> Any:
        layer = self._layer(p, training, x)
        y, _ = layer.pure_fn(x, layer.weights, layer.state, key)
        return y

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        with x64(self.jax):
            self._layer(p, True, x)  # initialised from the input itself, not from vjp's tracer
        return super().grad(x, p, upstream)
