"""The suite's own false-alarm rate: a fast calibration of the reference raises no alarm.

At quick level each run's family-wise false-alarm rate is at most F = 1e-4, so 20 runs raise
one with probability at most 2e-3; the seeds are fixed, so this test never flakes.
"""

from __future__ import annotations

from conformance.calibration import calibrate
from conformance.stats import clopper_pearson


def test_quick_calibration_of_the_reference_raises_no_false_alarm():
    result = calibrate("reference", runs=20, level="quick").to_dict()
    assert result["family_alarms"] == 0, result["checks"]
    assert result["consistent_with_budget"]
    assert result["family_ci95"][0] == 0.0 and result["family_ci95"][1] < 0.17


def test_clopper_pearson_matches_the_textbook_values():
    low, high = clopper_pearson(0, 20)
    assert low == 0.0 and abs(high - 0.1684) < 1e-4
