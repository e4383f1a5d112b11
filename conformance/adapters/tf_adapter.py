"""TensorFlow: ``tf.nn.dropout`` with a channel noise shape, and tf-keras' SpatialDropout2D.

- ``tensorflow``: ``tf.nn.dropout(x, rate=p, noise_shape=[N, 1, 1, C])`` on NHWC input, eagerly.
  TensorFlow has no Dropout2d op: this noise shape is how a TF user writes one.  In TF 2.21
  ``tf.nn.dropout`` computes ``where(uniform(noise_shape, x.dtype) >= rate, x * fl(1/(1-rate)),
  0)`` (select), returns ``x`` itself at ``rate == 0``, and rejects a Python-float rate outside
  [0, 1) -- p = 1 included -- with ``ValueError``.
- ``tf-keras``: ``tf_keras.layers.SpatialDropout2D(rate=p, data_format="channels_last")`` called
  with ``training=``, one layer per p kept (Keras 2 API, the ``tf_keras`` package).

Seeds: ``tf.random.set_seed(s)`` (eager op seeds are derived from the global seed and a
counter that ``set_seed`` resets); for tf-keras the cached layers are dropped too, so the next
layers are built after the re-seeding.

What the adapters do *not* do: change the rate, the dtype or the error behaviour.  tf-keras
layers autocast to their dtype policy (float32), like Keras 3: dtypes are listed float32 first.

Non-contiguous NumPy input is made contiguous before ``tf.convert_to_tensor`` (which copies
anyway): TF tensors expose no strides, so the suite's strided cases test only the conversion.

Capabilities: inplace no (TF tensors are immutable); seed yes; autograd yes (``GradientTape``
over one forward call); three_d no (``tf.nn.dropout`` has no notion of channels, the recipe
above is for 4D NHWC; tf-keras' layer requires ndim=4).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conformance.adapters.base import FLOAT_DTYPES_BF16, Adapter, Capabilities

TF_KERAS_DTYPES = ("float32", "float16", "float64", "bfloat16")


class _TFBase(Adapter):
    layout = "NHWC"

    def __init__(self) -> None:
        import tensorflow as tf

        self.tf = tf
        self.framework_version = tf.__version__

    def to_native(self, x: np.ndarray) -> Any:
        return self.tf.convert_to_tensor(np.ascontiguousarray(x))

    def to_numpy(self, y: Any) -> np.ndarray:
        if not self.tf.is_tensor(y):
            raise TypeError(f"expected a tf.Tensor, got {type(y).__name__}")
        return np.array(y.numpy(), copy=True)

    def _call(self, x: Any, p: float, training: bool) -> Any:
        raise NotImplementedError

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        if inplace:
            raise ValueError("tf tensors are immutable: inplace=True is not supported")
        return self._call(x, p, training)

    def seed(self, seed: int) -> None:
        self.tf.random.set_seed(int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        tf = self.tf
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = self._call(x, p, True)
        return y, tape.gradient(y, x, output_gradients=tf.cast(upstream, y.dtype))


class TensorFlowAdapter(_TFBase):
    name = "tensorflow"
    framework = "tensorflow (tf.nn.dropout, noise_shape=[N, 1, 1, C])"
    capabilities = Capabilities(
        inplace=False, seed=True, autograd=True, dtypes=FLOAT_DTYPES_BF16, three_d=False
    )

    def _call(self, x: Any, p: float, training: bool) -> Any:
        if not training:
            return x  # tf.nn.dropout has no training flag: evaluation is not calling it
        n, _, _, c = x.shape
        return self.tf.nn.dropout(x, rate=p, noise_shape=[n, 1, 1, c])


class TfKerasAdapter(_TFBase):
    name = "tf-keras"
    framework = "tf-keras (SpatialDropout2D)"
    capabilities = Capabilities(
        inplace=False, seed=True, autograd=True, dtypes=TF_KERAS_DTYPES, three_d=False
    )

    def __init__(self) -> None:
        super().__init__()
        import tf_keras

        self.tf_keras = tf_keras
        self.framework_version = f"{tf_keras.__version__} (tensorflow {self.tf.__version__})"
        self._layers: dict[float, Any] = {}

    def _call(self, x: Any, p: float, training: bool) -> Any:
        layer = self._layers.get(p)
        if layer is None:
            layer = self.tf_keras.layers.SpatialDropout2D(rate=p, data_format="channels_last")
            self._layers[p] = layer
        return layer(x, training=training)

    def seed(self, seed: int) -> None:
        super().seed(seed)
        self._layers = {}
