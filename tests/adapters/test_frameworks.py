"""The framework adapters: each loads by its registered name, says what it can do, and gives
the verdicts that were observed and confirmed by hand on the frameworks' real behaviour.

A failing verdict asserted here is a finding about the framework (the comment says which),
never a fault of the adapter.  Each test skips when its framework is not installed.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from conformance.adapters import load_adapter, registry
from conformance.checks import CATALOGUE
from conformance.config import RunConfig
from conformance.engine.check_runner import run_check
from conformance.errors import SpecError
from conformance.results import Verdict

CONFIG = RunConfig()


def verdicts(adapter, *check_ids: str) -> dict[str, object]:
    """Run deterministic checks; return {id: result}."""
    return {cid: run_check(adapter, CATALOGUE[cid], CONFIG) for cid in check_ids}


def assert_verdict(result, expected: Verdict) -> None:
    assert result.verdict is expected, f"{result.id}: {result.verdict} ({result.message})"


def caps(adapter) -> dict:
    return adapter.info()["capabilities"]


# --- a missing framework ----------------------------------------------------------------


def test_registered_adapter_whose_framework_is_missing_is_a_spec_error(monkeypatch):
    monkeypatch.setitem(
        registry.BUILTIN,
        "fake-framework",
        ("no_such_framework_xyz.adapter:FakeAdapter", "no_such_framework_xyz"),
    )
    with pytest.raises(SpecError) as info:
        load_adapter("fake-framework")
    message = str(info.value)
    assert "fake-framework" in message and "no_such_framework_xyz" in message


@pytest.mark.parametrize(
    ("name", "module"),
    [("jax", "jax"), ("flax-nnx", "flax"), ("torch-compile", "torch"), ("mlx", "mlx")],
)
def test_real_adapter_with_framework_import_failing_is_a_spec_error(monkeypatch, name, module):
    # None in sys.modules makes `import module` raise ImportError, as if it were absent.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(SpecError, match=module):
        load_adapter(name)


def test_frameworks_are_registered_and_tried_by_default():
    names = registry.registered()
    for name in (
        "jax", "flax-linen", "flax-nnx", "keras", "keras-channels-first", "torch-compile",
        "tensorflow", "tf-keras", "paddle", "mlx",
    ):
        assert name in names
    for name in ("jax", "flax-linen", "flax-nnx", "keras"):
        assert name in registry.FRAMEWORKS
    # torch-compile recompiles for every p and dtype (minutes a run): run only when named
    assert "torch-compile" not in registry.FRAMEWORKS


# --- jax: our own channel dropout, conformant ------------------------------------------


def test_jax():
    jax = pytest.importorskip("jax")
    adapter = load_adapter("jax")
    info = adapter.info()
    assert info["framework"] == "jax" and info["framework_version"] == jax.__version__
    assert info["layout"] == "NCHW"
    assert caps(adapter) == {
        "inplace": False, "seed": True, "autograd": True,
        "dtypes": ["float16", "float32", "float64", "bfloat16"], "three_d": True,
    }
    # (p-one and non-finite pass too, but compile for 9 and 3 more shapes: see the full run.)
    results = verdicts(adapter, "invalid-p", "eval-identity", "determinism", "gradient")
    for result in results.values():
        assert_verdict(result, Verdict.PASS)
    # p = 1 through the select: zeros, no NaN from the x / 0 that is never selected.
    y = adapter.to_numpy(adapter.dropout2d(adapter.to_native(np.ones((2, 3, 4, 5))), 1.0))
    assert y.dtype == np.float64 and not y.any() and not np.isnan(y).any()
    # float64 under the adapter's scoped x64 only: the global default is untouched.
    assert not jax.config.jax_enable_x64


# --- flax: conformant except that Dropout never validates its rate ----------------------


@pytest.mark.parametrize(
    ("name", "passing"),
    [("flax-linen", ("p-one", "determinism")), ("flax-nnx", ("determinism", "gradient"))],
)
def test_flax(name, passing):
    pytest.importorskip("flax")
    adapter = load_adapter(name)
    assert adapter.layout == "NHWC"
    assert adapter.info()["framework"] == name.replace("-", ".")
    assert caps(adapter) == {
        "inplace": False, "seed": True, "autograd": True,
        "dtypes": ["float16", "float32", "float64", "bfloat16"], "three_d": False,
    }
    results = verdicts(adapter, *passing, "invalid-p")
    for cid in passing:
        assert_verdict(results[cid], Verdict.PASS)
    # Finding (flax 0.12.8): Dropout(rate=p) accepts any p.  p < 0 keeps everything and scales
    # by 1/(1-p) < 1, p > 1 and +-inf drop everything, NaN drops everything (bernoulli(nan)).
    assert_verdict(results["invalid-p"], Verdict.FAIL)
    assert "nan" in results["invalid-p"].message and "-0.1" in results["invalid-p"].message


# --- keras: conformant in float32; the layer autocasts float16/float64 to float32 --------


@pytest.mark.parametrize(("name", "layout"), [("keras", "NHWC"), ("keras-channels-first", "NCHW")])
def test_keras(name, layout):
    if importlib.util.find_spec("keras") is None:
        pytest.skip("keras is not installed")
    # Not importorskip: with KERAS_BACKEND unset and Keras's configured backend missing,
    # `import keras` fails, while the adapter picks an installed backend first.
    adapter = load_adapter(name)
    keras = sys.modules["keras"]
    backend = keras.backend.backend()
    info = adapter.info()
    assert adapter.layout == layout
    assert info["framework"] == f"keras ({backend} backend)"
    assert info["framework_version"].startswith(keras.__version__)
    assert caps(adapter)["dtypes"] == ["float32", "float16", "float64", "bfloat16"]
    assert not caps(adapter)["inplace"] and not caps(adapter)["three_d"]
    results = verdicts(adapter, "invalid-p", "determinism", "eval-identity")
    assert_verdict(results["invalid-p"], Verdict.PASS)
    assert_verdict(results["determinism"], Verdict.PASS)
    # Finding (keras 3.15.1, jax and torch backends): the layer autocasts floating inputs to
    # its dtype policy, so float16 (and float64) input comes back as float32, even in
    # evaluation mode (R1, R6).  The float32 cases, run first, pass.
    assert_verdict(results["eval-identity"], Verdict.FAIL)
    eval_identity = results["eval-identity"]
    assert "rounded to float32" in eval_identity.message
    assert eval_identity.root_cause == "R1 output dtype"  # reported once, where it belongs


# --- torch.compile: conformant; compiles cost seconds, so only two cheap checks ----------


def test_torch_compile():
    torch = pytest.importorskip("torch")
    adapter = load_adapter("torch-compile")
    info = adapter.info()
    assert info["framework"] == "torch.compile (inductor)"
    assert info["framework_version"] == torch.__version__
    assert caps(adapter) == {
        "inplace": True, "seed": True, "autograd": True,
        "dtypes": ["float16", "float32", "float64", "bfloat16"], "three_d": True,
    }
    # invalid-p raises while Dynamo traces (no C++ compile); determinism compiles one graph.
    results = verdicts(adapter, "invalid-p", "determinism")
    for result in results.values():
        assert_verdict(result, Verdict.PASS)


# --- frameworks that may be installed elsewhere (each skips here if absent) -------------


def test_tensorflow():
    pytest.importorskip("tensorflow")
    adapter = load_adapter("tensorflow")
    assert adapter.layout == "NHWC" and caps(adapter)["dtypes"] == [
        "float16", "float32", "float64", "bfloat16",
    ]
    results = verdicts(adapter, "scale-exact", "determinism", "invalid-p", "p-one")
    assert_verdict(results["scale-exact"], Verdict.PASS)
    assert_verdict(results["determinism"], Verdict.PASS)
    # Finding (tf 2.21): tf.nn.dropout accepts rate=nan (all maps dropped) ...
    assert_verdict(results["invalid-p"], Verdict.FAIL)
    assert "p=[nan]" in results["invalid-p"].message
    # ... and raises ValueError at rate=1.0, where R7 wants zeros.  The suite reports an
    # exception from the implementation as ERROR, not FAIL; either way it is not a pass.
    assert results["p-one"].verdict in (Verdict.FAIL, Verdict.ERROR)
    assert "range [0, 1)" in results["p-one"].message


def test_tf_keras():
    pytest.importorskip("tf_keras")
    adapter = load_adapter("tf-keras")
    assert adapter.layout == "NHWC"
    results = verdicts(adapter, "invalid-p", "determinism", "shape-dtype")
    assert_verdict(results["invalid-p"], Verdict.PASS)
    assert_verdict(results["determinism"], Verdict.PASS)
    # Finding (tf-keras 2.21): SpatialDropout2D raises at rate=1.0 (shape-dtype calls p=1)
    # and autocasts to float32; whichever shows first, it is not a pass.
    assert results["shape-dtype"].verdict in (Verdict.FAIL, Verdict.ERROR)


def test_paddle():
    pytest.importorskip("paddle")
    adapter = load_adapter("paddle")
    assert caps(adapter)["dtypes"] == ["float32", "float64"]  # no float16 kernel on CPU
    assert not caps(adapter)["three_d"]
    results = verdicts(adapter, "p-one", "non-finite", "gradient", "invalid-p")
    for cid in ("p-one", "non-finite", "gradient"):
        assert_verdict(results[cid], Verdict.PASS)
    assert results["non-finite"].findings["dropped_non_finite"].startswith("propagated")
    # Finding (paddle 3.3.1): dropout2d(p=nan) returns all-NaN output instead of raising.
    assert_verdict(results["invalid-p"], Verdict.FAIL)
    assert "p=[nan]" in results["invalid-p"].message


def test_mlx():
    pytest.importorskip("mlx.core")
    adapter = load_adapter("mlx")
    assert adapter.layout == "NHWC" and caps(adapter)["three_d"]
    results = verdicts(adapter, "three-d-input", "gradient", "invalid-p", "p-one")
    assert_verdict(results["three-d-input"], Verdict.PASS)
    assert results["three-d-input"].findings["three_d"] == "unbatched (C, H, W)"
    assert_verdict(results["gradient"], Verdict.PASS)
    # Finding (mlx 0.32.4): Dropout2d(p=nan) is accepted (all-NaN output) ...
    assert_verdict(results["invalid-p"], Verdict.FAIL)
    assert "p=[nan]" in results["invalid-p"].message
    # ... and Dropout2d(p=1.0) raises ValueError (p must be in [0, 1)), where R7 wants zeros.
    assert results["p-one"].verdict in (Verdict.FAIL, Verdict.ERROR)
    assert "[0, 1)" in results["p-one"].message
