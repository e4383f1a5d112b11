"""checks/settings.py: a setting is validated when made and counts its decisions, not its
elements; every input it makes has no zero (a zero output then means "dropped"), whatever the
kind, dtype and shape."""

from __future__ import annotations

import math

import ml_dtypes  # noqa: F401  (registers bfloat16 with NumPy)
import numpy as np
import pytest

from conformance.checks import space as sp
from conformance.checks.settings import INPUT_KINDS, MEMORIES, VALUE_CLASSES, Setting, make_input

DTYPES = ("float16", "float32", "float64", "bfloat16")
SHAPES = ((3, 5, 4, 7), (1, 1, 1, 1), (6, 2, 1, 1), (5, 3, 2), (16, 64, 2, 3))


@pytest.mark.parametrize("shape", [(4, 4), (2, 3, 4, 5, 6), (0, 3, 2, 2), (2, 0, 2, 2),
                                   (2, 3, 0, 2), (3, 2, -1)])
def test_a_setting_needs_a_3d_or_4d_shape_of_positive_sizes(shape):
    with pytest.raises(ValueError, match=r"a setting needs a 4D or 3D shape of positive sizes"):
        Setting(0.5, shape)


@pytest.mark.parametrize("p", [-0.01, 1.01, math.nan, math.inf, -math.inf])
def test_a_setting_needs_p_in_0_1(p):
    with pytest.raises(ValueError, match=r"a setting needs p in \[0, 1\], got"):
        Setting(p, (2, 3, 4, 5))


@pytest.mark.parametrize("p", [0.0, 1.0, 0.5, 1e-6])
def test_p_at_and_inside_the_ends_is_a_setting(p):
    assert Setting(p, (2, 3, 4, 5)).p == p


def test_a_setting_counts_channel_decisions():
    batched = Setting(0.25, (6, 5, 3, 2), "normal", "float16", "channels_last")
    assert (batched.unbatched, batched.batch, batched.channels) == (False, 6, 5)
    assert (batched.map_size, batched.per_call) == (6, 30)
    unbatched = Setting(0.25, (5, 3, 2))
    assert (unbatched.unbatched, unbatched.batch, unbatched.channels) == (True, 1, 5)
    assert (unbatched.map_size, unbatched.per_call) == (6, 5)


def test_a_settings_label_names_what_differs_from_the_usual():
    assert Setting(1 / 3, (6, 5, 3, 2), "normal", "float16", "channels_last").label() == (
        "p=0.333333, shape=(6, 5, 3, 2), input=normal, float16, channels_last")
    assert Setting(0.5, (5, 3, 2)).label() == (
        "p=0.5, unbatched shape=(5, 3, 2), input=ones, float32")


def test_the_kinds_and_memories_are_what_the_space_rotates_through():
    assert set(sp.KINDS) == {*INPUT_KINDS, VALUE_CLASSES}
    assert set(sp.MEMORIES) == set(MEMORIES) == {"contiguous", "channels_last", "strided"}


@pytest.mark.parametrize("kind", sp.KINDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_input_has_no_zero_and_the_settings_shape_and_dtype(kind, dtype):
    for seed, shape in enumerate(SHAPES):
        x = make_input(np.random.default_rng(seed), Setting(0.5, shape, kind, dtype))
        assert x.shape == shape and x.dtype == np.dtype(dtype), (shape, kind, dtype)
        wide = x.astype(np.float64)
        assert np.isfinite(wide).all() and (wide != 0).all(), (shape, kind, dtype)


@pytest.mark.parametrize("kind", sp.KINDS)
def test_an_input_is_fixed_by_the_generator(kind):
    setting = Setting(0.5, (3, 5, 4, 7), kind, "float32")
    a = make_input(np.random.default_rng(9), setting)
    assert np.array_equal(a, make_input(np.random.default_rng(9), setting))
    if kind != "ones":
        assert not np.array_equal(a, make_input(np.random.default_rng(10), setting))


def test_mixed_magnitude_spans_six_decades_with_both_signs():
    x = make_input(np.random.default_rng(1), Setting(0.5, (64, 64, 2, 2), "mixed-magnitude",
                                                     "float64"))
    magnitude = np.abs(x)
    assert magnitude.min() < 1e-2 and magnitude.max() > 1e2
    assert (x < 0).any() and (x > 0).any()


def test_an_unknown_input_kind_is_an_error():
    with pytest.raises(ValueError, match="unknown input kind 'zeros'"):
        make_input(np.random.default_rng(0), Setting(0.5, (2, 3, 4, 5), "zeros"))
