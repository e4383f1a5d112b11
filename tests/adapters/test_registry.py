"""Spec loading, the callable adapter's capabilities, and the layout handling of the harness."""

from __future__ import annotations

import textwrap

import dropout2d_reference as reference
import numpy as np
import pytest

import conformance
from conformance import harness
from conformance.adapters import Adapter, CallableAdapter, Capabilities, load_adapter, registered
from conformance.adapters.base import dtype_finfo, numpy_dtype
from conformance.adapters.callable import imported_frameworks
from conformance.checks import CATALOGUE
from conformance.errors import AdapterError, SpecError
from conformance.runner import RunConfig, run_check


def test_registered_names_include_reference_and_torch():
    names = registered()
    assert "reference" in names and "torch" in names


def test_load_registered_reference():
    adapter = load_adapter("reference")
    assert adapter.name == "reference" and adapter.spec == "reference"
    assert adapter.capabilities.inplace and adapter.capabilities.seed


def test_unknown_name_lists_what_is_registered():
    with pytest.raises(SpecError) as info:
        load_adapter("no-such-adapter")
    message = str(info.value)
    assert "no-such-adapter" in message and "reference" in message and "module:attr" in message


def test_module_attr_of_a_plain_function():
    adapter = load_adapter("dropout2d_reference:dropout2d")
    assert isinstance(adapter, CallableAdapter)
    caps = adapter.capabilities
    assert caps.inplace and not caps.seed and not caps.autograd


def test_module_without_attribute_says_so():
    with pytest.raises(SpecError, match="has no attribute 'nope'"):
        load_adapter("dropout2d_reference:nope")
    with pytest.raises(SpecError, match="importing module 'no_such_module_xyz'"):
        load_adapter("no_such_module_xyz:f")


