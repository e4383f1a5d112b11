"""What the adapters of JAX libraries whose dropout is a pure function of an explicit PRNG key
share (dm-haiku's ``hk.dropout``, Trax's ``Dropout.pure_fn``).

The adapter holds a key and splits it on every call; ``seed(s)`` resets it; the gradient is
``jax.vjp`` of one call under one key, so the backward pass sees the forward pass's mask.  Both
libraries share the mask over H and W of NHWC (and of unbatched HWC), and JAX arrays are
immutable, so the layout and capabilities are the same too.  A subclass says how a key is made
from a seed and what one call computes.
"""

from __future__ import annotations

from typing import Any

from conformance.adapters.base import FLOAT_DTYPES_BF16, Adapter, Capabilities
from conformance.adapters.jax_adapter import JaxArrayMixin, entropy_seed, x64


class ExplicitKeyAdapter(JaxArrayMixin, Adapter):
    """Base of the adapters whose library takes the PRNG key as an argument of each call."""

    layout = "NHWC"
    capabilities = Capabilities(
        inplace=False,
        seed=True,
        autograd=True,
        dtypes=FLOAT_DTYPES_BF16,
        three_d=True,
    )

    def _new_key(self, seed: int) -> Any:
        """The library's key for ``seed`` (a subclass may want the legacy uint32 keys)."""
        return self.jax.random.key(seed)

    def _drop(self, key: Any, x: Any, p: float, training: bool) -> Any:
        """One call of the library's dropout under ``key``."""
        raise NotImplementedError

    def _start(self) -> None:
        """Seed from OS entropy: unseeded runs differ (call at the end of ``__init__``)."""
        self.seed(entropy_seed())

    def _next_key(self) -> Any:
        self._key, key = self.jax.random.split(self._key)
        return key

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        if inplace:
            raise ValueError("jax arrays are immutable: inplace=True is not supported")
        with x64(self.jax):
            return self._drop(self._next_key(), x, p, training)

    def seed(self, seed: int) -> None:
        with x64(self.jax):
            self._key = self._new_key(int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        with x64(self.jax):
            key = self._next_key()
            y, pullback = self.jax.vjp(lambda v: self._drop(key, v, p, True), x)
            (dx,) = pullback(upstream)
            return y, dx
