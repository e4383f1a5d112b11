"""checks/r01_shape_dtype.py: results-kept catches an output buffer reused by later calls, on
small tensors and on the largest users run."""

from __future__ import annotations

from conformance.adapters import CallableAdapter, load_adapter
from conformance.checks import usersizes
from conformance.mutants import usersizes as faults


def test_results_kept_fails_for_one_reused_output_buffer(run_one):
    from conformance.mutants.buffers import reused_output

    result = run_one(CallableAdapter(reused_output), "results-kept")
    assert result.verdict.value == "fail"
    assert "one output buffer reused across calls" in result.message


def test_results_kept_passes_for_the_reference(run_one):
    assert run_one(load_adapter("reference"), "results-kept").verdict.value == "pass"


def test_results_kept_calls_the_largest_twice_in_every_dtype(run_one, recording):
    adapter = recording()
    assert run_one(adapter, "results-kept").verdict.value == "pass"
    largest = [c for c in adapter.calls if c.shape == usersizes.LARGE_SHAPES[-1]]
    for dtype in adapter.capabilities.dtypes:
        assert sum(c.dtype == dtype for c in largest) == 2, dtype
    assert all(c.training and not c.inplace for c in largest)


def test_results_kept_catches_a_workspace_reused_by_size_for_large_results(run_one):
    result = run_one(CallableAdapter(faults.workspace_by_size), "results-kept")
    assert result.verdict.value == "fail"
    assert "largest tensor changed" in result.message
    assert "reused by later calls of the same size" in result.message