def test_file_spec_with_function_subclass_and_instance(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from conformance.adapters import Adapter, Capabilities

            def drop(x, p, training=True, seed=None):
                rng = np.random.default_rng(seed)
                keep = rng.random((*x.shape[:2], 1, 1)) >= p
                return x * keep / (1 - p) if training and p < 1 else x

            class Mine(Adapter):
                name = "mine"
                capabilities = Capabilities(dtypes=("float64",))
                def dropout2d(self, x, p, training=True, inplace=False):
                    return drop(x, p, training)

            instance = Mine()
            not_callable = 3
            """
        )
    )
    fn = load_adapter(f"{path}:drop")
    assert fn.capabilities.seed and not fn.capabilities.inplace
    assert fn.spec == f"{path}:drop"
    assert load_adapter(f"{path}:Mine").capabilities.dtypes == ("float64",)
    assert isinstance(load_adapter(f"{path}:instance"), Adapter)
    with pytest.raises(SpecError, match="expected an Adapter subclass"):
        load_adapter(f"{path}:not_callable")
    with pytest.raises(SpecError, match="does not exist"):
        load_adapter(f"{tmp_path}/missing.py:drop")


def test_file_that_fails_to_import(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("raise RuntimeError('boom')\n")
    with pytest.raises(SpecError, match="boom"):
        load_adapter(f"{path}:f")


def test_callable_seed_stream_reproduces():
    calls = []

    def f(x, p, training=True, seed=None):
        calls.append(seed)
        return x

    adapter = CallableAdapter(f)
    x = np.ones((1, 1, 2, 2))
    adapter.dropout2d(x, 0.5)
    adapter.seed(5)
    adapter.dropout2d(x, 0.5)
    adapter.dropout2d(x, 0.5)
    adapter.seed(5)
    adapter.dropout2d(x, 0.5)
    assert calls[0] is None and calls[1] == calls[3] and calls[1] != calls[2]


def test_callable_without_training_parameter_rejects_eval():
    adapter = CallableAdapter(lambda x, p: x, name="lam")
    with pytest.raises(TypeError, match="training"):
        adapter.dropout2d(np.ones((1, 1, 1, 1)), 0.5, training=False)


class _NHWC(Adapter):
    """Reference dropout behind an NHWC layout: the harness must transpose both ways."""

    name = "nhwc"
    layout = "NHWC"
    capabilities = Capabilities(dtypes=("float32",))

    def dropout2d(self, x, p, training=True, inplace=False):
        y = reference.dropout2d(np.moveaxis(x, -1, -3), p, training, rng=np.random.default_rng(0))
        return np.moveaxis(y, -3, -1)


def test_harness_converts_nhwc_layout():
    x = np.arange(1, 2 * 3 * 4 * 5 + 1, dtype=np.float32).reshape(2, 3, 4, 5)
    f = harness.forward(_NHWC(), x, 0.5)
    assert f.y.shape == x.shape
    zero = (f.y == 0).reshape(2, 3, -1)
    assert (zero.all(-1) | (~zero).all(-1)).all()


@pytest.mark.parametrize("memory", ["strided", "channels_last"])
def test_harness_passes_non_contiguous_input(memory):
    seen = {}

    def f(x, p, training=True, inplace=False):
        seen["contiguous"] = x.flags.c_contiguous
        return x

    harness.forward(CallableAdapter(f), np.ones((2, 3, 4, 5), np.float32), 0.5, memory=memory)
    assert seen["contiguous"] is False


def test_harness_wraps_adapter_exceptions():
    def f(x, p, training=True):
        raise RuntimeError("kernel exploded")

    with pytest.raises(AdapterError, match="kernel exploded"):
        harness.forward(CallableAdapter(f), np.ones((1, 1, 2, 2)), 0.5)


def test_harness_reports_unreadable_output():
    def returns_none(x, p, training=True):
        return None

    with pytest.raises(AdapterError, match="not a numeric array: got NoneType"):
        harness.forward(CallableAdapter(returns_none), np.ones((1, 1, 1, 1)), 0.5)


# --- declared capabilities on a plain function (conformance.declare) -------------------------



def _readme_dropout2d(x, p, training=True, seed=None):
    """The README's mydrop.py: written for 4D input (3D input makes its broadcast raise)."""
    if not 0 <= p <= 1:
        raise ValueError(f"bad p {p}")
    if not training or p == 0:
        return x
    keep = np.random.default_rng(seed).random(x.shape[:2] + (1, 1)) >= p  # noqa: RUF005
    return x * (keep.astype(x.dtype) * x.dtype.type(1 / (1 - p))) if p < 1 else x * 0


def _run(adapter: Adapter, check_id: str):
    return run_check(adapter, CATALOGUE[check_id], RunConfig(level="quick", seed=0))


def test_declare_sets_capabilities_layout_and_framework():
    @conformance.declare(dtypes=("float32", "bfloat16"), three_d=False, layout="NHWC",
                         seed=False, device="cuda:0", framework="mykernel",
                         framework_version="1.2")
    def drop(x, p, training=True, seed=None):
        return x

    adapter = CallableAdapter(drop)
    caps = adapter.capabilities
    assert caps.dtypes == ("float32", "bfloat16") and not caps.three_d and not caps.seed
    assert adapter.layout == "NHWC" and adapter.device == "cuda:0"
    assert (adapter.framework, adapter.framework_version) == ("mykernel", "1.2")


def test_undeclared_callable_defaults_are_the_signature_and_three_common_dtypes():
    adapter = CallableAdapter(_readme_dropout2d)
    caps = adapter.capabilities
    assert caps.seed and not caps.inplace and not caps.autograd and not caps.three_d
    assert caps.dtypes == ("float16", "float32", "float64") and adapter.layout == "NCHW"


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"dtypes": ("float32", "int8")}, "dtypes", "bfloat16"),
        ({"dtypes": ()}, "dtypes", "float16"),
        ({"three_d": "no"}, "three_d", "True"),
        ({"layout": "NCWH"}, "layout", "NHWC"),
        ({"autograd": True}, "autograd", "grad(x, p, upstream)"),
        ({"device": ""}, "device", "non-empty"),
    ],
)
def test_declare_rejects_a_bad_field_naming_it_and_the_allowed_values(kwargs, field, allowed):
    with pytest.raises(SpecError) as info:
        conformance.declare(**kwargs)
    message = str(info.value)
    assert f"declared {field}=" in message and allowed in message


