"""checks/r09_inplace.py: inplace meets the tensors users run in both modes and catches an
in-place call that silently allocates for large tensors only."""

from __future__ import annotations

from conformance.adapters import CallableAdapter, load_adapter
from conformance.checks import usersizes
from conformance.mutants import usersizes as faults


def test_inplace_meets_large_tensors_in_both_modes(run_one, recording):
    adapter = recording()
    assert run_one(adapter, "inplace").verdict.value == "pass"
    large = [c for c in adapter.calls if c.shape in set(usersizes.LARGE_SHAPES)]
    largest = [c for c in large if c.shape == usersizes.LARGE_SHAPES[-1]]
    assert {c.shape for c in large} == set(usersizes.LARGE_SHAPES)
    assert {c.memory for c in large} == {"contiguous", "channels_last", "strided"}
    assert {c.inplace for c in largest} == {False, True}
    assert {c.dtype for c in largest} == set(adapter.capabilities.dtypes)


def test_inplace_meets_the_largest_in_both_modes_with_one_dtype(run_one, recording):
    adapter = recording(dtypes=("float32",))
    assert run_one(adapter, "inplace").verdict.value == "pass"
    largest = [c for c in adapter.calls if c.shape == usersizes.LARGE_SHAPES[-1]]
    assert {c.inplace for c in largest} == {False, True}


def test_inplace_catches_a_large_tensor_path_that_allocates(run_one):
    result = run_one(CallableAdapter(faults.inplace_copies_large), "inplace")
    assert result.verdict.value == "fail"
    assert "must hold the result" in result.message and "(4, 64, 112, 112)" in result.message


def test_inplace_leaves_large_map_structure_to_channel_structure(run_one):
    # element-wise dropout on CNN maps writes its (wrong) result in place correctly
    adapter = CallableAdapter(faults.element_wise_cnn_maps)
    assert run_one(adapter, "inplace").verdict.value == "pass"


def test_inplace_passes_for_the_reference(run_one):
    assert run_one(load_adapter("reference"), "inplace").verdict.value == "pass"
