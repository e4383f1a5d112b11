"""The worker side of a supervised run: loads one adapter and runs checks on request.

A worker is a separate Python process started by :mod:`conformance.engine` through execnet.
It is the only place where the implementation under test is imported and called, so nothing
the implementation does (exit, crash, hang holding the interpreter lock, a stray thread, a
changed working directory) can reach the process that decides verdicts and writes reports.

Protocol (JSON text over one execnet channel):

- supervisor -> worker: ``{"sys_path": [...], "cwd": "...", "spec": "...", "config": {...}}``
- worker -> supervisor: ``{"event": "loaded", "info": {...}}`` or
  ``{"event": "load_error", "message": "..."}``
- supervisor -> worker: ``{"op": "run", "check": "<id>"}`` (repeated) or ``{"op": "stop"}``
- worker -> supervisor: ``{"event": "result", "check": {...}}`` for each ``run``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from typing import Any

#: what execnet runs in the new interpreter: make the supervisor's import path and working
#: directory this process's own, then serve (conformance may not be installed there)
BOOTSTRAP = """
import json, os, sys
setup = json.loads(channel.receive())
sys.path[:0] = [p for p in setup["sys_path"] if p not in sys.path and os.path.isdir(p)]
if os.path.isdir(setup["cwd"]):  # on another host the supervisor's directory may not exist
    os.chdir(setup["cwd"])
from conformance.worker import serve
serve(channel, setup)
"""


def _jsonable(value: Any) -> Any:
    """Numpy scalars and other strays in findings become plain JSON values."""
    if hasattr(value, "item"):
        try:
            return _jsonable(value.item())
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _send(channel: Any, message: dict[str, Any]) -> None:
    channel.send(json.dumps(message, default=_jsonable))


def serve(channel: Any, setup: dict[str, Any]) -> None:
    """Load the adapter named in ``setup`` and answer ``run`` requests until ``stop``."""
    # Ctrl-C at a terminal reaches the whole process group: the supervisor decides what it
    # means, so a worker never dies of it (an adapter's own KeyboardInterrupt is an error).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _share_compilations()
    from conformance.adapters.registry import load_adapter
    from conformance.runner import RunConfig, run_check

    try:
        adapter = load_adapter(setup["spec"], preflight=True)  # callable as documented
    except BaseException as exc:  # (whatever loading does is a load failure)
        _send(channel, {"event": "load_error", "message": _load_message(setup["spec"], exc)})
        return
    from conformance.battery import battery

    config = RunConfig.from_dict(setup["config"])
    checks = {c.id: c for c in battery()}
    try:
        info = adapter.info()
    except BaseException as exc:
        _send(channel, {"event": "load_error",
                        "message": f"adapter {setup['spec']!r}: info() raised {exc!r}"})
        return
    _send(channel, {"event": "loaded", "info": info})
    run_cache: dict = {}
    while True:
        request = json.loads(channel.receive())
        if request.get("op") != "run":
            break
        result = run_check(adapter, checks[request["check"]], config, run_cache, isolated=True)
        _send(channel, {"event": "result", "check": result.to_dict()})
    # Threads the implementation started must not keep this process alive.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        where = os.path.join(base, "dropout2d-conformance", "jax")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = where
    # JAX caches only programs that took a second to compile by default: ours take less
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    # bounded, least recently used first out (the settings change with the seed)
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(512 * 2**20))


def _load_message(spec: str, exc: BaseException) -> str:
    from conformance.errors import SpecError

    if isinstance(exc, SpecError):
        return str(exc)
    if isinstance(exc, SystemExit):
        return f"loading adapter {spec!r} called sys.exit({exc.code!r})"
    return f"loading adapter {spec!r} raised {type(exc).__name__}: {exc}"
