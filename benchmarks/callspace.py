"""The run's own calls of the implementation, recorded: what the *floor of the space* replays.

The floor of the space (README, "Speed") is a fresh interpreter that imports the framework
and makes exactly the run's calls (the same shapes, dtypes, layouts, p and counts, compiled the
way the adapter compiles), nothing else.  This module records those calls; ``replay_space.py``
makes them again; ``speed.py`` times the replay as a whole process beside the suite.

**Recording.** :class:`Recording` is an Adapter that wraps the registered adapter and notes,
in order, every call the battery makes of the implementation, then delegates:

- ``dropout2d(x, p, training, inplace)``: deterministic and statistical checks alike, eval and
  training, in place or not, and the calls that raise (invalid p, an unsupported dtype: noted
  as raised, with the exception's type);
- ``seed(s)`` (the runner's seed before each check and the checks' own) and
  ``grad(x, p, upstream)``;
- the pre-flight call the loader makes before any check (one per worker in a CLI run);
- each native input by the NumPy array it was made from in ``to_native``: its shape, dtype and
  strides in bytes (the memory layout: C-contiguous, channels-last views, strided views), and,
  where the native tensor has strides of its own (torch), those.

``to_native`` and ``to_numpy`` are the suite's conversions, not calls of the implementation:
they are counted, not replayed (the replay converts each distinct input once).

:func:`record` runs the battery in this process through the public API
(``conformance.check(Recording(adapter), level=..., seed=...)``, the in-process door); the
checks see the wrapped adapter's name, layout and capabilities, so they make the calls they
make on the adapter itself.  :func:`record_cli` records a real CLI run instead
(``dropout2d-conformance run --adapter benchmarks/callspace.py:CliRecording``, the wrapped spec
in ``DROPOUT2D_RECORD_SPEC``; the supervised worker appends each call to a log as it returns),
and ``python benchmarks/callspace.py compare`` says whether the two sequences agree.

A recording (JSON) holds the distinct inputs once and the calls as indices into them::

    {"spec": ..., "level": ..., "seed": ..., "replay": {how the replay loads the adapter},
     "inputs": [[shape, dtype, strides_bytes, native_strides_or_null], ...],
     "calls": [["d", input, p, training, inplace, raised], ["s", seed, raised],
               ["g", input, p, upstream_input, raised], ...],
     "counts": {...}}

(``raised`` is the exception's type name, or null; p keeps its type, a NumPy scalar as
``{"dtype": ..., "value": ...}``.)  Usage::

    python benchmarks/callspace.py record --adapter torch --level quick --out torch.json
    python benchmarks/callspace.py compare --adapter torch --level quick
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from conformance.adapters.base import Adapter

HERE = Path(__file__).resolve().parent
#: how many recent native inputs are remembered by identity (grad converts two before its call)
_RECENT = 8


def _dtype_name(dtype: Any) -> str:
    """``float32`` for a NumPy, torch or JAX dtype (``torch.float32`` -> ``float32``)."""
    text = str(getattr(dtype, "name", None) or dtype)
    return text.rpartition(".")[2]


def _native_strides(native: Any) -> list[int] | None:
    """A torch-like tensor's own strides, in elements (None for stride-less arrays)."""
    stride = getattr(native, "stride", None)
    if not callable(stride):
        return None
    try:
        return [int(s) for s in stride()]
    except Exception:
        return None


def _contiguous_strides(shape: tuple[int, ...], itemsize: int) -> list[int]:
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(int(n), 1)
    return strides[::-1]


