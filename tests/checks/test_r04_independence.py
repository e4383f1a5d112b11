"""checks/r04_independence.py: the four independence checks pass on the reference, each
quick-level mutant fails on the sub-test that sees its dependence and names where (the lag, the
repeated masks, the value class), and the value classes sort every input the space makes."""

from __future__ import annotations

import re

import ml_dtypes  # noqa: F401  (registers bfloat16 with NumPy)
import numpy as np
import pytest

from conformance.checks import r04_independence as independence
from conformance.checks.settings import VALUE_CLASSES, Setting, make_input
from conformance.mutants import MUTANTS

CHECKS = ("independence-channels", "independence-batch", "independence-calls",
          "independence-values")
GROUPS = [name for name, _ in independence.VALUE_GROUPS]


# ----------------------------------------------------------------------------- the checks


def test_every_independence_check_passes_for_the_reference(quick, subs):
    result = quick("reference", *CHECKS)
    expected = {
        "independence-channels": ["max-lag-z", "lag-omnibus-chi2", "identical-masks"],
        "independence-batch": ["max-lag-z", "lag-omnibus-chi2", "flattened-max-lag-z",
                               "identical-masks"],
        "independence-calls": ["max-lag-z", "lag-omnibus-chi2", "identical-masks"],
        "independence-values": ["conditional-excess-z"] * len(GROUPS),
    }
    for cid, tests in expected.items():
        outcome = result[cid]
        assert outcome.verdict == "pass", outcome.message
        assert [s.test for s in subs(outcome)] == tests, cid
        assert sum(s["alpha"] for s in outcome.statistics["subtests"]) <= (
            outcome.statistics["alpha"] * (1 + 1e-12))
    labels = [s.setting for s in subs(result["independence-values"])]
    assert [label.split(" against")[0] for label in labels] == [f"maps with {g}" for g in GROUPS]


#: what each quick-level mutant of these checks fails on: (check, rejected sub-test, a pattern
#: that its setting or one of the places it lists matches); the MUTANTS table says which
#: mutants belong here
FAILS_ON = {
    "per-sample-mask": ("independence-channels", "max-lag-z", r"channel lags.*worst lag 1$"),
    "grouped-channels-4": ("independence-channels", "max-lag-z", r"channel lags.*worst lag 1$"),
    "adjacent-correlated": ("independence-channels", "max-lag-z", r"channel lags.*worst lag 1$"),
    "channel-period-32": ("independence-channels", "max-lag-z", r"worst lag 32$"),
    "channel-lag-7": ("independence-channels", "max-lag-z", r"worst lag 7$"),
    "channel-period-23": ("independence-channels", "max-lag-z", r"worst lag 23$"),
    "batch-shared-mask": ("independence-batch", "max-lag-z", r"batch lags.*worst lag 1$"),
    "float16-batch-shared": ("independence-batch", "max-lag-z", r"batch lags.*worst lag 1$"),
    "shifted-neighbour": ("independence-batch", "flattened-max-lag-z", r"flattened \(n, c\) lag"),
    "same-mask-every-call": ("independence-calls", "identical-masks",
                             r"identical whole-call masks"),
    "small-seed-space": ("independence-calls", "identical-masks", r"calls call \d+ \(x\d+\)"),
    "mask-period": ("independence-calls", "identical-masks", r"calls call \d+ \(x\d+\)"),
    "magnitude-dependent": ("independence-values", "conditional-excess-z",
                            r"maps with inputs of magnitude 1e3 against"),
}
QUICK = sorted(m.name for m in MUTANTS.values() if m.level == "quick" and set(CHECKS) & set(
    m.expected))


def _failing(quick, subs, name: str) -> tuple[str, list]:
    cid, _, _ = FAILS_ON[name]
    outcome = quick(MUTANTS[name].target, cid)[cid]
    assert outcome.verdict == "fail", outcome.message
    return outcome.message, [s for s in subs(outcome) if s.reject]


