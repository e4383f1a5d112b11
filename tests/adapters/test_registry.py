"""Loading an adapter from a spec: registered names, ``module:attr`` and ``path/to/file.py:attr``
(a function, an Adapter subclass or instance), and what a spec that cannot be loaded says."""

from __future__ import annotations

import textwrap

import pytest

from conformance.adapters import Adapter, CallableAdapter, load_adapter, registered
from conformance.errors import SpecError


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
    adapter = load_adapter("dropout2d_reference:dropout2d")
    assert isinstance(adapter, CallableAdapter)
    caps = adapter.capabilities
    assert caps.inplace and not caps.seed and not caps.autograd


def test_module_without_attribute_says_so():
    with pytest.raises(SpecError, match="has no attribute 'nope'"):
        load_adapter("dropout2d_reference:nope")
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
                keep = rng.random((*x.shape[:2], 1, 1)) >= p
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


def test_a_hand_written_declaration_is_validated_by_the_loader(tmp_path):
    path = tmp_path / "hand.py"
    path.write_text(textwrap.dedent(
        """
        def drop(x, p, training=True):
            return x

        drop.__dropout2d__ = {"three_d": False, "colour": "red"}
        """
    ))
    with pytest.raises(SpecError) as info:
        load_adapter(f"{path}:drop")
    assert "unknown declaration field(s) ['colour']" in str(info.value)
    assert "three_d" in str(info.value)  # the allowed fields are listed
