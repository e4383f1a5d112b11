"""The progress record a worker keeps of its calls, which the supervisor reads to tell a hang
from a slow implementation."""

from __future__ import annotations

import time

from conformance.engine.progress import HEADER, RECORD_SIZE, Recorder, read_record


def test_the_record_counts_calls_and_says_what_runs():
    import mmap

    buffer = mmap.mmap(-1, RECORD_SIZE)
    recorder = Recorder(buffer)
    recorder.enter((str, "the worker's first call"))
    time.sleep(0.1)
    recorder.leave()
    record = read_record(buffer)  # kept apart: not the slowest call
    assert record.first_s >= 0.1 and record.slowest_s == 0.0
    recorder.begin(7)
    assert read_record(buffer).serial == 7 and read_record(buffer).calls == 0
    recorder.enter((lambda p: f"p={p}", 0.5))
    recorder.enter((str, "nested: an adapter method inside a tracked call"))
    record = read_record(buffer)
    assert record.in_call and record.calls == 1 and record.setting == "p=0.5"
    recorder.leave()
    assert read_record(buffer).in_call  # still in the outer call
    time.sleep(0.01)
    recorder.leave()
    record = read_record(buffer)
    assert not record.in_call and 0.01 <= record.slowest_s < record.first_s
    recorder.enter((lambda p: f"p={p}", 0.5))  # same setting: not written again
    recorder.leave()
    record = read_record(buffer)
    assert record.calls == 2 and record.setting == "p=0.5"
    buffer[0:HEADER.size] = HEADER.pack(9, 0, 0, 0, 0.0, 0.0, 0.0, 0, 9)  # odd: being written
    assert read_record(buffer) is None
