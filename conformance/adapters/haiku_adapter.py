"""dm-haiku's ``hk.dropout`` used as channel dropout: ``broadcast_dims=(-3, -2)`` on NHWC input.

Haiku has no Dropout2d and no dropout module: ``hk.dropout(rng, rate, x, broadcast_dims)`` is
the one dropout, a pure function of an explicit PRNG key (inside ``hk.transform`` users pass
``hk.next_rng_key()``; the key is all the transform adds, so the adapter passes one directly).
Sharing the mask over the spatial axes is how a Haiku user writes channel dropout; the negative
axes name H and W of NHWC and of unbatched HWC alike, so one configuration covers 4D and 3D.

What dm-haiku 0.0.17 computes (``haiku._src.basic.dropout_impl``)::

    if rate < 0 or rate >= 1: raise ValueError("rate must be in [0, 1).")
    if rate == 0.0: return x
    keep = jax.random.bernoulli(rng, 1.0 - rate, shape=broadcast_shape)
    return keep * x / (1.0 - rate)

- **Validation.** p = 1 is rejected (the contract wants zeros), and NaN passes both
  comparisons: ``rate=nan`` returns all NaN (``bernoulli(nan)`` keeps nothing, ``/ nan``).
- **Mask.** ``keep * x`` with a boolean ``keep`` is, after XLA's CPU simplifier, a select: a
  dropped map of NaN or Inf is ``+0.0`` and a dropped negative map is ``+0.0`` (not ``-0.0``),
  as with Flax and the ``jax`` adapter.
- **Rounding.** ``/ (1.0 - rate)`` with a weakly-typed Python float happens in x's dtype:
  ``fl(x / fl(1 - p))``, within R2's tolerance.  The uniforms are float32 whatever x's dtype.
- **Evaluation mode** has no flag: a model simply does not call ``hk.dropout``, so the
  adapter returns ``x`` (as for ``tf.nn.dropout``).

Called eagerly, like the Flax adapters: a jitted caller would need ``rate`` static (Haiku's
validation reads its value), so every new p would recompile.

Capabilities: inplace no (JAX arrays are immutable); seed yes (explicit keys: the adapter holds
one and splits it on every call; ``seed(s)`` resets it to ``jax.random.key(s)``); autograd yes
(``jax.vjp`` of one call with one key); dtypes float16, float32, float64 (under the scoped x64
of ``jax_adapter``) and bfloat16 (JAX's bfloat16 is ``ml_dtypes.bfloat16``); three_d yes
(unbatched HWC: the mask has shape (1, 1, C)).
"""

from __future__ import annotations

from typing import Any

from conformance.adapters._jax_keyed import ExplicitKeyAdapter

#: H and W of NHWC, and of unbatched HWC
BROADCAST_DIMS = (-3, -2)


class HaikuAdapter(ExplicitKeyAdapter):
    name = "haiku"
    framework = "haiku (hk.dropout, broadcast_dims=(-3, -2))"

    def __init__(self) -> None:
        import haiku as hk
        import jax
        import jax.numpy as jnp

        self.hk, self.jax, self.jnp = hk, jax, jnp
        self.framework_version = f"{hk.__version__} (jax {jax.__version__})"
        self._start()

    def _drop(self, key: Any, x: Any, p: float, training: bool) -> Any:
        if not training:
            return x  # hk.dropout has no training flag: evaluation is not calling it
        return self.hk.dropout(key, p, x, broadcast_dims=BROADCAST_DIMS)
