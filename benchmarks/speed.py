"""The suite's speed against its two floors, in one invocation: the table the README quotes.

For each adapter and level asked, as whole processes (interpreter start and imports included):

- **suite**: ``dropout2d-conformance run --adapter A --level L --seed S --out TMP --quiet``, its
  wall time (once with an empty compilation cache, "cold", then with the cache that run left,
  as every later run on a machine finds it) and peak memory (the resident set of the whole
  process tree, sampled every 20 ms with psutil when it is installed; otherwise the largest
  single process, from ``getrusage(RUSAGE_CHILDREN)`` in a wrapper process);
- the **channel decisions** it drew and the **drop-rate MDE** it reached, read from the run's
  JSON report (each check's ``decisions``, the ``drop-rate`` check's ``mde``), so the numbers are
  the report's, whatever the checks do inside;
- the **floor of the space** (how much the suite adds to what its coverage
  costs): a fresh interpreter that imports the framework and makes exactly the run's calls of
  the implementation, nothing else.  The calls are recorded once, untimed, by running the
  battery in-process on a recording wrapper of the adapter (``callspace.py``: every
  ``dropout2d``, deterministic and statistical, eval and training, in place or not, those that
  raise, every ``seed`` and ``grad``, the pre-flight call; each input by shape, dtype and
  strides), and replayed by ``replay_space.py``: each distinct native input built once, the
  calls made in order through the adapter's own methods (compiled the way the adapter compiles:
  ``jax.jit`` per shape and dtype, Flax's and Keras's rule of running a setting eagerly until a
  compilation would have paid; torch through ``F.dropout2d`` itself, which is all its adapter
  calls, without the adapter's NumPy-side imports), calls that raised made again and their
  exception swallowed, JAX results waited for, nothing read back or checked.  Timed like the
  suite: once with an empty JAX compilation cache of its own (kept on disk as the suite's worker
  keeps it), then ``--repeat`` times with what that run left; the ratios are suite cold / floor
  cold and suite warm / floor warm.  The table gives the calls and the distinct (shape, dtype,
  layout) inputs replayed;
- the **big-call floor** (what the coverage itself costs): a fresh interpreter that imports the
  framework and draws the same number of channel decisions in large calls (``numpy.random``
  for the reference, ``F.dropout2d`` for torch, a jitted ``jax.random.bernoulli`` for the
  JAX-based adapters and Keras on JAX, and the adapter itself on large inputs for anything
  else), and the ratio suite / big-call floor;
- **report writing**: ``write_reports`` of the run's JSON report in a fresh interpreter, first
  call (lazy imports and template compilation included, as in a run).

Once per invocation: ``dropout2d-conformance --help``, ``list`` and ``checks``, and the pytest
start-up of a throwaway one-test project with the plugin loaded and with
``-p no:dropout2d_conformance``, as a ratio (``--no-commands`` skips them).  With
``--main-job``, the README's main job too: ``dropout2d-conformance run`` with no ``--adapter``
(the reference and every installed framework adapter), with an empty compilation cache and then
with the one it left (targets: 75 s and 40 s on two cores); ``--main-job`` without ``--adapter``
times only that, e.g. with the Python of a venv installed as the README says.  Medians of
``--repeat`` runs (suite and floors) and of 5 runs (the short commands; 21 for the pytest
start-up).  Prints Markdown tables with the date and the machine; ``--json PATH`` writes every
number.  Usage::

    python benchmarks/speed.py --adapter reference --adapter torch --adapter jax \\
        --level quick --level default [--repeat 3] [--json speed.json] [--main-job]

Adapters that need an environment variable (``KERAS_BACKEND=jax``) take it from the
environment this script runs in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

#: decisions per call of the floor's large calls (16 MiB of float32 at most per call)
FLOOR_CHUNK = 1 << 22
SHORT_RUNS = 5
#: the plugin's cost is a few ms in 0.4 s: 5 runs put the noise (about 5 %) at the target
PYTEST_RUNS = 21

# The floor programs: argv[1] calls of argv[2] channel decisions each (equal calls, so a
# compiling framework compiles once).  Each imports what the adapter imports and draws with
# the framework's own primitive, nothing else.
_FLOOR_NUMPY = r"""
import sys
import numpy as np
calls, size = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
for _ in range(calls):
    keep = rng.random(size) >= 0.5
