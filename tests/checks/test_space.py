"""The settings space: it covers what it claims, is fixed by the seed and fits the budgets."""

from __future__ import annotations

import numpy as np
import pytest

from conformance import battery
from conformance.adapters import load_adapter
from conformance.adapters.base import Adapter, Capabilities
from conformance.checks import CATALOGUE, CheckContext, subtests
from conformance.checks import space as sp
from conformance.checks.levels import LEVELS
from conformance.config import RunConfig
from conformance.engine.check_runner import run_check

DTYPES = ("float16", "float32", "float64", "bfloat16")
ALPHA = battery.check_alpha(battery.FAMILY_ALPHA)


def _space(level: str = "default", seed: int = 0, three_d: bool = True,
           dtypes: tuple[str, ...] = DTYPES) -> sp.Space:
    return sp.build_space(LEVELS[level], seed, dtypes, three_d, ALPHA, battery.BETA)


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_default_space_covers_every_region_the_contract_names(seed):
    cells = _space(seed=seed).cells
    settings = [c.setting for c in cells]
    assert any(s.batch == 1 and not s.unbatched for s in settings), "batch size 1"
    assert any(s.unbatched for s in settings), "unbatched 3D input"
    assert any(s.map_size == 1 for s in settings), "1x1 maps"
    assert any(s.channels == 1 for s in settings), "one channel"
    assert any(s.channels >= 1024 for s in settings), "C >= 1024"
    assert any(s.batch >= 2048 for s in settings), "N in the thousands"
    assert any(s.map_size >= 256 for s in settings), "H*W >= 256"
    assert any(s.shape[-1] % 2 and s.shape[-2] % 2 and s.map_size > 1 for s in settings)
    assert {s.dtype for s in settings} == set(DTYPES)
    assert {s.memory for s in settings} == {"contiguous", "channels_last", "strided"}
    assert {s.kind for s in settings} == set(sp.KINDS)
    ps = np.array(sorted({s.p for s in settings}))
    assert ps.min() < 0.005 and ps.max() > 0.995, "p near 0 and near 1"
    assert set(LEVELS["default"].p_grid) <= set(ps), "the anchors"
    # dense: one p in each of 160 strata of [0.03, 0.97], so no gap wider than two strata
    middle = ps[(ps >= 0.03) & (ps <= 0.97)]
    assert np.diff(middle).max() <= 2 * 0.94 / 160
    # a band of p 0.02 wide anywhere in the middle meets at least two settings
    for lo in np.arange(0.03, 0.95, 0.005):
        assert ((middle >= lo) & (middle <= lo + 0.02)).sum() >= 2, lo


def test_every_factor_level_gets_an_equal_share_of_the_sweep():
    sweep = _space().family("sweep")
    for attr, levels in (("dtype", DTYPES), ("memory", sp.MEMORIES), ("kind", sp.KINDS)):
        counts = [sum(getattr(c.setting, attr) == v for c in sweep) for v in levels]
        assert max(counts) - min(counts) <= 1, (attr, counts)
    counts = [sum(c.category == cat for c in sweep) for cat in sp.CATEGORIES]
    assert max(counts) - min(counts) <= 1


def test_no_unbatched_input_for_an_adapter_without_3d():
    assert not any(c.setting.unbatched for c in _space(three_d=False).cells)


def test_the_seed_picks_the_settings():
    a, b, again = _space(seed=1), _space(seed=2), _space(seed=1)
    assert a.cells == again.cells
    assert {c.setting.p for c in a.family("sweep")} != {c.setting.p for c in b.family("sweep")}
    assert [c.setting.shape for c in a.cells] != [c.setting.shape for c in b.cells]


# Budgets are a proxy for time.  Quick and default grew (2M -> 4M, 30M -> 32M) when the round
# rates 1e-4 and 1e-3 (and mirrors) were sized so that "never drops" there fails drop-rate in
# every dtype: those decisions are 1x1 maps of large batches, a few calls each (torch quick
# 4.2 s, default 7.6 s on this machine, measured by `run --adapter torch --level L`).
@pytest.mark.parametrize("level, budget", [("quick", 4_000_000), ("default", 32_000_000),
                                           ("thorough", 500_000_000)])
def test_levels_stay_within_their_decision_budgets(level, budget):
    space = _space(level)
    assert space.decisions <= budget
    if level != "quick":
        # thorough visits more of the space than default
        assert len(space.cells) >= len(_space("default").cells)
    assert all(c.calls >= 2 for c in space.cells)


def test_thorough_visits_more_settings_than_default():
    assert len(_space("thorough").cells) > 2 * len(_space("default").cells)
    assert _space("thorough").decisions > 5 * _space("default").decisions


