"""checks/r03_uniformity.py: channel- and batch-uniformity pass on the reference, name the position
a quick-level mutant breaks (counted from the start and from the end), and count each position's
decisions and drops exactly (``position_counts`` on hand-made masks)."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.checks import pool
from conformance.checks import r03_uniformity as uniformity
from conformance.checks import space as sp
from conformance.checks.settings import Setting
from conformance.mutants import MUTANTS

CHECKS = ("channel-uniformity", "batch-uniformity")
WHAT = {"channel-uniformity": "channel", "batch-uniformity": "batch index"}


def draw_of(dropped: np.ndarray, p: float = 0.5) -> pool.Draw:
    """A draw holding exactly the dropped decisions ``dropped`` (calls, N, C), on 1x1 maps."""
    calls, n, c = dropped.shape
    cell = sp.Cell(0, "sweep", "square", Setting(p, (n, c, 1, 1)), calls)
    kept = int((~dropped).sum())
    packed = np.packbits(dropped.reshape(calls, -1), axis=-1)
    return pool.Draw(cell, packed, kept, float(kept), 1.0, 1.0)


# ----------------------------------------------------------------------------- the checks


def test_both_checks_pass_for_the_reference_from_the_start_and_from_the_end(quick, subs):
    result = quick("reference", *CHECKS)
    for cid in CHECKS:
        outcome = result[cid]
        assert outcome.verdict == "pass", outcome.message
        found = subs(outcome)
        # max-|z| beside the omnibus, positions counted from the start and from the end
        assert [s.test for s in found] == ["max-abs-z-conditional", "positions-chi2"] * 2
        what = WHAT[cid]
        last = sp.POSITIONS - 1
        assert found[1].setting == f"positions 0..{last} ({what})"
        assert found[3].setting == f"positions 0..{last} ({what} from the end)"
        assert sum(s["alpha"] for s in outcome.statistics["subtests"]) <= (
            outcome.statistics["alpha"] * (1 + 1e-12))


#: what each quick-level mutant of these checks fails on: (check, sub-test, the position it
#: names as the worst); the MUTANTS table says which mutants belong here
FAILS_ON = {
    "last-channel-kept": ("channel-uniformity", "max-abs-z-conditional", "channel from the end 0"),
    "first-sample-kept": ("batch-uniformity", "max-abs-z-conditional", "batch index 0"),
}
QUICK = sorted(m.name for m in MUTANTS.values() if m.level == "quick" and set(CHECKS) & set(
    m.expected))


@pytest.mark.parametrize("name", sorted(set(QUICK) | set(FAILS_ON)))
def test_a_quick_mutant_fails_at_the_position_it_breaks(name, quick, subs):
    assert name in QUICK, f"{name} is no longer a quick-level mutant of {CHECKS}: drop its row"
    assert name in FAILS_ON, f"say in FAILS_ON what {name} must fail on"
    cid, test, where = FAILS_ON[name]
    outcome = quick(MUTANTS[name].target, cid)[cid]
    assert outcome.verdict == "fail", outcome.message
    worst = [s.setting for s in subs(outcome) if s.reject and s.test == test]
    assert where in worst, worst
    assert f"{test} ({where})" in outcome.message


# ----------------------------------------------------------------------------- position counts


def test_position_counts_count_channel_positions_over_calls_and_batch():
    dropped = np.zeros((3, 2, 5), bool)  # 3 calls, N = 2, C = 5
    dropped[:, :, 2] = True  # channel 2: every decision
    dropped[0, 1, 4] = True  # channel 4: once
    d = draw_of(dropped)
    assert np.array_equal(d.dropped(), dropped)
    c, trials, drops = uniformity.position_counts([d], axis=2, positions=7, from_end=False)
    assert drops.tolist() == [0, 0, 6, 0, 1, 0, 0]
    # positions beyond the setting's channels have no decisions
    assert trials.tolist() == [6, 6, 6, 6, 6, 0, 0]
    assert int(np.argmax(c.z)) == 2 and c.z[2] > 0
    assert c.z[5:].tolist() == [0.0, 0.0]


def test_position_counts_from_the_end_put_the_last_channel_first():
    dropped = np.zeros((3, 2, 5), bool)
    dropped[:, :, 2] = True
    dropped[0, 1, 4] = True
    c, trials, drops = uniformity.position_counts([draw_of(dropped)], axis=2, positions=7,
                                                  from_end=True)
    assert drops.tolist() == [1, 0, 6, 0, 0, 0, 0]
    assert trials.tolist() == [6, 6, 6, 6, 6, 0, 0]
    assert int(np.argmax(c.z)) == 2


def test_position_counts_count_batch_positions_over_calls_and_channels():
    dropped = np.zeros((2, 4, 3), bool)  # 2 calls, N = 4, C = 3
    dropped[:, 0, :] = True  # sample 0: every channel of every call
    dropped[1, 3, 1] = True
    _, trials, drops = uniformity.position_counts([draw_of(dropped)], axis=1, positions=4,
                                                  from_end=False)
    assert drops.tolist() == [6, 0, 0, 1]
    assert trials.tolist() == [6, 6, 6, 6]
    _, _, from_end = uniformity.position_counts([draw_of(dropped)], axis=1, positions=4,
                                                from_end=True)
    assert from_end.tolist() == [1, 0, 0, 6]


def test_position_counts_pool_settings_each_over_the_positions_it_has():
    wide = np.zeros((2, 3, 5), bool)  # 6 decisions per channel position, C = 5
    narrow = np.zeros((4, 1, 2), bool)  # 4 decisions per channel position, C = 2
    wide[:, :, 0] = True
    narrow[:, :, 1] = True
    _, trials, drops = uniformity.position_counts([draw_of(wide), draw_of(narrow)], axis=2,
                                                  positions=5, from_end=False)
    assert trials.tolist() == [10, 10, 6, 6, 6]
    assert drops.tolist() == [6, 4, 0, 0, 0]
    # from the end, the narrow setting's last channel meets the wide one's
    _, trials, drops = uniformity.position_counts([draw_of(wide), draw_of(narrow)], axis=2,
                                                  positions=5, from_end=True)
    assert trials.tolist() == [10, 10, 6, 6, 6]
    assert drops.tolist() == [4, 0, 0, 0, 6]
