"""The mutant gallery: every mutant loads, is caught cleanly by the deterministic checks it names,
and every statistical mutant is correct but for a fault of the stated size (measured here
directly on its masks, with fixed seeds).  The statistical checks themselves are not run here.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re

import numpy as np
import pytest

import conformance
from conformance import battery
from conformance.adapters import Adapter, load_adapter
from conformance.checks import CATALOGUE
from conformance.config import RunConfig
from conformance.defaults import LEVEL_NAMES
from conformance.engine.check_runner import run_check
from conformance.mutants import CORRECT_VARIANTS, MUTANTS, core, offgrid, rates

DETERMINISTIC = frozenset(battery.DETERMINISTIC)
STATISTICAL = frozenset(battery.STATISTICAL)
CONTROLS = (
    "reference",
    "conformance.mutants.core:correct",
    "conformance.mutants.core:correct_unseeded",
    *CORRECT_VARIANTS,
)
TORCH_CONTROL = "conformance.mutants.autograd:_AutogradCore"


def _skip_unless_available(name: str) -> None:
    needs = MUTANTS[name].needs
    if needs:
        pytest.importorskip(needs)


@functools.cache
def verdicts(spec: str) -> dict[str, tuple[str, str]]:
    """Every deterministic check's (verdict, message) for the adapter ``spec`` (computed once)."""
    core.reseed(20261126)  # seed-less mutants draw from the core's generator
    adapter = load_adapter(spec)
    results, cache = {}, {}  # one run cache, as in a real run (large calls shared)
    for check_id in battery.DETERMINISTIC:
        result = run_check(adapter, CATALOGUE[check_id], RunConfig(), cache)
        results[check_id] = (result.verdict.value, result.message)
    return results


def _target(spec: str):
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr)


def _deterministic_pairs() -> list:
    pairs = []
    for m in MUTANTS.values():
        for check_id in m.expected:
            if check_id in DETERMINISTIC:
                pairs.append(pytest.param(m.name, check_id, id=f"{m.name}:{check_id}"))
    return pairs


STATISTICAL_ONLY = sorted(n for n, m in MUTANTS.items() if set(m.expected) <= STATISTICAL)


# ----------------------------------------------------------------------------- the registry


def test_gallery_is_large_and_well_formed():
    assert len(MUTANTS) >= 28
    targets = [m.target for m in MUTANTS.values()]
    assert len(set(targets)) == len(targets), "two mutants share a target"
    for key, m in MUTANTS.items():
        assert key == m.name and re.fullmatch(r"[a-z0-9]+(?:[-.][a-z0-9]+)*", m.name), m
        assert m.target.startswith("conformance.mutants.") and ":" in m.target, m
        assert m.bug and "\n" not in m.bug, m
        assert m.expected and set(m.expected) <= DETERMINISTIC | STATISTICAL, m
        assert m.level in LEVEL_NAMES, m
        assert m.needs in (None, "torch"), m


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_docstring_names_the_bug_class_and_its_source(name):
    doc = " ".join((inspect.getdoc(_target(MUTANTS[name].target)) or "").split())
    assert len(doc) > 80, f"{name}: the docstring must describe the bug class"
    assert re.search(r"#\d+|no public issue known", doc, flags=re.I), (
        f"{name}: cite an issue/PR number or say 'no public issue known'"
    )


@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_mutant_loads(name):
    _skip_unless_available(name)
    adapter = load_adapter(MUTANTS[name].target)
    assert isinstance(adapter, Adapter)
    if MUTANTS[name].needs == "torch":
        assert adapter.capabilities.autograd


def test_gallery_imports_without_frameworks():
    """Only the autograd module touches torch, and only when an adapter is constructed."""
    source = inspect.getsource(importlib.import_module("conformance.mutants.autograd"))
    assert not re.search(r"^\s*(import torch|from torch)", source, flags=re.M)


# ----------------------------------------------------------------------------- controls


@pytest.mark.parametrize("spec", CONTROLS)
def test_controls_pass_every_deterministic_check(spec):
    bad = {k: v for k, v in verdicts(spec).items() if v[0] not in ("pass", "skip")}
    assert not bad


def test_torch_autograd_control_passes_including_gradient():
    pytest.importorskip("torch")
    results = verdicts(TORCH_CONTROL)
    bad = {k: v for k, v in results.items() if v[0] != "pass"}
    assert not bad


