"""The pool of draws: drawn once, kept packed, the same whichever process or check draws a
cell, and read exactly whatever the implementation does to its input or its output buffer."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import battery
from conformance.adapters import load_adapter
from conformance.adapters.callable import CallableAdapter
from conformance.checks import CATALOGUE, CheckContext, pool
from conformance.checks import space as sp
from conformance.checks.levels import LEVELS
from conformance.config import RunConfig
from conformance.engine.check_runner import run_check
from conformance.errors import CheckFailed
from conformance.mutants.core import correct

ALPHA = battery.check_alpha(battery.FAMILY_ALPHA)


def _context(adapter, **kwargs) -> CheckContext:
    return CheckContext(adapter=adapter, level=LEVELS["quick"], seed=5, alpha=ALPHA,
                        beta=1e-3, run_seed=7, **kwargs)


def test_a_draw_is_kept_packed_and_reread_from_the_run_cache():
    adapter = load_adapter("reference")
    ctx = CheckContext(adapter=adapter, level=LEVELS["quick"], seed=5, alpha=ALPHA,
                       beta=1e-3, run_seed=7)
    cell = sp.space(ctx).family("sweep")[0]
    first = pool.draw(ctx, cell)
    assert first.packed.dtype == np.uint8
    assert first.packed.nbytes <= cell.decisions // 8 + cell.calls  # a bit a decision
    assert pool.draw(ctx, cell) is first and ctx.decisions == cell.decisions
    # a fresh cache (a single-check run, a restarted worker) draws the same data
    fresh = CheckContext(adapter=adapter, level=LEVELS["quick"], seed=99, alpha=ALPHA,
                         beta=1e-3, run_seed=7)
    again = pool.draw(fresh, cell)
    assert np.array_equal(again.dropped(), first.dropped())
    assert again.ratio_sum == first.ratio_sum


def test_a_single_check_reproduces_the_p_values_of_the_full_run():
    """--check X alone draws exactly the data of the full run (the adapter is seeded per
    setting), so every sub-test's p-value is the same; another seed changes them."""
    adapter = load_adapter("reference")
    config = RunConfig(level="quick", seed=3)
    cache: dict = {}
    full = {cid: run_check(adapter, CATALOGUE[cid], config, cache)
            for cid in battery.STATISTICAL}
    for cid in ("independence-calls", "expectation", "rate-homogeneity"):
        alone = run_check(load_adapter("reference"), CATALOGUE[cid], config, {})
        assert [s.p_value for s in alone.stats] == [s.p_value for s in full[cid].stats], cid
    other = run_check(adapter, CATALOGUE["drop-rate"], RunConfig(level="quick", seed=4), {})
    assert [s.p_value for s in other.stats] != [s.p_value for s in full["drop-rate"].stats]
    assert all(r.verdict.value == "pass" for r in full.values()), {
        k: r.message for k, r in full.items() if r.verdict.value != "pass"}



def _cell(family: str, *, predicate=lambda c: True) -> sp.Cell:
    space = sp.space(_context(load_adapter("reference")))
    return next(c for c in space.family(family) if predicate(c))


def _drawn(fn, cell: sp.Cell) -> np.ndarray:
    return pool.draw_cell(_context(CallableAdapter(fn)), cell).dropped()


def test_what_a_call_does_to_its_input_does_not_reach_the_next_call():
    """Each call gets its input afresh: an implementation that zeroes its input (R9's fault,
    the inplace check's) leaves the decisions of the calls after it as they are."""
    cell = _cell("sweep", predicate=lambda c: c.calls > 2)

    def zeroes_its_input(x, p, training=True, inplace=False, seed=None):
        y = correct(x, p, training, seed=seed)
        x[...] = 0
        return y

    assert np.array_equal(_drawn(zeroes_its_input, cell), _drawn(correct, cell))


def test_an_output_buffer_reused_by_the_implementation_does_not_change_the_decisions():
    """Small calls are read in chunks: each output is copied into the chunk before the next
    call, so one reused buffer (R1's fault, results-kept's) corrupts no decision."""
    cell = _cell("sequence")
    assert pool.CHUNK_ELEMENTS // (cell.setting.per_call * cell.setting.map_size) > 1
    buffer: dict = {}

    def reuses_its_output(x, p, training=True, inplace=False, seed=None):
        y = correct(x, p, training, seed=seed)
        out = buffer.setdefault(y.shape, np.empty_like(y))
        out[...] = y
        return out

    assert np.array_equal(_drawn(reuses_its_output, cell), _drawn(correct, cell))


def test_a_partly_zero_map_fails_r2s_structure_with_the_call_that_gave_it():
    cell = _cell("sweep", predicate=lambda c: c.setting.map_size > 1)

    def elementwise(x, p, training=True, inplace=False, seed=None):
        keep = np.random.default_rng(seed).random(x.shape) >= p
        return (x * keep / (1 - p)).astype(x.dtype)

    with pytest.raises(CheckFailed, match="is partly zero"):
        _drawn(elementwise, cell)
