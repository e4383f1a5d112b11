"""checks/r03_rate.py: drop-rate's sample sizes meet the level's MDE target at every anchor p,
beside the rate homogeneity over the space, within the check's alpha."""

from __future__ import annotations

import pytest

from conformance import battery
from conformance.adapters import load_adapter
from conformance.checks import CATALOGUE, CheckContext


@pytest.mark.parametrize("level, target", [("default", 0.005), ("thorough", 0.001)])
def test_drop_rate_mde_meets_the_level_target_at_every_anchor_p(level, target):
    adapter = load_adapter("reference")
    ctx = CheckContext(adapter, battery.LEVELS[level], 0, battery.check_alpha(1e-4), 1e-3,
                       dry_run=True)
    outcome = CATALOGUE["drop-rate"].fn(adapter, ctx)
    anchors = [s for s in outcome.stats if s.test == "binomial-exact"]
    ps = {s.p0 for s in anchors}
    assert ps == set(battery.LEVELS[level].p_grid)
    assert {0.01, 0.99} <= ps
    assert all(s.mde <= target for s in anchors), [(s.p0, s.mde) for s in anchors]
    # beside the anchors: every setting of the space, and the omnibus over them
    others = [s.test for s in outcome.stats if s.test != "binomial-exact"]
    assert others == ["rate-homogeneity-max-z", "rate-homogeneity-chi2"]
    # the sub-tests share the check's alpha (Bonferroni)
    assert sum(s.alpha for s in outcome.stats) <= battery.check_alpha(1e-4) * (1 + 1e-12)
