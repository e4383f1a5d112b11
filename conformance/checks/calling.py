"""Calling an adapter from the suite: NCHW NumPy in, NCHW NumPy out, layout handled here.

Every call of the implementation under test goes through :func:`forward` (or
:func:`expect_error`), so an adapter that raises or returns something that is not an array
becomes an :class:`AdapterError` with context, never a crash of the run.

In a supervised worker, :data:`progress` is told when each call starts and ends (what the
supervisor needs to tell a hang from slow progress, see ``conformance.worker``).
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from conformance.adapters.base import Adapter
from conformance.errors import AdapterError

#: set by a supervised worker (``conformance.worker.Recorder``): ``enter(what)`` before each
#: call of the implementation, ``leave()`` after it; ``what`` is a tuple ``(describe, *args)``
#: whose ``describe(*args)`` says what was called, formatted only when the setting changes
#: (this path is hot).  None elsewhere: then tracking costs one global lookup per call.
progress: Any = None

#: threads whose check timed out in the caller's own process, where nothing can be killed
#: (``engine.check_runner``): they make no further call of the implementation and leave the
#: process's state alone (a late "restore" would undo what the caller has done since)
#: (threads, not their idents: an ident is reused once its thread has ended)
abandoned: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def abandon(thread: threading.Thread) -> None:
    """The check running in ``thread`` timed out: stop it at its next call."""
    abandoned.add(thread)


def _refuse_if_abandoned() -> None:
    if abandoned and threading.current_thread() in abandoned:
        raise AdapterError("the check timed out: its thread makes no further call")


@contextlib.contextmanager
def tracked(describe: Any, *args: Any) -> Iterator[None]:
    """One call of the implementation, for :data:`progress` (the cold paths' form)."""
    tracker = progress
    if tracker is None:
        yield
        return
    tracker.enter((describe, *args))
    try:
        yield
    finally:
        tracker.leave()


def _to_layout(adapter: Adapter, x: np.ndarray) -> np.ndarray:
    # The channel axis is -3 in NCHW and CHW; NHWC/HWC puts it last.
    if adapter.layout == "NHWC" and x.ndim >= 3:
        return np.moveaxis(x, -3, -1)
    return x


def _from_layout(adapter: Adapter, y: np.ndarray) -> np.ndarray:
    if adapter.layout == "NHWC" and y.ndim >= 3:
        return np.moveaxis(y, -1, -3)
    return y


def _lay_out(x: np.ndarray, memory: str) -> np.ndarray:
    if memory == "contiguous":
        return np.array(x, copy=True, order="C")
    if memory == "strided":
        buffer = np.zeros((*x.shape[:-1], 2 * x.shape[-1]), dtype=x.dtype)
        view = buffer[..., ::2]
        view[...] = x
        return view
    if memory == "channels_last" and x.ndim >= 3:
        # a copy always (ascontiguousarray would hand back x itself where the channels-last
        # order is already contiguous, e.g. H = W = 1, and the call could write to the input)
        return np.moveaxis(np.moveaxis(x, -3, -1).copy(order="C"), -1, -3)
    raise ValueError(f"unknown memory layout {memory!r}")


@contextlib.contextmanager
def guarded() -> Iterator[None]:
    """Undo what an implementation may change in the process around one call: NumPy's
    floating-point error state (``np.seterr(all="raise")`` would make the suite's own arithmetic
    fail) and the working directory."""
    errors = np.geterr()
    cwd = os.getcwd()
    try:
        yield
    finally:
        if not (abandoned and threading.current_thread() in abandoned):
            np.seterr(**errors)
            if os.getcwd() != cwd:
                os.chdir(cwd)


@dataclass(frozen=True)
class Forward:
    """One call's outcome, in NCHW: the output, the input buffer afterwards, and aliasing."""

    y: np.ndarray
    x_after: np.ndarray
    aliased: bool


def _describe(p: float, training: bool, inplace: bool, shape: tuple, dtype: Any) -> str:
    return f"p={p!r}, training={training}, inplace={inplace}, shape={shape}, dtype={dtype}"


def _describe_forward(p: float, training: bool, inplace: bool, shape: tuple, dtype: Any,
                      memory: str) -> str:
    return _describe(p, training, inplace, shape, dtype) + f", memory={memory}"


def forward(
    adapter: Adapter,
    x: np.ndarray,
    p: float,
    *,
    training: bool = True,
    inplace: bool = False,
    memory: str = "contiguous",
    read_input: bool = True,
    guard: bool = True,
) -> Forward:
    """Call the adapter on ``x`` (NCHW; not modified) and return the outcome in NCHW.

    ``memory`` lays the input out as a C-contiguous copy, a ``"strided"`` view (every other
    element of a wider buffer) or ``"channels_last"`` (a permuted view of an NHWC buffer).
    The statistical draws, which make thousands of calls, skip what they do not use:
    ``read_input=False`` does not read the input buffer back (``x_after`` is then ``x``), and
    ``guard=False`` leaves undoing process-state changes to the caller, who wraps the whole
    loop in :func:`guarded` instead.
    """
    _refuse_if_abandoned()
    tracker = progress  # explicit rather than tracked(): a context manager costs ~1 us a call
    if tracker is None:
        return _forward(adapter, x, p, training, inplace, memory, read_input, guard)
    tracker.enter((_describe_forward, p, training, inplace, x.shape, x.dtype, memory))
    try:
        return _forward(adapter, x, p, training, inplace, memory, read_input, guard)
    finally:
        tracker.leave()


def _forward(adapter: Adapter, x: np.ndarray, p: float, training: bool, inplace: bool,
             memory: str, read_input: bool, guard: bool) -> Forward:
    def where() -> str:  # formatted only when something goes wrong: this path is hot
        return _describe(p, training, inplace, x.shape, x.dtype) + f", memory={memory}"

    x_layout = _lay_out(_to_layout(adapter, x), memory)
    with guarded() if guard else contextlib.nullcontext():
        try:
            native = adapter.to_native(x_layout)
        except (Exception, SystemExit) as exc:
            raise AdapterError(f"to_native raised {exc!r} ({where()})") from exc
        try:
            out = adapter.dropout2d(native, p, training, inplace)
        except (Exception, SystemExit) as exc:
            raise AdapterError(
                f"dropout2d raised {type(exc).__name__}: {exc} ({where()})"
            ) from exc
    try:
        with guarded() if guard else contextlib.nullcontext():
            y = np.asarray(adapter.to_numpy(out))
            x_after = np.asarray(adapter.to_numpy(native)) if read_input else None
    except (Exception, SystemExit) as exc:
        raise AdapterError(
            f"the output could not be read back as an array: {exc!r} "
            f"(got {type(out).__name__}; {where()})"
        ) from exc
    if y.dtype.kind not in "biufc" and y.dtype.name != "bfloat16":  # ml_dtypes: kind "V"
        raise AdapterError(
            f"the output is not a numeric array: got {type(out).__name__} "
            f"(as array: dtype {y.dtype}, shape {y.shape}) ({where()})"
        )
    after = x if x_after is None else _from_layout(adapter, x_after)
    return Forward(_from_layout(adapter, y), after, out is native)


class RepeatedCall:
    """The same training call made again and again on a few inputs (the statistical draws:
    thousands of calls of one setting), with what :func:`forward` does once per call done once
    per setting.

    Each input is laid out once (``memory``) into a buffer of its own, which is refreshed from
    the input (which the caller must leave alone) before every call, so no call sees what an
    earlier one did to its input and no call allocates (fresh memory costs a page fault per
    4 KB: on the tens of MB of a large setting that is most of the time of a copy).  A result
    that aliases the buffer (an implementation that returns its input) is valid until the next
    call: the caller reads it first.  Errors are :class:`AdapterError` with the call's
    description, as in :func:`forward`; the caller guards the loop (:func:`guarded`).
    """

    def __init__(self, adapter: Adapter, xs: list[np.ndarray], p: float, *, memory: str) -> None:
        self.adapter, self.p, self.memory = adapter, p, memory
        self._pristine = [_to_layout(adapter, x) for x in xs]  # (views of the caller's inputs)
        self._buffers = [_lay_out(x, memory) for x in self._pristine]
        self._what = [(_describe_forward, p, True, False, x.shape, x.dtype, memory) for x in xs]
        self._nhwc = adapter.layout == "NHWC"

    def __call__(self, i: int) -> np.ndarray:
        """Call the implementation on input ``i``; its output in NCHW."""
        _refuse_if_abandoned()
        buffer = self._buffers[i]
        np.copyto(buffer, self._pristine[i])
        tracker = progress
        if tracker is not None:  # (reading back is part of the call: JAX computes then)
            tracker.enter(self._what[i])
        try:
            y = self._call(buffer, i)
        finally:
            if tracker is not None:
                tracker.leave()
        return np.moveaxis(y, -1, -3) if self._nhwc and y.ndim >= 3 else y

    def _call(self, buffer: np.ndarray, i: int) -> np.ndarray:
        adapter = self.adapter
        try:
            native = adapter.to_native(buffer)
        except (Exception, SystemExit) as exc:
            raise AdapterError(f"to_native raised {exc!r} ({self._where(i)})") from exc
        try:
            out = adapter.dropout2d(native, self.p, True, False)
        except (Exception, SystemExit) as exc:
            raise AdapterError(
                f"dropout2d raised {type(exc).__name__}: {exc} ({self._where(i)})") from exc
        try:
            y = np.asarray(adapter.to_numpy(out))
        except (Exception, SystemExit) as exc:
            raise AdapterError(
                f"the output could not be read back as an array: {exc!r} "
                f"(got {type(out).__name__}; {self._where(i)})") from exc
        if y.dtype.kind not in "biufc" and y.dtype.name != "bfloat16":  # ml_dtypes: kind "V"
            raise AdapterError(
                f"the output is not a numeric array: got {type(out).__name__} "
                f"(as array: dtype {y.dtype}, shape {y.shape}) ({self._where(i)})")
        return y

    def _where(self, i: int) -> str:
        return _describe_forward(*self._what[i][1:])


def _describe_expecting(p: float, training: bool, shape: tuple, dtype: Any) -> str:
    return f"expecting an error for p={p!r}, training={training}, shape={shape}, dtype={dtype}"


def expect_error(
    adapter: Adapter, x: np.ndarray, p: float, *, training: bool = True
) -> BaseException | None:
    """Call the adapter with a value that must be rejected; return what it raised, or None.

    Exiting the process (``sys.exit``) is not raising an error: it is reported as the
    adapter's misbehaviour, so an implementation that exits on a bad p does not pass R8.
    """
    _refuse_if_abandoned()
    with guarded(), tracked(_describe_expecting, p, training, x.shape, x.dtype):
        try:
            native = adapter.to_native(np.array(_to_layout(adapter, x), copy=True))
        except (Exception, SystemExit) as exc:
            raise AdapterError(f"to_native raised {exc!r}") from exc
        try:
            adapter.dropout2d(native, p, training, False)
        except SystemExit as exc:
            raise AdapterError(
                f"called sys.exit({exc.code!r}) for p={p!r} instead of raising an error"
            ) from exc
        except Exception as exc:
            return exc
    return None


def _describe_seed(seed: int) -> str:
    return f"seed({seed})"


def seed_adapter(adapter: Adapter, seed: int) -> bool:
    """Seed the adapter if it can be seeded; return whether it was."""
    if not adapter.capabilities.seed:
        return False
    _refuse_if_abandoned()
    try:
        with guarded(), tracked(_describe_seed, seed):
            adapter.seed(seed)
    except (Exception, SystemExit) as exc:
        raise AdapterError(f"seed({seed}) raised {exc!r}") from exc
    return True


def _describe_grad(p: float, shape: tuple, dtype: Any) -> str:
    return f"grad, p={p!r}, shape={shape}, dtype={dtype}"


def gradient(
    adapter: Adapter, x: np.ndarray, p: float, upstream: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One forward and backward pass: (y, dL/dx) in NCHW for upstream gradient ``upstream``."""
    where = _describe(p, True, False, x.shape, x.dtype)
    _refuse_if_abandoned()
    try:
        with guarded(), tracked(_describe_grad, p, x.shape, x.dtype):
            nx = adapter.to_native(np.array(_to_layout(adapter, x), copy=True))
            nu = adapter.to_native(np.array(_to_layout(adapter, upstream), copy=True))
            y, dx = adapter.grad(nx, p, nu)
            y, dx = np.asarray(adapter.to_numpy(y)), np.asarray(adapter.to_numpy(dx))
    except (Exception, SystemExit) as exc:
        raise AdapterError(f"grad raised {type(exc).__name__}: {exc} ({where})") from exc
    return _from_layout(adapter, y), _from_layout(adapter, dx)


def inplace_modes(adapter: Adapter) -> tuple[bool, ...]:
    """The inplace flags to call with: False always, True where the adapter supports it."""
    return (False, True) if adapter.capabilities.inplace else (False,)


def alias_finding(aliased_seen: set[bool]) -> str:
    """What the calls' outputs were, as a finding: the input object, a copy, or both."""
    if aliased_seen == {True}:
        return "returns the input object"
    if aliased_seen == {False}:
        return "returns a copy"
    return "sometimes the input object, sometimes a copy"
