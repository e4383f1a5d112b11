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
import typing
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
        return {f.name: _out(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Message:
        hints = typing.get_type_hints(cls)
        return cls(**{k: _in(hints.get(k), v) for k, v in data.items()})


#: the typed records a message may hold, each travelling in its own serialised form
_RECORDS: dict[Any, Any] = {AdapterInfo: AdapterInfo.from_dict, CheckResult: CheckResult.from_dict,
                            RunConfig: RunConfig.from_dict}


def _out(value: Any) -> Any:
    if isinstance(value, RunConfig):
        return value.as_dict()
    return value.to_dict() if isinstance(value, (AdapterInfo, CheckResult)) else value


def _in(hint: Any, value: Any) -> Any:
    if hint in _RECORDS:
        return _RECORDS[hint](value)
    # a sequence travels as a list: the messages hold tuples (immutable all the way)
    return _tuples(value)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


_KINDS: dict[str, type[Message]] = {}


def _message(cls: type) -> Any:
    """A message class: a frozen dataclass, known on the wire by its name."""
    cls = dataclass(frozen=True)(cls)
    cls.kind = cls.__name__
    _KINDS[cls.kind] = cls
    return cls


# --- supervisor -> worker -----------------------------------------------------------------------


@_message
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


@_message
class RunCheck(Message):
    """Run one check in the worker (the checks that call the implementation)."""

    check_id: str
    serial: int


@_message
class DrawCells(Message):
    """Draw these cells of the run's space, in this order, each given whole: ``(index, family,
    category, p, shape, kind, dtype, memory, calls)`` (see ``checks.space.Cell``), so that the
    worker need not size the space itself (sizing imports scipy and costs a second)."""

    serial: int
    cells: tuple[tuple[Any, ...], ...]


@_message
class Stop(Message):
    """Finish: the worker exits."""


# --- worker -> supervisor -----------------------------------------------------------------------


@_message
class Loaded(Message):
    """The adapter loaded; ``progress`` is "shared" (the mapped file) or "channel" (messages)."""

    info: AdapterInfo
    progress: str


@_message
class LoadError(Message):
    message: str


@_message
class CheckDone(Message):
    serial: int
    result: CheckResult


@_message
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
class DrawsDone(Message):
    serial: int


@_message
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
