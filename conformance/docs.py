"""CONTRIBUTING.md's table, requirement -> checks -> statistics -> mutants, from the code.

    python -m conformance.docs            # print the table
    python -m conformance.docs --write    # replace the table in CONTRIBUTING.md with it

Every cell is read from the code: the requirements, check ids and modules from the catalogue
(each ``RegisteredCheck``'s ``requirement``, ``id`` and the module of its ``fn``); the
statistics from what each check module imports from :mod:`conformance.stats` (each name's own
module, and the families ``X`` whose ``X_test`` it calls) and the assertion helpers it imports from
:mod:`conformance.checks.assertions`; the mutants from the ``MUTANTS`` table (each row's module,
under the requirement of every check it must catch, with how many rows).  Only what code cannot
say -- how a deterministic check judges ("bitwise", "in ulps") -- is written by hand, in
``JUDGED_BY``.  ``tests/test_docs.py`` holds CONTRIBUTING.md to this table.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

#: how a check module judges where no statistic does, by module (the part of the package name
#: after ``conformance.checks.``): what its code does not name
JUDGED_BY: dict[str, str] = {
    "r01_shape_dtype": "exact comparison",
    "r02_structure": "exact zeros, kept maps in ulps",
    "r06_eval_identity": "bitwise",
    "r07_p_zero_one": "bitwise",
    "r08_invalid_p": "raises or not",
    "r09_inplace": "bitwise",
    "r10_determinism": "bitwise",
    "r11_gradient": "in ulps",
    "implementation_defined": "findings, never a failure",
}

HEADER = "| requirement | checks (ids) | statistics | mutants |"
RULE = "|---|---|---|---|"
#: the requirement id of the implementation-defined checks, and its row's label
IMPL_DEFINED_LABEL = "implementation-defined"

_CHECKS = "conformance.checks."
_STATS = "conformance.stats"
_ASSERTIONS = "conformance.checks.assertions"


def _path(module: str) -> str:
    """``conformance.stats.pooled`` -> ``stats/pooled.py``."""
    return module.removeprefix("conformance.").replace(".", "/") + ".py"


def _functions_from(module: object, source: str) -> list[tuple[str, str]]:
    """(name, defining module) of every function ``module`` holds that ``source`` (a package or
    a module) defines, in the order of the names."""
    out = []
    for name, value in sorted(vars(module).items()):
        defined = getattr(value, "__module__", None) or ""
        if inspect.isfunction(value) and (defined == source or defined.startswith(source + ".")):
            out.append((name, defined))
    return out


def statistics(module_names: Iterable[str]) -> str:
    """What the check modules ``module_names`` (one requirement's) judge by: ``JUDGED_BY``'s
    words, the stats modules they import from (with the families ``X`` whose ``X_test`` they
    call) and the assertion helpers they call."""
    words: list[str] = []
    families: dict[str, list[str]] = {}
    helpers: list[str] = []
    for module_name in module_names:
        module = importlib.import_module(module_name)
        short = module_name.removeprefix(_CHECKS)
        if short in JUDGED_BY and JUDGED_BY[short] not in words:
            words.append(JUDGED_BY[short])
        for name, defined in _functions_from(module, _STATS):
            if defined.rsplit(".", 1)[-1].startswith("_"):
                continue  # private plumbing (scipy on first use), not a statistic
            found = families.setdefault(defined, [])
            family = name.removesuffix("_test")
            if name.endswith("_test") and family not in found:
                found.append(family)
        helpers += [name for name, _ in _functions_from(module, _ASSERTIONS)
                    if name.startswith("assert_") and name not in helpers]
    parts = list(words)
    for defined in sorted(families):
        names = f" ({', '.join(sorted(families[defined]))})" if families[defined] else ""
        parts.append(f"`{_path(defined)}`{names}")
    if helpers:
        parts.append(f"`{_path(_ASSERTIONS)}` ({', '.join(sorted(helpers))})")
    return ", ".join(parts) or "-"


def _requirement_order(found: Iterable[str]) -> list[str]:
    from conformance.contract import IMPL_DEFINED, REQUIREMENTS

    known = [*REQUIREMENTS, IMPL_DEFINED]
    found = set(found)
    return [r for r in known if r in found] + sorted(found - set(known))


def rows() -> list[tuple[str, str, str, str]]:
    """One row per requirement that has checks, in the contract's order."""
    from conformance.checks import CATALOGUE
    from conformance.contract import IMPL_DEFINED
    from conformance.mutants import MUTANTS

    modules: dict[str, dict[str, list[str]]] = defaultdict(dict)  # req -> module -> ids
    for c in CATALOGUE.values():
        modules[c.requirement].setdefault(c.fn.__module__, []).append(c.id)
    requirement_of = {c.id: c.requirement for c in CATALOGUE.values()}
    mutants: dict[str, Counter] = defaultdict(Counter)  # req -> mutant module -> rows
    for m in MUTANTS.values():
        where = m.target.partition(":")[0]
        for req in dict.fromkeys(requirement_of[cid] for cid in m.expected):
            mutants[req][where] += 1
    out = []
    for req in _requirement_order(modules):
        checks = ", ".join(f"`{_path(mod)}` ({', '.join(ids)})"
                           for mod, ids in modules[req].items())
        stats = statistics(modules[req])
        gallery = ", ".join(f"`{_path(mod)}` ({n})" for mod, n in sorted(mutants[req].items()))
        label = IMPL_DEFINED_LABEL if req == IMPL_DEFINED else req
        out.append((label, checks, stats, gallery or "-"))
    return out


def table() -> str:
    """The table as Markdown (no trailing newline)."""
    lines = [HEADER, RULE]
    lines += ["| " + " | ".join(row) + " |" for row in rows()]
    return "\n".join(lines)


def contributing_path() -> Path:
    """CONTRIBUTING.md of the source tree this package runs from (an editable install)."""
    return Path(__file__).resolve().parents[1] / "CONTRIBUTING.md"


def table_in(text: str) -> str | None:
    """The table in ``text``: the header line and every ``|`` line after it (None: none)."""
    lines = text.splitlines()
    if HEADER not in lines:
        return None
    start = lines.index(HEADER)
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[start:end])


def replace_table(text: str, new: str) -> str:
    old = table_in(text)
    if old is None:
        raise ValueError(f"no line {HEADER!r} to replace the table from")
    return text.replace(old, new, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.docs", description=__doc__
                                     .split("\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="replace the table in CONTRIBUTING.md instead of printing it")
    args = parser.parse_args(argv)
    new = table()
    if not args.write:
        print(new)
        return 0
    path = contributing_path()
    if not path.is_file():
        print(f"error: {path} not found (run from a source checkout)", file=sys.stderr)
        return 2
    path.write_text(replace_table(path.read_text(), new))
    print(f"wrote the table to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
