"""The adapter base: dtype names resolved to NumPy dtypes (bfloat16 through ml_dtypes), and the
framework adapters' conversions of bfloat16 both ways."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.adapters import load_adapter
from conformance.adapters.base import dtype_finfo, numpy_dtype
from conformance.checks import calling


def test_bfloat16_resolves_with_its_real_spacing():
    bf16 = numpy_dtype("bfloat16")
    assert np.dtype("bfloat16") == bf16
    assert dtype_finfo(bf16).eps == 2.0**-7 and dtype_finfo("float16").eps == 2.0**-10
    with pytest.raises(ValueError, match="not one the suite tests"):
        numpy_dtype("int8")


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_framework_adapters_round_trip_bfloat16(name):
    pytest.importorskip(name)
    adapter = load_adapter(name)
    assert "bfloat16" in adapter.capabilities.dtypes
    x = np.linspace(-2, 2, 2 * 3 * 4 * 5).reshape(2, 3, 4, 5).astype(numpy_dtype("bfloat16"))
    for view in (x, x[..., ::2]):
        back = adapter.to_numpy(adapter.to_native(np.ascontiguousarray(view)))
        assert back.dtype == view.dtype and np.array_equal(back, view)
    f = calling.forward(adapter, x, 0.5)
    assert f.y.dtype.name == "bfloat16"
