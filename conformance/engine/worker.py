"""The worker process: loads one adapter, runs the checks that call it, and draws for the rest.

A worker is a separate Python process that :mod:`conformance.engine.worker_session` starts
through execnet.  It is the only place where the implementation under test is imported and
called, so nothing the implementation does (exit, crash, hang holding the interpreter lock, a
stray thread, a changed working directory) can reach the process that decides verdicts and
writes reports.

It answers the requests of :mod:`conformance.engine.protocol`: ``RunCheck`` runs a check here
(the deterministic checks, which call the implementation), ``DrawCells`` draws cells of the
run's settings space and streams each draw back as soon as it is made (the statistical checks
run in the supervisor on those draws, so their statistics overlap the drawing on a second
core).  Every call of the implementation is watched (:mod:`conformance.engine.progress`).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from typing import Any

import numpy as np

from conformance.engine import protocol

#: what execnet runs in the new interpreter: make the supervisor's import path and working
#: directory this process's own, then serve (conformance may not be installed there)
BOOTSTRAP = """
import os, sys
setup = channel.receive()
sys.path[:0] = [p for p in setup["sys_path"] if p not in sys.path and os.path.isdir(p)]
if os.path.isdir(setup["cwd"]):  # on another host the supervisor's directory may not exist
    os.chdir(setup["cwd"])
from conformance.engine.worker import serve
serve(channel, setup)
"""


def plain(value: Any) -> Any:
    """``value`` with what execnet cannot carry made plain: NumPy scalars and arrays become
    Python numbers and lists, other objects their text (findings may hold anything)."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if hasattr(value, "item"):
        try:
            return plain(value.item())
        except (TypeError, ValueError):
            pass
    return str(value)


def _send(channel: Any, message: protocol.Message) -> None:
    wire = protocol.encode(message)
    if not isinstance(message, protocol.Drawn):  # (a draw is plain already: bytes and numbers)
        wire = plain(wire)
    channel.send(wire)


def serve(channel: Any, setup_wire: dict[str, Any]) -> None:
    """Load the adapter named in the setup and answer requests until ``Stop``."""
    # Ctrl-C at a terminal reaches the whole process group: the supervisor decides what it
    # means, so a worker never dies of it (an adapter's own KeyboardInterrupt is an error).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _share_compilations()
    setup = protocol.Setup.from_wire({k: v for k, v in setup_wire.items() if k != "kind"})
    from conformance.adapters.base import AdapterInfo
    from conformance.adapters.preflight import SHAPE, preflight
    from conformance.adapters.registry import load_adapter
    from conformance.checks import calling
    from conformance.engine.progress import open_recorder, track_methods

    # Watched from before loading, so that a pre-flight call that hangs is seen as one.
    recorder = open_recorder(setup.progress_file, setup.progress_token,
                             lambda record: _send(channel, record))
    calling.progress = recorder
    try:
        adapter = load_adapter(setup.spec)
        recorder.begin(0)  # (the imports before it are no stretch between calls)
        if setup.preflight:  # callable as documented: one call, watched as one
            with calling.tracked(_describe_preflight, SHAPE):
                preflight(adapter)
    except BaseException as exc:  # (whatever loading does is a load failure)
        _send(channel, protocol.LoadError(_load_message(setup.spec, exc)))
        return
    try:
        info = AdapterInfo.of(adapter)
    except BaseException as exc:
        _send(channel, protocol.LoadError(f"adapter {setup.spec!r}: info() raised {exc!r}"))
        return
    track_methods(adapter, recorder)  # (after the pre-flight, which reads the call's frames)
    _send(channel, protocol.Loaded(info=info, progress=recorder.transport))
    from conformance.battery import battery
    from conformance.engine.check_runner import run_check

    checks = {c.id: c for c in battery()}
    run_cache: dict = {}
    while True:
        request = protocol.decode(channel.receive())
        if isinstance(request, protocol.RunCheck):
            recorder.begin(request.serial)
            result = run_check(adapter, checks[request.check_id], setup.config, run_cache,
                               where="worker")
            recorder.end()
            _send(channel, protocol.CheckDone(serial=request.serial, result=result))
        elif isinstance(request, protocol.DrawCells):
            recorder.begin(request.serial)
            _draw_cells(channel, adapter, setup.config, request)
            recorder.end()
            _send(channel, protocol.DrawsDone(serial=request.serial))
        else:
            break
    # Threads the implementation started must not keep this process alive.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _draw_cells(channel: Any, adapter: Any, config: Any, request: protocol.DrawCells) -> None:
    """Draw each requested cell of the run's space and send it (or why it failed) at once."""
    from conformance.checks import pool
    from conformance.engine.check_runner import space_context, verdict_of
    from conformance.errors import CheckFailed

    ctx = space_context(adapter, config)
    for wire in request.cells:
        cell = cell_of(wire)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                d = pool.draw_cell(ctx, cell)
                failure = None
            except BaseException as exc:  # in a worker, all of it is the implementation's
                failure = exc
        seen = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
        if failure is None:
            _send(channel, protocol.Drawn(
                serial=request.serial, index=cell.index, packed=d.packed.tobytes(),
                row_bytes=int(d.packed.shape[1]), kept=int(d.kept),
                ratio_sum=float(d.ratio_sum), ratio_min=float(d.ratio_min),
                ratio_max=float(d.ratio_max), warnings=d.warnings))
            continue
        verdict, message = verdict_of(failure)
        _send(channel, protocol.DrawFailed(
            serial=request.serial, index=cell.index, verdict=verdict.value, message=message,
            root_cause=failure.root_cause if isinstance(failure, CheckFailed) else None,
            findings=dict(failure.findings) if isinstance(failure, CheckFailed) else {},
            warnings=seen))