class Recording(Adapter):
    """An adapter that notes each call of the one it wraps (see the module docstring).

    ``sink(event)`` receives each call once it has returned or raised: ``("d", input, p,
    training, inplace, raised)``, ``("s", seed, raised)``, ``("g", input, p, upstream,
    raised)``, where an input is ``(shape, dtype, strides_bytes, native_strides)``.
    """

    def __init__(self, inner: Adapter, sink: Any) -> None:
        self.inner = inner
        self.sink = sink
        for attr in ("name", "framework", "framework_version", "layout", "device",
                     "capabilities"):
            setattr(self, attr, getattr(inner, attr))
        self.spec = inner.spec
        self._recent: collections.deque = collections.deque(maxlen=_RECENT)
        self.conversions = collections.Counter()
        self.foreign = 0  # inputs that did not come from to_native (described from the native)

    # what the input of a call was ------------------------------------------------------

    def _input(self, native: Any) -> tuple:
        for obj, desc in reversed(self._recent):
            if obj is native:
                return desc
        self.foreign += 1
        return _describe(native)

    def to_native(self, x: np.ndarray) -> Any:
        self.conversions["to_native"] += 1
        native = self.inner.to_native(x)
        desc = (tuple(int(n) for n in x.shape), _dtype_name(x.dtype),
                tuple(int(s) for s in x.strides), _tuple_or_none(_native_strides(native)))
        self._recent.append((native, desc))
        return native

    def to_numpy(self, y: Any) -> np.ndarray:
        self.conversions["to_numpy"] += 1
        return self.inner.to_numpy(y)

    # the calls of the implementation -----------------------------------------------------

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        desc = self._input(x)
        try:
            out = self.inner.dropout2d(x, p, training, inplace)
        except BaseException as exc:
            self.sink(("d", desc, p, training, inplace, type(exc).__name__))
            raise
        self.sink(("d", desc, p, training, inplace, None))
        if out is not None and out is not x:  # a later call may take it as its input
            self._recent.append((out, _describe_output(out, desc)))
        return out

    def seed(self, seed: int) -> None:
        try:
            self.inner.seed(seed)
        except BaseException as exc:
            self.sink(("s", seed, type(exc).__name__))
            raise
        self.sink(("s", seed, None))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        dx, du = self._input(x), self._input(upstream)
        try:
            out = self.inner.grad(x, p, upstream)
        except BaseException as exc:
            self.sink(("g", dx, p, du, type(exc).__name__))
            raise
        self.sink(("g", dx, p, du, None))
        return out

    def info(self) -> dict[str, Any]:
        return self.inner.info()


def _tuple_or_none(xs: list[int] | None) -> tuple[int, ...] | None:
    return None if xs is None else tuple(xs)


def _itemsize(dtype: str) -> int:
    return 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize


def _describe(native: Any) -> tuple:
    """A native array as a call's input: shape, dtype, C-contiguous strides, its own strides."""
    shape = tuple(int(n) for n in native.shape)
    dtype = _dtype_name(native.dtype)
    return (shape, dtype, tuple(_contiguous_strides(shape, _itemsize(dtype))),
            _tuple_or_none(_native_strides(native)))


def _describe_output(out: Any, like: tuple) -> tuple:
    """An output as a later call's input: its own shape and dtype, C-contiguous."""
    try:
        return _describe(out)
    except Exception:
        return like


# --- a recording as data ----------------------------------------------------------------------


def _jsonable_p(p: Any) -> Any:
    """p as JSON, keeping its type: a Python number as it is, a NumPy scalar as
    ``{"dtype": ..., "value": ...}`` (a compiler may trace the two differently: JAX takes a
    Python float as weakly typed), anything else as its repr."""
    if isinstance(p, (bool, int, float)):
        return p
    if isinstance(p, np.generic):
        return {"dtype": p.dtype.name, "value": p.item()}
    return repr(p)


def compact(events: list[tuple]) -> dict[str, Any]:
    """The events as ``{"inputs": [...], "calls": [...]}`` (each distinct input once)."""
    index: dict[tuple, int] = {}
    inputs: list[list[Any]] = []

    def at(desc: tuple) -> int:
        i = index.get(desc)
        if i is None:
            i = index[desc] = len(inputs)
            shape, dtype, strides, native = desc
            inputs.append([list(shape), dtype, list(strides),
                           None if native is None else list(native)])
        return i

    calls: list[list[Any]] = []
    for event in events:
        op = event[0]
        if op == "d":
            _, desc, p, training, inplace, raised = event
            calls.append(["d", at(desc), _jsonable_p(p), bool(training), bool(inplace), raised])
        elif op == "s":
            calls.append(["s", int(event[1]), event[2]])
        elif op == "g":
            _, dx, p, du, raised = event
            calls.append(["g", at(dx), _jsonable_p(p), at(du), raised])
    return {"inputs": inputs, "calls": calls, "counts": counts(calls, inputs)}


