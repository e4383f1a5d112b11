"""The suite tested on itself: every gallery mutant must be caught, every correct adapter pass.

The kill matrix is mutant x check: which checks caught each mutant (fail or error), and the
overall sensitivity (the share of mutants caught at the level).
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from typing import Any

from conformance import battery
from conformance.api import check
from conformance.defaults import LEVEL_NAMES
from conformance.results import Verdict

#: implementations known to be correct, which must pass: the reference, the gallery's own
#: correct core (every mutant differs from it in one place), and PyTorch where installed (the
#: gallery's CORRECT_VARIANTS, which draw masks in unusual but valid ways, are added).
#: Other frameworks are measured by `run`, not assumed correct: some of them do not conform.
CORRECT = ("reference", "conformance.mutants.core:correct", "torch")


@dataclass(frozen=True)
class Row:
    name: str
    bug: str
    expected: tuple[str, ...]
    level: str
    caught_by: tuple[str, ...]
    verdicts: dict[str, str]
    run: bool
    reason: str = ""

    @property
    def caught(self) -> bool:
        return bool(self.caught_by)

    @property
    def expected_missed(self) -> tuple[str, ...]:
        return tuple(c for c in self.expected if c not in self.caught_by)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bug": self.bug,
            "expected": list(self.expected),
            "level": self.level,
            "run": self.run,
            "reason": self.reason,
            "caught": self.caught,
            "caught_by": list(self.caught_by),
            "expected_missed": list(self.expected_missed),
            "verdicts": self.verdicts,
        }


def selftest(level: str = "default", *, seed: int = 0, names: list[str] | None = None,
             progress=None) -> dict[str, Any]:
    """Run the gallery and the correct adapters; return the kill matrix as a dict."""
    from conformance.mutants import MUTANTS, fresh_start

    start = time.perf_counter()
    rows: list[Row] = []
    for name, m in MUTANTS.items():
        if names and name not in names:
            continue
        if LEVEL_NAMES.index(m.level) > LEVEL_NAMES.index(level):  # cheapest first
            rows.append(Row(name, m.bug, m.expected, m.level, (), {}, False,
                            f"caught only at level {m.level}"))
            continue
        if m.needs and importlib.util.find_spec(m.needs) is None:
            rows.append(Row(name, m.bug, m.expected, m.level, (), {}, False,
                            f"needs {m.needs}, not installed"))
            continue
        # The gallery is the suite's own code: it runs in this process, through the public API.
        fresh_start(seed)
        result = check(m.target, level=level, seed=seed)
        verdicts = {c.id: c.verdict.value for c in result.checks}
        caught = tuple(c.id for c in result.checks if not c.ok)
        rows.append(Row(name, m.bug, m.expected, m.level, caught, verdicts, True))
        if progress:
            progress(name, caught)
    correct = []
    from conformance.mutants import CORRECT_VARIANTS

    # ...and the gallery's correct implementations that draw masks in unusual but valid ways
    correct_specs = [*CORRECT, *CORRECT_VARIANTS]
    for spec in [s for s in correct_specs if s != "torch" or importlib.util.find_spec("torch")]:
        fresh_start(seed)
        result = check(spec, level=level, seed=seed)
        correct.append({
            "spec": spec,
            "conformant": result.conformant,
            "failed": [c.id for c in result.checks if not c.ok],
        })
        if progress:
            progress(spec, tuple(c.id for c in result.checks if not c.ok))
    ran = [r for r in rows if r.run]
    survivors = [r.name for r in ran if not r.caught]
    return {
        "level": level,
        "seed": seed,
        "checks": [c.id for c in battery.battery()],
        "mutants": [r.to_dict() for r in rows],
        "correct": correct,
        "run": len(ran),
        "caught": len(ran) - len(survivors),
        "sensitivity": (len(ran) - len(survivors)) / len(ran) if ran else None,
        "survivors": survivors,
        "correct_failed": [c["spec"] for c in correct if not c["conformant"]],
        "ok": not survivors and all(c["conformant"] for c in correct),
        "wall_s": round(time.perf_counter() - start, 2),
    }


def format_matrix(result: dict[str, Any]) -> str:
    """A plain-text kill matrix: one row per mutant, one column per check."""
    checks = result["checks"]
    abbrev = [str(i + 1) for i in range(len(checks))]
    width = max([len(m["name"]) for m in result["mutants"]] + [10])
    lines = [" " * width + "  " + " ".join(f"{a:>4}" for a in abbrev) + "  verdict"]
    marks = {Verdict.FAIL: "  X ", Verdict.ERROR: "  E ", Verdict.PASS: "  . ",
             Verdict.SKIP: "  - "}
    for m in result["mutants"]:
        if not m["run"]:
            lines.append(f"{m['name']:<{width}}  ({m['reason']})")
            continue
        cells = "".join(marks.get(m["verdicts"].get(c, ""), "    ") + " " for c in checks)
        state = "caught" if m["caught"] else "SURVIVED"
        lines.append(f"{m['name']:<{width}}  {cells.rstrip()}  {state}")
    for c in result["correct"]:
        state = "conformant" if c["conformant"] else f"FAILED {c['failed']}"
        lines.append(f"correct: {c['spec']}: {state}")
    sens = result["sensitivity"]
    lines.append(
        f"level {result['level']}: {result['caught']} of {result['run']} mutants caught"
        + (f" (sensitivity {sens:.0%})" if sens is not None else "")
        + f"; {result['wall_s']} s"
    )
    lines.append("columns: " + ", ".join(f"{a}={c}" for a, c in zip(abbrev, checks, strict=False)))
    return "\n".join(lines)
