"""Where a worker is: the progress record that tells a hang from a slow implementation.

The worker's :class:`Recorder` is told when each call of the implementation starts and ends
(``conformance.checks.calling.progress``; the adapter's methods are wrapped too, for calls a
check makes directly, see :func:`track_methods`; the pre-flight call while loading, as serial
0) and keeps a small record: which request (its ``serial``), how many calls so far, whether one
is running and what it is, how long the worker's first call took, the slowest call and the
longest stretch of the suite's own work between calls.  On the supervisor's host the record
lives in a file both processes map, so the supervisor reads it (:func:`read_record`) even while
the implementation holds the interpreter lock and no thread of the worker can run, and it
costs a call two small memory writes, no message.  Where the file cannot be opened (a worker
on another host) a thread sends the record as a :class:`~conformance.engine.protocol.Progress`
message whenever it changed, at most every :data:`HEARTBEAT_S` seconds; it is then as old as
the last message.
"""

from __future__ import annotations

import functools
import mmap
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

from conformance.engine.protocol import Progress

#: the record: version, check serial, calls, in a call (0/1), the worker's first call s (0
#: until it returned), slowest call s (the first one aside), longest gap s, setting length,
#: version again (equal to the first when the record was read whole)
HEADER = struct.Struct("<QIIBdddHQ")
SETTING_MAX = 1000
TOKEN_OFFSET = HEADER.size + SETTING_MAX
TOKEN_SIZE = 16
RECORD_SIZE = TOKEN_OFFSET + TOKEN_SIZE
#: seconds between progress messages of a worker on another host (when its record changed)
HEARTBEAT_S = 0.25


def describe(what: tuple | None) -> str:
    """What a call was, from the ``(describe, *args)`` tuple the call hook was given."""
    if not what:
        return ""
    try:
        return str(what[0](*what[1:]))
    except Exception as exc:  # (a description must never break a run)
        return f"? ({exc!r})"


class Recorder:
    """Where the worker is: the call hook (``calling.progress``) of a supervised worker.

    Each call costs two ``perf_counter`` readings and two writes of a 51-byte header into
    the shared record (plus the setting's text when it changed from the previous call's);
    nested calls (the adapter's own methods inside a tracked call) count once.  The worker's
    first call (the pre-flight call, or the first call of a check without one) is kept apart
    from the others: it may start a compiler or a device, which later calls do not repeat.
    """

    def __init__(self, buffer: Any = None) -> None:
        self._buffer = buffer
        self.transport = "shared" if buffer is not None else "channel"
        self.version = 0
        self.serial = 0
        self.calls = 0
        self.depth = 0
        self.first_s = 0.0
        self.slowest_s = 0.0
        self.longest_gap_s = 0.0
        self.what: tuple | None = None
        self._setting_len = 0
        self._mark = time.perf_counter()

    def begin(self, serial: int) -> None:
        """A check starts: its calls count from 1; what comes before its first call is the
        suite's own work."""
        self.serial, self.calls, self.depth, self.what = serial, 0, 0, None
        self._mark = time.perf_counter()
        self._publish(b"")

    def end(self) -> None:
        """The check finished: the work after its last call counts as a gap."""
        self.depth = 0
        gap = time.perf_counter() - self._mark
        if gap > self.longest_gap_s:
            self.longest_gap_s = gap
        self._publish(None)

    def enter(self, what: tuple) -> None:
        self.depth += 1
        if self.depth > 1:
            return
        now = time.perf_counter()
        gap = now - self._mark
        if gap > self.longest_gap_s:
            self.longest_gap_s = gap
        self._mark = now
        self.calls += 1
        if what == self.what:
            self._publish(None)
        else:
            self.what = what
            self._publish(describe(what).encode("utf-8", "replace") if self._buffer else b"")

    def leave(self) -> None:
        self.depth -= 1
        if self.depth > 0:
            return
        self.depth = 0
        now = time.perf_counter()
        took = now - self._mark
        if not self.first_s:
            self.first_s = max(took, 1e-9)  # (nonzero: it returned)
        elif took > self.slowest_s:
            self.slowest_s = took
        self._mark = now
        self._publish(None)

    def _publish(self, setting: bytes | None) -> None:
        """Write the record; ``setting`` is the new setting's text, None when unchanged.  An odd
        version marks a record being written (a reader retries)."""
        buffer = self._buffer
        if buffer is None:
            return
        if setting is not None:
            self.version += 1
            self._pack(buffer)
            setting = setting[:SETTING_MAX]
            buffer[HEADER.size:HEADER.size + len(setting)] = setting
            self._setting_len = len(setting)
            self.version += 1
        else:
            self.version += 2
        self._pack(buffer)

    def _pack(self, buffer: Any) -> None:
        HEADER.pack_into(buffer, 0, self.version, self.serial, self.calls, self.depth > 0,
                         self.first_s, self.slowest_s, self.longest_gap_s, self._setting_len,
                         self.version)

    def snapshot(self, version: int = 0) -> Progress:
        """The record as a message (a worker on another host)."""
        return Progress(serial=self.serial, calls=self.calls, in_call=self.depth > 0,
                        first_s=self.first_s, slowest_s=self.slowest_s,
                        longest_gap_s=self.longest_gap_s, setting=describe(self.what),
                        version=version)


