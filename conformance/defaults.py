"""Defaults that the front doors need before anything heavy is imported.

This module imports nothing heavy (argparse only): the pytest plugin reads it in every pytest
run of every project that has the package installed, so it must cost nothing to those who never
use the suite.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

#: the levels of rigour, cheapest first (their targets live in conformance.checks.levels)
LEVEL_NAMES: tuple[str, ...] = ("quick", "default", "thorough")

#: family-wise false-alarm rate of one adapter's run, and the miss rate at the stated MDE
FAMILY_ALPHA = 1e-4
BETA = 1e-3

#: Below this the sub-tests' shares of F (F / (checks x sub-tests), about F / 1e4) fall under
#: 1e-16, where double-precision tail probabilities and the closed-form sample sizes stop
#: meaning anything; above 0.5 "family-wise false-alarm rate" stops being a budget.
FAMILY_ALPHA_MIN = 1e-12
FAMILY_ALPHA_MAX = 0.5

#: how the supervised workers are started: an execnet gateway spec ("popen" = a local
#: subprocess of the same Python; "ssh=host//python=python3" = a worker on another machine)
GATEWAY = "popen"


def cache_dir() -> str:
    """Where the suite keeps what outlives a run on this machine (the workers' compiled
    programs, the adapters' last durations): ``$XDG_CACHE_HOME/dropout2d-conformance``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dropout2d-conformance")


def family_alpha_problem(value: float) -> str | None:
    """Why ``value`` cannot be a family-wise false-alarm rate, or None when it can."""
    if not value == value or value in (float("inf"), float("-inf")):
        return f"must be a finite number, got {value}"
    if not FAMILY_ALPHA_MIN <= value <= FAMILY_ALPHA_MAX:
        return (
            f"must lie in [{FAMILY_ALPHA_MIN:g}, {FAMILY_ALPHA_MAX:g}], got {value:g}: below "
            f"{FAMILY_ALPHA_MIN:g} the sub-tests' alphas fall under double precision"
        )
    return None


def timeout_scale_problem(value: float) -> str | None:
    """Why ``value`` cannot scale the checks' timeouts, or None when it can."""
    if not value == value or value in (float("inf"), float("-inf")) or value <= 0:
        return f"must be a finite number greater than 0, got {value}"
    return None


def whole_number_problem(minimum: int) -> Callable[[float], str | None]:
    """A problem finder for whole numbers of at least ``minimum`` (seeds 0, counts 1)."""

    def problem(value: float) -> str | None:
        if value != int(value):
            return f"must be a whole number, got {value}"
        if value < minimum:
            return f"must be at least {minimum}, got {int(value)}"
        return None

    return problem


def option_type(
    problem_of: Callable[[float], str | None], *, whole: bool = False
) -> Callable[[str], float]:
    """An argparse ``type=`` that parses a number and rejects it with ``problem_of``'s reason,
    shared by the CLI and the pytest door so both say the same thing."""

    def parse(text: str) -> float:
        try:
            value: float = int(text) if whole else float(text)
        except ValueError:
            kind = "whole number" if whole else "number"
            raise argparse.ArgumentTypeError(f"not a {kind}: {text!r}") from None
        problem = problem_of(value)
        if problem:
            raise argparse.ArgumentTypeError(problem)
        return value

    return parse


FAMILY_ALPHA_TYPE = option_type(family_alpha_problem)
TIMEOUT_SCALE_TYPE = option_type(timeout_scale_problem)
SEED_TYPE = option_type(whole_number_problem(0), whole=True)
POSITIVE_INT_TYPE = option_type(whole_number_problem(1), whole=True)


def add_shared_run_options(add: Callable[..., object], prefix: str = "--") -> None:
    """The run options that ``run`` (``--level``) and the pytest door (``--dropout2d-level``)
    share, defined once so that both accept, reject and explain the same values.

    ``add`` is ``ArgumentParser.add_argument`` or pytest's ``OptionGroup.addoption``.  Here,
    not in the CLI module, because the pytest plugin loads in every pytest run of an
    environment where the package is installed: it must import nothing it does not need.
    """
    add(f"{prefix}level", choices=list(LEVEL_NAMES), default="default",
        help="level of rigour, whose MDE targets set the sample sizes (default: %(default)s)")
    add(f"{prefix}seed", type=SEED_TYPE, default=0, help="global seed (default 0)")
    add(f"{prefix}family-alpha", type=FAMILY_ALPHA_TYPE, default=FAMILY_ALPHA,
        help="family-wise false-alarm rate of one adapter's run (default %(default)g)")
    add(f"{prefix}check", action="append", default=[], metavar="ID",
        help="run only these check ids (repeatable)")
    add(f"{prefix}timeout-scale", type=TIMEOUT_SCALE_TYPE, default=1.0,
        help="multiply every timeout (default 1: a worker whose implementation makes no "
        "progress for 30 s in a call or 60 s between calls is killed as hung; a check has 120 s "
        "(deterministic) or 900 s (statistical) in all); raise it for slow adapters")
    add(f"{prefix}gateway", default=GATEWAY, metavar="SPEC",
        help="where workers run, as an execnet gateway spec (default 'popen': a local "
        "process; e.g. 'ssh=gpu-box//python=python3' for a machine with the device)")
