"""checks/usersizes.py: the large cases cover every dtype and layout and meet the largest
tensor in every dtype; the tiled value test is exactly assert_scaled's criterion; the large
training calls are shared through the run cache."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.adapters.base import KNOWN_DTYPES, numpy_dtype
from conformance.checks import usersizes
from conformance.checks.assertions import assert_scaled
from conformance.checks.base import CheckContext
from conformance.checks.inputs import maps
from conformance.checks.levels import LEVELS
from conformance.checks.settings import MEMORIES
from conformance.errors import CheckFailed

DTYPE_SETS = [KNOWN_DTYPES[:k] for k in range(1, 5)] + [("float64",), ("bfloat16", "float32")]


@pytest.mark.parametrize("names", DTYPE_SETS, ids=lambda d: "-".join(d))
def test_large_cases_cover_every_dtype_layout_and_the_largest_in_every_dtype(names):
    dtypes = [numpy_dtype(d) for d in names]
    cases = usersizes.large_cases(dtypes)
    assert len(cases) == len(usersizes.LARGE_SHAPES) - 1 + len(dtypes)  # no product of factors
    assert {c.shape for c in cases} == set(usersizes.LARGE_SHAPES)
    assert {c.dtype for c in cases} == set(dtypes)
    assert {c.memory for c in cases} == set(MEMORIES)
    assert sorted(c.dtype.name for c in cases if c.largest) == sorted(d.name for d in dtypes)
    # the same (shape, dtype) pairs every time: what a compiling framework compiles once
    assert usersizes.large_cases(dtypes) == cases


def test_large_shapes_are_what_users_run():
    maps_ = {s[-2:] for s in usersizes.LARGE_SHAPES}
    assert set(usersizes.CNN_MAPS) <= maps_ and usersizes.LONG_MAPS[0] in maps_
    assert max(s[1] for s in usersizes.LARGE_SHAPES) == usersizes.MAX_CHANNELS
    assert max(s[0] for s in usersizes.LARGE_SHAPES) > 8192  # past any power-of-two chunk
    largest = usersizes.LargeCase(usersizes.LARGE_SHAPES[-1], np.dtype("float64"), "contiguous")
    assert largest.nbytes > 20e6  # tens of MB
    # every dtype's largest tensor is over the 4 MiB where the gallery's size faults start
    assert largest.nbytes // 4 > 1 << 22


def test_large_input_repeats_its_tile_and_no_two_maps_agree(rng):
    case = usersizes.LargeCase((2, 64, 56, 56), np.dtype("float32"), "contiguous")
    x, tile = usersizes.large_input(rng, case)
    flat = x.reshape(-1)
    assert x.flags.c_contiguous and not (x == 0).any()
    np.testing.assert_array_equal(flat[:usersizes.TILE], tile)
    np.testing.assert_array_equal(flat[usersizes.TILE:2 * usersizes.TILE], tile)
    rows = maps(x).reshape(-1, 56 * 56)
    assert len({r.tobytes() for r in rows}) == rows.shape[0]


def _ulp_steps(a: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``a`` moved by ``steps`` units in the last place (same sign throughout)."""
    ints = a.view(np.dtype(f"i{a.dtype.itemsize}"))
    return (ints + steps.astype(ints.dtype)).view(a.dtype)


@pytest.mark.parametrize("name", KNOWN_DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.15, 1 / 3, 0.9, 0.9999])
def test_tiled_test_agrees_with_assert_scaled_element_by_element(name, p, rng):
    """Kept values moved by -7..7 ulps, some maps dropped (+0.0 and -0.0): the tiled test
    passes and fails exactly where assert_scaled does, on its own verdict for every element."""
    dtype = numpy_dtype(name)
    case = usersizes.LargeCase((3, 5, 4, 4), dtype, "contiguous")
    tile = usersizes.nonzero_values(rng, (usersizes.TILE,), dtype)[:60]
    x = np.resize(tile, case.shape)
    y = (x.astype(np.float64) / (1 - p)).astype(dtype)
    keep = rng.random(case.shape[:2]) >= 0.3
    verdicts = set()
    for k in range(-7, 8):
        moved = _ulp_steps(y, np.full(y.shape, k))
        out = np.where(keep[..., None, None], moved, np.where(x < 0, -0.0, 0.0).astype(dtype))
        expected_ok = True
        try:
            assert_scaled(actual=out, x=x, keep=keep, p=p, where="")
        except CheckFailed:
            expected_ok = False
        # the tiled test with its period the whole tensor (60 values): same criterion
        big = usersizes.TILE
        try:
            usersizes.TILE = tile.size
            usersizes.assert_scaled_tiled(actual=out, x=x, tile=tile, p=p, where="")
            tiled_ok = True
        except CheckFailed:
            tiled_ok = False
        finally:
            usersizes.TILE = big
        assert tiled_ok == expected_ok, (name, p, k)
        verdicts.add(tiled_ok)
    assert verdicts == {True, False}  # both sides of the bound were met


def test_tiled_test_names_nan_and_the_first_bad_element(rng):
    case = usersizes.LargeCase((2, 3, 112, 112), np.dtype("float32"), "contiguous")
    x, tile = usersizes.large_input(rng, case)
    y = x * np.float32(2.0)
    y[1, 2, 5, 7] = np.nan
    bad = r"1 of 75264 elements .* first at \(1, 2, 5, 7\): got nan"
    with pytest.raises(CheckFailed, match=bad):
        usersizes.assert_scaled_tiled(actual=y, x=x, tile=tile, p=0.5, where="here")
    usersizes.assert_scaled_tiled(actual=np.zeros_like(x), x=x, tile=tile, p=0.5, where="")


def test_large_training_calls_are_made_once_per_run(recording):
    adapter = recording(dtypes=("float32",))
    ctx = CheckContext(adapter, LEVELS["quick"], seed=1, alpha=1e-5, beta=1e-3, run_seed=7)
    first = usersizes.large_training(ctx)
    calls = len(adapter.calls)
    assert calls == len(usersizes.large_cases([np.dtype("float32")]))
    # another check of the run (another check seed) reads the same calls
    other = CheckContext(adapter, LEVELS["quick"], seed=2, alpha=1e-5, beta=1e-3, run_seed=7,
                         run_cache=ctx.run_cache)
    assert usersizes.large_training(other) is first and len(adapter.calls) == calls
    assert all(c.structure is None and c.values is None for c in first)