def read_record(buffer: Any) -> Progress | None:
    """The record in ``buffer`` (the supervisor's side), or None while it is being written."""
    for _ in range(20):
        head = HEADER.unpack_from(buffer, 0)
        version, serial, calls, in_call, first, slowest, gap, length, again = head
        if version != again or version % 2:
            continue
        setting = bytes(buffer[HEADER.size:HEADER.size + length])
        if HEADER.unpack_from(buffer, 0) != head:
            continue
        return Progress(serial=serial, calls=calls, in_call=bool(in_call), first_s=first,
                        slowest_s=slowest, longest_gap_s=gap,
                        setting=setting.decode("utf-8", "replace"), version=version)
    return None


def open_recorder(path: str | None, token: str, send: Callable[[Progress], None]) -> Recorder:
    """A recorder on the supervisor's shared file when this process can open it (the same
    host: the token written there matches), else one whose record a thread ``send``s."""
    try:
        if path is not None:  # (None: the supervisor shares no file, e.g. another host)
            with open(path, "r+b") as f:  # (closing f is safe: the mmap keeps its own handle)
                buffer = mmap.mmap(f.fileno(), RECORD_SIZE)
            if buffer[TOKEN_OFFSET:RECORD_SIZE] == bytes.fromhex(token):
                return Recorder(buffer)
            buffer.close()
    except (OSError, TypeError, ValueError):
        pass
    recorder = Recorder()
    threading.Thread(target=_heartbeat, args=(recorder, send), daemon=True,
                     name="dropout2d-heartbeat").start()
    return recorder


def _heartbeat(recorder: Recorder, send: Callable[[Progress], None]) -> None:
    last = None
    while True:
        time.sleep(HEARTBEAT_S)
        state = (recorder.serial, recorder.calls, recorder.depth > 0, recorder.first_s,
                 recorder.slowest_s, recorder.longest_gap_s, recorder.what)
        if state != last:
            last = state
            try:
                send(recorder.snapshot())
            except Exception:  # (the channel closed: the worker is ending)
                return


#: the adapter methods that call the implementation, with their parameters' names
METHODS = {"to_native": ("x",), "to_numpy": ("y",), "dropout2d": ("x", "p", "training", "inplace"),
           "seed": ("seed",), "grad": ("x", "p", "upstream")}


def track_methods(adapter: Any, recorder: Recorder) -> None:
    """Wrap the adapter's methods so that a call a check makes directly (not through
    ``calling``) counts as a call too; inside a tracked call they only pass through."""
    for name in METHODS:
        method = getattr(adapter, name, None)
        if not callable(method):
            continue
        try:
            setattr(adapter, name, _tracked_method(name, method, recorder))
        except (AttributeError, TypeError):  # (slots, a frozen class: calling's hook remains)
            pass


def _tracked_method(name: str, method: Callable[..., Any], recorder: Recorder) -> Callable:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        if recorder.depth:
            return method(*args, **kwargs)
        recorder.enter((_describe_method, name, _summary(METHODS[name], args, kwargs)))
        try:
            return method(*args, **kwargs)
        finally:
            recorder.leave()

    return call


def _describe_method(name: str, arguments: str) -> str:
    return f"{name}({arguments})"


def _summary(names: tuple[str, ...], args: tuple, kwargs: dict) -> str:
    """The arguments in a few words: arrays by type, shape and dtype, the rest by repr."""
    def one(value: Any) -> str:
        try:
            shape = getattr(value, "shape", None)
            if shape is not None:
                return f"{type(value).__name__} {tuple(shape)} {getattr(value, 'dtype', '')}"
            return repr(value)[:40]
        except Exception:
            return type(value).__name__
    named = [*zip(names, args, strict=False), *kwargs.items()]
    return ", ".join(f"{k}={one(v)}" for k, v in named)
