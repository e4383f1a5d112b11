"""The worker session: deterministic checks in the worker, statistical checks here on the draws
the worker streams back, and the rule that gives up on an implementation lost systematically."""

from __future__ import annotations

from pathlib import Path

import pytest

import conformance
from conformance.adapters.base import AdapterInfo, Capabilities
from conformance.battery import STATISTICAL
from conformance.config import RunConfig
from conformance.engine import worker_session
from conformance.engine.protocol import Progress
from conformance.engine.worker_session import RemoteAdapter, WorkerSession

HOSTILE = Path(__file__).with_name("hostile.py")


def _numbers(result: conformance.ConformanceResult) -> dict:
    return {c.id: (c.verdict, c.statistics.get("p_value"), c.decisions) for c in result.checks}


def test_statistics_computed_on_the_workers_draws_equal_those_drawn_in_process():
    """The same seeded draws, whichever process draws them: verdicts, p-values and decision
    counts agree between the worker's path and the in-process one."""
    options = {"level": "quick", "checks": list(STATISTICAL)}
    here = conformance.check("reference", **options)
    there = conformance.check("reference", isolate=True, **options)
    assert _numbers(there) == _numbers(here)
    assert there.conformant


def test_the_supervisor_never_calls_the_implementation():
    remote = RemoteAdapter(AdapterInfo(name="x", spec="x",
                                       capabilities=Capabilities(dtypes=("float32",))))
    assert remote.capabilities.dtypes == ("float32",)
    for method in ("to_native", "dropout2d", "seed", "grad"):
        with pytest.raises(RuntimeError, match="never calls the implementation"):
            getattr(remote, method)(None)


def test_a_worker_lost_while_drawing_costs_the_reading_check_an_error_and_the_rest_go_on(
        tmp_path, monkeypatch):
    monkeypatch.setenv("DROPOUT2D_TEST_MARKER", str(tmp_path / "exited"))
    result = conformance.check(f"{HOSTILE}:exits_once_while_drawing", level="quick",
                               checks=["drop-rate", "rate-homogeneity", "expectation"],
                               isolate=True)
    drop = result["drop-rate"]
    assert drop.verdict == "error", drop.message
    assert "exited with status 3 while running drop-rate" in drop.message
    # a fresh worker drew what the first one had not sent: the checks after it judge the rest
    assert result["rate-homogeneity"].verdict == "pass"
    assert result["expectation"].verdict == "pass"


# --- the rule and the limits, directly -------------------------------------------------------


def _session(**config: float) -> WorkerSession:
    return WorkerSession("reference", RunConfig(**config))


def test_two_lost_checks_in_a_row_give_up_one_alone_does_not():
    session = _session()
    session._note("a", "crashed")
    session._note("b", None)
    session._note("c", "exited")
    assert session.given_up is None
    session._note("d", "hung")
    assert session.given_up is not None
    assert session.given_up.startswith("not run, the implementation exited in c and hung in d")


def test_three_hangs_in_all_give_up():
    session = _session()
    for check_id in ("a", "b", "c"):
        session._note(check_id, "hung")
        session._note("ok", None)
    assert session.given_up is not None
    assert session.given_up.startswith("not run, the implementation hung in a, b and c")


def test_a_given_up_session_answers_without_a_worker():
    session = _session()
    session._note("shape-dtype", "hung")
    session._note("results-kept", "crashed")
    for check_id in ("p-zero", "drop-rate"):  # deterministic or statistical alike
        result = session.run(check_id)
        assert result.verdict == "error" and result.id == check_id
        assert result.message.startswith(
            "not run, the implementation hung in shape-dtype and crashed in results-kept")
    assert session._channel is None  # no worker was started for them


def _record(*, in_call: bool, first_s: float) -> Progress:
    return Progress(serial=1, calls=3, in_call=in_call, first_s=first_s, slowest_s=0.0,
                    longest_gap_s=0.0, setting="")


def test_the_stall_limit_follows_what_the_implementation_has_shown():
    session = _session(timeout_scale=0.5)
    in_call = _record(in_call=True, first_s=0.001)
    first_call = _record(in_call=True, first_s=0.0)  # no call of this worker returned yet
    between = _record(in_call=False, first_s=0.001)
    limits = worker_session
    assert session._stall_limit(in_call)[0] == limits.CALL_FLOOR_S * 0.5
    assert session._stall_limit(first_call)[0] == limits.FIRST_CALL_FLOOR_S * 0.5
    assert limits.FIRST_CALL_FLOOR_S > limits.CALL_FLOOR_S
    assert session._stall_limit(None)[0] == limits.GAP_FLOOR_S * 0.5
    session.first_call_s = 20.0  # a start-up of 20 s alone: twice that for a later call
    assert session._stall_limit(in_call)[0] == pytest.approx(40 * 0.5)
    session.slowest_call_s = 12.0  # a slow device: ten times its slowest call
    session.longest_gap_s = 8.0
    assert session._stall_limit(in_call)[0] == pytest.approx(120 * 0.5)
    assert session._stall_limit(first_call)[0] == pytest.approx(120 * 0.5)
    assert session._stall_limit(between)[0] == pytest.approx(80 * 0.5)
    assert "--timeout-scale 0.5" in session._stall_limit(in_call)[1]


def test_a_stall_names_the_request_the_worker_was_in():
    session = _session()
    session._requests = {3: "the draws of the settings space (for drop-rate)"}
    record = Progress(serial=3, calls=17, in_call=True, first_s=0.1, slowest_s=0.0,
                      longest_gap_s=0.0, setting="p=0.5, shape=(2, 3, 4, 5)")
    message = session._stall_message("drop-rate", record, 31.0, "why")
    assert message.startswith("hung in call 17 of the draws of the settings space (for "
                              "drop-rate) (p=0.5, shape=(2, 3, 4, 5)), no progress for 31 s")