"""

_FLOOR_TORCH = r"""
import sys
import torch
import torch.nn.functional as F
calls, size = int(sys.argv[1]), int(sys.argv[2])
x = torch.ones(1, size, 1, 1)
for _ in range(calls):
    y = F.dropout2d(x, 0.5, True)
"""

_FLOOR_JAX = r"""
import sys
import importlib
for extra in sys.argv[3:]:
    importlib.import_module(extra)  # the adapter's framework on top of jax (flax, keras)
import jax
import numpy as np
calls, size = int(sys.argv[1]), int(sys.argv[2])

@jax.jit
def draw(key, p):
    key, sub = jax.random.split(key)
    return key, jax.random.bernoulli(sub, 1.0 - p, (size,))

key = jax.random.key(0)
for _ in range(calls):
    key, keep = draw(key, 0.5)
    np.asarray(keep)
"""

_FLOOR_ADAPTER = r"""
import sys
import numpy as np
from conformance.adapters import load_adapter
calls, size = int(sys.argv[1]), int(sys.argv[2])
adapter = load_adapter(sys.argv[3])
x = np.ones((1, size, 1, 1) if adapter.layout == "NCHW" else (1, 1, 1, size), np.float32)
native = adapter.to_native(x)
for _ in range(calls):
    adapter.to_numpy(adapter.dropout2d(native, 0.5, True, False))
"""


def floor_program(spec: str) -> tuple[str, list[str]]:
    """The floor program for an adapter spec and its extra arguments."""
    name = spec.split("@", 1)[0]
    if name == "reference":
        return _FLOOR_NUMPY, []
    if name == "torch":
        return _FLOOR_TORCH, []
    if name == "jax":
        return _FLOOR_JAX, []
    if name.startswith("flax"):
        return _FLOOR_JAX, ["flax.linen" if name == "flax-linen" else "flax.nnx"]
    if name.startswith("keras") and os.environ.get("KERAS_BACKEND") == "jax":
        return _FLOOR_JAX, ["keras"]
    return _FLOOR_ADAPTER, [spec]


# --- measuring processes ----------------------------------------------------------------------

#: runs argv, prints the largest resident set (bytes) of any process in the tree on stderr
_WRAPPER = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:]).returncode
wall = time.perf_counter() - t
kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"@@speed {rc} {wall:.6f} {kb * 1024}", file=sys.stderr)
"""


def _tree_rss(proc: Any) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except Exception:  # the process ended between listing and reading
            pass
    return total


def measure(argv: list[str], *, cwd: str | None = None, env: dict | None = None,
            memory: bool = False) -> dict[str, Any]:
    """Wall time, exit code and (with ``memory``) the peak resident set of ``argv``'s tree."""
    if not memory:
        import resource

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        out = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return {"wall_s": wall, "cpu_s": cpu, "rc": out.returncode, "stderr": out.stderr[-2000:],
                "stdout": out.stdout[-2000:]}
    try:
        import psutil  # optional: only used when already installed
    except ImportError:
        psutil = None
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, *argv], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
            while not stop.is_set():
                peak[0] = max(peak[0], _tree_rss(root))
                time.sleep(0.02)
        except Exception:  # the tree is gone
            pass

    sampler = threading.Thread(target=sample, daemon=True) if psutil else None
    if sampler:
        sampler.start()
    _, err = proc.communicate()
    stop.set()
    if sampler:
        sampler.join()
    line = next((ln for ln in err.splitlines() if ln.startswith("@@speed ")), None)
    if line is None:
        raise RuntimeError(f"the measuring wrapper failed: {err[-1000:]}")
    _, rc, wall, largest = line.split()
    return {
        "wall_s": float(wall),
        "rc": int(rc),
        # the wrapper itself (an idle interpreter) is in the sampled tree: subtract nothing,
        # it is small and the sum is an upper bound
        "peak_tree_mb": peak[0] / 2**20 if sampler else None,
        "peak_largest_mb": int(largest) / 2**20,
        "stderr": err[-2000:],
    }