# ----------------------------------------------------------------------------- deterministic


@pytest.mark.parametrize(("name", "check_id"), _deterministic_pairs())
def test_expected_deterministic_check_fails_cleanly(name, check_id):
    _skip_unless_available(name)
    verdict, message = verdicts(MUTANTS[name].target)[check_id]
    assert verdict == "fail", f"{name} / {check_id}: {verdict}: {message}"


# p-one-raises raises by design: every check that calls p = 1 (shape-dtype too) reports it as
# 'error'; whether p-one turns it into a clean 'fail' is tested above.
@pytest.mark.parametrize("name", sorted(set(MUTANTS) - {"p-one-raises"}))
def test_no_deterministic_check_errors(name):
    """A mutant is wrong, not broken: checks give pass, fail or skip, never 'error'."""
    _skip_unless_available(name)
    errors = {k: v for k, v in verdicts(MUTANTS[name].target).items() if v[0] == "error"}
    assert not errors


@pytest.mark.parametrize("name", STATISTICAL_ONLY)
def test_statistical_mutant_passes_every_deterministic_check(name):
    bad = {k: v for k, v in verdicts(MUTANTS[name].target).items() if v[0] not in ("pass", "skip")}
    assert not bad, f"{name} must be correct but for its statistics"


# ----------------------------------------------------------------------------- measurements


def _fn(name):
    return _target(MUTANTS[name].target)


def dropped(name, shape, p, calls=1, *, x=None, dtype=np.float32, seed=0):
    """Dropped decisions of ``calls`` successive calls on ``x`` (default ones): (calls, N, C)."""
    fn = _fn(name)
    core.reseed(seed)
    x = np.ones(shape, dtype) if x is None else x
    seeded = "seed" in inspect.signature(fn).parameters
    out = []
    for t in range(calls):
        y = fn(x, p, seed=seed * 100_003 + t) if seeded else fn(x, p)
        out.append((y.reshape((*y.shape[:2], -1)) == 0).all(axis=-1))
    return np.stack(out)


def phi(a, b):
    return float(np.corrcoef(a.reshape(-1), b.reshape(-1))[0, 1])


def _close(value, target, tol, what):
    assert abs(value - target) < tol, f"{what}: measured {value:.5f}, expected {target} +- {tol}"


class _GridRNG:
    """Stands in for a Generator: 'uniforms' on an even grid, for exact probabilities."""

    def __init__(self, n):
        self.n = n

    def random(self, shape, dtype=np.float64):
        assert int(np.prod(shape)) == self.n
        return ((np.arange(self.n) + 0.5) / self.n).astype(dtype).reshape(shape)


def m_p_swapped():
    _close(dropped("p-swapped", (200, 1000, 1, 1), 0.1).mean(), 0.9, 0.005, "rate at p=0.1")
    _close(dropped("p-swapped", (200, 1000, 1, 1), 0.5).mean(), 0.5, 0.005, "rate at p=0.5")


def m_rate_off_0_01():
    _close(dropped("rate-off-0.01", (100, 200, 1, 1), 0.5, 10).mean(), 0.51, 0.005, "rate")
    assert dropped("rate-off-0.01", (100, 200, 1, 1), 0.995).all(), "p + 0.01 clips at 1"


def m_rate_off_0_005():
    rate = dropped("rate-off-0.005", (1000, 1000, 1, 1), 0.5).mean()
    _close(rate, 0.505, 0.0025, "rate at p=0.5 over 1e6 decisions")


def m_rate_off_float16():
    d16 = dropped("rate-off-float16", (200, 1000, 1, 1), 0.5, dtype=np.float16)
    d32 = dropped("rate-off-float16", (200, 1000, 1, 1), 0.5, dtype=np.float32)
    _close(d16.mean(), 0.52, 0.005, "float16 rate")
    _close(d32.mean(), 0.5, 0.005, "float32 rate")


def m_uniform_8bit():
    _close(dropped("uniform-8bit", (2000, 1000, 1, 1), 0.7).mean(), 0.703125, 0.0015, "rate 0.7")
    keep = 1 - dropped("uniform-8bit", (2000, 1000, 1, 1), 0.99).mean()
    _close(keep, 2 / 256, 0.0004, "keep rate at p=0.99 (E[y]/x = 0.78)")
    exact = rates._uniform_8bit(_GridRNG(1 << 16), (1 << 16,), 0.7, None).mean()
    assert exact == 180 / 256