def cell_wire(cell: Any) -> tuple[Any, ...]:
    """A cell of the space as ``DrawCells`` carries it."""
    s = cell.setting
    return (cell.index, cell.family, cell.category, s.p, tuple(s.shape), s.kind, s.dtype,
            s.memory, cell.calls)


def cell_of(wire: tuple[Any, ...]) -> Any:
    """The cell ``cell_wire`` gave."""
    from conformance.checks.settings import Setting
    from conformance.checks.space import Cell

    index, family, category, p, shape, kind, dtype, memory, calls = wire
    return Cell(int(index), str(family), str(category),
                Setting(float(p), tuple(int(d) for d in shape), kind, dtype, memory), int(calls))


#: where compiled programs are kept between runs, unless the user chose (see _share_compilations)
COMPILE_CACHE_ENV = "DROPOUT2D_COMPILE_CACHE"


def _share_compilations() -> None:
    """Let JAX keep the programs it compiles on disk, so later runs reuse them.

    The space draws settings of a few dozen shapes, and JAX compiles each (shape, dtype) anew,
    at 0.2-1 s a program on a 2-core machine: a cold run's cost is mostly compiling.  JAX's
    persistent cache is keyed by the program, the JAX version and the backend, so it never
    serves another implementation's program.  Set here, in the worker, before anything imports
    JAX, and only where the user has not configured the cache (``JAX_COMPILATION_CACHE_DIR``);
    ``DROPOUT2D_COMPILE_CACHE=off`` turns it off, ``=PATH`` moves it.
    """
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    where = os.environ.get(COMPILE_CACHE_ENV, "")
    if where.lower() in {"off", "0", "no", "false"}:
        return
    if not where:
        from conformance.defaults import cache_dir

        where = os.path.join(cache_dir(), "jax")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = where
    # JAX caches only programs that took a second to compile by default: ours take less
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    # bounded, least recently used first out (the settings change with the seed)
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(512 * 2**20))


def _describe_preflight(shape: tuple) -> str:
    return (f"the pre-flight call: dropout2d(x, 0.0, training=True, inplace=False), x of shape "
            f"{shape}")


def _load_message(spec: str, exc: BaseException) -> str:
    from conformance.errors import SpecError

    if isinstance(exc, SpecError):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"loading adapter {spec!r} called sys.exit({exc.code!r})"
    return f"loading adapter {spec!r} raised {type(exc).__name__}: {exc}"


__all__ = ["BOOTSTRAP", "COMPILE_CACHE_ENV", "cell_of", "cell_wire", "plain", "serve"]