def cli() -> list[str]:
    script = Path(sys.executable).parent / "dropout2d-conformance"
    return [str(script)] if script.exists() else [sys.executable, "-m", "conformance"]


def _median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


# --- the pieces -------------------------------------------------------------------------------


def read_report(path: Path) -> dict[str, Any]:
    """Decisions and the drop-rate MDE from a run's JSON report (one adapter)."""
    report = json.loads(path.read_text())
    entry = report["adapters"][0]
    checks = [c for c in entry.get("checks") or () if isinstance(c, dict)]
    drop = next((c for c in checks if c.get("id") == "drop-rate"), {})
    slowest = sorted(((c.get("duration_s") or 0.0, c.get("id")) for c in checks), reverse=True)
    return {
        # a check's decisions are those of the settings it read (format 1.3): drop-rate reads
        # every setting of the space, so the most any check read is what the run drew
        "decisions": max((int(c.get("decisions") or 0) for c in checks), default=0),
        "drop_rate_mde": drop.get("mde"),
        "conformant": entry.get("conformant"),
        "verdicts": {v: sum(1 for c in checks if c.get("verdict") == v)
                     for v in ("pass", "fail", "skip", "error")},
        "slowest_checks": [[cid, round(s, 3)] for s, cid in slowest[:5]],
    }


_WRITE = r"""
import json, sys, tempfile, time
from conformance.report.files import write_reports
report = json.load(open(sys.argv[1]))
out = tempfile.mkdtemp()
t = time.perf_counter()
write_reports(report, out)
first = time.perf_counter() - t
t = time.perf_counter()
write_reports(report, out)
print(json.dumps({"first_s": first, "again_s": time.perf_counter() - t}))
"""


def report_writing(json_path: Path, runs: int) -> dict[str, float]:
    firsts, agains = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _WRITE, str(json_path)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        firsts.append(r["first_s"])
        agains.append(r["again_s"])
    return {"first_s": _median(firsts), "again_s": _median(agains)}


def _isolated_cache_env(cache: str) -> dict[str, str]:
    """This environment with the worker's JAX compilation cache in ``cache`` (and no cache
    the user configured, which the worker would honour instead)."""
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env["DROPOUT2D_COMPILE_CACHE"] = cache
    return env


class SuiteRuns:
    """``dropout2d-conformance run`` on one adapter and level, one run per :meth:`once`: the
    first with an empty compilation cache (``cold``), the later ones reusing it.

    The worker keeps what JAX compiles on disk (``DROPOUT2D_COMPILE_CACHE``): here in
    ``cache``, a directory of this measurement's own, so the cold run starts from nothing and
    the warm runs see only what the cold one left.  For frameworks that do not compile, the two
    agree.
    """

    def __init__(self, spec: str, level: str, seed: int, cache: str,
                 keep: Path | None) -> None:
        self.argv = [*cli(), "run", "--adapter", spec, "--level", level, "--seed", str(seed)]
        self.env = _isolated_cache_env(cache)
        self.copy_to = None if keep is None else keep / f"{_slug(spec)}-{level}.json"
        self.walls: list[float] = []
        self.peaks: list[float] = []
        self.largest: list[float] = []
        self.rcs: list[int] = []
        self.cold: float | None = None
        self.info: dict[str, Any] = {}
        self.json_copy: Path | None = None
        self.error: str | None = None

    def once(self) -> bool:
        """One run; False (and ``error`` says why) when it failed."""
        with tempfile.TemporaryDirectory() as out:
            m = measure([*self.argv, "--out", out, "--quiet"], env=self.env, memory=True)
            self.rcs.append(m["rc"])
            path = Path(out) / "conformance.json"
            if m["rc"] not in (0, 1) or not path.exists():
                self.error = f"exit {m['rc']}: {m['stderr'].strip()[-600:]}"
                return False
            if self.cold is None:
                self.cold = m["wall_s"]
            else:
                self.walls.append(m["wall_s"])
            if m["peak_tree_mb"] is not None:
                self.peaks.append(m["peak_tree_mb"])
            self.largest.append(m["peak_largest_mb"])
            self.info = read_report(path)
            if self.json_copy is None:
                self.json_copy = self.copy_to or Path(tempfile.mkstemp(suffix=".json")[1])
                shutil.copyfile(path, self.json_copy)
        return True

    def result(self) -> dict[str, Any]:
        if self.error:
            return {"error": self.error}
        peaks = self.peaks
        return {"wall_s": _median(self.walls), "walls_s": self.walls, "cold_s": self.cold,
                "rc": self.rcs, "peak_mb": max(peaks) if peaks else max(self.largest),
                "peak_method": ("tree sum, sampled (psutil)" if peaks
                                else "largest process (rusage)"),
                "peak_largest_mb": max(self.largest), "json": str(self.json_copy), **self.info}