def m_uniform_bf16():
    rate = dropped("uniform-bf16", (2000, 2000, 1, 1), 0.7).mean()
    _close(rate, 179.5 / 256, 0.0007, "rate at p=0.7 over 4e6 decisions")
    assert rate > 0.7003
    grid = _GridRNG(1 << 20)
    assert rates._uniform_bf16(grid, (1 << 20,), 0.7, None).mean() == 179.5 / 256
    assert rates._uniform_bf16(grid, (1 << 20,), 0.5, None).mean() == 0.5 - 2**-10


def m_channel_biased():
    d = dropped("channel-biased", (5000, 8, 1, 1), 0.5, 4)
    per_channel = d.mean(axis=(0, 1))
    _close(per_channel[3], 0.55, 0.012, "channel 3")
    _close(np.delete(per_channel, 3).max(), 0.5, 0.012, "other channels (max)")
    _close(np.delete(per_channel, 3).min(), 0.5, 0.012, "other channels (min)")


def m_first_sample_kept():
    d = dropped("first-sample-kept", (10, 50, 1, 1), 0.5, 400)
    assert not d[:, 0].any(), "sample 0 is never dropped"
    _close(d[:, 1:].mean(), 0.5, 0.01, "other samples")
    _close(dropped("first-sample-kept", (2000, 1, 1), 0.5).mean(), 0.5, 0.04, "3D unbatched")


def m_value_dependent():
    x = np.ones((1000, 100, 1, 1), np.float32)
    x[:, ::2] = -1
    d = dropped("value-dependent", x.shape, 0.5, 4, x=x)
    _close(d[:, :, ::2].mean(), 0.52, 0.005, "negative maps")
    _close(d[:, :, 1::2].mean(), 0.48, 0.005, "positive maps")
    _close(d.mean(), 0.5, 0.004, "balanced signs: mean rate")


def m_drop_count_fixed():
    d = dropped("drop-count-fixed", (20000, 32, 1, 1), 0.3)
    counts = d.sum(axis=-1).reshape(-1)
    assert set(np.unique(counts)) <= {9, 10}, "pC = 9.6: 9 or 10 per sample"
    assert counts.var() < 0.3, f"variance {counts.var()} vs Binomial's {32 * 0.3 * 0.7}"
    _close(d.mean(), 0.3, 0.003, "marginal rate")
    _close(d.mean(axis=(0, 1)).max(), 0.3, 0.015, "max channel rate")


def m_batch_shared_mask():
    d = dropped("batch-shared-mask", (16, 64, 1, 1), 0.5, 200)
    assert (d == d[:, :1]).all(), "every sample of a call has the same mask"
    assert len({m.tobytes() for m in d[:, 0]}) == 200, "calls differ"
    _close(d.mean(), 0.5, 0.01, "rate")


def m_per_sample_mask():
    d = dropped("per-sample-mask", (64, 16, 1, 1), 0.3, 200)
    assert (d == d[..., :1]).all(), "every channel of a sample shares its decision"
    _close(d.mean(), 0.3, 0.015, "rate")


def m_grouped_channels_4():
    d = dropped("grouped-channels-4", (1000, 10, 1, 1), 0.5, 50)
    for group in (slice(0, 4), slice(4, 8), slice(8, 10)):
        block = d[..., group]
        assert (block == block[..., :1]).all(), f"channels {group} share one draw"
    _close(phi(d[..., 3], d[..., 4]), 0.0, 0.02, "phi across a group boundary")
    _close(d.mean(), 0.5, 0.005, "rate")


def m_adjacent_correlated():
    d = dropped("adjacent-correlated", (2000, 64, 1, 1), 0.5, 5)
    _close(phi(d[..., :-1], d[..., 1:]), 0.05, 0.006, "phi(c, c+1)")
    _close(phi(d[..., :-5], d[..., 5:]), 0.0, 0.006, "phi(c, c+5)")
    _close(d.mean(), 0.5, 0.003, "rate")
    _close(d[..., -1].mean(), 0.5, 0.012, "rate of the last channel")


