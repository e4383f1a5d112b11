"""Spec loading, the callable adapter's capabilities, and the layout handling of the harness."""

from __future__ import annotations

import textwrap

import dropout2d_reference as reference
import numpy as np
import pytest

from conformance import harness
from conformance.adapters import Adapter, CallableAdapter, Capabilities, load_adapter, registered
from conformance.errors import AdapterError, SpecError


def test_registered_names_include_reference_and_torch():
    names = registered()
    assert "reference" in names and "torch" in names


def test_load_registered_reference():
    adapter = load_adapter("reference")
    assert adapter.name == "reference" and adapter.spec == "reference"
    assert adapter.capabilities.inplace and adapter.capabilities.seed


def test_unknown_name_lists_what_is_registered():
    with pytest.raises(SpecError) as info:
        load_adapter("no-such-adapter")
    message = str(info.value)
    assert "no-such-adapter" in message and "reference" in message and "module:attr" in message


def test_module_attr_of_a_plain_function():
    adapter = load_adapter("reference:dropout2d")
    assert isinstance(adapter, CallableAdapter)
    caps = adapter.capabilities
    assert caps.inplace and not caps.seed and not caps.autograd


def test_module_without_attribute_says_so():
    with pytest.raises(SpecError, match="has no attribute 'nope'"):
        load_adapter("reference:nope")
    with pytest.raises(SpecError, match="importing module 'no_such_module_xyz'"):
        load_adapter("no_such_module_xyz:f")


def test_file_spec_with_function_subclass_and_instance(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from conformance.adapters import Adapter, Capabilities

            def drop(x, p, training=True, seed=None):
                rng = np.random.default_rng(seed)
                keep = rng.random(x.shape[:2] + (1, 1)) >= p
                return x * keep / (1 - p) if training and p < 1 else x

            class Mine(Adapter):
                name = "mine"
                capabilities = Capabilities(dtypes=("float64",))
                def dropout2d(self, x, p, training=True, inplace=False):
                    return drop(x, p, training)

            instance = Mine()
            not_callable = 3
            """
        )
    )
    fn = load_adapter(f"{path}:drop")
    assert fn.capabilities.seed and not fn.capabilities.inplace
    assert fn.spec == f"{path}:drop"
    assert load_adapter(f"{path}:Mine").capabilities.dtypes == ("float64",)
    assert isinstance(load_adapter(f"{path}:instance"), Adapter)
    with pytest.raises(SpecError, match="expected an Adapter subclass"):
        load_adapter(f"{path}:not_callable")
    with pytest.raises(SpecError, match="does not exist"):
        load_adapter(f"{tmp_path}/missing.py:drop")


def test_file_that_fails_to_import(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(SpecError, match="boom"):
        load_adapter(f"{path}:f")


def test_callable_seed_stream_reproduces():
    calls = []

    def f(x, p, training=True, seed=None):
        calls.append(seed)
        return x

    adapter = CallableAdapter(f)
    x = np.ones((1, 1, 2, 2))
    adapter.dropout2d(x, 0.5)
    adapter.seed(5)
    adapter.dropout2d(x, 0.5)
    adapter.dropout2d(x, 0.5)
    adapter.seed(5)
    adapter.dropout2d(x, 0.5)
    assert calls[0] is None and calls[1] == calls[3] and calls[1] != calls[2]


def test_callable_without_training_parameter_rejects_eval():
    adapter = CallableAdapter(lambda x, p: x, name="lam")
    with pytest.raises(TypeError, match="training"):
        adapter.dropout2d(np.ones((1, 1, 1, 1)), 0.5, training=False)


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
    f = harness.forward(_NHWC(), x, 0.5)
    assert f.y.shape == x.shape
    zero = (f.y == 0).reshape(2, 3, -1)
    assert (zero.all(-1) | (~zero).all(-1)).all()


@pytest.mark.parametrize("memory", ["strided", "channels_last"])
def test_harness_passes_non_contiguous_input(memory):
    seen = {}

    def f(x, p, training=True, inplace=False):
        seen["contiguous"] = x.flags.c_contiguous
        return x

    harness.forward(CallableAdapter(f), np.ones((2, 3, 4, 5), np.float32), 0.5, memory=memory)
    assert seen["contiguous"] is False


def test_harness_wraps_adapter_exceptions():
    def f(x, p, training=True):
        raise RuntimeError("kernel exploded")

    with pytest.raises(AdapterError, match="kernel exploded"):
        harness.forward(CallableAdapter(f), np.ones((1, 1, 2, 2)), 0.5)


def test_harness_reports_unreadable_output():
    def returns_none(x, p, training=True):
        return None

    with pytest.raises(AdapterError, match="not a numeric array: got NoneType"):
        harness.forward(CallableAdapter(returns_none), np.ones((1, 1, 1, 1)), 0.5)
