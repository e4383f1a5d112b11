"""The runner turns every misbehaviour of an adapter into a verdict and carries on (the checks
run in this process, through the public API's default)."""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

import conformance
from conformance.adapters import CallableAdapter
from conformance.checks import CATALOGUE
from conformance.config import RunConfig
from conformance.engine.check_runner import derive_seed, run_check


def test_hanging_adapter_times_out_and_the_run_continues():
    def hangs(x, p, training=True):
        if training and 0 < p < 1:
            time.sleep(5)
        return x

    result = conformance.check(hangs, checks=["channel-structure", "p-one"],
                               timeout_scale=0.002)
    assert result["channel-structure"].verdict == "error"
    assert "timeout" in result["channel-structure"].message
    assert result["p-one"].verdict == "fail"  # it returns x at p = 1: the run got that far


def test_wrong_dtype_is_a_fail_and_garbage_an_error():
    def upcasts(x, p, training=True):
        return x.astype(np.float64)

    def garbage(x, p, training=True):
        return "not an array"

    config = RunConfig()
    up = run_check(CallableAdapter(upcasts), CATALOGUE["shape-dtype"], config)
    assert up.verdict.value == "fail" and "float32 input -> float64 output" in up.message
    bad = run_check(CallableAdapter(garbage), CATALOGUE["shape-dtype"], config)
    assert bad.verdict.value == "error" and "not a numeric array" in bad.message


def test_warnings_from_the_implementation_are_recorded():
    def warns(x, p, training=True):
        warnings.warn("deprecated thing", DeprecationWarning, stacklevel=1)
        return x

    result = run_check(CallableAdapter(warns), CATALOGUE["eval-identity"], RunConfig())
    assert result.verdict.value == "pass"
    assert result.warnings == ("DeprecationWarning: deprecated thing",)


def test_seeds_depend_on_global_seed_and_check_id_only():
    assert derive_seed(0, "drop-rate") == derive_seed(0, "drop-rate")
    assert derive_seed(0, "drop-rate") != derive_seed(1, "drop-rate")
    assert derive_seed(0, "drop-rate") != derive_seed(0, "expectation")


def test_results_reproduce_under_the_same_seed():
    checks = ["determinism", "scale-exact"]
    a = conformance.check("reference", checks=checks)
    b = conformance.check("reference", checks=checks)
    assert [c.message for c in a.checks] == [c.message for c in b.checks]
    assert a.checks[0].reproduce.startswith("dropout2d-conformance run --adapter reference")


def test_adapter_calling_sys_exit_is_an_error_not_the_end_of_the_run():
    import sys

    def exits(x, p, training=True):
        sys.exit(3)

    result = conformance.check(exits, checks=["p-one", "invalid-p"])
    # p-one: raising (here, exiting) at p = 1 is a contract failure; invalid-p: exiting the
    # process is not raising an error, so it does not pass
    assert [c.verdict for c in result.checks] == ["fail", "error"]
    assert "SystemExit" in result.checks[0].message
    assert "sys.exit(3)" in result.checks[1].message


def test_every_sub_test_reproduces_under_its_seed_and_changes_with_another():
    """The runner's seeding is what makes a failure reproduce: the same seed gives every
    sub-test the same p-value, and a different seed gives different ones."""
    def p_values(seed: int) -> list:
        result = conformance.check("reference", level="quick", seed=seed,
                       checks=["drop-rate", "independence-channels", "expectation"])
        return [s["p_value"] for c in result.checks for s in c.statistics["subtests"]]

    first, again, other = p_values(11), p_values(11), p_values(12)
    assert first == again and len(first) > 3
    assert first != other
    assert sum(a != b for a, b in zip(first, other, strict=True)) > len(first) // 2


def test_a_check_that_timed_out_makes_no_further_call_and_leaves_the_process_alone(
        tmp_path, monkeypatch):
    """In the caller's process a timed-out check's thread cannot be killed: it finishes the
    call it is in, makes no other, and does not "restore" a working directory the caller has
    changed since (a late restore would move the caller's process under its feet)."""
    calls = []

    def slow(x, p, training=True):
        calls.append(p)
        time.sleep(0.3)
        return x

    result = run_check(CallableAdapter(slow), CATALOGUE["channel-structure"],
                       RunConfig(timeout_scale=0.001))  # 0.12 s in all
    assert result.verdict.value == "error" and "timeout" in result.message
    monkeypatch.chdir(tmp_path)  # what the caller does next
    made = len(calls)
    time.sleep(1.0)
    assert len(calls) == made  # the call it was in ended; no other began
    assert os.getcwd() == str(tmp_path)