def m_channel_period_32():
    d = dropped("channel-period-32", (1000, 80, 1, 1), 0.5, 5)
    assert (d[..., 32:] == d[..., :-32]).all(), "channel c + 32 repeats channel c"
    _close(phi(d[..., :31], d[..., 1:32]), 0.0, 0.01, "phi(c, c+1)")
    _close(d.mean(), 0.5, 0.005, "rate")


def m_same_mask_every_call():
    d = dropped("same-mask-every-call", (16, 64, 1, 1), 0.5, 10)
    assert (d == d[:1]).all(), "every call gives the same mask"
    _close(d[0].mean(), 0.5, 0.05, "rate of the one mask")


def m_small_seed_space():
    d = dropped("small-seed-space", (8, 64, 1, 1), 0.5, 100)
    distinct = len({m.tobytes() for m in d})
    assert 1 < distinct <= 16, f"{distinct} distinct masks in 100 calls"


def m_mask_period():
    d = dropped("mask-period", (8, 64, 1, 1), 0.5, 24)
    assert (d[8:] == d[:-8]).all(), "call t + 8 repeats call t"
    assert len({m.tobytes() for m in d}) == 8


def m_rate_batch_1():
    _close(dropped("rate-batch-1", (1, 20000, 1, 1), 0.4, 5).mean(), 0.4375, 0.005, "N = 1")
    _close(dropped("rate-batch-1", (2, 20000, 1, 1), 0.4, 3).mean(), 0.4, 0.005, "N = 2")
    _close(dropped("rate-batch-1", (1, 20000, 1, 1), 0.375, 5).mean(), 0.375, 0.005,
           "p a multiple of 1/16")


def m_rate_unbatched():
    _close(dropped("rate-unbatched", (50000, 1, 1), 0.5, 2).mean(), 0.54, 0.005, "3D")
    _close(dropped("rate-unbatched", (100, 500, 1, 1), 0.5, 2).mean(), 0.5, 0.005, "4D")


def m_rate_1x1_maps():
    _close(dropped("rate-1x1-maps", (200, 250, 1, 1), 0.5, 2).mean(), 0.53, 0.005, "1x1")
    _close(dropped("rate-1x1-maps", (200, 250, 1, 2), 0.5, 2).mean(), 0.5, 0.005, "1x2")


def m_rate_many_channels():
    many = dropped("rate-many-channels", (100, offgrid.MANY_CHANNELS, 1, 1), 0.5, 3).mean()
    few = dropped("rate-many-channels", (100, offgrid.MANY_CHANNELS - 1, 1, 1), 0.5, 3).mean()
    _close(many, 0.52, 0.005, "C = 400")
    _close(few, 0.5, 0.005, "C = 399")


def m_rate_band():
    _close(dropped("rate-band", (200, 500, 1, 1), 0.38, 2).mean(), 0.43, 0.005, "p = 0.38")
    _close(dropped("rate-band", (200, 500, 1, 1), 0.36, 2).mean(), 0.36, 0.005, "p = 0.36")
    _close(dropped("rate-band", (200, 500, 1, 1), 0.40, 2).mean(), 0.40, 0.005, "p = 0.40")


def m_rate_off_float64():
    d64 = dropped("rate-off-float64", (200, 1000, 1, 1), 0.5, dtype=np.float64).mean()
    d32 = dropped("rate-off-float64", (200, 1000, 1, 1), 0.5, dtype=np.float32).mean()
    _close(d64, 0.48, 0.005, "float64 rate")
    _close(d32, 0.5, 0.005, "float32 rate")


def m_rate_strided():
    view = np.ones((200, 500, 1, 2), np.float32)[..., ::2]
    assert not view.flags["C_CONTIGUOUS"]
    _close(dropped("rate-strided", view.shape, 0.5, 2, x=view).mean(), 0.53, 0.005, "strided")
    _close(dropped("rate-strided", (200, 500, 1, 1), 0.5, 2).mean(), 0.5, 0.005, "contiguous")


def m_last_channel_kept():
    d = dropped("last-channel-kept", (2000, 10, 1, 1), 0.5, 2)
    assert not d[..., -1].any(), "the last channel is never dropped"
    _close(d[..., :-1].mean(), 0.5, 0.005, "other channels")


