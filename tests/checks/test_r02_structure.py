"""checks/r02_structure.py: scale-exact names a scale computed in lower precision or rounded
wrongly."""

from __future__ import annotations

import numpy as np

import conformance
from conformance.adapters import CallableAdapter


def test_scale_computed_in_float32_is_named_lower_precision(run_one):
    def f32_scale(x, p, training=True):
        rng = np.random.default_rng(1)
        if not training or p == 0:
            return x
        keep = rng.random((*x.shape[:2], 1, 1)) >= p
        y = x.astype(np.float32) * np.float32(1 / (1 - p)) * keep
        return y.astype(x.dtype)

    message = run_one(CallableAdapter(f32_scale), "scale-exact").message
    assert "float64 result equals the computation in float32: computed in lower precision" \
        in message


def test_a_bfloat16_scale_rounded_wrongly_fails_scale_exact(run_one):
    @conformance.declare(dtypes=("bfloat16",))
    def truncating(x, p, training=True):  # scale truncated to 2 significant bits
        if not training or p == 0:
            return x
        keep = np.random.default_rng(3).random((*x.shape[:2], 1, 1)) >= p
        s = 2.0 ** np.floor(np.log2(1 / (1 - p)))
        return (x.astype(np.float64) * keep * s).astype(x.dtype)

    result = run_one(CallableAdapter(truncating), "scale-exact")
    assert result.verdict.value == "fail" and "bfloat16" in result.message