def test_declare_refuses_capabilities_the_signature_cannot_honour():
    with pytest.raises(SpecError, match="no 'inplace' parameter"):
        conformance.declare(inplace=True)(lambda x, p, training=True: x)
    with pytest.raises(SpecError, match="no optional 'seed' keyword"):
        conformance.declare(seed=True)(lambda x, p, training=True: x)


def test_a_hand_written_declaration_is_validated_by_the_loader(tmp_path):
    path = tmp_path / "hand.py"
    path.write_text(textwrap.dedent(
        """
        def drop(x, p, training=True):
            return x

        drop.__dropout2d__ = {"three_d": False, "colour": "red"}
        """
    ))
    with pytest.raises(SpecError) as info:
        load_adapter(f"{path}:drop")
    assert "unknown declaration field(s) ['colour']" in str(info.value)
    assert "three_d" in str(info.value)  # the allowed fields are listed


def test_a_callable_names_the_framework_its_file_imports(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "wrap.py"
    path.write_text(textwrap.dedent(
        """
        import numpy as np
        import torch

        def dropout2d(x, p, training=True):
            return torch.nn.functional.dropout2d(torch.from_numpy(x), p, training).numpy()
        """
    ))
    adapter = load_adapter(f"{path}:dropout2d")
    assert (adapter.framework, adapter.framework_version) == ("torch", torch.__version__)
    info = adapter.info()
    assert info["defined_in"] == "wrap.py" and info["imports"]["numpy"] == np.__version__


def test_a_pure_numpy_callable_is_numpy_with_its_version():
    assert imported_frameworks(_readme_dropout2d)["numpy"] == np.__version__
    adapter = CallableAdapter(_readme_dropout2d)
    assert (adapter.framework, adapter.framework_version) == ("numpy", np.__version__)


def test_tested_frameworks_are_listed_in_the_report_environment():
    from conformance.report.jsonreport import build_report
    from conformance.results import AdapterResult

    info = {**CallableAdapter(_readme_dropout2d).info(), "framework": "mlkernel",
            "framework_version": "9.9", "imports": {"mlkernel": "9.9", "numpy": np.__version__}}
    report = build_report([AdapterResult(info=info)], RunConfig().as_dict())
    assert report["environment"]["packages"]["mlkernel"] == "9.9"


# --- implementation-defined checks: a legitimate choice is never a failure --------------------


def test_the_readme_example_rejecting_3d_input_is_a_finding_not_a_failure():
    result = _run(CallableAdapter(_readme_dropout2d), "three-d-input")
    assert result.verdict.value == "pass", result.message
    assert result.findings == {"three_d": "rejects 3D input"}
    assert "4D only" in result.message


def test_a_4d_only_callable_that_accepts_3d_input_is_not_judged_on_it():
    def broadcasts(x, p, training=True):  # returns garbage for 3D input, without an error
        return x[..., :1] if x.ndim == 3 else reference.dropout2d(x, p, training)

    result = _run(CallableAdapter(broadcasts), "three-d-input")
    assert result.verdict.value == "skip" and "three_d=False" in result.message


def test_a_3d_result_that_is_neither_unbatched_nor_legacy_fails():
    @conformance.declare(three_d=True)
    def columns(x, p, training=True):  # a new shape: neither interpretation
        return x[..., :1] if x.ndim == 3 else reference.dropout2d(x, p, training)

    result = _run(CallableAdapter(columns), "three-d-input")
    assert result.verdict.value == "fail" and "neither unbatched" in result.message


def test_the_readme_example_passes_every_deterministic_check():
    adapter = CallableAdapter(_readme_dropout2d)
    for check in CATALOGUE.values():
        if check.kind == "deterministic":
            result = run_check(adapter, check, RunConfig(level="quick", seed=0))
            assert result.ok, (check.id, result.message)


# --- one fault, one root cause ---------------------------------------------------------------


def _upcast_to(dtype):
    def drop(x, p, training=True):
        return reference.dropout2d(x.astype(dtype), p, training)

    return drop


def test_a_wrong_output_dtype_fails_shape_dtype_once_with_its_root_cause():
    adapter = CallableAdapter(_upcast_to(np.float32), name="f32")
    shape = _run(adapter, "shape-dtype")
    assert shape.verdict.value == "fail"
    assert "float16 input -> float32 output" in shape.message
    assert "float64 input -> float32 output" in shape.message
    assert shape.to_dict()["root_cause"] == "R1 output dtype"
    # float16 -> float32 -> float16 is exact: p-one, non-finite and the 3D check still judge
    # their own property after casting back, and say what they could not assess.
    upcast = conformance.declare(three_d=True)(_upcast_to(np.float32))
    for check_id in ("p-one", "non-finite", "three-d-input"):
        result = _run(CallableAdapter(upcast, name="f32"), check_id)
        assert result.verdict.value == "pass", (check_id, result.message)
        assert "could not be assessed" in result.message


def test_a_value_check_failing_after_a_dtype_mismatch_names_the_dtype_as_root_cause():
    adapter = CallableAdapter(_upcast_to(np.float32), name="f32")
    result = _run(adapter, "p-zero")  # float64 input computed in float32 is not the identity
    assert result.verdict.value == "fail"
    assert result.to_dict()["root_cause"] == "R1 output dtype"
    assert "rounded to float32" in result.message


def test_a_failure_without_another_cause_carries_its_own_requirement():
    def unvalidated(x, p, training=True):
        return reference.dropout2d(x, min(max(p, 0.0), 1.0), training)

    result = _run(CallableAdapter(unvalidated), "invalid-p")
    assert result.to_dict()["root_cause"] == "R8 invalid p raises"
    assert _run(CallableAdapter(unvalidated), "p-one").ok
    assert "root_cause" not in _run(CallableAdapter(unvalidated), "p-one").to_dict()


# --- messages that say what came back ---------------------------------------------------------


def test_invalid_p_says_what_each_accepted_p_returned():
    def flax_like(x, p, training=True):  # no validation, keeps with probability 1 - p
        if not training:
            return x
        keep = np.random.default_rng(0).random((*x.shape[:2], 1, 1)) >= p
        with np.errstate(all="ignore"):
            return np.where(keep, x / (1 - p), 0).astype(x.dtype)

    message = _run(CallableAdapter(flax_like), "invalid-p").message
    assert "p=-0.1 returned the input scaled by 1/(1-p) = 1/1.1 (the rate is used unvalidated)" \
        in message
    assert "p=2.0 returned all zeros" in message


def test_invalid_p_names_an_all_nan_output():
    def nan_for_nan(x, p, training=True):
        if 0 <= p <= 1:
            return reference.dropout2d(x, p, training)
        return np.full_like(x, np.nan)

    message = _run(CallableAdapter(nan_for_nan), "invalid-p").message
    assert "p=nan returned an all-NaN output" in message


def test_scale_computed_in_float32_is_named_lower_precision():
    def f32_scale(x, p, training=True):
        rng = np.random.default_rng(1)
        if not training or p == 0:
            return x
        keep = rng.random((*x.shape[:2], 1, 1)) >= p
        y = x.astype(np.float32) * np.float32(1 / (1 - p)) * keep
        return y.astype(x.dtype)

    message = _run(CallableAdapter(f32_scale), "scale-exact").message
    assert "float64 result equals the computation in float32: computed in lower precision" \
        in message


def test_p_zero_names_minus_zero_turned_plus_zero():
    def adds_zero(x, p, training=True):
        return x + x.dtype.type(0) if p == 0 else reference.dropout2d(x, p, training)

    message = _run(CallableAdapter(adds_zero), "p-zero").message
    assert "-0.0 turned into +0.0" in message


# --- results that later calls overwrite (R1) --------------------------------------------------


def test_results_kept_fails_for_one_reused_output_buffer():
    from conformance.mutants.buffers import reused_output

    result = _run(CallableAdapter(reused_output), "results-kept")
    assert result.verdict.value == "fail"
    assert "one output buffer reused across calls" in result.message


def test_results_kept_passes_for_the_reference():
    assert _run(load_adapter("reference"), "results-kept").verdict.value == "pass"


# --- bfloat16 through ml_dtypes ---------------------------------------------------------------


def test_bfloat16_resolves_with_its_real_spacing():
    bf16 = numpy_dtype("bfloat16")
    assert np.dtype("bfloat16") == bf16
    assert dtype_finfo(bf16).eps == 2.0**-7 and dtype_finfo("float16").eps == 2.0**-10
    with pytest.raises(ValueError, match="not one the suite tests"):
        numpy_dtype("int8")


def test_ulps_use_the_dtype_spacing():
    from conformance.checks._assert import ulp

    for name in ("float16", "float32", "float64", "bfloat16"):
        dtype = numpy_dtype(name)
        values = np.array([0.7, 1.0, 1.5, 3.0, 1e-30 if name != "float16" else 1e-6])
        expected = np.spacing(values.astype(dtype)).astype(np.float64)
        np.testing.assert_array_equal(ulp(values.astype(dtype), dtype), expected)


def test_a_callable_declaring_bfloat16_gets_bfloat16_and_passes_the_deterministic_checks():
    seen = set()

    @conformance.declare(dtypes=("float32", "bfloat16"))
    def drop(x, p, training=True, seed=None):
        seen.add(str(x.dtype))
        return reference.dropout2d(x, p, training, rng=np.random.default_rng(seed))

    adapter = CallableAdapter(drop)
    for check in CATALOGUE.values():
        if check.kind == "deterministic":
            result = run_check(adapter, check, RunConfig(level="quick", seed=0))
            assert result.ok, (check.id, result.message)
    assert "bfloat16" in seen


def test_a_bfloat16_scale_rounded_wrongly_fails_scale_exact():
    @conformance.declare(dtypes=("bfloat16",))
    def truncating(x, p, training=True):  # scale truncated to 2 significant bits
        if not training or p == 0:
            return x
        keep = np.random.default_rng(3).random((*x.shape[:2], 1, 1)) >= p
        s = 2.0 ** np.floor(np.log2(1 / (1 - p)))
        return (x.astype(np.float64) * keep * s).astype(x.dtype)

    result = _run(CallableAdapter(truncating), "scale-exact")
    assert result.verdict.value == "fail" and "bfloat16" in result.message


@pytest.mark.parametrize("name", ["torch", "jax"])
def test_framework_adapters_round_trip_bfloat16(name):
    pytest.importorskip(name)
    adapter = load_adapter(name)
    assert "bfloat16" in adapter.capabilities.dtypes
    x = np.linspace(-2, 2, 2 * 3 * 4 * 5).reshape(2, 3, 4, 5).astype(numpy_dtype("bfloat16"))
    for view in (x, x[..., ::2]):
        back = adapter.to_numpy(adapter.to_native(np.ascontiguousarray(view)))
        assert back.dtype == view.dtype and np.array_equal(back, view)
    f = harness.forward(adapter, x, 0.5)
    assert f.y.dtype.name == "bfloat16"



def test_a_gradient_in_another_dtype_names_the_dtype_as_root_cause():
    from conformance.checks._assert import assert_scaled
    from conformance.errors import CheckFailed

    x = np.linspace(0.5, 1.5, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    keep = np.ones((2, 3), bool)
    y32 = (x.astype(np.float32) * np.float32(1 / 0.9)).astype(np.float32)
    with pytest.raises(CheckFailed) as info:
        assert_scaled(actual=y32, x=x, keep=keep, p=0.1, where="test")
    assert info.value.root_cause == "R1 output dtype"
    assert "computed in lower precision" in info.value.message
    with pytest.raises(CheckFailed) as info:  # same values, right dtype: its own failure
        assert_scaled(actual=y32.astype(np.float64), x=x, keep=keep, p=0.1, where="test")
    assert info.value.root_cause is None
