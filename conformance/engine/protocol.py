"""The messages between the supervisor and a worker, typed, each written and read in one place.

Messages travel over one execnet channel as plain dicts (execnet's own serialiser carries dicts,
lists, strings, numbers and bytes): :func:`encode` gives a message's dict, :func:`decode` the
message back.  Nothing else in the engine builds or reads these dicts.

Supervisor -> worker: :class:`Setup` (once), then :class:`RunCheck` or :class:`DrawCells`
requests, each with a ``serial``, and :class:`Stop`.
Worker -> supervisor: :class:`Loaded` or :class:`LoadError` (once); :class:`CheckDone` for each
``RunCheck``; for each ``DrawCells`` one :class:`Drawn` or :class:`DrawFailed` per cell, in the
order asked, then :class:`DrawsDone`; and, from a worker on another host, :class:`Progress`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

from conformance.adapters.base import AdapterInfo
from conformance.config import RunConfig
from conformance.results import CheckResult


@dataclass(frozen=True)
class Message:
    """Base of every message: ``kind`` names it on the wire."""

    kind: ClassVar[str] = ""

    def to_wire(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Message:
        # a sequence travels as a list: the messages hold tuples (immutable all the way)
        return cls(**{k: _tuples(v) for k, v in data.items()})


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


_KINDS: dict[str, type[Message]] = {}


def _message(cls: type[Message]) -> type[Message]:
    cls.kind = cls.__name__
    _KINDS[cls.kind] = cls
    return cls


# --- supervisor -> worker -----------------------------------------------------------------------


@_message
@dataclass(frozen=True)
class Setup(Message):
    """Load ``spec`` (making the pre-flight call when ``preflight``: not once it hung in an
    earlier worker), with the supervisor's import path and working directory, and record
    progress in ``progress_file`` when the worker can open it (``progress_token`` proves it
    is the supervisor's file, on the same host)."""

    spec: str
    config: RunConfig
    sys_path: tuple[str, ...]
    cwd: str
    progress_file: str | None
    progress_token: str
    preflight: bool = True

    def to_wire(self) -> dict[str, Any]:
        return {**super().to_wire(), "config": self.config.as_dict()}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Setup:
        return cls(**{**data, "config": RunConfig.from_dict(data["config"]),
                      "sys_path": _tuples(data["sys_path"])})


@_message
@dataclass(frozen=True)
class RunCheck(Message):
    """Run one check in the worker (the checks that call the implementation)."""

    check_id: str
    serial: int


@_message
@dataclass(frozen=True)
class DrawCells(Message):
    """Draw these cells of the run's space, in this order: ``(index, key)`` pairs, where
    ``key`` identifies the cell (so that a worker that built another space says so)."""

    serial: int
    cells: tuple[tuple[int, str], ...]


@_message
@dataclass(frozen=True)
class Stop(Message):
    """Finish: the worker exits."""


# --- worker -> supervisor -----------------------------------------------------------------------


@_message
@dataclass(frozen=True)
class Loaded(Message):
    """The adapter loaded; ``progress`` is "shared" (the mapped file) or "channel" (messages)."""

    info: AdapterInfo
    progress: str

    def to_wire(self) -> dict[str, Any]:
        return {"info": self.info.to_dict(), "progress": self.progress}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Loaded:
        return cls(info=AdapterInfo.from_dict(data["info"]), progress=str(data["progress"]))


@_message
@dataclass(frozen=True)
class LoadError(Message):
    message: str


@_message
@dataclass(frozen=True)
class CheckDone(Message):
    serial: int
    result: CheckResult

    def to_wire(self) -> dict[str, Any]:
        return {"serial": self.serial, "result": self.result.to_dict()}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> CheckDone:
        return cls(serial=int(data["serial"]), result=CheckResult.from_dict(data["result"]))


@_message
@dataclass(frozen=True)
class Drawn(Message):
    """One cell's draw (see ``checks.pool.Draw``): the packed decisions as bytes of shape
    ``(calls, row_bytes)``, the kept count and the kept maps' ratios, and the warnings the
    implementation emitted while the cell was drawn."""

    serial: int
    index: int
    packed: bytes
    row_bytes: int
    kept: int
    ratio_sum: float
    ratio_min: float
    ratio_max: float
    warnings: tuple[str, ...] = ()


@_message
@dataclass(frozen=True)
class DrawFailed(Message):
    """A cell whose draw failed: ``verdict`` "fail" (the implementation broke the contract
    while it was drawn, e.g. a map neither zero nor scaled) or "error" (it raised, returned
    garbage), with the message the checks that read the cell report."""

    serial: int
    index: int
    verdict: str
    message: str
    root_cause: str | None = None
    findings: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


@_message
@dataclass(frozen=True)
class DrawsDone(Message):
    serial: int


@_message
@dataclass(frozen=True)
class Progress(Message):
    """A worker's progress record (``engine.progress``), as a message from another host."""

    serial: int
    calls: int
    in_call: bool
    first_s: float
    slowest_s: float
    longest_gap_s: float
    setting: str
    version: int = 0


def encode(message: Message) -> dict[str, Any]:
    """The message as the dict execnet carries."""
    return {"kind": message.kind, **message.to_wire()}


def decode(data: dict[str, Any]) -> Message:
    """The message a dict from :func:`encode` carries; ``ValueError`` for anything else."""
    try:
        cls = _KINDS[data["kind"]]
    except (KeyError, TypeError):
        raise ValueError(f"not a message of the worker protocol: {str(data)[:200]}") from None
    body = {k: v for k, v in data.items() if k != "kind"}
    return cls.from_wire(body)


__all__ = [
    "CheckDone",
    "DrawCells",
    "DrawFailed",
    "Drawn",
    "DrawsDone",
    "LoadError",
    "Loaded",
    "Message",
    "Progress",
    "RunCheck",
    "Setup",
    "Stop",
    "decode",
    "encode",
]
