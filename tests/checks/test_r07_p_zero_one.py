"""checks/r07_p_zero_one.py: p-zero names -0.0 turned into +0.0; both checks meet the tensors
users run and catch faults of their large-tensor paths."""

from __future__ import annotations

import dropout2d_reference as reference

from conformance.adapters import CallableAdapter
from conformance.checks import usersizes
from conformance.mutants import usersizes as faults


def test_p_zero_names_minus_zero_turned_plus_zero(run_one):
    def adds_zero(x, p, training=True):
        return x + x.dtype.type(0) if p == 0 else reference.dropout2d(x, p, training)

    message = run_one(CallableAdapter(adds_zero), "p-zero").message
    assert "-0.0 turned into +0.0" in message


def test_p_zero_and_p_one_meet_the_largest_tensor_in_every_dtype(run_one, recording):
    for check_id, p in (("p-zero", 0.0), ("p-one", 1.0)):
        adapter = recording()
        assert run_one(adapter, check_id).verdict.value == "pass"
        large = [c for c in adapter.calls if c.shape in set(usersizes.LARGE_SHAPES)]
        assert {c.p for c in large} == {p}
        assert {c.shape for c in large} == set(usersizes.LARGE_SHAPES)
        assert {c.memory for c in large} == {"contiguous", "channels_last", "strided"}
        assert {c.dtype for c in large if c.shape == usersizes.LARGE_SHAPES[-1]} == set(
            adapter.capabilities.dtypes)


def test_p_zero_catches_a_large_float64_kernel_run_in_float32(run_one):
    result = run_one(CallableAdapter(faults.p_zero_float32_large), "p-zero")
    assert result.verdict.value == "fail" and "rounded to float32" in result.message


def test_p_one_catches_nan_from_the_large_tensor_path_and_leaves_the_buffer_to_inplace(run_one):
    result = run_one(CallableAdapter(faults.p_one_nan_large), "p-one")
    assert result.verdict.value == "fail" and "all NaN" in result.message
    # in-place that allocates over 4 MiB is R9's fault: p-one's large calls do not judge it
    assert run_one(CallableAdapter(faults.inplace_copies_large), "p-one").verdict.value == "pass"
