"""How long the battery takes against how long the implementation needs to draw its masks.

For each adapter and level, in a fresh interpreter (imports included), prints: the battery's
wall time, the channel decisions it drew, the time the same adapter needs just to draw that
many decisions (raw calls on a (64, 256, 2, 2) float32 input, no checking), their ratio, and
the drop-rate MDE the level reached.  Usage:

    python benchmarks/battery_speed.py [--adapter reference --adapter torch] [--level default]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
start = time.perf_counter()
from conformance.adapters import load_adapter
from conformance.runner import RunConfig, Runner
adapter = load_adapter(sys.argv[1])
result = Runner(RunConfig(level=sys.argv[2])).run_adapter(adapter)
wall = time.perf_counter() - start
checks = result.to_dict()["checks"]
decisions = sum(c["decisions"] for c in checks)
mde = max((s["mde"] for c in checks if c["id"] == "drop-rate" for s in c["subtests"]),
          default=None)

# The floor: the same adapter drawing the same number of decisions, nothing else.
import numpy as np
x = np.ones((64, 256, 2, 2), np.float32)
native = adapter.to_native(x)
calls = max(1, decisions // x[..., 0, 0].size)
t0 = time.perf_counter()
for _ in range(calls):
    adapter.to_numpy(adapter.dropout2d(native, 0.5, True, False))
draw = time.perf_counter() - t0
print(json.dumps({"wall": wall, "decisions": decisions, "draw": draw, "mde": mde,
                  "conformant": result.conformant,
                  "slowest": sorted(((round(c["duration_s"], 2), c["id"]) for c in checks),
                                    reverse=True)[:3]}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", action="append")
    parser.add_argument("--level", action="append")
    args = parser.parse_args()
    print(f"{'adapter':<12} {'level':<9} {'wall s':>7} {'decisions':>11} {'draw s':>7} "
          f"{'ratio':>6} {'MDE':>7}  conformant  slowest checks")
    for spec in args.adapter or ["reference", "torch"]:
        for level in args.level or ["quick", "default"]:
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, spec, level],
                                 capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"{spec:<12} {level:<9} failed: {out.stderr.strip()[-300:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            total = time.perf_counter() - t0
            ratio = r["wall"] / r["draw"] if r["draw"] else float("inf")
            mde = f"{r['mde']:.4f}" if r["mde"] is not None else "-"
            print(f"{spec:<12} {level:<9} {total:7.2f} {r['decisions']:11,d} {r['draw']:7.2f} "
                  f"{ratio:6.1f} {mde:>7}  {r['conformant']!s:<10}  {r['slowest']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
