"""Helpers for the simulation tests of conformance.stats: conservative pass/fail rules.

Simulations use fixed seeds, so they never flake; the bounds below (at 1e-6) also keep them
from failing by bad luck if a seed is changed.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

SEED = 12345
CONFIDENCE_TAIL = 1e-6


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


def assert_power_at_least(detections: int, reps: int, power: float) -> None:
    """The Clopper-Pearson upper bound (1 - 1e-6) of the observed power must reach ``power``."""
    upper = stats.beta.ppf(1.0 - CONFIDENCE_TAIL, detections + 1, reps - detections)
    upper = 1.0 if detections == reps else float(upper)
    assert upper >= power, (
        f"power too low: {detections}/{reps} = {detections / reps:.4f}, upper bound "
        f"{upper:.4f} < {power}"
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


@pytest.fixture
def sim() -> Sim:
    return Sim()