def m_magnitude_dependent():
    x = np.ones((1000, 100, 1, 1), np.float32)
    x[:, ::2] = 1000
    d = dropped("magnitude-dependent", x.shape, 0.5, 4, x=x)
    _close(d[..., ::2].mean(), 0.53, 0.005, "|x| = 1000")
    _close(d[..., 1::2].mean(), 0.5, 0.005, "|x| = 1")


def m_shifted_neighbour():
    d = dropped("shifted-neighbour", (64, 50, 1, 1), 0.5, 20)
    assert (d[:, 1::2] == np.roll(d[:, 0::2], 1, axis=-1)).all(), "sample 2k+1 = shifted 2k"
    _close(phi(d[:, 0::2], d[:, 1::2]), 0.0, 0.03, "phi(n, n+1) at the same channel")
    _close(d.mean(), 0.5, 0.01, "rate")


def m_count_fixed_per_call():
    d = dropped("count-fixed-per-call", (30, 20, 1, 1), 0.3, 50)
    assert (d.sum(axis=(1, 2)) == 180).all(), "exactly round(0.3 * 600) per call"
    _close(d.mean(axis=0).max(), 0.3, 0.25, "no position always dropped")


def m_channel_lag_7():
    d = dropped("channel-lag-7", (2000, 64, 1, 1), 0.5, 5)
    _close(phi(d[..., :-offgrid.LAG], d[..., offgrid.LAG:]), 0.2, 0.01, "phi(c, c+7)")
    _close(phi(d[..., :-1], d[..., 1:]), 0.0, 0.01, "phi(c, c+1)")
    _close(d.mean(), 0.5, 0.005, "rate")


def m_channel_period_23():
    d = dropped("channel-period-23", (500, 80, 1, 1), 0.5, 5)
    assert (d[..., 23:] == d[..., :-23]).all(), "channel c + 23 repeats channel c"
    _close(phi(d[..., :22], d[..., 1:23]), 0.0, 0.02, "phi(c, c+1)")


def m_calls_half_repeat():
    d = dropped("calls-half-repeat", (50, 40, 1, 1), 0.5, 10)
    assert (d[1:, :, :20] == d[:-1, :, :20]).all(), "first half repeats the previous call"
    _close(phi(d[1:, :, 20:], d[:-1, :, 20:]), 0.0, 0.1, "second half independent")


def m_float16_batch_shared():
    d16 = dropped("float16-batch-shared", (16, 64, 1, 1), 0.5, 20, dtype=np.float16)
    d32 = dropped("float16-batch-shared", (16, 64, 1, 1), 0.5, 20, dtype=np.float32)
    assert (d16 == d16[:, :1]).all(), "float16: every sample shares the mask"
    assert not (d32 == d32[:, :1]).all(), "float32: samples differ"


def m_rng_period_300():
    d = dropped("rng-period-300", (4, 64, 1, 1), 0.5, 610)
    assert (d[300:] == d[:-300]).all(), "call t + 300 repeats call t"
    assert len({m.tobytes() for m in d}) == 300


def m_round_rate_table():
    _close(dropped("round-rate-table", (200, 500, 1, 1), 0.2, 2).mean(), 0.25, 0.005, "p 0.2")
    _close(dropped("round-rate-table", (200, 500, 1, 1), 0.25, 2).mean(), 0.2, 0.005, "p 0.25")
    _close(dropped("round-rate-table", (200, 500, 1, 1), 0.2001, 2).mean(), 0.2, 0.005,
           "p 0.2001")


def m_never_drops_below_1e3():
    assert not dropped("never-drops-below-1e-3", (1000, 1000, 1, 1), 9e-4).any()
    _close(dropped("never-drops-below-1e-3", (1000, 1000, 1, 1), 1e-3).mean(), 1e-3, 2e-4,
           "p = 1e-3")


def m_always_drops_above_0999():
    assert dropped("always-drops-above-0.999", (1000, 1000, 1, 1), 0.9991).all()
    _close(dropped("always-drops-above-0.999", (1000, 1000, 1, 1), 0.999).mean(), 0.999, 2e-4,
           "p = 0.999")


def m_float16_uniforms():
    d16 = dropped("float16-uniforms", (1000, 1000, 1, 1), 1e-4, dtype=np.float16).mean()
    d32 = dropped("float16-uniforms", (1000, 1000, 1, 1), 1e-4, dtype=np.float32).mean()
    _close(d16, 1 / 1024, 2e-4, "float16 at p = 1e-4: 1/1024")
    _close(d32, 1e-4, 5e-5, "float32 at p = 1e-4")


