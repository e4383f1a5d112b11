"""The adapters of dm-haiku, MindSpore, Jittor and Trax: each loads by its registered name, says
what it can do, makes a couple of calls, and gives the verdicts observed and confirmed by hand
on the frameworks' real behaviour (the README's findings say what was run).

A failing verdict asserted here is a finding about the framework (the comment says which),
never a fault of the adapter.  Each test skips when its framework is not installed; the tox
environments ``haiku``, ``mindspore``, ``jittor`` and ``trax`` install them.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from conformance.adapters import load_adapter, registry
from conformance.errors import SpecError
from conformance.results import Verdict

from .test_frameworks import assert_verdict, caps, verdicts

NEW_ADAPTERS = ("haiku", "mindspore", "mindspore-nn", "jittor", "trax")


def channel_decisions(y: np.ndarray, x: np.ndarray, *, scale: float) -> np.ndarray:
    """Kept (True) / dropped (False) per (n, c) of an NCHW result, after checking that every
    map is all zeros or x times ``scale`` (so a test cannot pass on element-wise dropout)."""
    kept = np.all(y == (x * scale).astype(y.dtype), axis=(-2, -1))
    dropped = np.all(y == 0, axis=(-2, -1))
    mixed = np.argwhere(~(kept ^ dropped))
    assert not mixed.size, f"maps neither dropped nor kept at (n, c) {mixed.tolist()}"
    return kept


def test_new_frameworks_are_registered_and_tried_by_default():
    names = registry.registered()
    for name in NEW_ADAPTERS:
        assert name in names and name in registry.FRAMEWORKS


@pytest.mark.parametrize(("name", "module"), [("haiku", "haiku"), ("mindspore", "mindspore"),
                                              ("mindspore-nn", "mindspore"), ("jittor", "jittor"),
                                              ("trax", "trax")])
def test_new_adapter_with_framework_import_failing_is_a_spec_error(monkeypatch, name, module):
    # None in sys.modules makes `import module` raise ImportError, as if it were absent.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(SpecError, match=module):
        load_adapter(name)


# --- haiku: hk.dropout with broadcast_dims=(-3, -2); validates p, but not NaN ------------


def _assert_keyed_nhwc_basics(adapter, info) -> np.ndarray:
    """What the haiku and trax adapters share (NHWC, explicit keys): their declared
    capabilities and whole maps at the right scale on one NHWC call; returns that input."""
    assert info["layout"] == "NHWC"
    assert caps(adapter) == {
        "inplace": False, "seed": True, "autograd": True,
        "dtypes": ["float16", "float32", "float64", "bfloat16"], "three_d": True,
    }
    x = np.arange(1, 1 + 2 * 3 * 4 * 32, dtype=np.float32).reshape(2, 3, 4, 32)  # NHWC
    adapter.seed(0)
    y = adapter.to_numpy(adapter.dropout2d(adapter.to_native(x), 0.5))
    kept = channel_decisions(np.moveaxis(y, -1, 1), np.moveaxis(x, -1, 1), scale=2.0)
    assert 0 < kept.sum() < kept.size
    return x


def test_haiku():
    hk = pytest.importorskip("haiku")
    import jax

    adapter = load_adapter("haiku")
    info = adapter.info()
    assert info["framework_version"] == f"{hk.__version__} (jax {jax.__version__})"
    # a couple of calls: whole maps, the scale, bfloat16 through ml_dtypes, unbatched HWC
    x = _assert_keyed_nhwc_basics(adapter, info)
    xb = np.ones((2, 3, 3, 8), np.dtype("bfloat16"))
    yb = adapter.to_numpy(adapter.dropout2d(adapter.to_native(xb), 0.5))
    assert yb.dtype == np.dtype("bfloat16") and set(np.unique(yb.astype(np.float32))) <= {0, 2}
    y3 = adapter.to_numpy(adapter.dropout2d(adapter.to_native(x[0]), 0.5))
    channel_decisions(np.moveaxis(y3, -1, 0), np.moveaxis(x[0], -1, 0), scale=2.0)
    # Finding (dm-haiku 0.0.17): rate=1.0 raises ("rate must be in [0, 1)"), where R7 wants
    # zeros, and rate=nan passes the check and gives all-NaN output.
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        adapter.dropout2d(adapter.to_native(x), 1.0)
    assert np.isnan(adapter.to_numpy(adapter.dropout2d(adapter.to_native(x), float("nan")))).all()
    results = verdicts(adapter, "determinism", "gradient", "three-d-input", "invalid-p", "p-one")
    for cid in ("determinism", "gradient", "three-d-input"):
        assert_verdict(results[cid], Verdict.PASS)
    assert results["three-d-input"].findings["three_d"] == "unbatched (C, H, W)"
    assert_verdict(results["invalid-p"], Verdict.FAIL)
    assert "p=nan" in results["invalid-p"].message or "p=[nan]" in results["invalid-p"].message
    assert results["p-one"].verdict in (Verdict.FAIL, Verdict.ERROR)
    assert "[0, 1)" in results["p-one"].message


# --- mindspore: ops.dropout2d and nn.Dropout2d on the CPU; no seed reaches the kernel ------


@pytest.mark.parametrize("name", ["mindspore", "mindspore-nn"])
def test_mindspore(name):
    ms = pytest.importorskip("mindspore")
    adapter = load_adapter(name)
    info = adapter.info()
    assert info["framework_version"] == ms.__version__ and info["layout"] == "NCHW"
    assert caps(adapter) == {
        "inplace": False, "seed": False, "autograd": True,
        "dtypes": ["float16", "float32", "float64"], "three_d": False,
    }
    x = np.arange(1, 1 + 2 * 64 * 2 * 3, dtype=np.float32).reshape(2, 64, 2, 3)
    y = adapter.to_numpy(adapter.dropout2d(adapter.to_native(x), 0.5))
    kept = channel_decisions(y, x, scale=2.0)
    assert 0 < kept.sum() < kept.size
    # Finding (mindspore 2.10.0): float64 is computed in float32 -- the kept value of a
    # float64 1.0 at p = 0.3 is float32(1/0.7), 1.4285714626312256, not 1/0.7.
    y64 = adapter.to_numpy(adapter.dropout2d(adapter.to_native(np.ones((1, 64, 1, 1))), 0.3))
    assert y64.dtype == np.float64
    assert set(np.unique(y64)) == {0.0, float(np.float32(1 / 0.7))}
    results = verdicts(adapter, "eval-identity", "p-one", "invalid-p", "scale-exact", "gradient")
    assert_verdict(results["eval-identity"], Verdict.PASS)
    assert_verdict(results["p-one"], Verdict.PASS)
    # Finding: p = nan is accepted (zeros) by ops.dropout2d and by nn.Dropout2d alike.
    assert_verdict(results["invalid-p"], Verdict.FAIL)
    assert "nan" in results["invalid-p"].message
    # Finding: float64 values and gradients carry float32 precision.
    for cid in ("scale-exact", "gradient"):
        assert_verdict(results[cid], Verdict.FAIL)
        assert "float32" in results[cid].message


def test_mindspore_draws_the_same_masks_whatever_the_seed():
    ms = pytest.importorskip("mindspore")
    adapter = load_adapter("mindspore")
    # Finding (mindspore 2.10.0): set_seed does not reach the Dropout2D kernel, and each new
    # (p, shape) starts its stream from the same state: the first mask drawn with a new shape
    # equals the first mask drawn with any other (a fresh shape for this test each time, so
    # that earlier calls in this process cannot have advanced its stream).
    c = 1033  # a channel count no other test uses
    masks = []
    for seed, shape in ((1, (1, c, 1, 1)), (2, (1, c, 2, 1)), (3, (1, c, 1, 3))):
        ms.set_seed(seed)
        y = adapter.to_numpy(adapter.dropout2d(adapter.to_native(np.ones(shape, np.float32)), 0.5))
        masks.append(y[0, :, 0, 0] != 0)
    assert 0.4 < masks[0].mean() < 0.6
    assert all(np.array_equal(masks[0], m) for m in masks[1:])


# --- jittor: nn.Dropout2d; float32 conformant, other dtypes come back as float32 ----------


def test_jittor():
    if importlib.util.find_spec("jittor") is None:
        pytest.skip("jittor is not installed")
    # Not importorskip: a bare `import jittor` may try to download CUDA and oneDNN; the
    # adapter imports it with Jittor's settings that switch both off.
    adapter = load_adapter("jittor")
    jt = sys.modules["jittor"]
    assert not jt.flags.use_cuda
    info = adapter.info()
    assert info["framework_version"] == jt.__version__ and info["layout"] == "NCHW"
    assert caps(adapter) == {
        "inplace": False, "seed": True, "autograd": True,
        "dtypes": ["float32", "float16", "float64", "bfloat16"], "three_d": True,
    }
    x = np.arange(1, 1 + 2 * 64 * 2 * 3, dtype=np.float32).reshape(2, 64, 2, 3)
    y = adapter.to_numpy(adapter.dropout2d(adapter.to_native(x), 0.5))
    kept = channel_decisions(y, x, scale=2.0)
    assert 0 < kept.sum() < kept.size
    # bfloat16 goes in and, in evaluation mode, comes back as the input itself
    xb = np.ones((1, 4, 2, 2), np.dtype("bfloat16"))
    native = adapter.to_native(xb)
    assert adapter.dropout2d(native, 0.5, training=False) is native
    assert adapter.to_numpy(native).dtype == np.dtype("bfloat16")
    # Findings (jittor 1.3.11.0): in training, float16 comes back as float32 (the int32 mask
    # promotes it); p = 1 gives float32 zeros for float64; float64 is divided by float32(1 - p).
    y16 = adapter.dropout2d(adapter.to_native(np.ones((1, 8, 2, 2), np.float16)), 0.5)
    assert adapter.to_numpy(y16).dtype == np.float32
    ones64 = adapter.to_native(np.ones((1, 64, 1, 1)))
    assert adapter.to_numpy(adapter.dropout2d(ones64, 1.0)).dtype == np.float32
    y64 = adapter.to_numpy(adapter.dropout2d(ones64, 0.1))
    assert y64.dtype == np.float64 and set(np.unique(y64)) == {0.0, 1 / float(np.float32(0.9))}
    results = verdicts(adapter, "invalid-p", "determinism", "three-d-input", "non-finite",
                       "shape-dtype", "gradient")
    for cid in ("invalid-p", "determinism", "three-d-input", "non-finite"):
        assert_verdict(results[cid], Verdict.PASS)
    assert results["three-d-input"].findings["three_d"] == "unbatched (C, H, W)"
    assert results["non-finite"].findings["dropped_non_finite"].startswith("propagated")
    assert_verdict(results["shape-dtype"], Verdict.FAIL)
    assert "float16 input -> float32 output" in results["shape-dtype"].message
    assert_verdict(results["gradient"], Verdict.FAIL)
    assert "float32" in results["gradient"].message


# --- trax: layers.Dropout with shared_axes=(-3, -2); never validates its rate ------------


def test_trax():
    pytest.importorskip("trax")
    import jax

    adapter = load_adapter("trax")
    info = adapter.info()
    assert info["framework_version"].endswith(f"(jax {jax.__version__})")
    x = _assert_keyed_nhwc_basics(adapter, info)
    y3 = adapter.to_numpy(adapter.dropout2d(adapter.to_native(x[0]), 0.5))
    channel_decisions(np.moveaxis(y3, -1, 0), np.moveaxis(x[0], -1, 0), scale=2.0)
    # Finding (trax 1.4.1): the rate is never validated -- p = 1 gives all NaN (0 / 0), and
    # so does p = nan; p = -0.1 keeps everything and scales by 1/1.1.
    for p in (1.0, float("nan")):
        assert np.isnan(adapter.to_numpy(adapter.dropout2d(adapter.to_native(x), p))).all()
    y_neg = adapter.to_numpy(adapter.dropout2d(adapter.to_native(x), -0.1))
    np.testing.assert_allclose(y_neg, x / 1.1, rtol=1e-6)
    results = verdicts(adapter, "determinism", "gradient", "three-d-input", "invalid-p", "p-one")
    for cid in ("determinism", "gradient", "three-d-input"):
        assert_verdict(results[cid], Verdict.PASS)
    assert_verdict(results["invalid-p"], Verdict.FAIL)
    assert_verdict(results["p-one"], Verdict.FAIL)
    assert "NaN" in results["p-one"].message
