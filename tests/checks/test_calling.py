"""checks/calling.py, between the checks and an adapter: layout conversion, non-contiguous
input, and an adapter's exceptions and unreadable output turned into AdapterError."""

from __future__ import annotations

import dropout2d_reference as reference
import numpy as np
import pytest

from conformance.adapters import Adapter, CallableAdapter, Capabilities
from conformance.checks import calling
from conformance.errors import AdapterError


class _NHWC(Adapter):
    """Reference dropout behind an NHWC layout: the harness must transpose both ways."""

    name = "nhwc"
    layout = "NHWC"
    capabilities = Capabilities(dtypes=("float32",))

    def dropout2d(self, x, p, training=True, inplace=False):
        y = reference.dropout2d(np.moveaxis(x, -1, -3), p, training, rng=np.random.default_rng(0))
        return np.moveaxis(y, -3, -1)


def test_harness_converts_nhwc_layout():
    x = np.arange(1, 2 * 3 * 4 * 5 + 1, dtype=np.float32).reshape(2, 3, 4, 5)
    f = calling.forward(_NHWC(), x, 0.5)
    assert f.y.shape == x.shape
    zero = (f.y == 0).reshape(2, 3, -1)
    assert (zero.all(-1) | (~zero).all(-1)).all()


@pytest.mark.parametrize("memory", ["strided", "channels_last"])
def test_harness_passes_non_contiguous_input(memory):
    seen = {}

    def f(x, p, training=True, inplace=False):
        seen["contiguous"] = x.flags.c_contiguous
        return x

    calling.forward(CallableAdapter(f), np.ones((2, 3, 4, 5), np.float32), 0.5, memory=memory)
    assert seen["contiguous"] is False


def test_harness_wraps_adapter_exceptions():
    def f(x, p, training=True):
        raise RuntimeError("kernel exploded")

    with pytest.raises(AdapterError, match="kernel exploded"):
        calling.forward(CallableAdapter(f), np.ones((1, 1, 2, 2)), 0.5)


def test_harness_reports_unreadable_output():
    def returns_none(x, p, training=True):
        return None

    with pytest.raises(AdapterError, match="not a numeric array: got NoneType"):
        calling.forward(CallableAdapter(returns_none), np.ones((1, 1, 1, 1)), 0.5)


@pytest.mark.parametrize("memory", ["contiguous", "channels_last", "strided"])
@pytest.mark.parametrize("shape", [(2, 5, 1, 1), (7, 1, 1), (2, 3, 4, 5)])
def test_an_input_laid_out_is_always_a_copy(memory, shape):
    """The implementation may write to what it is given: never the caller's array (channels
    last is already contiguous when H = W = 1, where a view would have been handed out)."""
    from conformance.checks.calling import _lay_out

    x = np.arange(1, np.prod(shape) + 1, dtype=np.float32).reshape(shape)
    laid = _lay_out(x, memory)
    assert laid.shape == x.shape and np.array_equal(laid, x)
    assert not np.shares_memory(laid, x)
