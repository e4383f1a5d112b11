"""The floor of the space: make a recorded run's calls again, and nothing else.

    python benchmarks/replay_space.py RECORDING.json [--compile-cache DIR]

A fresh interpreter (``speed.py`` times it as a whole process, start-up and imports included)
that imports the framework through the adapter and makes the calls ``callspace.py`` recorded
from the suite's run, in order: every ``dropout2d`` (the calls that raised during the recording
are made again and their exception swallowed), ``seed`` and ``grad``.  Each distinct native
input (shape, dtype, strides) is built once, from ones, when first used, and let go after its
last use; outputs are not read back, nothing is checked.  Asynchronous results (JAX) are waited
for after each call (``block_until_ready``), so no work is left undone when the process ends.

How the calls are made:

- **torch** (the registered ``torch`` adapter): with torch alone.  The adapter's ``dropout2d``
  is ``F.dropout2d`` itself, its ``seed`` the generator's ``manual_seed`` and its ``grad`` the
  same clone / forward / ``(y * upstream).sum().backward()`` as here; what it adds is the NumPy
  side (``ml_dtypes`` for bfloat16 arrays, 0.5 s of imports), which the calls do not need:
  inputs are made with ``torch.empty_strided`` with the native tensor's own strides.  One
  intra-op thread on CPU, as the adapter sets (``DROPOUT2D_TORCH_THREADS`` overrides).
- **every other adapter**: through the adapter's own methods, so each call is compiled the way
  the adapter compiles it (``jax.jit`` per shape and dtype, the ski-rental rule of Flax and
  Keras on JAX, eager elsewhere); a registered adapter's class is imported directly (not the
  suite's registry), anything else through ``load_adapter``.  Inputs are NumPy arrays of ones
  with the recorded strides, converted once by the adapter's ``to_native``.

``--compile-cache DIR`` keeps what JAX compiles in DIR, set as the suite's worker sets it
(before JAX is imported, unless ``JAX_COMPILATION_CACHE_DIR`` is already set; ``off`` for none).
Prints one JSON line: calls made, how many raised, and any call whose raising differs from the
recording (there should be none).
"""

import json
import os
import sys


def _share_compilations(where):
    # as conformance.engine.worker._share_compilations does for the suite's worker
    if "JAX_COMPILATION_CACHE_DIR" in os.environ or where.lower() in {"off", "0", "no", "false"}:
        return
    os.environ["JAX_COMPILATION_CACHE_DIR"] = where
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(512 * 2**20))


def _last_uses(calls, n_inputs):
    """call index -> the inputs used for the last time there."""
    last = [-1] * n_inputs
    for i, c in enumerate(calls):
        if c[0] == "d":
            last[c[1]] = i
        elif c[0] == "g":
            last[c[1]] = last[c[3]] = i
    release = {}
    for k, i in enumerate(last):
        release.setdefault(i, []).append(k)
    return release


def _torch_backend(plan, inputs):
    import torch
    import torch.nn.functional as F

    device = torch.device(plan["kwargs"].get("device") or "cpu")
    if device.type == "cpu":
        torch.set_num_threads(int(os.environ.get("DROPOUT2D_TORCH_THREADS", "1")))
    sync = torch.cuda.synchronize if device.type == "cuda" else None

    def build(k):
        shape, dtype, _, native = inputs[k]
        dt = getattr(torch, dtype)
        if native is None:  # (not a torch-made input: contiguous)
            return torch.ones(shape, dtype=dt, device=device)
        return torch.empty_strided(shape, native, dtype=dt, device=device).fill_(1)

    def drop(x, p, training, inplace):
        F.dropout2d(x, p, training, inplace)
        if sync:
            sync()

    gen = torch.default_generator

    def seed(s):
        if device.type == "cpu":
            gen.manual_seed(s)
        else:
            torch.manual_seed(s)

    def grad(x, p, upstream):
        x = x.detach().clone().requires_grad_(True)
        y = F.dropout2d(x, p, True, False)
        (y * upstream).sum().backward()
        if sync:
            sync()

    return build, drop, seed, grad


def _adapter_backend(plan, inputs):
    import importlib

    import numpy as np

    if "target" in plan:
        module, _, attr = plan["target"].partition(":")
        adapter = getattr(importlib.import_module(module), attr)(**plan["kwargs"])
    else:
        from conformance.adapters.registry import load_adapter

        adapter = load_adapter(plan["spec"])

    def dtype_of(name):
        if name == "bfloat16":
            import ml_dtypes

            return np.dtype(ml_dtypes.bfloat16)
        return np.dtype(name)

    def build(k):
        shape, dtype, strides, _ = inputs[k]
        dt = dtype_of(dtype)
        if 0 in shape:
            return adapter.to_native(np.ones(shape, dt))
        lo = sum((n - 1) * s for n, s in zip(shape, strides, strict=True) if s < 0)
        hi = sum((n - 1) * s for n, s in zip(shape, strides, strict=True) if s > 0)
        base = np.ones((hi - lo) // dt.itemsize + 1, dt)
        x = np.lib.stride_tricks.as_strided(base[-lo // dt.itemsize:], shape, strides)
        return adapter.to_native(x)

    def ready(out):
        if isinstance(out, (tuple, list)):
            for o in out:
                ready(o)
            return
        wait = getattr(out, "block_until_ready", None)
        if wait is not None:
            wait()

    def drop(x, p, training, inplace):
        ready(adapter.dropout2d(x, p, training, inplace))

    def grad(x, p, upstream):
        ready(adapter.grad(x, p, upstream))

    return build, drop, adapter.seed, grad


def main(argv):
    path = argv[1]
    if "--compile-cache" in argv:
        _share_compilations(argv[argv.index("--compile-cache") + 1])
    with open(path) as f:
        rec = json.load(f)
    plan, inputs, calls = rec["replay"], rec["inputs"], rec["calls"]
    backend = _torch_backend if plan.get("native") == "torch" else _adapter_backend
    build, drop, seed, grad = backend(plan, inputs)
    release = _last_uses(calls, len(inputs))
    natives = [None] * len(inputs)

    def native(k):
        x = natives[k]
        if x is None:
            x = natives[k] = build(k)
        return x

    for c in calls:  # p recorded as a NumPy scalar: the same scalar again
        if c[0] != "s" and isinstance(c[2], dict):
            import numpy as np

            c[2] = np.dtype(c[2]["dtype"]).type(c[2]["value"])
    raised, n_differ, differs = 0, 0, []
    for i, c in enumerate(calls):
        op = c[0]
        try:
            if op == "d":
                drop(native(c[1]), c[2], c[3], c[4])
            elif op == "s":
                seed(c[1])
            else:
                grad(native(c[1]), c[2], native(c[3]))
        except (Exception, SystemExit) as exc:
            raised += 1
            if not c[-1]:
                n_differ += 1
                if len(differs) < 5:
                    differs.append([i, c, f"{type(exc).__name__}: {exc}"[:300]])
        else:
            if c[-1]:
                n_differ += 1
                if len(differs) < 5:
                    differs.append([i, c, "returned"])
        for k in release.get(i, ()):
            natives[k] = None
    print(json.dumps({"calls": len(calls), "raised": raised, "differ": n_differ,
                      "first_differing": differs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