def m_rate_cnn_maps():
    _close(dropped("rate-cnn-maps", (20, 50, 32, 32), 0.5, 4).mean(), 0.53, 0.012, "32x32")
    _close(dropped("rate-cnn-maps", (200, 500, 31, 1), 0.5, 2).mean(), 0.5, 0.005, "31x1")


def m_channels_repeat_above_2048():
    d = dropped("channels-repeat-above-2048", (20, 5000, 1, 1), 0.5, 2)
    assert (d[..., 2048:4096] == d[..., :2048]).all() and (d[..., 4096:] == d[..., :904]).all()
    _close(phi(d[..., :2047], d[..., 1:2048]), 0.0, 0.02, "phi(c, c+1) below 2048")


def m_last_decisions_kept():
    d = dropped("last-decisions-kept", (10, 30, 1, 1), 0.5, 500)
    assert not d[:, -1, -3:].any(), "the last three decisions of each call are kept"
    _close(d[:, :-1].mean(), 0.5, 0.01, "the other decisions")


def m_calls_overlap():
    d = dropped("calls-overlap", (8, 50, 1, 1), 0.5, 30).reshape(30, -1)
    assert (d[1:, :200] == d[:-1, 200:]).all(), "first half repeats the previous second half"
    _close(d.mean(), 0.5, 0.02, "rate")


MEASUREMENTS = {
    "round-rate-table": m_round_rate_table,
    "never-drops-below-1e-3": m_never_drops_below_1e3,
    "always-drops-above-0.999": m_always_drops_above_0999,
    "float16-uniforms": m_float16_uniforms,
    "rate-cnn-maps": m_rate_cnn_maps,
    "channels-repeat-above-2048": m_channels_repeat_above_2048,
    "last-decisions-kept": m_last_decisions_kept,
    "calls-overlap": m_calls_overlap,
    "rate-batch-1": m_rate_batch_1,
    "rate-unbatched": m_rate_unbatched,
    "rate-1x1-maps": m_rate_1x1_maps,
    "rate-many-channels": m_rate_many_channels,
    "rate-band": m_rate_band,
    "rate-off-float64": m_rate_off_float64,
    "rate-strided": m_rate_strided,
    "last-channel-kept": m_last_channel_kept,
    "magnitude-dependent": m_magnitude_dependent,
    "shifted-neighbour": m_shifted_neighbour,
    "count-fixed-per-call": m_count_fixed_per_call,
    "channel-lag-7": m_channel_lag_7,
    "channel-period-23": m_channel_period_23,
    "calls-half-repeat": m_calls_half_repeat,
    "float16-batch-shared": m_float16_batch_shared,
    "rng-period-300": m_rng_period_300,
    "p-swapped": m_p_swapped,
    "rate-off-0.01": m_rate_off_0_01,
    "rate-off-0.005": m_rate_off_0_005,
    "rate-off-float16": m_rate_off_float16,
    "uniform-8bit": m_uniform_8bit,
    "uniform-bf16": m_uniform_bf16,
    "channel-biased": m_channel_biased,
    "first-sample-kept": m_first_sample_kept,
    "value-dependent": m_value_dependent,
    "drop-count-fixed": m_drop_count_fixed,
    "batch-shared-mask": m_batch_shared_mask,
    "per-sample-mask": m_per_sample_mask,
    "grouped-channels-4": m_grouped_channels_4,
    "adjacent-correlated": m_adjacent_correlated,
    "channel-period-32": m_channel_period_32,
    "same-mask-every-call": m_same_mask_every_call,
    "small-seed-space": m_small_seed_space,
    "mask-period": m_mask_period,
}


def test_every_statistical_mutant_is_measured():
    assert set(STATISTICAL_ONLY) <= set(MEASUREMENTS)


@pytest.mark.parametrize("name", sorted(MEASUREMENTS))
def test_statistical_fault_is_real_and_of_the_stated_size(name):
    MEASUREMENTS[name]()


