"""checks/inputs.py: inputs with no zeros, the keep mask read back from an output (whole maps
only, on both of its code paths), the first offender every failure message names, and bit
patterns that tell -0.0 and NaN payloads apart."""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest

from conformance.checks.inputs import (
    P_VALUES,
    SHAPES,
    bits,
    extract_keep_mask,
    first_offender,
    keep_from_zeros,
    maps,
    nonzero_values,
)
from conformance.contract import ROOT_SHAPE
from conformance.errors import CheckFailed


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, ml_dtypes.bfloat16])
def test_nonzero_values_lie_in_half_to_two_with_both_signs(dtype):
    x = nonzero_values(np.random.default_rng(0), (8, 16, 5, 7), dtype)
    assert x.shape == (8, 16, 5, 7) and x.dtype == np.dtype(dtype)
    magnitude = np.abs(x.astype(np.float64))
    assert magnitude.min() >= 0.5 and magnitude.max() <= 2.0
    assert (x.astype(np.float64) < 0).mean() == pytest.approx(0.5, abs=0.05)


def test_the_deterministic_shapes_and_ps_cover_what_they_claim():
    assert any(n == 1 for n, *_ in SHAPES) and all(h > 1 and w > 1 for *_, h, w in SHAPES)
    assert any(h % 2 and w % 2 for *_, h, w in SHAPES)
    assert all(0 < p < 1 for p in P_VALUES) and 1 / 3 in P_VALUES


def test_maps_gives_one_row_per_channel_decision():
    a = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    assert maps(a).shape == (2, 3, 20)
    assert np.array_equal(maps(a)[1, 2], a[1, 2].ravel())
    assert maps(a[0]).shape == (3, 20)  # unbatched


def test_first_offender_names_the_first_index_in_c_order_and_how_many():
    bad = np.zeros((2, 3, 4), bool)
    bad[1, 0, 3] = bad[0, 2, 1] = bad[1, 2, 0] = True
    assert first_offender(bad) == ((0, 2, 1), "3 of 24")
    assert first_offender(np.array([False, True])) == ((1,), "1 of 2")


def _output(x: np.ndarray, keep: np.ndarray, scale: float = 2.0) -> np.ndarray:
    return x * keep[..., None, None] * x.dtype.type(scale)


# 1x1 and 2x3 maps take the element-wise path (<= 32 elements), 6x6 the reductions
@pytest.mark.parametrize("hw", [(1, 1), (2, 3), (4, 8), (6, 6), (9, 7)])
def test_the_keep_mask_is_read_from_whole_zero_maps(hw):
    rng = np.random.default_rng(4)
    x = nonzero_values(rng, (5, 7, *hw))
    keep = rng.random((5, 7)) >= 0.4
    mask = extract_keep_mask(x=x, y=_output(x, keep))
    assert mask.dtype == bool and np.array_equal(mask, keep)
    # an unbatched input reads the same way
    assert np.array_equal(extract_keep_mask(x=x[2], y=_output(x[2], keep[2])), keep[2])


@pytest.mark.parametrize("hw", [(2, 2), (6, 6)])
def test_a_partly_zero_map_fails_naming_the_map_and_its_zero_fraction(hw):
    rng = np.random.default_rng(4)
    x = nonzero_values(rng, (3, 4, *hw))
    keep = np.ones((3, 4), bool)
    y = _output(x, keep)
    y[1, 2, 0, 0] = 0  # one element of map (1, 2)
    y[2, 3, 0, :] = 0  # a row of a later map
    elements = hw[0] * hw[1]
    with pytest.raises(CheckFailed) as info:
        extract_keep_mask(x=x, y=y, where="(call 3)")
    message = info.value.message
    assert message.startswith(f"map (1, 2) is partly zero ({1 / elements:.0%} of its {elements} "
                              "elements): dropout must zero whole channels")
    assert message.endswith("(call 3)")


def test_an_output_of_another_shape_is_rs_failure():
    x = np.ones((2, 3, 4, 5), np.float32)
    with pytest.raises(CheckFailed, match=r"output shape \(2, 3, 5, 4\) != input shape "
                                          r"\(2, 3, 4, 5\) here") as info:
        extract_keep_mask(x=x, y=np.ones((2, 3, 5, 4), np.float32), where="here")
    assert info.value.root_cause == ROOT_SHAPE


def test_keep_from_zeros_takes_a_flag_per_map_element():
    zero = np.array([[[True, True, True], [False, False, False], [False, False, False]]])
    assert keep_from_zeros(zero).tolist() == [[False, True, True]]


def test_bits_tell_negative_zero_and_nan_payloads_apart():
    a = np.array([0.0, -0.0, np.nan], np.float32)
    b = a.copy()
    b.view(np.uint32)[2] |= 1  # another NaN payload
    assert (bits(a) != bits(np.array([0.0, 0.0, np.nan], np.float32))).tolist() == [
        False, True, False]
    assert (bits(a) != bits(b)).tolist() == [False, False, True]
    half = np.array([0.0, -0.0], ml_dtypes.bfloat16)
    assert bits(half).dtype == np.uint16 and bits(half)[0] != bits(half)[1]
    ints = np.array([1, 2], np.int32)
    assert bits(ints) is ints  # integers compare as they are


def test_bits_of_a_strided_view_need_no_copy():
    a = np.zeros((4, 6), np.float64)[:, ::2]
    assert np.shares_memory(bits(a), a)
