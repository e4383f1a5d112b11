"""The worker protocol: every message survives the trip as execnet carries it."""

from __future__ import annotations

import dataclasses

import execnet.gateway_base as wire
import pytest

from conformance.adapters.base import AdapterInfo, Capabilities
from conformance.config import RunConfig
from conformance.engine import protocol
from conformance.results import CheckResult, Verdict

EXAMPLES = [
    protocol.Setup(spec="reference", config=RunConfig(level="quick", seed=3, checks=("p-one",)),
                   sys_path=("/a", "/b"), cwd="/tmp", progress_file=None, progress_token="ab",
                   preflight=False),
    protocol.RunCheck(check_id="p-one", serial=4),
    protocol.DrawCells(serial=5, cells=((0, "sweep", "1x1", 0.25, (8, 3, 1, 1), "ones",
                                         "float16", "strided", 4),)),
    protocol.Stop(),
    protocol.Loaded(info=AdapterInfo(name="n", spec="s", framework="torch",
                                     capabilities=Capabilities(dtypes=("float16", "float32")),
                                     defined_in="f.py", imports={"numpy": "2"}),
                    progress="shared"),
    protocol.LoadError(message="no"),
    protocol.CheckDone(serial=4, result=CheckResult(
        id="p-one", requirement="R7", verdict=Verdict.FAIL, message="NaN",
        findings={"k": [1, 2]}, root_cause="R2 x", seed=9, reproduce="r")),
    protocol.Drawn(serial=5, index=7, packed=b"\x01\x02", row_bytes=1, kept=3, ratio_sum=1.5,
                   ratio_min=0.5, ratio_max=float("inf"), warnings=("UserWarning: w",)),
    protocol.DrawFailed(serial=5, index=0, verdict="fail", message="m", root_cause="R2",
                        findings={"a": 1}, warnings=()),
    protocol.DrawsDone(serial=5),
    protocol.Progress(serial=1, calls=2, in_call=True, first_s=0.1, slowest_s=0.2,
                      longest_gap_s=0.3, setting="p=0.5", version=4),
]


def test_every_kind_of_message_has_an_example():
    assert {type(m).__name__ for m in EXAMPLES} == set(protocol._KINDS)


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: type(m).__name__)
def test_a_message_survives_execnets_serialiser(message):
    data = protocol.encode(message)
    carried = wire.loads_internal(wire.dumps_internal(data))  # what the channel does
    assert protocol.decode(carried) == message


def test_anything_else_is_refused_with_what_it_was():
    with pytest.raises(ValueError, match="not a message of the worker protocol"):
        protocol.decode({"op": "run"})


def test_messages_are_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        EXAMPLES[1].serial = 5  # type: ignore[misc]  (the error is what is tested)


def test_a_cell_travels_whole():
    from conformance.adapters import load_adapter
    from conformance.checks import space as sp
    from conformance.config import RunConfig
    from conformance.engine.check_runner import space_context
    from conformance.engine.worker import cell_of, cell_wire

    cells = sp.space(space_context(load_adapter("reference"), RunConfig(level="quick"))).cells
    for cell in cells:
        carried = wire.loads_internal(wire.dumps_internal(
            protocol.encode(protocol.DrawCells(serial=1, cells=(cell_wire(cell),)))))
        assert cell_of(protocol.decode(carried).cells[0]) == cell