def test_correct_core_measures_clean():
    """The measurement helpers see no fault in the correct core (the measurements' control)."""
    fn = _target("conformance.mutants.core:correct")
    x = np.ones((2000, 64, 1, 1), np.float32)
    d = np.stack([(fn(x, 0.5, seed=s).reshape(2000, 64) == 0) for s in range(5)])
    _close(d.mean(), 0.5, 0.003, "rate")
    _close(phi(d[..., :-1], d[..., 1:]), 0.0, 0.006, "phi(c, c+1)")
    _close(phi(d[:, :-1], d[:, 1:]), 0.0, 0.006, "phi(n, n+1)")


# ------------------------------------------------- statistical mutants through their checks

STATISTICAL_CASES = [
    pytest.param(m.name, id=m.name)
    for m in MUTANTS.values()
    if set(m.expected) & STATISTICAL and m.level != "thorough"
]


@pytest.mark.parametrize("name", STATISTICAL_CASES)
def test_statistical_mutant_fails_its_expected_checks_at_its_level(name):
    """Every statistical mutant is caught by each check it names, at its level (seed 0).

    The checks of one mutant share one run cache, as in a real run (draw once, test many).
    Mutants caught only at thorough level (uniform-bf16) take minutes; they are checked by
    ``dropout2d-conformance selftest --level thorough --mutant uniform-bf16``.
    """
    m = MUTANTS[name]
    core.reseed(20261202)
    adapter, cache = load_adapter(m.target), {}
    for check_id in sorted(set(m.expected) & STATISTICAL):
        result = run_check(adapter, CATALOGUE[check_id], RunConfig(level=m.level), cache)
        assert result.verdict.value == "fail", f"{check_id}: {result.message}"
        assert any(s.reject for s in result.stats), check_id


# The count-first variant (the example) runs the default battery; the others quick,
# to keep CI's CPU time within budget (each default battery draws ~13 M decisions).
VARIANT_LEVELS = [pytest.param(spec, "default" if i == 0 else "quick", id=spec.split(":")[1])
                  for i, spec in enumerate(CORRECT_VARIANTS)]


@pytest.mark.parametrize("spec, level", VARIANT_LEVELS)
def test_correct_variants_pass_every_statistical_check(spec, level):
    """Masks drawn in unusual but valid ways (count first, geometric gaps, channel-major
    integers, block permutations) pass the whole statistical battery."""
    adapter, cache = load_adapter(spec), {}
    failures = {}
    for check_id in battery.STATISTICAL:
        result = run_check(adapter, CATALOGUE[check_id], RunConfig(level=level), cache)
        if result.verdict.value != "pass":
            failures[check_id] = result.message
    assert not failures


@pytest.mark.parametrize("spec", ["reference", "torch"])
def test_correct_implementations_pass_the_statistical_battery(spec):
    """The reference and eager PyTorch pass every statistical check at default level, and
    drop-rate reaches the level's MDE at every anchor p (over a million decisions)."""
    if spec == "torch":
        pytest.importorskip("torch")
    result = conformance.check(spec, level="default", checks=battery.STATISTICAL)
    assert not result.failures, result.summary()
    rate = result["drop-rate"].statistics
    anchors = [s for s in rate["subtests"] if s["test"] == "binomial-exact"]
    assert anchors and all(s["mde"] <= 0.005 for s in anchors)
    assert sum(s["n"] for s in anchors) > 1_000_000
    assert {"statistic", "p_value", "alpha", "n", "mde", "observed", "ci", "seed"} <= set(rate)
    assert result["drop-rate"].reproduce


# ------------------------------------------------ issue 19: faults and fast paths where users run

from fractions import Fraction  # noqa: E402

from conformance.checks.inputs import SHAPES  # noqa: E402
from conformance.checks.usersizes import ROUND_RATES  # noqa: E402
from conformance.mutants import fastpaths  # noqa: E402
from conformance.mutants import usersizes as user_faults  # noqa: E402

USER_SIZE_FAULTS = sorted(n for n, m in MUTANTS.items()
                          if m.target.startswith("conformance.mutants.usersizes:"))

