"""Keras 3's ``keras.layers.SpatialDropout2D``, on whichever backend Keras runs.

- ``keras``: ``data_format="channels_last"`` on NHWC input (layout "NHWC").
- ``keras-channels-first``: ``data_format="channels_first"`` on NCHW input.

The layer is called with ``training=True/False`` on backend tensors made by
``keras.ops.convert_to_tensor``.  One layer per p is kept and called again and again, as in a
model; its ``SeedGenerator`` advances on every call.

**Compilation (JAX backend).** Calls that draw a mask run the layer under ``jax.jit``, as a
Keras train step does on JAX, once a setting is drawn from often enough: the layer's
``__call__`` (autocasting included, so the dtype findings stay the layer's) inside a
``keras.StatelessScope`` that maps its seed-generator state in and the advanced state out.  The
adapter holds that state per layer.  Eagerly, every operation dispatched on its own: 5.6 ms a
call, against 0.9 ms jitted (64 x 256 channels).  The rate is a Python attribute of the layer
(``if training and self.rate > 0``), so each p compiles once per shape and dtype;
``jax_adapter.CompileWhenWorthIt`` runs a setting eagerly (the same function, unjitted) until
the time spent on it would have paid for its compilation.  Calls that draw nothing (evaluation,
p = 0) and the other backends run eagerly.

**Backend.** Keras picks its backend once, at import: ``KERAS_BACKEND``, else
``~/.keras/keras.json``, else TensorFlow.  If Keras is already imported, its backend is used.
If ``KERAS_BACKEND`` is unset and the backend Keras would pick is not installed (Keras's import
would fail), the adapter imports Keras with the first installed of jax, torch, tensorflow
instead, so that ``run`` with no ``--adapter`` still works; the framework name says which
backend ran, e.g. ``keras (jax backend)``.

**Seeds.** ``seed(s)`` calls ``keras.utils.set_random_seed(s)`` and drops the cached layers, so
the next layers draw their ``SeedGenerator`` seeds from the re-seeded global state.  (Calling
``set_random_seed`` alone does not reset the generator of an existing layer; ``seed=`` takes an
int only, not a ``SeedGenerator``; a new layer with the same int seed repeats its masks.)

What the adapter does *not* do: cast.  A Keras layer autocasts floating inputs to its dtype
policy's compute dtype (``float32`` by default), so float16 and float64 inputs come back as
float32.  The capabilities list float32 first (the checks that use one dtype test float32
behaviour) and then float16 and float64, where the cast shows as an R1 failure.  On the JAX
backend the adapter converts inputs inside ``jax.enable_x64(True)``, so a float64 input is a
float64 ``jax.Array`` and the layer's cast to float32 is what shows (with JAX's default config
``convert_to_tensor`` itself would already give float32).

Capabilities: inplace no; seed yes; autograd on the jax (``jax.vjp``), torch
(``torch.autograd``) and tensorflow (``GradientTape``) backends -- the upstream gradient is
given in the output's dtype (float32 after the autocast), as each backend requires or does
implicitly, and the gradient with respect to x comes back in x's dtype through the cast;
three_d no (the layer's ``InputSpec`` requires ndim=4).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from conformance.adapters.base import Adapter, Capabilities
from conformance.adapters.jax_adapter import CompileWhenWorthIt, x64

#: float32 first: see the module docstring
KERAS_DTYPES = ("float32", "float16", "float64", "bfloat16")
FALLBACK_BACKENDS = ("jax", "torch", "tensorflow")
_BACKEND_MODULE = {"jax": "jax", "torch": "torch", "tensorflow": "tensorflow"}


def _configured_backend() -> str:
    """The backend ``import keras`` would pick with KERAS_BACKEND unset."""
    home = os.environ.get("KERAS_HOME") or str(Path("~").expanduser() / ".keras")
    try:
        config = json.loads((Path(home) / "keras.json").read_text())
        return str(config.get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def import_keras() -> Any:
    """Import Keras, choosing an installed backend if the configured one is missing."""
    import sys

    if "keras" in sys.modules or os.environ.get("KERAS_BACKEND"):
        import keras

        return keras
    wanted = _configured_backend()
    module = _BACKEND_MODULE.get(wanted)
    if module is None or _installed(module):
        import keras

        return keras
    for candidate in FALLBACK_BACKENDS:
        if _installed(_BACKEND_MODULE[candidate]):
            os.environ["KERAS_BACKEND"] = candidate
            try:
                import keras
            finally:
                del os.environ["KERAS_BACKEND"]
            return keras
    raise ImportError(
        f"keras would use the {wanted!r} backend, which is not installed, and none of "
        f"{list(FALLBACK_BACKENDS)} is: install one or set KERAS_BACKEND"
    )


class KerasAdapter(Adapter):
    name = "keras"
    framework = "keras"
    layout = "NHWC"
    data_format = "channels_last"
    capabilities = Capabilities(
        inplace=False, seed=True, autograd=True, dtypes=KERAS_DTYPES, three_d=False
    )

    def __init__(self) -> None:
        keras = import_keras()
        self.keras = keras
        self.backend = keras.backend.backend()
        self.framework = f"keras ({self.backend} backend)"
        backend_version = ""
        module = _BACKEND_MODULE.get(self.backend)
        if module is not None:
            backend_version = f" ({self.backend} {importlib.import_module(module).__version__})"
        self.framework_version = f"{keras.__version__}{backend_version}"
        if self.backend not in _BACKEND_MODULE:
            self.capabilities = Capabilities(
                inplace=False, seed=True, autograd=False, dtypes=KERAS_DTYPES, three_d=False
            )
        self._layers: dict[float, Any] = {}
        # p -> [forward, forward+vjp, seed-generator state] (JAX backend only)
        self._jitted: dict[float, list[Any]] = {}

    # conversions -------------------------------------------------------------------------

    def to_native(self, x: np.ndarray) -> Any:
        if self.backend == "jax":
            # Under JAX's default config a float64 array cannot exist: convert inside x64, so
            # the native input really has the input's dtype and what the layer does to it
            # shows (the layer itself runs outside x64, as a Keras user's does).
            import jax

            with x64(jax):
                return self.keras.ops.convert_to_tensor(x)
        if self.backend == "torch" and x.dtype.name == "bfloat16":
            # torch cannot read an ml_dtypes array: hand it the bits as a bfloat16 tensor
            import torch

            bits = torch.from_numpy(np.ascontiguousarray(x).view(np.uint16))
            return self.keras.ops.convert_to_tensor(bits.view(torch.bfloat16))
        return self.keras.ops.convert_to_tensor(x)

    def to_numpy(self, y: Any) -> np.ndarray:
        if not self.keras.ops.is_tensor(y):
            raise TypeError(f"expected a {self.backend} tensor, got {type(y).__name__}")
        if self.backend == "torch" and str(y.dtype) == "torch.bfloat16":
            import torch

            raw = y.detach().cpu().contiguous().view(torch.int16).numpy()
            return np.array(raw, copy=True).view(np.dtype("bfloat16"))
        return np.array(self.keras.ops.convert_to_numpy(y), copy=True)

    # the call ----------------------------------------------------------------------------

    def _layer(self, p: float) -> Any:
        layer = self._layers.get(p)
        if layer is None:
            layer = self.keras.layers.SpatialDropout2D(rate=p, data_format=self.data_format)
            self._layers[p] = layer
        return layer

    def _jax_entry(self, p: float) -> list[Any]:
        """The forward and forward+vjp of p's layer, and its seed state (see above)."""
        entry = self._jitted.get(p)
        if entry is None:
            import jax

            layer = self._layer(p)
            variables = list(layer.non_trainable_variables)
            scope = self.keras.StatelessScope

            def forward(state: list[Any], v: Any) -> tuple[Any, list[Any]]:
                with scope(state_mapping=list(zip(variables, state, strict=True))) as s:
                    y = layer(v, training=True)
                return y, [s.get_current_value(var) for var in variables]

            def forward_vjp(state: list[Any], v: Any, upstream: Any) -> tuple[Any, ...]:
                y, pullback, state = jax.vjp(lambda u: forward(state, u), v, has_aux=True)
                (dx,) = pullback(upstream.astype(y.dtype))
                return y, dx, state

            entry = [CompileWhenWorthIt(jax, forward), CompileWhenWorthIt(jax, forward_vjp),
                     [v.value for v in variables]]
            self._jitted[p] = entry
        return entry

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        if inplace:
            raise ValueError("keras layers do not work in place")
        if self.backend == "jax" and training and p != 0.0:
            entry = self._jax_entry(p)
            y, entry[2] = entry[0]((x.shape, x.dtype), entry[2], x)
            return y
        return self._layer(p)(x, training=training)

    def seed(self, seed: int) -> None:
        self.keras.utils.set_random_seed(int(seed))
        self._layers = {}
        self._jitted = {}

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        if self.backend == "jax":
            entry = self._jax_entry(p)
            y, dx, entry[2] = entry[1]((x.shape, x.dtype), entry[2], x, upstream)
            return y, dx
        layer = self._layer(p)
        if self.backend == "torch":
            import torch

            xt = x.detach().clone().requires_grad_(True)
            y = layer(xt, training=True)
            (dx,) = torch.autograd.grad(y, xt, upstream.to(y.dtype))
            return y.detach(), dx
        if self.backend == "tensorflow":
            import tensorflow as tf

            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
            return y, tape.gradient(y, x, output_gradients=tf.cast(upstream, y.dtype))
        raise NotImplementedError(f"no gradient for the {self.backend} backend")


class KerasChannelsFirstAdapter(KerasAdapter):
    name = "keras-channels-first"
    layout = "NCHW"
    data_format = "channels_first"
