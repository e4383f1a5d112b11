"""Hostile adapters: each misbehaves the way real kernels and wrappers do (tests/engine).

Each is a plain function over NCHW NumPy arrays, loaded by the suite as
``path/to/hostile.py:<name>``; most behave correctly until the call that triggers them, so the
run gets far enough to show that the checks before and after are unaffected.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import signal
import sys
import threading
import time

import numpy as np

from conformance.adapters.base import Adapter


def _correct(x, p, training=True, inplace=False, seed=None):
    if not 0 <= p <= 1 or p != p:
        raise ValueError(f"bad p {p}")
    if not training or p == 0 or x.size == 0:
        return x
    if p == 1:
        return x * 0
    keep = np.random.default_rng(seed).random((*x.shape[:-2], 1, 1)) >= p
    # a select: where 1/(1-p) overflows float16 (p > 0.99998) a dropped map stays 0, and the
    # scale's rounding to inf must not trip an adapter that sets np.seterr(all="raise")
    # and a kept value times the scale may round to inf in float16 (R2 allows it): not an error
    with np.errstate(over="ignore"):
        scale = x.dtype.type(1 / (1 - p))
        return x * np.where(keep, scale, x.dtype.type(0))


def _training_call(p: float) -> bool:
    return 0 < p < 1


def _after(misbehave, x, p, training):
    """``misbehave()`` in a training call, then the correct result (if it returns at all)."""
    if training and _training_call(p):
        misbehave()
    return _correct(x, p, training)


def exits_zero(x, p, training=True):
    """os._exit(0) during a training call: used to make the CLI exit 0 with no report."""
    return _after(lambda: os._exit(0), x, p, training)


def sys_exits_zero(x, p, training=True):
    return _after(lambda: sys.exit(0), x, p, training)


def segfaults(x, p, training=True):
    """A broken custom kernel: reads address 0."""
    return _after(lambda: ctypes.string_at(0), x, p, training)


def hangs_holding_the_gil(x, p, training=True):
    """C code that never releases the interpreter lock: a pathological regular expression."""
    return _after(lambda: re.match(r"(a+)+$", "a" * 40 + "b"), x, p, training)


def _raise(exc: BaseException) -> None:
    raise exc


def raises_cancelled(x, p, training=True):
    return _after(lambda: _raise(asyncio.CancelledError("cancelled inside the kernel")), x, p,
                  training)


def raises_keyboard_interrupt(x, p, training=True):
    return _after(lambda: _raise(KeyboardInterrupt()), x, p, training)


def starts_a_thread(x, p, training=True):
    """Starts a non-daemon thread that never ends (a leaked prefetcher)."""
    if not getattr(starts_a_thread, "started", False):
        starts_a_thread.started = True
        threading.Thread(target=lambda: time.sleep(10**6), daemon=False).start()
    return _correct(x, p, training)


def changes_directory(x, p, training=True):
    os.chdir("/")
    return _correct(x, p, training)


def sets_numpy_errors(x, p, training=True):
    np.seterr(all="raise")
    return _correct(x, p, training)


def exits_on_invalid_p(x, p, training=True):
    """Validates p by exiting the process instead of raising."""
    if not 0 <= p <= 1 or p != p:
        sys.exit(f"bad p {p}")
    return _correct(x, p, training)


def nan_output(x, p, training=True):
    """Returns NaN in every kept map at one p: a numerical bug, not a crash."""
    y = _correct(x, p, training)
    if training and abs(p - 0.5) < 0.2 and y.size:
        return np.where(y != 0, np.nan, y).astype(x.dtype)
    return y


def kills_itself(x, p, training=True):
    return _after(lambda: os.kill(os.getpid(), signal.SIGKILL), x, p, training)


def sleeps_in_eval(x, p, training=True):
    """Slow in evaluation mode but correct: long enough for a test to send the run a signal."""
    if not training:
        time.sleep(0.5)
    return _correct(x, p, training)


#: calls made in this process (each fresh worker imports this module anew: counts from 0)
_CALLS = [0]


def _fifth_call() -> bool:
    _CALLS[0] += 1
    return _CALLS[0] == 5


def hangs_on_its_fifth_call(x, p, training=True):
    """Correct, except that its fifth call in every fresh worker never returns and holds the
    interpreter lock (a deadlocked kernel): no thread of the worker can run after it."""
    if _fifth_call():
        re.match(r"(a+)+$", "a" * 40 + "b")
    return _correct(x, p, training)


def hangs_on_its_first_call(x, p, training=True):
    """Holds the interpreter lock for ever in the first call of every fresh worker (the
    pre-flight call, or a check's first call where the pre-flight call is not made)."""
    _CALLS[0] += 1
    if _CALLS[0] == 1:
        re.match(r"(a+)+$", "a" * 40 + "b")
    return _correct(x, p, training)


def sleeps_forever_on_its_fifth_call(x, p, training=True):
    """A hang that releases the interpreter lock (waiting on a device that never answers)."""
    if _fifth_call():
        time.sleep(10**6)
    return _correct(x, p, training)


def starts_a_lock_holder_on_its_fifth_call(x, p, training=True):
    """Starts a thread that takes the interpreter lock for ever, and returns: the worker
    stops wherever its main thread is next, in a call or in the suite's own work."""
    if _fifth_call():
        threading.Thread(target=re.match, args=(r"(a+)+$", "a" * 40 + "b"),
                         daemon=True).start()
    return _correct(x, p, training)


def seeded(x, p, training=True, seed=None):
    """Correct and seedable: the same seed gives the same masks."""
    return _correct(x, p, training, seed=seed)


def slow_seeded(x, p, training=True, seed=None):
    """``seeded``, 30 ms a call (a remote device, a slow fallback): slow, not hung."""
    time.sleep(0.03)
    return _correct(x, p, training, seed=seed)


class RaisesInConstructor(Adapter):
    """An Adapter subclass whose constructor raises (no device, no licence, ...)."""

    def __init__(self) -> None:
        raise RuntimeError("no device found")


class HangsWhenStarted(Adapter):
    """An Adapter whose constructor never returns and holds the interpreter lock (a framework
    whose start-up deadlocks): no call of the implementation is ever made."""

    def __init__(self) -> None:
        re.match(r"(a+)+$", "a" * 40 + "b")


def exits_once_while_drawing(x, p, training=True, seed=None):
    """Correct and seedable, but the first worker exits on its 200th training call (while it
    draws the settings space); the workers after it never do (a marker file says so)."""
    marker = os.environ.get("DROPOUT2D_TEST_MARKER", "")
    if marker and training and _training_call(p) and not os.path.exists(marker):
        _CALLS[0] += 1
        if _CALLS[0] == 200:
            open(marker, "w").close()
            os._exit(3)
    return _correct(x, p, training, seed=seed)