def counts(calls: list[list[Any]], inputs: list[list[Any]]) -> dict[str, Any]:
    """Calls by kind, those that raised, distinct inputs and their layouts."""
    by_op = collections.Counter(c[0] for c in calls)
    raised = sum(1 for c in calls if c[-1])
    layouts = collections.Counter(_layout(shape, dtype, strides) for shape, dtype, strides, _
                                  in inputs)
    settings = {(tuple(inputs[c[1]][0]), inputs[c[1]][1]) for c in calls if c[0] in "dg"}
    return {"calls": len(calls), "dropout2d": by_op["d"], "seed": by_op["s"],
            "grad": by_op["g"], "raised": raised, "inputs": len(inputs),
            "shape_dtype_settings": len(settings), "layouts": dict(layouts)}


def _layout(shape: list[int], dtype: str, strides: list[int]) -> str:
    itemsize = _itemsize(dtype)
    if list(strides) == _contiguous_strides(tuple(shape), itemsize):
        return "contiguous"
    if len(shape) >= 3:
        moved = [*shape[:-3], *shape[-2:], shape[-3]]
        cl = _contiguous_strides(tuple(moved), itemsize)
        cl = [*cl[:-3], cl[-1], cl[-3], cl[-2]]
        if [s for n, s in zip(shape, strides, strict=True) if n > 1] == \
                [s for n, s in zip(shape, cl, strict=True) if n > 1]:
            return "channels_last"
    return "strided"


def replay_plan(spec: str) -> dict[str, Any]:
    """How the replay program loads the adapter: the registered class directly (no registry,
    no suite), or the spec through ``load_adapter`` for anything else."""
    from conformance.adapters.registry import BUILTIN

    base, _, device = spec.partition("@")
    if base in BUILTIN:
        target, _ = BUILTIN[base]
        return {"target": target, "kwargs": {"device": device} if device else {},
                "native": "torch" if base == "torch" else None}
    return {"spec": spec, "native": None}


def record(spec: str, level: str, seed: int = 0) -> dict[str, Any]:
    """The calls of an in-process run of the battery on ``spec`` (see the module docstring)."""
    import conformance
    from conformance.adapters.registry import load_adapter

    events: list[tuple] = []
    wrapper = Recording(load_adapter(spec), events.append)
    # generous timeouts: the recorder's own cost must never turn a check into a timeout
    result = conformance.check(wrapper, level=level, seed=seed, timeout_scale=10.0)
    out = {"spec": spec, "level": level, "seed": seed, "via": "conformance.check (in-process)",
           "replay": replay_plan(spec), **compact(events)}
    out["counts"].update(conversions=dict(wrapper.conversions), foreign_inputs=wrapper.foreign,
                         verdicts=dict(collections.Counter(c.verdict for c in result.checks)))
    return out


# --- the same, through the CLI ------------------------------------------------------------------

RECORD_SPEC_ENV = "DROPOUT2D_RECORD_SPEC"
RECORD_LOG_ENV = "DROPOUT2D_RECORD_LOG"


