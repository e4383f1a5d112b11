"""checks/values.py: the 3D check judges only what an adapter declares, and results-kept catches
an output buffer reused across calls."""

from __future__ import annotations

import dropout2d_reference as reference

import conformance
from conformance.adapters import CallableAdapter, load_adapter


def test_a_4d_only_callable_that_accepts_3d_input_is_not_judged_on_it(run_one):
    def broadcasts(x, p, training=True):  # returns garbage for 3D input, without an error
        return x[..., :1] if x.ndim == 3 else reference.dropout2d(x, p, training)

    result = run_one(CallableAdapter(broadcasts), "three-d-input")
    assert result.verdict.value == "skip" and "three_d=False" in result.message


def test_a_3d_result_that_is_neither_unbatched_nor_legacy_fails(run_one):
    @conformance.declare(three_d=True)
    def columns(x, p, training=True):  # a new shape: neither interpretation
        return x[..., :1] if x.ndim == 3 else reference.dropout2d(x, p, training)

    result = run_one(CallableAdapter(columns), "three-d-input")
    assert result.verdict.value == "fail" and "neither unbatched" in result.message


def test_results_kept_fails_for_one_reused_output_buffer(run_one):
    from conformance.mutants.buffers import reused_output

    result = run_one(CallableAdapter(reused_output), "results-kept")
    assert result.verdict.value == "fail"
    assert "one output buffer reused across calls" in result.message


def test_results_kept_passes_for_the_reference(run_one):
    assert run_one(load_adapter("reference"), "results-kept").verdict.value == "pass"
