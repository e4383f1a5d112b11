"""The pre-flight: an adapter that cannot be called as the interface says is a usage error before
any check runs; one whose implementation merely misbehaves is left to the checks."""

from __future__ import annotations

import inspect

import pytest

import conformance
from conformance.adapters import Adapter, CallableAdapter
from conformance.adapters.preflight import EXPECTED_FUNCTION, preflight
from conformance.errors import SpecError


def test_a_function_whose_signature_takes_x_and_p_passes_unchanged():
    def drop(x, p, training=True, inplace=False, seed=None):
        return x

    adapter = CallableAdapter(drop)
    assert preflight(adapter) is adapter


@pytest.mark.parametrize(("fn", "needle"), [
    (lambda x: x, "too many positional arguments"),
    (lambda x, p, rng: x, "missing a required argument: 'rng'"),
    (lambda *, x, p: x, "too many positional arguments"),
])
def test_a_signature_that_does_not_bind_is_a_usage_error(fn, needle):
    with pytest.raises(SpecError, match=needle) as info:
        preflight(CallableAdapter(fn, name="f"))
    assert "f(x, p, training=True, inplace=False)" in str(info.value)


def test_a_binding_error_the_signature_hid_is_found_by_the_valid_call():
    def drop(x):
        return x

    drop.__signature__ = inspect.signature(lambda x, p, training=True: None)  # it lies
    with pytest.raises(SpecError, match=r"valid call .* could not be made: TypeError"):
        preflight(CallableAdapter(drop))


def test_what_the_implementation_does_once_it_runs_is_left_to_the_checks():
    def body_type_error(x, p, training=True):
        return x + "a"  # a TypeError inside the implementation: its bug, a verdict

    def exits(x, p, training=True):
        raise SystemExit(3)

    for fn in (body_type_error, exits):
        preflight(CallableAdapter(fn))
    result = conformance.check(body_type_error, level="quick", checks=["p-zero"])
    assert result["p-zero"].verdict == "error"


def test_none_returned_is_a_usage_error():
    def forgets_to_return(x, p, training=True):
        x * 2

    with pytest.raises(SpecError, match="returned None"):
        preflight(CallableAdapter(forgets_to_return))


class NoGrad(Adapter):
    name = "no-grad"
    capabilities = conformance.Capabilities(autograd=True)

    def dropout2d(self, x, p, training=True, inplace=False):
        return x


class TwoArgs(Adapter):
    def dropout2d(self, x, p):
        return x


def test_an_adapter_must_implement_what_its_capabilities_declare():
    with pytest.raises(SpecError, match=r"does not implement grad\(\) although "
                                        r"capabilities.autograd=True"):
        preflight(NoGrad())
    with pytest.raises(SpecError, match=r"TwoArgs.dropout2d\(x, p\) cannot be called"):
        preflight(TwoArgs())


def test_the_in_process_api_runs_the_preflight_too():
    with pytest.raises(ValueError, match="cannot be called as the suite calls it") as info:
        conformance.check(lambda x: x, level="quick", checks=["p-zero"])
    assert EXPECTED_FUNCTION in str(info.value)


def test_nhwc_and_bfloat16_adapters_get_a_valid_call_in_their_terms():
    seen = []

    @conformance.declare(dtypes=("bfloat16",), layout="NHWC")
    def drop(x, p, training=True):
        seen.append((x.shape, str(x.dtype)))
        return x

    preflight(CallableAdapter(drop))
    assert seen == [((2, 4, 5, 3), "bfloat16")]
