"""checks/r01_shape_dtype.py: results-kept catches an output buffer reused by later calls."""

from __future__ import annotations

from conformance.adapters import CallableAdapter, load_adapter


def test_results_kept_fails_for_one_reused_output_buffer(run_one):
    from conformance.mutants.buffers import reused_output

    result = run_one(CallableAdapter(reused_output), "results-kept")
    assert result.verdict.value == "fail"
    assert "one output buffer reused across calls" in result.message


def test_results_kept_passes_for_the_reference(run_one):
    assert run_one(load_adapter("reference"), "results-kept").verdict.value == "pass"
