"""checks/assertions.py: ulps in the dtype's spacing, and one fault, one root cause (a wrong output
dtype is named once as the root cause of the value checks it breaks)."""

from __future__ import annotations

import dropout2d_reference as reference
import numpy as np
import pytest

import conformance
from conformance.adapters import CallableAdapter
from conformance.adapters.base import numpy_dtype


def test_ulps_use_the_dtype_spacing():
    from conformance.checks.assertions import ulp

    for name in ("float16", "float32", "float64", "bfloat16"):
        dtype = numpy_dtype(name)
        values = np.array([0.7, 1.0, 1.5, 3.0, 1e-30 if name != "float16" else 1e-6])
        expected = np.spacing(values.astype(dtype)).astype(np.float64)
        np.testing.assert_array_equal(ulp(values.astype(dtype), dtype), expected)


def test_a_gradient_in_another_dtype_names_the_dtype_as_root_cause():
    from conformance.checks.assertions import assert_scaled
    from conformance.errors import CheckFailed

    x = np.linspace(0.5, 1.5, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    keep = np.ones((2, 3), bool)
    y32 = (x.astype(np.float32) * np.float32(1 / 0.9)).astype(np.float32)
    with pytest.raises(CheckFailed) as info:
        assert_scaled(actual=y32, x=x, keep=keep, p=0.1, where="test")
    assert info.value.root_cause == "R1 output dtype"
    assert "computed in lower precision" in info.value.message
    with pytest.raises(CheckFailed) as info:  # same values, right dtype: its own failure
        assert_scaled(actual=y32.astype(np.float64), x=x, keep=keep, p=0.1, where="test")
    assert info.value.root_cause is None


def _upcast_to(dtype):
    def drop(x, p, training=True):
        return reference.dropout2d(x.astype(dtype), p, training)

    return drop


def test_a_wrong_output_dtype_fails_shape_dtype_once_with_its_root_cause(run_one):
    adapter = CallableAdapter(_upcast_to(np.float32), name="f32")
    shape = run_one(adapter, "shape-dtype")
    assert shape.verdict.value == "fail"
    assert "float16 input -> float32 output" in shape.message
    assert "float64 input -> float32 output" in shape.message
    assert shape.to_dict()["root_cause"] == "R1 output dtype"
    # float16 -> float32 -> float16 is exact: p-one, non-finite and the 3D check still judge
    # their own property after casting back, and say what they could not assess.
    upcast = conformance.declare(three_d=True)(_upcast_to(np.float32))
    for check_id in ("p-one", "non-finite", "three-d-input"):
        result = run_one(CallableAdapter(upcast, name="f32"), check_id)
        assert result.verdict.value == "pass", (check_id, result.message)
        assert "could not be assessed" in result.message


def test_a_value_check_failing_after_a_dtype_mismatch_names_the_dtype_as_root_cause(run_one):
    adapter = CallableAdapter(_upcast_to(np.float32), name="f32")
    result = run_one(adapter, "p-zero")  # float64 input computed in float32 is not the identity
    assert result.verdict.value == "fail"
    assert result.to_dict()["root_cause"] == "R1 output dtype"
    assert "rounded to float32" in result.message


def test_a_failure_without_another_cause_carries_its_own_requirement(run_one):
    def unvalidated(x, p, training=True):
        return reference.dropout2d(x, min(max(p, 0.0), 1.0), training)

    result = run_one(CallableAdapter(unvalidated), "invalid-p")
    assert result.to_dict()["root_cause"] == "R8 invalid p raises"
    assert run_one(CallableAdapter(unvalidated), "p-one").ok
    assert "root_cause" not in run_one(CallableAdapter(unvalidated), "p-one").to_dict()
