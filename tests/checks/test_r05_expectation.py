"""checks/r05_expectation.py: expectation passes on the reference with one exact sub-test per
interior anchor p, fails a quick-level mutant at the p where its mean is wrong (naming a scale
off the contract's, or none when only the rate is wrong), and allows the scale a few ulps of
the dtype, no more."""

from __future__ import annotations

import re

import numpy as np
import pytest

import conformance
from conformance.checks.assertions import SCALE_ULPS
from conformance.checks.levels import LEVELS
from conformance.contract import keep_scale
from conformance.mutants import MUTANTS

CHECK = "expectation"
ANCHORS = [p for p in LEVELS["quick"].p_grid if 0.0 < p < 1.0]


def test_expectation_passes_for_the_reference_one_exact_sub_test_per_anchor(quick, subs):
    outcome = quick("reference", CHECK)[CHECK]
    assert outcome.verdict == "pass", outcome.message
    found = subs(outcome)
    assert [s.test for s in found] == ["expectation-exact"] * len(ANCHORS)
    assert [s.setting.split(",")[0] for s in found] == [f"p={p:g}" for p in ANCHORS]
    for s in outcome.statistics["subtests"]:
        lo, hi = s["ci"]
        assert lo <= 1.0 <= hi, s  # E[y]/x = 1 within the interval
        assert not s["detail"]["scale_off"]
    assert sum(s["alpha"] for s in outcome.statistics["subtests"]) <= (
        outcome.statistics["alpha"] * (1 + 1e-12))


#: what each quick-level mutant of expectation fails on: the anchors whose sub-test rejects, and
#: the ratio y/x of the kept maps where it left the scale, as a function of p (None: the scale
#: was right, only the rate was wrong); the MUTANTS table says which mutants belong here
FAILS_ON = {
    "no-scaling": ([0.1, 0.5, 0.9], lambda p: 1.0),
    "scale-in-eval": ([0.1, 0.5, 0.9], lambda p: 1.0),
    # 1/p is 1/(1-p) at p = 1/2: right there
    "scale-1-over-p": ([0.1, 0.9], lambda p: 1.0 / p),
    # keeping with probability p is right at p = 1/2 too, and its scale is right everywhere
    "p-swapped": ([0.1, 0.9], None),
}
QUICK = sorted(m.name for m in MUTANTS.values() if m.level == "quick" and CHECK in m.expected)
#: "<setting>: kept y/x in [lo, hi], scale s": where the kept maps left the scale
SCALE_OFF = re.compile(r"kept y/x in \[([\d.e+-]+), ([\d.e+-]+)\], scale ([\d.e+-]+)$")


def anchor(s) -> float:
    """The anchor p of an expectation sub-test ("p=0.1, pooled over 3 settings")."""
    return float(re.match(r"p=([\d.]+),", s.setting).group(1))


@pytest.mark.parametrize("name", sorted(set(QUICK) | set(FAILS_ON)))
def test_a_quick_mutant_fails_at_the_anchors_where_its_mean_is_wrong(name, quick, subs):
    assert name in QUICK, f"{name} is no longer a quick-level mutant of {CHECK}: drop its row"
    assert name in FAILS_ON, f"say in FAILS_ON what {name} must fail on"
    wrong_at, ratio = FAILS_ON[name]
    outcome = quick(MUTANTS[name].target, CHECK)[CHECK]
    assert outcome.verdict == "fail", outcome.message
    found = subs(outcome)
    assert [anchor(s) for s in found if s.reject] == wrong_at
    for s in found:
        if not s.reject or ratio is None:
            assert not s.failing, s  # right there, or a rate fault: no kept map off the scale
            continue
        assert s.failing, s
        for place in s.failing:
            lo, hi, _ = map(float, SCALE_OFF.search(place).groups())
            assert lo == pytest.approx(ratio(anchor(s)), rel=1e-3), place
            assert hi == pytest.approx(ratio(anchor(s)), rel=1e-3), place
    assert f"expectation-exact (p={wrong_at[0]:g}, pooled over" in outcome.message


# ----------------------------------------------------------------------------- the tolerance


def scaled_off_by(ulps: int):
    """Correct masks; kept maps scaled by ``keep_scale * (1 + ulps * eps)`` of their dtype."""
    rng = np.random.default_rng(5)

    @conformance.declare(dtypes=("float32",))
    def f(x, p, training=True):
        if not training or p == 0:
            return x
        keep = rng.random((*x.shape[:-2], 1, 1)) >= p
        eps = float(np.finfo(x.dtype).eps)
        scale = float(keep_scale(p, x.dtype)) * (1 + ulps * eps)
        return (x.astype(np.float64) * keep * scale).astype(x.dtype)

    return f


def test_a_scale_within_the_contracts_ulps_passes(quick):
    assert SCALE_ULPS == 4  # the bound the two cases below stand either side of
    outcome = quick(scaled_off_by(2), CHECK)[CHECK]
    assert outcome.verdict == "pass", outcome.message


def test_a_scale_beyond_the_contracts_ulps_fails_every_anchor_with_the_ratio_seen(quick, subs):
    outcome = quick(scaled_off_by(6), CHECK)[CHECK]
    assert outcome.verdict == "fail", outcome.message
    found = subs(outcome)
    assert all(s.reject for s in found) and len(found) == len(ANCHORS)
    for p, s in zip(ANCHORS, found, strict=True):
        scale = float(keep_scale(p, np.float32))
        assert s.failing, s
        for place in s.failing:
            lo, _, named = map(float, SCALE_OFF.search(place).groups())
            assert named == pytest.approx(scale, rel=1e-7)
            assert lo > scale * (1 + SCALE_ULPS * float(np.finfo(np.float32).eps)), place