class CliRecording(Recording):
    """:class:`Recording` of the adapter named in ``DROPOUT2D_RECORD_SPEC``, appending each
    call as a JSON line to ``DROPOUT2D_RECORD_LOG`` as it returns (a worker ends with
    ``os._exit``: nothing may wait for a flush)."""

    def __init__(self) -> None:
        from conformance.adapters.registry import load_adapter

        fd = os.open(os.environ[RECORD_LOG_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

        def sink(event: tuple) -> None:
            os.write(fd, (json.dumps(_listed(event)) + "\n").encode())

        super().__init__(load_adapter(os.environ[RECORD_SPEC_ENV]), sink)
        os.write(fd, (json.dumps(["worker", os.getpid()]) + "\n").encode())


def _listed(event: tuple) -> list[Any]:
    """An event as JSON data (inputs as lists, p as a number where it is one)."""
    return [list(e) if isinstance(e, tuple) else
            _jsonable_p(e) if i == 2 and event[0] != "s" else e for i, e in enumerate(event)]


def _untuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_untuple(v) for v in value)
    return value


def record_cli(spec: str, level: str, seed: int = 0) -> dict[str, Any]:
    """The calls of ``dropout2d-conformance run`` on ``spec`` (a supervised worker)."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp, "calls.jsonl")
        env = {**os.environ, RECORD_SPEC_ENV: spec, RECORD_LOG_ENV: str(log)}
        script = Path(sys.executable).parent / "dropout2d-conformance"
        argv = [str(script)] if script.exists() else [sys.executable, "-m", "conformance"]
        out = subprocess.run([*argv, "run", "--adapter", f"{__file__}:CliRecording",
                              "--level", level, "--seed", str(seed), "--out", tmp, "--quiet"],
                             env=env, capture_output=True, text=True)
        if out.returncode not in (0, 1):
            raise RuntimeError(f"the CLI run failed ({out.returncode}): {out.stderr[-1500:]}")
        events, workers = [], 0
        for line in log.read_text().splitlines():
            item = json.loads(line)
            if item[0] == "worker":
                workers += 1
                continue
            op = item[0]
            if op == "d":
                events.append(("d", _untuple(item[1]), *item[2:]))
            elif op == "s":
                events.append(tuple(item))
            else:
                events.append(("g", _untuple(item[1]), item[2], _untuple(item[3]), item[4]))
        report = json.loads(Path(tmp, "conformance.json").read_text())
    checks = report["adapters"][0].get("checks") or []
    result = {"spec": spec, "level": level, "seed": seed, "via": "dropout2d-conformance run",
              "replay": replay_plan(spec), **compact(events)}
    result["counts"].update(workers=workers, verdicts=dict(
        collections.Counter(c.get("verdict") for c in checks)))
    return result


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Whether two recordings make the same calls on the same inputs, in the same order."""
    def expanded(rec: dict[str, Any]) -> list[str]:
        inputs = rec["inputs"]
        rows = []
        for c in rec["calls"]:
            if c[0] == "d":
                rows.append(json.dumps(["d", inputs[c[1]], *c[2:]]))
            elif c[0] == "g":
                rows.append(json.dumps(["g", inputs[c[1]], c[2], inputs[c[3]], c[4]]))
            else:
                rows.append(json.dumps(c))
        return rows

    ra, rb = expanded(a), expanded(b)
    first = next((i for i, (x, y) in enumerate(zip(ra, rb, strict=False)) if x != y),
                 None if len(ra) == len(rb) else min(len(ra), len(rb)))
    diff = collections.Counter(ra)
    diff.subtract(collections.Counter(rb))
    return {"same": first is None, "calls": [len(ra), len(rb)], "first_difference": first,
            "at_first_difference": None if first is None else
            [ra[first] if first < len(ra) else None, rb[first] if first < len(rb) else None],
            "only_in_first": sum(n for n in diff.values() if n > 0),
            "only_in_second": -sum(n for n in diff.values() if n < 0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("record", "compare"):
        p = sub.add_parser(name)
        p.add_argument("--adapter", required=True)
        p.add_argument("--level", default="default")
        p.add_argument("--seed", type=int, default=0)
        if name == "record":
            p.add_argument("--out", required=True, help="the recording (JSON)")
            p.add_argument("--via", choices=("api", "cli"), default="api")
    args = parser.parse_args(argv)
    if args.command == "record":
        how = record if args.via == "api" else record_cli
        rec = how(args.adapter, args.level, args.seed)
        Path(args.out).write_text(json.dumps(rec, separators=(",", ":")) + "\n")
        print(json.dumps(rec["counts"]))
        return 0
    api, cli_rec = record(args.adapter, args.level, args.seed), \
        record_cli(args.adapter, args.level, args.seed)
    print(json.dumps({"api": api["counts"], "cli": cli_rec["counts"],
                      "comparison": compare(api, cli_rec)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
