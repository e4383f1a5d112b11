"""checks/subtests.py: the verdict of a statistical check -- fail naming every rejected sub-test
with its values, or pass with the summary, the largest MDE and the smallest p-value against its
alpha -- and sub-tests that JSON can carry."""

from __future__ import annotations

import math
import sys

import pytest

from conformance.checks.base import CheckPassed
from conformance.checks.settings import Setting
from conformance.checks.subtests import conclude, describe, reportable, tag
from conformance.errors import CheckFailed
from conformance.stats import StatResult


def result(p_value: float, *, alpha: float = 1e-6, test: str = "binomial-exact",
           mde: float | None = 0.01, **context) -> StatResult:
    return StatResult(test=test, statistic=2.5, p_value=p_value, alpha=alpha, n=4000, mde=mde,
                      estimate=0.512345678, ci=(0.5, 0.525), context=context)


def test_a_pass_names_the_summary_the_largest_mde_and_the_smallest_p_value():
    results = [result(0.3, mde=0.01, setting="a"), result(2e-6, alpha=1e-6, mde=0.03),
               result(0.9, mde=None)]
    outcome = conclude(results, "drop rate equals p")
    assert isinstance(outcome, CheckPassed)
    assert outcome.message == ("drop rate equals p: 3 sub-tests, largest MDE 0.03; smallest "
                               "p-value 2e-06 (alpha 1e-06)")
    assert [s.p_value for s in outcome.stats] == [0.3, 2e-6, 0.9]


def test_the_smallest_p_value_is_the_smallest_relative_to_its_own_alpha():
    # 1e-5 is the smaller p-value, but 100 times its alpha; 0.02 is twice its own
    outcome = conclude([result(1e-5, alpha=1e-7), result(0.02, alpha=0.01)], "fine")
    assert outcome.message.endswith("smallest p-value 0.02 (alpha 0.01)")


def test_a_fail_names_each_rejected_sub_test_with_its_values():
    results = [result(0.5, setting="p=0.1"),
               result(1e-9, setting="p=0.5", failing=["channel 3", "channel 7"]),
               result(1e-7, test="chi2", setting="all 40 settings")]
    with pytest.raises(CheckFailed) as info:
        conclude(results, "unused")
    message = info.value.message
    assert message == (
        "2 of 3 sub-tests reject: binomial-exact (p=0.5): observed 0.51235 [0.5, 0.525], "
        "statistic 2.5, p-value 1e-09 vs alpha 1e-06, n=4000; where: channel 3; channel 7; "
        "chi2 (all 40 settings): observed 0.51235 [0.5, 0.525], statistic 2.5, p-value 1e-07 "
        "vs alpha 1e-06, n=4000")
    assert len(info.value.stats) == 3  # every sub-test travels to the report


def test_a_fail_lists_three_rejected_sub_tests_and_counts_the_rest():
    results = [result(1e-9, setting=f"s{i}") for i in range(5)]
    with pytest.raises(CheckFailed) as info:
        conclude(results, "unused")
    message = info.value.message
    assert message.startswith("5 of 5 sub-tests reject: ")
    assert "(s2)" in message and "(s3)" not in message
    assert message.endswith(" (+2 more)")


def test_a_p_value_equal_to_alpha_rejects():
    with pytest.raises(CheckFailed, match="1 of 1 sub-tests reject"):
        conclude([result(1e-6, alpha=1e-6)], "unused")


def test_describe_shows_the_first_three_places_a_test_failed():
    text = describe(result(1e-9, setting="x", failing=["a", "b", "c", "d"]))
    assert text.endswith("; where: a; b; c")
    assert describe(result(0.5, test="t")).startswith("t (): observed 0.51235")


def test_reportable_makes_infinite_values_ones_json_can_carry():
    s = StatResult(test="t", statistic=-math.inf, p_value=0.0, alpha=1e-6, n=10, mde=math.inf,
                   estimate=math.inf, ci=(0.1, math.inf))
    r = reportable(s)
    assert r.statistic == -sys.float_info.max and r.estimate == sys.float_info.max
    assert r.mde is None and r.ci == (0.1, sys.float_info.max)
    finite = result(0.5)
    assert reportable(finite) == finite


def test_verdict_reports_the_reportable_sub_tests():
    with pytest.raises(CheckFailed) as info:
        conclude([StatResult(test="t", statistic=math.inf, p_value=0.0, alpha=1e-6, n=10)], "")
    assert info.value.stats[0].statistic == sys.float_info.max


def test_tag_attaches_the_settings_label_and_p():
    setting = Setting(0.25, (4, 3, 2, 2), "normal")
    tagged = tag(result(0.5), setting, worst=3)
    assert tagged.setting == setting.label()
    assert tagged.context == {"setting": setting.label(), "p": 0.25, "worst": 3}
