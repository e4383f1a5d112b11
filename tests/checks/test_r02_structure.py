"""checks/r02_structure.py: scale-exact names a scale computed in lower precision or rounded
wrongly; both checks meet the tensors users run and scale-exact every round rate, exactly."""

from __future__ import annotations

import numpy as np
import pytest

import conformance
from conformance.adapters import CallableAdapter
from conformance.checks import usersizes
from conformance.mutants import usersizes as faults


def test_scale_computed_in_float32_is_named_lower_precision(run_one):
    def f32_scale(x, p, training=True):
        rng = np.random.default_rng(1)
        if not training or p == 0:
            return x
        keep = rng.random((*x.shape[:2], 1, 1)) >= p
        y = x.astype(np.float32) * np.float32(1 / (1 - p)) * keep
        return y.astype(x.dtype)

    message = run_one(CallableAdapter(f32_scale), "scale-exact").message
    assert "float64 result equals the computation in float32: computed in lower precision" \
        in message


def test_a_bfloat16_scale_rounded_wrongly_fails_scale_exact(run_one):
    @conformance.declare(dtypes=("bfloat16",))
    def truncating(x, p, training=True):  # scale truncated to 2 significant bits
        if not training or p == 0:
            return x
        keep = np.random.default_rng(3).random((*x.shape[:2], 1, 1)) >= p
        s = 2.0 ** np.floor(np.log2(1 / (1 - p)))
        return (x.astype(np.float64) * keep * s).astype(x.dtype)

    result = run_one(CallableAdapter(truncating), "scale-exact")
    assert result.verdict.value == "fail" and "bfloat16" in result.message


# ------------------------------------------------------------------ what users run (issue 19)


def _large_calls(adapter):
    large = set(usersizes.LARGE_SHAPES)
    return [c for c in adapter.calls if c.shape in large]


def test_channel_structure_meets_every_large_shape_dtype_and_layout(run_one, recording):
    adapter = recording()
    assert run_one(adapter, "channel-structure").verdict.value == "pass"
    calls = _large_calls(adapter)
    assert {c.shape for c in calls} == set(usersizes.LARGE_SHAPES)
    assert {c.dtype for c in calls} == set(adapter.capabilities.dtypes)
    assert {c.memory for c in calls} == {"contiguous", "channels_last", "strided"}
    largest = {c.dtype for c in calls if c.shape == usersizes.LARGE_SHAPES[-1]}
    assert largest == set(adapter.capabilities.dtypes)


def test_channel_structure_catches_element_wise_dropout_on_cnn_maps_only(run_one):
    result = run_one(CallableAdapter(faults.element_wise_cnn_maps), "channel-structure")
    assert result.verdict.value == "fail"
    assert "partly zero" in result.message and "(4, 64, 32, 32)" in result.message
    # maps below 32x32 are right: only the large settings broke
    assert "(4, 16, 5, 7)" not in result.message


def test_scale_exact_visits_every_round_rate_exactly_in_every_dtype(run_one, recording):
    adapter = recording()
    assert run_one(adapter, "scale-exact").verdict.value == "pass"
    seen = {(c.p, c.dtype) for c in adapter.calls}
    for dtype in adapter.capabilities.dtypes:
        assert {p for p, d in seen if d == dtype} >= set(usersizes.ROUND_RATES), dtype


@pytest.mark.parametrize(("fault", "where"), [
    (faults.round_rate_table_typo, "float64 at p in [0.15]"),
    (faults.tiny_p_unscaled, "float32 at p in [0.0001, 0.001]"),
])
def test_scale_exact_catches_a_wrong_scale_at_one_round_rate(run_one, fault, where):
    result = run_one(CallableAdapter(fault), "scale-exact")
    assert result.verdict.value == "fail" and where in result.message
    # the structure check's p values are not round rates it owns: it passes
    assert run_one(CallableAdapter(fault), "channel-structure").verdict.value == "pass"