def test_share_splits_the_checks_alpha():
    ctx = CheckContext(adapter=Adapter(), level=LEVELS["quick"], seed=0, alpha=1e-5, beta=1e-3)
    assert ctx.share(4) == pytest.approx(2.5e-6)
    assert ctx.share(2, of=1e-6) == pytest.approx(5e-7)
    with pytest.raises(ValueError, match="0 shares"):
        ctx.share(0)


def test_every_subtest_names_its_setting():
    adapter = load_adapter("reference")
    cache: dict = {}
    for cid in battery.STATISTICAL:
        result = run_check(adapter, CATALOGUE[cid], RunConfig(level="quick"), cache)
        for s in result.stats:
            assert s.setting, (cid, s.test)


def _scale_wrong_in(dtypes: tuple[str, ...]):
    def f(x, p=0.5, training=True, inplace=False):
        if not training or p == 0:
            return x
        keep = np.random.default_rng().random((*x.shape[:-2], 1, 1)) >= p
        scale = 1.01 / (1 - p) if x.dtype.name in dtypes else 1 / (1 - p)
        return (x * keep * scale).astype(x.dtype) if p < 1 else x * 0

    return f


def test_scale_exact_names_every_dtype_where_the_scale_is_wrong():
    from conformance.adapters import CallableAdapter

    adapter = CallableAdapter(_scale_wrong_in(("float16", "float64")))
    result = run_check(adapter, CATALOGUE["scale-exact"], RunConfig(level="quick"))
    assert result.verdict.value == "fail"
    assert "float16" in result.message and "float64" in result.message
    assert "float32 at" not in result.message


def test_a_failing_statistical_check_names_the_settings_where_it_broke():
    from conformance.mutants import MUTANTS

    adapter = load_adapter(MUTANTS["rate-1x1-maps"].target)
    result = run_check(adapter, CATALOGUE["rate-homogeneity"], RunConfig(level="quick"))
    assert result.verdict.value == "fail"
    assert "map 1x1" in result.message
    rejected = [s for s in result.stats if s.reject]
    assert rejected and all(s.ci and s.estimate is not None for s in rejected)


class _NoThreeD(Adapter):
    name = "no-3d"
    capabilities = Capabilities(three_d=False, dtypes=("float32",))

    def dropout2d(self, x, p, training=True, inplace=False):
        keep = np.random.default_rng().random((*x.shape[:-2], 1, 1)) >= p
        return x * keep.astype(x.dtype) / np.float32(1 - p) if training and p < 1 else x * 0


def test_an_adapter_without_3d_is_never_given_3d_input():
    ctx = CheckContext(adapter=_NoThreeD(), level=LEVELS["quick"], seed=0, alpha=ALPHA,
                       beta=1e-3)
    assert not any(c.setting.unbatched for c in sp.space(ctx).cells)


def test_the_power_plan_lists_the_space_and_every_subtest():
    from conformance.power import format_plan

    text = format_plan("quick", load_adapter("reference"), timing=False)
    assert "settings" in text and "decisions" in text
    for cid in battery.STATISTICAL:
        assert f"  {cid} (" in text, cid
    assert "MDE" in text and "n=" in text and "alpha" in text


@pytest.mark.parametrize(("check_id", "families"), [
    ("drop-rate", ("anchor", "extreme")),
    ("expectation", ("anchor",)),
    ("rate-homogeneity", ("sweep", "round", "cnn")),
    ("drop-count-distribution", ("channel-positions",)),
    ("channel-uniformity", ("channel-positions",)),
    ("batch-uniformity", ("batch-positions",)),
    ("independence-calls", ("sequence",)),
])
def test_the_space_is_sized_at_the_shares_the_checks_declare(monkeypatch, check_id, families):
    """The space reads each check's sub-test count from checks/subtests.py, the table the
    checks take their shares from (tests/test_power.py holds the checks to it): a smaller
    share there grows the cells sized for that check's sub-tests."""
    before = sp.build_space.__wrapped__(LEVELS["default"], 0, DTYPES, True, ALPHA, battery.BETA)
    declared = subtests.SUBTESTS[check_id]
    monkeypatch.setitem(subtests.SUBTESTS, check_id,
                        lambda level, dtypes: 10**12 * declared(level, dtypes))
    after = sp.build_space.__wrapped__(LEVELS["default"], 0, DTYPES, True, ALPHA, battery.BETA)

    def decisions(space: sp.Space) -> int:
        return sum(c.decisions for c in space.family(*families))

    assert decisions(after) > decisions(before)
