"""checks/r06_eval_identity.py: eval-identity meets the tensors users run, the largest in every
dtype, and catches an evaluation path that copies large float64 tensors through float32."""

from __future__ import annotations

from conformance.adapters import CallableAdapter, load_adapter
from conformance.checks import usersizes
from conformance.mutants import usersizes as faults


def test_eval_identity_meets_the_largest_tensor_in_every_dtype(run_one, recording):
    adapter = recording()
    assert run_one(adapter, "eval-identity").verdict.value == "pass"
    large = [c for c in adapter.calls if c.shape in set(usersizes.LARGE_SHAPES)]
    assert all(not c.training for c in large)
    assert {c.shape for c in large} == set(usersizes.LARGE_SHAPES)
    assert {c.memory for c in large} == {"contiguous", "channels_last", "strided"}
    assert {c.inplace for c in large} == {False, True}
    assert {c.dtype for c in large if c.shape == usersizes.LARGE_SHAPES[-1]} == set(
        adapter.capabilities.dtypes)


def test_eval_identity_catches_float64_through_float32_on_large_tensors_only(run_one):
    result = run_one(CallableAdapter(faults.eval_float32_large), "eval-identity")
    assert result.verdict.value == "fail"
    assert "rounded to float32" in result.message and "float64" in result.message


def test_eval_identity_passes_for_the_reference(run_one):
    assert run_one(load_adapter("reference"), "eval-identity").verdict.value == "pass"
