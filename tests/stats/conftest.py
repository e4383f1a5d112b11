"""Helpers for the simulation tests of conformance.stats: pass/fail rules for size and power.

Simulations use fixed seeds, so a test never flakes: it passes or fails the same way on every
run.  What the confidence tail guards against is a *change* of seed, of NumPy's generator
streams or of a test's repetitions: for a correct test (size <= alpha, power >= its claim)
each assertion below fails on a fresh seed with probability at most ``CONFIDENCE_TAIL``
(1e-4), so re-seeding all of the suite's ~70 simulation assertions breaks one with probability
under 1 %.  A smaller tail would only buy that margin with repetitions.

A power claim must also be *resolved*: the tail alone lets a short simulation pass a wrong MDE
(300 repetitions at a tail of 1e-6 passed an observed power of 0.81 against a claim of 0.9).
``assert_power_at_least`` therefore refuses a simulation unless a true power of
``claim - POWER_RESOLUTION`` (0.85 against 0.9) would fail it with probability at least
``1 - RESOLUTION_MISS`` (0.999): at a claim of 0.9 that takes about 2,000 repetitions
(``reps_for_power``).  Size tests need no such rule: every family here is exact or
conservative at its size, and ``assert_not_liberal`` bounds the false-alarm rate from above.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy import stats

SEED = 12345
#: chance that a correct size or power assertion fails on a fresh seed
CONFIDENCE_TAIL = 1e-4
#: a power claim is told from one this much lower ...
POWER_RESOLUTION = 0.05
#: ... which passes with at most this probability
RESOLUTION_MISS = 1e-3


def max_false_alarms(reps: int, alpha: float) -> int:
    """Most rejections out of ``reps`` null replications consistent with a rate <= alpha."""
    return int(stats.binom.isf(CONFIDENCE_TAIL, reps, alpha))


def assert_not_liberal(rejections: int, reps: int, alpha: float) -> None:
    """The false-alarm rate must not exceed ``alpha`` (tests may be conservative)."""
    limit = max_false_alarms(reps, alpha)
    assert rejections <= limit, (
        f"false-alarm rate too high: {rejections}/{reps} = {rejections / reps:.4f} "
        f"at alpha={alpha} (limit {limit})"
    )


def fewest_detections(reps: int, power: float) -> int:
    """Fewest detections out of ``reps`` consistent with a power >= ``power``: the smallest
    ``d`` whose Clopper-Pearson upper bound at ``1 - CONFIDENCE_TAIL`` reaches ``power``
    (``P(Binomial(reps, power) <= d) >= CONFIDENCE_TAIL``)."""
    return int(stats.binom.ppf(CONFIDENCE_TAIL, reps, power))


def resolution_miss(reps: int, power: float) -> float:
    """Probability that a true power of ``power - POWER_RESOLUTION`` passes
    ``assert_power_at_least(..., reps, power)``."""
    return float(stats.binom.sf(fewest_detections(reps, power) - 1, reps,
                                power - POWER_RESOLUTION))


@functools.cache
def reps_for_power(power: float) -> int:
    """Repetitions (to 1 %) that resolve a power claim: ``resolution_miss <= RESOLUTION_MISS``."""
    reps = 50
    while resolution_miss(reps, power) > RESOLUTION_MISS:
        reps = int(reps * 1.01) + 1
    return reps


def assert_power_at_least(detections: int, reps: int, power: float) -> None:
    """The observed power must be consistent with ``power`` (Clopper-Pearson upper bound at
    ``1 - CONFIDENCE_TAIL``), from enough repetitions to tell it from ``power - 0.05``."""
    miss = resolution_miss(reps, power)
    assert miss <= RESOLUTION_MISS, (
        f"{reps} repetitions cannot tell a power of {power} from {power - POWER_RESOLUTION} "
        f"(a power of {power - POWER_RESOLUTION} passes with probability {miss:.3g}); use "
        f"at least {reps_for_power(power)}"
    )
    least = fewest_detections(reps, power)
    assert detections >= least, (
        f"power too low: {detections}/{reps} = {detections / reps:.4f} < {power} "
        f"(at least {least} detections needed)"
    )


def assert_power_at_most(detections: int, reps: int, power: float) -> None:
    """The observed power must be consistent with at most ``power`` (Clopper-Pearson lower
    bound at ``1 - CONFIDENCE_TAIL``): an MDE that is not conservative by more than that."""
    most = reps - fewest_detections(reps, 1.0 - power)
    assert detections <= most, (
        f"power too high: {detections}/{reps} = {detections / reps:.4f} > {power} "
        f"(at most {most} detections allowed): the MDE is conservative"
    )


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(SEED)


class Sim:
    """The assertion helpers, handed to tests as the ``sim`` fixture."""

    seed = SEED
    max_false_alarms = staticmethod(max_false_alarms)
    assert_not_liberal = staticmethod(assert_not_liberal)
    assert_power_at_least = staticmethod(assert_power_at_least)
    assert_power_at_most = staticmethod(assert_power_at_most)
    reps_for_power = staticmethod(reps_for_power)


@pytest.fixture
def sim() -> Sim:
    return Sim()