#: per fault, an input on its path (shape, dtype, p, training, inplace): more than 4 MiB (6.6 MB
#: here, in every dtype), maps of 32x32, or the round rate of its fault
USER_SIZE_TRIGGERS = {
    "element-wise-cnn-maps": ((2, 4, 32, 32), np.float32, 0.5, True, False),
    "inplace-copies-large": ((2, 64, 160, 160), np.float16, 0.5, True, True),
    "workspace-by-size": ((2, 64, 160, 160), np.float16, 0.5, True, False),
    "eval-float32-large": ((2, 16, 160, 160), np.float64, 0.5, False, False),
    "p-zero-float32-large": ((2, 16, 160, 160), np.float64, 0.0, True, False),
    "p-one-nan-large": ((2, 64, 160, 160), np.float16, 1.0, True, False),
    "round-rate-table-typo": ((4, 16, 5, 7), np.float64, 0.15, True, False),
    "tiny-p-unscaled": ((4, 16, 5, 7), np.float32, 1e-3, True, False),
}


def test_every_user_size_fault_has_a_trigger():
    assert len(USER_SIZE_FAULTS) >= 8 and set(USER_SIZE_TRIGGERS) == set(USER_SIZE_FAULTS)


def _both(fn, x, p, training, inplace, seed=5):
    a, b = x.copy(), x.copy()
    return fn(a, p, training, inplace, seed=seed), core.correct(b, p, training, inplace, seed=seed)


@pytest.mark.parametrize("name", USER_SIZE_FAULTS)
def test_user_size_fault_lives_on_its_path_only(name):
    """Bit for bit the correct core on every small input and p of today's grids (why the
    deterministic checks missed it before they met these sizes and rates), and different on
    the input of its path."""
    fn = _fn(name)
    rng = np.random.default_rng(3)
    for shape in SHAPES:
        for dtype in (np.float16, np.float32, np.float64):
            x = rng.uniform(0.5, 2, shape).astype(dtype)
            for p in (0.0, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0):
                for training in (True, False):
                    for inplace in (False, True):
                        got, want = _both(fn, x, p, training, inplace)
                        assert got.dtype == want.dtype
                        np.testing.assert_array_equal(got, want, err_msg=f"{name} {p}")
    shape, dtype, p, training, inplace = USER_SIZE_TRIGGERS[name]
    x = np.random.default_rng(4).uniform(0.5, 2, shape).astype(dtype)
    if name == "workspace-by-size":  # each result right; the next call of its size rewrites it
        first = _fn(name)(x, p, seed=1)
        kept = first.copy()
        _fn(name)(x, p, seed=2)
        assert not np.array_equal(first, kept)
        return
    if name == "inplace-copies-large":
        buffer = x.copy()
        out = _fn(name)(buffer, p, training, True, seed=1)
        assert out is not buffer and np.array_equal(buffer, x)
        return
    got, want = _both(fn, x, p, training, inplace)
    assert not np.array_equal(got, want, equal_nan=False)


def test_user_size_faults_share_one_threshold():
    assert user_faults.LARGE_BYTES == fastpaths.LARGE_BYTES == 1 << 22
    assert user_faults.LARGE_MAP == fastpaths.LARGE_MAP == 32 * 32


def test_fast_path_variants_take_their_paths():
    """Each correct fast path runs where it says (its draws differ from the core's one-shot
    draw with the same seed) and nowhere else (bit for bit the core)."""
    small = np.ones((4, 16, 31, 33), np.float32)
    cnn = np.ones((4, 16, 32, 32), np.float32)
    big = np.ones((2, 200, 80, 80), np.float32)  # 10 MB: chunks of 96 channels
    for fn, on, off in ((fastpaths.large_maps_integer_draw, cnn, small),
                        (fastpaths.chunked_large_tensors, big, small)):
        got, want = _both(fn, on, 0.5, True, False)
        assert not np.array_equal(got, want), fn.__name__
        got, want = _both(fn, off, 0.5, True, False)
        np.testing.assert_array_equal(got, want, err_msg=fn.__name__)
    buffer = big.copy()
    assert fastpaths.chunked_large_tensors(buffer, 0.5, True, True, seed=1) is buffer


def test_round_rate_table_is_correctly_rounded_for_every_round_rate():
    keys = {p for p, _ in fastpaths._TABLE}
    assert keys == set(ROUND_RATES)
    for (p, dtype), scale in fastpaths._TABLE.items():
        exact = 1 / (1 - Fraction(p))
        assert scale.dtype == dtype
        error = abs(Fraction(float(scale)) - exact)
        assert error <= Fraction(float(np.spacing(dtype.type(scale)))) / 2, (p, dtype)
