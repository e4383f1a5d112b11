"""checks/implementation_defined.py: the 3D check judges only what an adapter declares."""

from __future__ import annotations

import dropout2d_reference as reference

import conformance
from conformance.adapters import CallableAdapter


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
