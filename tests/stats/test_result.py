"""The result record: reject, named family fields, the check's context and the report's detail."""

from __future__ import annotations

import json
import math

import numpy as np

from conformance.stats import StatResult, binomial_count_gof_test, binomial_test, max_abs_z_test


def test_stat_result_reject_is_p_le_alpha():
    r = StatResult(test="t", statistic=1.0, p_value=0.05, alpha=0.05, n=1)
    assert r.reject
    assert not StatResult(
        test="t", statistic=1.0, p_value=math.nextafter(0.05, 1), alpha=0.05, n=1
    ).reject


def test_report_detail_is_the_family_fields_then_the_context():
    r = binomial_test(30, 100, 0.5, alpha=0.05)
    assert (r.k, r.p0, r.beta) == (30, 0.5, 1e-3)
    tagged = r.annotated(setting="N=1", p=0.5).annotated(p=None, failing=["N=1: off"])
    assert tagged.setting == "N=1" and tagged.failing == ("N=1: off",)
    # a context key given again keeps its place; a family field keeps its own
    assert list(tagged.report_detail()) == ["k", "p0", "beta", "setting", "p", "failing"]
    assert tagged.report_detail()["p"] is None
    assert r.setting is None and r.failing == ()
    json.dumps(tagged.report_detail(), allow_nan=False)


def test_optional_fields_only_when_set_and_numbers_strict_json():
    untestable = binomial_count_gof_test(np.array([1, 2, 1]), 4, 0.3, alpha=0.05)
    detail = untestable.report_detail()
    assert detail["testable"] is False and "reason" in detail
    assert "df" not in detail and "pearson_statistic" not in detail
    nested = max_abs_z_test(np.array([3, 5]), 10, 0.5, alpha=0.05).report_detail()
    assert nested["omnibus"]["df"] == 2 and nested["failing"] == []  # a record as an object
    inf = StatResult(test="t", statistic=1.0, p_value=1.0, alpha=0.05, n=1,
                     context={"weakest": math.inf, "per": (1.0, -math.inf)})
    assert inf.report_detail() == {"weakest": "inf", "per": [1.0, "-inf"]}
