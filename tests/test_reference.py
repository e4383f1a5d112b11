"""The reference implementation, requirement by requirement; bitwise against torch where the
two behave the same (the scale rounding for float16/32/64, eval, p=0, p=1, aliasing)."""

from __future__ import annotations

import math

import dropout2d_reference as reference
import numpy as np
import pytest
from dropout2d_reference import Dropout2d, dropout2d, scale_for

FLOATS = [np.float16, np.float32, np.float64]


def _x(rng: np.random.Generator, shape=(8, 16, 3, 5), dtype=np.float32) -> np.ndarray:
    return (rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)).astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_r1_shape_and_dtype(rng, dtype):
    x = _x(rng, dtype=dtype)
    y = dropout2d(x, 0.3, rng=rng)
    assert y.shape == x.shape and y.dtype == x.dtype


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [0.1, 1 / 3, 0.5, 0.9, 0.99])
def test_r2_maps_zero_or_scaled_by_dtype_rounded_scale(rng, dtype, p):
    x = _x(rng, dtype=dtype)
    y = dropout2d(x, p, rng=rng)
    flat_y, flat_x = y.reshape(8, 16, -1), x.reshape(8, 16, -1)
    dropped = (flat_y == 0).all(-1)
    kept = (flat_y != 0).all(-1)
    assert (dropped | kept).all()
    s = scale_for(p, dtype)
    assert s.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(flat_y[kept], (flat_x * s)[kept])


def test_r3_drop_rate_per_position(rng):
    # 200 calls x 64 x 32 decisions: the rate at p=0.3 is within 6 sigma of 0.3 everywhere.
    x = np.ones((64, 32, 1, 1), np.float32)
    dropped = np.stack([dropout2d(x, 0.3, rng=rng)[..., 0, 0] == 0 for _ in range(200)])
    overall = dropped.mean()
    assert abs(overall - 0.3) < 6 * math.sqrt(0.21 / dropped.size)
    per_channel = dropped.mean(axis=(0, 1))
    assert np.abs(per_channel - 0.3).max() < 6 * math.sqrt(0.21 / (200 * 64))


def test_r4_decisions_differ_across_calls_and_channels(rng):
    x = np.ones((4, 256, 1, 1))
    a = dropout2d(x, 0.5, rng=rng)
    b = dropout2d(x, 0.5, rng=rng)
    assert not np.array_equal(a, b)
    assert not all(np.array_equal(a[0], a[n]) for n in range(1, 4))


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_r6_eval_returns_input_object(rng, p):
    x = _x(rng)
    assert dropout2d(x, p, training=False) is x
    module = Dropout2d(p).eval()
    assert module(x) is x and not module.training


def test_r7_p_zero_identity_and_p_one_zeros(rng):
    x = _x(rng)
    assert dropout2d(x, 0.0, rng=rng) is x
    y = dropout2d(x, 1.0, rng=rng)
    assert (y == 0).all() and not np.isnan(y).any()
    # multiplicative mask: negatives become -0.0, NaN stays NaN
    z = dropout2d(np.array([[[[-1.0, np.nan]]]]), 1.0)
    assert np.signbit(z[0, 0, 0, 0]) and np.isnan(z[0, 0, 0, 1])


@pytest.mark.parametrize("p", [-0.1, 1.1, math.nan, math.inf, -math.inf])
def test_r8_invalid_p_raises_at_call_and_construction(rng, p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout2d(_x(rng), p)
    with pytest.raises(ValueError, match="between 0 and 1"):
        Dropout2d(p)


@pytest.mark.parametrize("p", ["0.5", None, True])
def test_r8_non_real_p_is_a_type_error(rng, p):
    with pytest.raises(TypeError):
        dropout2d(_x(rng), p)


def test_r9_inplace_writes_result_into_input(rng):
    x = _x(rng)
    original = x.copy()
    y = dropout2d(x, 0.5, inplace=True, rng=rng)
    assert y is x and not np.array_equal(x, original)
    x2 = original.copy()
    y2 = dropout2d(x2, 0.5, rng=rng)
    assert y2 is not x2 and np.array_equal(x2, original)


def test_r10_same_seed_same_output(rng):
    x = _x(rng)
    a = dropout2d(x, 0.5, rng=np.random.default_rng(7))
    b = dropout2d(x, 0.5, rng=np.random.default_rng(7))
    c = dropout2d(x, 0.5, rng=np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_three_d_input_is_unbatched(rng):
    x = _x(rng, shape=(32, 4, 5))
    y = dropout2d(x, 0.5, rng=rng)
    per_channel = (y == 0).reshape(32, -1)
    assert (per_channel.all(-1) | (~per_channel).all(-1)).all()


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4, 5, 6), (7,)])
def test_other_ranks_are_rejected(shape):
    with pytest.raises(ValueError, match="4D"):
        dropout2d(np.ones(shape), 0.5)


def test_empty_input_returns_itself():
    x = np.ones((0, 3, 4, 4), np.float32)
    assert dropout2d(x, 0.5) is x


def test_integer_input_raises_in_training_only():
    x = np.ones((2, 3, 4, 4), np.int64)
    with pytest.raises(TypeError, match="floating"):
        dropout2d(x, 0.5)
    assert dropout2d(x, 0.5, training=False) is x


def test_module_repr_and_train_switch():
    m = Dropout2d(0.25, inplace=True)
    assert repr(m) == "Dropout2d(p=0.25, inplace=True)"
    assert m.eval().train().training
    assert reference.validate_p(1) == 1.0