def _slug(spec: str) -> str:
    return spec.replace("/", "_").replace(":", "_")


#: the recorder and the replay program of the floor of the space (see the module docstring)
CALLSPACE = Path(__file__).resolve().parent / "callspace.py"
REPLAY = Path(__file__).resolve().parent / "replay_space.py"


def record_space(spec: str, level: str, seed: int, path: Path, cache: str) -> dict[str, Any]:
    """Record the run's calls into ``path`` (untimed; ``cache``, a copy of the suite's warm
    compilation cache, only saves the recording's own compilations)."""
    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    env.update(JAX_COMPILATION_CACHE_DIR=cache, JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")
    out = subprocess.run([sys.executable, str(CALLSPACE), "record", "--adapter", spec,
                          "--level", level, "--seed", str(seed), "--out", str(path)],
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": f"recording failed: {out.stderr.strip()[-600:]}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


class SpaceRuns:
    """The floor of the space: a recording's calls replayed by a fresh interpreter, one run
    per :meth:`once`: the first with an empty compilation cache of its own (``cold``, in
    ``cache``), the later ones reusing it."""

    def __init__(self, path: Path, counts: dict[str, Any], cache: str) -> None:
        self.argv = [sys.executable, str(REPLAY), str(path), "--compile-cache", cache]
        self.env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
        self.counts = counts
        plan = json.loads(path.read_text())["replay"]
        self.how = ("F.dropout2d, torch alone" if plan.get("native") == "torch"
                    else "the adapter's own methods")
        self.walls: list[float] = []
        self.cold: float | None = None
        self.replayed: dict[str, Any] = {}
        self.error: str | None = None

    def once(self) -> bool:
        m = measure(self.argv, env=self.env)
        if m["rc"] != 0:
            self.error = f"replay failed: {m['stderr'].strip()[-600:]}"
            return False
        self.replayed = json.loads(m["stdout"].strip().splitlines()[-1])
        if self.cold is None:
            self.cold = m["wall_s"]
        else:
            self.walls.append(m["wall_s"])
        return True

    def result(self) -> dict[str, Any]:
        if self.error:
            return {"error": self.error, "counts": self.counts}
        return {"wall_s": _median(self.walls), "walls_s": self.walls, "cold_s": self.cold,
                "how": self.how, "counts": self.counts,
                "replay_differs": self.replayed.get("differ"),
                "replay_first_differing": self.replayed.get("first_differing")}


def run_suite_and_space(spec: str, level: str, repeat: int, keep: Path | None,
                        seed: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The suite and its floor of the space: each once with an empty compilation cache, the
    run's calls recorded in between (untimed), then ``repeat`` warm runs of each, interleaved
    (suite, floor, suite, floor, ...) so that a change in the machine's load meets both."""
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as tmp:
        suite = SuiteRuns(spec, level, seed, cache, keep)
        if not suite.once():
            return suite.result(), None
        path = (keep / f"{_slug(spec)}-{level}.calls.json") if keep else Path(tmp, "calls.json")
        # a copy: the suite's warm runs must see only what its cold run left
        shutil.copytree(cache, Path(tmp, "record-cache"))
        counts = record_space(spec, level, seed, path, str(Path(tmp, "record-cache")))
        space = SpaceRuns(path, counts, str(Path(tmp, "jax-cache"))) \
            if "error" not in counts else None
        replaying = space is not None and space.once()
        for _ in range(repeat):
            if not suite.once():
                return suite.result(), None
            if replaying:
                replaying = space.once()
        return suite.result(), counts if space is None else space.result()


def run_floor(spec: str, decisions: int, repeat: int) -> dict[str, Any]:
    program, extra = floor_program(spec)
    calls = max(1, -(-decisions // FLOOR_CHUNK))
    size = max(1, -(-decisions // calls))
    walls = []
    for _ in range(repeat):
        m = measure([sys.executable, "-c", program, str(calls), str(size), *extra])
        if m["rc"] != 0:
            return {"error": m["stderr"].strip()[-600:]}
        walls.append(m["wall_s"])
    kind = {_FLOOR_NUMPY: "numpy.random", _FLOOR_TORCH: "F.dropout2d",
            _FLOOR_JAX: "jitted jax.random.bernoulli", _FLOOR_ADAPTER: "the adapter"}[program]
    return {"wall_s": _median(walls), "walls_s": walls, "how": kind + (
        f" (+ import {', '.join(extra)})" if extra and program is _FLOOR_JAX else "")}


#: the README's targets for its main job on two cores: empty compilation cache, warm one (s)
MAIN_JOB_TARGETS = (75, 40)


def main_job(repeat: int, seed: int) -> dict[str, Any]:
    """``dropout2d-conformance run`` with no --adapter (the README's main job), as
    :class:`SuiteRuns` runs one adapter: once with an empty compilation cache of its own, then
    ``repeat`` times with what that run left."""
    walls, peaks, cold, cold_peak, adapters = [], [], None, None, []
    with tempfile.TemporaryDirectory() as cache:
        env = _isolated_cache_env(cache)
        for i in range(repeat + 1):
            with tempfile.TemporaryDirectory() as out:
                m = measure([*cli(), "run", "--seed", str(seed), "--out", out, "--quiet"],
                            env=env, memory=True)
                path = Path(out) / "conformance.json"
                if m["rc"] not in (0, 1) or not path.exists():
                    return {"error": f"exit {m['rc']}: {m['stderr'].strip()[-600:]}"}
                peak = m["peak_tree_mb"] or m["peak_largest_mb"]
                if i == 0:
                    cold, cold_peak = m["wall_s"], peak
                    report = json.loads(path.read_text())
                    adapters = [str(a.get("name") or a.get("spec")) for a in report["adapters"]]
                else:
                    walls.append(m["wall_s"])
                    peaks.append(peak)
    return {"cold_s": cold, "wall_s": _median(walls), "walls_s": walls,
            "cold_peak_mb": cold_peak, "peak_mb": max(peaks) if peaks else None,
            "adapters": adapters, "targets_s": list(MAIN_JOB_TARGETS)}


def short_commands() -> dict[str, float]:
    out = {}
    for name, args in (("--help", ["--help"]), ("list", ["list"]), ("checks", ["checks"])):
        walls = []
        for _ in range(SHORT_RUNS):
            m = measure([*cli(), *args])
            if m["rc"] != 0:
                raise RuntimeError(f"dropout2d-conformance {name} failed: {m['stderr'][-600:]}")
            walls.append(m["wall_s"])
        out[name] = _median(walls)
    return out


def pytest_startup() -> dict[str, float]:
    """A one-test project that does not use the suite, with and without the plugin loaded.

    The ratio is taken on CPU time (user + system of the pytest process): the plugin's cost is
    a few ms in 0.4 s, while the wall time of one start-up swings by +-20 % on a shared
    2-core machine (measured: 0.30-0.54 s over 21 runs).  Wall medians are reported too.
    """
    with tempfile.TemporaryDirectory() as project:
        Path(project, "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
        base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"]
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
        runs: dict[str, list[dict[str, Any]]] = {"with": [], "without": []}
        pair = [(base, "with"), ([*base, "-p", "no:dropout2d_conformance"], "without")]
        for i in range(PYTEST_RUNS):  # interleaved, each first in turn: load hits both alike
            for argv, key in pair if i % 2 == 0 else pair[::-1]:
                m = measure(argv, cwd=project, env=env)
                if m["rc"] != 0:
                    raise RuntimeError(f"pytest failed: {m['stderr'][-600:]}")
                runs[key].append(m)

    def med(key: str, field: str) -> float:
        return _median([m[field] for m in runs[key]])

    return {"with_plugin_s": med("with", "wall_s"), "without_plugin_s": med("without", "wall_s"),
            "with_plugin_cpu_s": med("with", "cpu_s"),
            "without_plugin_cpu_s": med("without", "cpu_s"),
            "ratio": med("with", "cpu_s") / med("without", "cpu_s"),
            "wall_ratio": med("with", "wall_s") / med("without", "wall_s")}


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cores": cores, "cpu": model, "python": platform.python_version(),
            "platform": platform.platform()}


# --- output -----------------------------------------------------------------------------------


def _fmt(x: Any, spec: str) -> str:
    return "–" if x is None or (isinstance(x, float) and x != x) else format(x, spec)


def _ratio(a: Any, b: Any) -> float | None:
    return a / b if a and b else None


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [f"Measured {result['date']} on {m['cores']} cores ({m['cpu']}), Python "
             f"{m['python']}; medians of {result['repeat']} run(s) (cold: one run with an "
             f"empty compilation cache); whole processes; seed {result.get('seed', 0)}.", "",
             "| adapter | level | calls | distinct inputs | suite s | floor of the space s "
             "| ratio | big-call floor s | ratio | cold-cache suite s "
             "| cold floor of the space s | cold ratio | cold big-call ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    others = ["| adapter | level | peak MB | channel decisions | drop-rate MDE "
              "| report writing s | verdicts |", "|---|---|---|---|---|---|---|"]
    for r in result["runs"]:
        if "error" in r["suite"]:
            lines.append(f"| {r['adapter']} | {r['level']} | failed: "
                         f"{r['suite']['error'][:120]} |||||||||||")
            continue
        s, f, sp = r["suite"], r["floor"], r.get("space", {})
        n = sp.get("counts", {})
        v = s["verdicts"]
        verdicts = f"{v['pass']} pass, {v['fail']} fail, {v['skip']} skip, {v['error']} error"
        cells = [n.get("calls"), n.get("inputs"), s["wall_s"], sp.get("wall_s"),
                 _ratio(s["wall_s"], sp.get("wall_s")), f.get("wall_s"),
                 _ratio(s["wall_s"], f.get("wall_s")), s["cold_s"], sp.get("cold_s"),
                 _ratio(s["cold_s"], sp.get("cold_s")), _ratio(s["cold_s"], f.get("wall_s"))]
        formats = ["d", "d", *[".2f"] * 9]
        lines.append(f"| {r['adapter']} | {r['level']} | "
                     + " | ".join(_fmt(c, fm) for c, fm in zip(cells, formats, strict=True))
                     + " |")
        others.append(
            f"| {r['adapter']} | {r['level']} | {_fmt(s['peak_mb'], '.0f')} "
            f"| {s['decisions'] / 1e6:.2f} M | {_fmt(s['drop_rate_mde'], '.4f')} "
            f"| {_fmt(r['report']['first_s'], '.3f')} | {verdicts} |")
    lines += ["", *others]
    if not result["runs"]:  # --main-job alone: only its own table
        lines = lines[:2]
    floors = sorted({f"{r['adapter']}: {r['floor']['how']}" for r in result["runs"]
                     if "how" in r.get("floor", {})})
    if floors:
        lines += ["", "Big-call floors: " + "; ".join(floors) + "."]
    spaces = sorted({f"{r['adapter']}: {r['space']['how']}" for r in result["runs"]
                     if "how" in r.get("space", {})})
    if spaces:
        lines += ["", "Floors of the space (the run's calls, recorded, replayed): "
                  + "; ".join(spaces) + "."]
    problems = [f"{r['adapter']} at {r['level']}: {r['space']['error'][:200]}"
                for r in result["runs"] if "error" in r.get("space", {})]
    problems += [f"{r['adapter']} at {r['level']}: {r['space']['replay_differs']} replayed "
                 f"call(s) raised where the recorded one did not, or the reverse "
                 f"({r['space']['replay_first_differing']})"
                 for r in result["runs"] if r.get("space", {}).get("replay_differs")]
    if problems:
        lines += ["", "Floor of the space, problems: " + "; ".join(problems) + "."]
    if result.get("main_job"):
        j = result["main_job"]
        if "error" in j:
            lines += ["", f"Main job failed: {j['error'][:300]}"]
        else:
            lines += ["", f"The README's main job (`dropout2d-conformance run`, no --adapter: "
                      f"{', '.join(j['adapters'])}):", "",
                      "| main job | s | target s | peak MB |", "|---|---|---|---|",
                      f"| empty compilation cache | {j['cold_s']:.1f} | {MAIN_JOB_TARGETS[0]} "
                      f"| {_fmt(j['cold_peak_mb'], '.0f')} |",
                      f"| warm cache | {_fmt(j['wall_s'], '.1f')} | {MAIN_JOB_TARGETS[1]} "
                      f"| {_fmt(j['peak_mb'], '.0f')} |"]
    if result.get("commands"):
        c = result["commands"]
        lines += ["", "| command | s |", "|---|---|"]
        lines += [f"| `dropout2d-conformance {k}` | {v:.2f} |" for k, v in c.items()]
    if result.get("pytest"):
        p = result["pytest"]
        lines += ["", "| pytest, one-test project | CPU s | wall s |", "|---|---|---|",
                  f"| with the plugin installed | {p['with_plugin_cpu_s']:.3f} "
                  f"| {p['with_plugin_s']:.3f} |",
                  f"| `-p no:dropout2d_conformance` | {p['without_plugin_cpu_s']:.3f} "
                  f"| {p['without_plugin_s']:.3f} |",
                  f"| ratio | {p['ratio']:.3f} | {p['wall_ratio']:.3f} |"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", action="append", help="adapter spec (repeatable)")
    parser.add_argument("--level", action="append", choices=("quick", "default", "thorough"))
    parser.add_argument("--repeat", type=int, default=1, help="runs of each suite and floor")
    parser.add_argument("--json", metavar="PATH", help="write every number here")
    parser.add_argument("--keep-reports", metavar="DIR",
                        help="keep each run's JSON report and its recorded calls (.calls.json)")
    parser.add_argument("--no-commands", action="store_true",
                        help="skip the --help/list/checks and pytest start-up timings")
    parser.add_argument("--seed", type=int, default=0, help="the runs' seed (default 0)")
    parser.add_argument("--main-job", action="store_true",
                        help="also time the README's main job (run with no --adapter), with an "
                        "empty compilation cache and a warm one; without --adapter, only that")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    keep = Path(args.keep_reports) if args.keep_reports else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(), "repeat": args.repeat, "seed": args.seed, "runs": [],
    }
    # --main-job alone times only the main job: run it from the README's own install, whose
    # set of installed frameworks decides which adapters the main job runs.
    specs = args.adapter or ([] if args.main_job else ["reference", "torch"])
    for spec in specs:
        for level in args.level or ["quick", "default"]:
            print(f"... {spec} at {level}", file=sys.stderr, flush=True)
            suite, space = run_suite_and_space(spec, level, args.repeat, keep, args.seed)
            entry: dict[str, Any] = {"adapter": spec, "level": level, "suite": suite}
            if space is not None:
                entry["space"] = space
            if "error" not in suite:
                entry["floor"] = run_floor(spec, suite["decisions"], args.repeat)
                entry["report"] = report_writing(Path(suite["json"]), 3)
                if keep is None:
                    os.unlink(suite["json"])
            result["runs"].append(entry)
    if args.main_job:
        print("... the main job", file=sys.stderr, flush=True)
        result["main_job"] = main_job(args.repeat, args.seed)
    if not args.no_commands:
        print("... commands and pytest start-up", file=sys.stderr, flush=True)
        result["commands"] = short_commands()
        result["pytest"] = pytest_startup()
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