@pytest.mark.parametrize("name", sorted(set(QUICK) | set(FAILS_ON)))
def test_a_quick_mutant_fails_on_the_sub_test_that_sees_its_dependence(name, quick, subs):
    assert name in QUICK, f"{name} is no longer a quick-level mutant of {CHECKS}: drop its row"
    assert name in FAILS_ON, f"say in FAILS_ON what {name} must fail on"
    _, test, pattern = FAILS_ON[name]
    message, rejected = _failing(quick, subs, name)
    places = [text for s in rejected if s.test == test for text in (s.setting, *s.failing)]
    assert any(re.search(pattern, text) for text in places), (pattern, places)
    assert f"{test} (" in message


def test_a_sample_reusing_its_neighbours_decisions_shows_at_flattened_lag_c_plus_1(quick, subs):
    _, rejected = _failing(quick, subs, "shifted-neighbour")
    (worst,) = [s.setting for s in rejected if s.test == "flattened-max-lag-z"]
    channels, lag = re.search(r"shape=\(\d+, (\d+), .*flattened \(n, c\) lag (\d+)",
                              worst).groups()
    assert int(lag) == int(channels) + 1, worst


def test_the_same_mask_every_call_repeats_across_every_call_of_a_sequence(quick, subs):
    _, rejected = _failing(quick, subs, "same-mask-every-call")
    (repeats,) = [s for s in rejected if s.test == "identical-masks"]
    # "<setting>, T calls call 0 (xT)": call 0's mask comes back in every call of the cell
    calls, copies = re.search(r"(\d+) calls call 0 \(x(\d+)\)", repeats.failing[0]).groups()
    assert calls == copies and int(calls) > 1, repeats.failing


def test_a_mask_period_of_8_calls_gives_each_mask_calls_over_8_copies(quick, subs):
    _, rejected = _failing(quick, subs, "mask-period")
    (repeats,) = [s for s in rejected if s.test == "identical-masks"]
    for place in repeats.failing:
        calls, copies = re.search(r"(\d+) calls call \d+ \(x(\d+)\)", place).groups()
        assert int(copies) == int(calls) // 8, place


def test_a_batch_shared_only_in_float16_repeats_only_in_float16(quick, subs):
    _, rejected = _failing(quick, subs, "float16-batch-shared")
    (repeats,) = [s for s in rejected if s.test == "identical-masks"]
    assert repeats.failing and all("float16" in place for place in repeats.failing)


def test_a_magnitude_dependent_rate_fails_the_magnitude_classes_not_the_signs(quick, subs):
    _, rejected = _failing(quick, subs, "magnitude-dependent")
    assert [s.setting.split(" against")[0] for s in rejected] == [
        "maps with inputs of magnitude 1e-3", "maps with inputs of magnitude 1e3"]


# ----------------------------------------------------------------------------- value classes


def test_value_groups_sort_each_sign_and_magnitude():
    x = np.array([-1e3, -1e-3, 1e-3, 1e3])
    members = {name: member(x).tolist() for name, member in independence.VALUE_GROUPS}
    assert members == {
        "negative inputs": [True, True, False, False],
        "positive inputs": [False, False, True, True],
        "inputs of magnitude 1e-3": [False, True, True, False],
        "inputs of magnitude 1e3": [True, False, False, True],
    }


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "bfloat16"])
def test_every_value_class_input_is_in_one_sign_and_one_magnitude_group(dtype):
    """The classes must survive rounding to the dtype (1e-3 is not exact in float16)."""
    x = make_input(np.random.default_rng(7), Setting(0.5, (64, 32, 2, 3), VALUE_CLASSES, dtype))
    firsts = x[..., 0, 0].astype(np.float64)
    assert np.array_equal(x.astype(np.float64), np.broadcast_to(firsts[..., None, None], x.shape))
    member = {name: f(firsts) for name, f in independence.VALUE_GROUPS}
    signs = member["negative inputs"].astype(int) + member["positive inputs"]
    sizes = member["inputs of magnitude 1e-3"].astype(int) + member["inputs of magnitude 1e3"]
    assert (signs == 1).all() and (sizes == 1).all()
    # all four classes occur
    assert len({(bool(a), bool(b)) for a, b in zip(member["negative inputs"].ravel(),
                                                   member["inputs of magnitude 1e3"].ravel(),
                                                   strict=True)}) == 4
