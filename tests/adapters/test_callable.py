"""A plain function as an adapter: capabilities from its signature or declared on it
(``conformance.declare``), its seed stream, the frameworks its module imports, and the README's
example run through the deterministic checks."""

from __future__ import annotations

import textwrap

import dropout2d_reference as reference
import numpy as np
import pytest

import conformance
from conformance import battery
from conformance.adapters import CallableAdapter, load_adapter
from conformance.adapters.callable import imported_frameworks
from conformance.config import RunConfig
from conformance.errors import SpecError


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


# --- declared capabilities on a plain function (conformance.declare) -------------------------

def _readme_dropout2d(x, p, training=True, seed=None):
    """The README's mydrop.py: written for 4D input (3D input makes its broadcast raise)."""
    if not 0 <= p <= 1:
        raise ValueError(f"bad p {p}")
    if not training or p == 0:
        return x
    keep = np.random.default_rng(seed).random(x.shape[:2] + (1, 1)) >= p  # noqa: RUF005
    return x * (keep.astype(x.dtype) * x.dtype.type(1 / (1 - p))) if p < 1 else x * 0


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
    from conformance.adapters.base import AdapterInfo
    from conformance.report.jsonreport import build_report
    from conformance.results import AdapterResult

    info = {**CallableAdapter(_readme_dropout2d).info(), "framework": "mlkernel",
            "framework_version": "9.9", "imports": {"mlkernel": "9.9", "numpy": np.__version__}}
    report = build_report([AdapterResult(AdapterInfo.from_dict(info))], RunConfig().as_dict())
    assert report["environment"]["packages"]["mlkernel"] == "9.9"


# --- the README's example and a bfloat16 callable through the deterministic checks ----------

def test_the_readme_example_rejecting_3d_input_is_a_finding_not_a_failure(run_one):
    result = run_one(CallableAdapter(_readme_dropout2d), "three-d-input")
    assert result.verdict.value == "pass", result.message
    assert result.findings == {"three_d": "rejects 3D input"}
    assert "4D only" in result.message


def test_the_readme_example_passes_every_deterministic_check():
    result = conformance.check(_readme_dropout2d, level="quick", checks=battery.DETERMINISTIC)
    assert result.conformant, result.summary()


def test_a_callable_declaring_bfloat16_gets_bfloat16_and_passes_the_deterministic_checks():
    seen = set()

    @conformance.declare(dtypes=("float32", "bfloat16"))
    def drop(x, p, training=True, seed=None):
        seen.add(str(x.dtype))
        return reference.dropout2d(x, p, training, rng=np.random.default_rng(seed))

    result = conformance.check(drop, level="quick", checks=battery.DETERMINISTIC)
    assert result.conformant, result.summary()
    assert "bfloat16" in seen
