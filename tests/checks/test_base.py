"""checks/base.py: what a check is and what it may use -- Bonferroni shares of its alpha, its
seeds, its capabilities -- and the registration that makes the catalogue."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conformance.adapters.base import Capabilities
from conformance.adapters.reference_adapter import ReferenceAdapter
from conformance.checks import base
from conformance.checks.base import CheckContext, CheckPassed
from conformance.checks.levels import LEVELS
from conformance.errors import CheckSkipped


def context(adapter=None, *, alpha: float = 1e-5, seed: int = 3, **kwargs) -> CheckContext:
    return CheckContext(adapter or ReferenceAdapter(), LEVELS["quick"], seed, alpha, 1e-3,
                        **kwargs)


# ----------------------------------------------------------------------------- share


@pytest.mark.parametrize("k", [1, 2, 3, 7, 40])
def test_k_shares_split_the_checks_alpha_and_sum_to_at_most_it(k):
    ctx = context(alpha=1e-5)
    share = ctx.share(k)
    assert share == pytest.approx(1e-5 / k, rel=1e-15)
    assert k * share <= 1e-5 * (1 + 1e-15)


def test_a_share_of_another_budget_splits_that_budget():
    ctx = context(alpha=1e-5)
    assert ctx.share(1) == 1e-5
    assert ctx.share(4, of=2e-3) == pytest.approx(5e-4, rel=1e-15)
    # a share of a share: how a check splits one sub-test's budget again
    assert ctx.share(2, of=ctx.share(5)) == pytest.approx(1e-6, rel=1e-15)


@pytest.mark.parametrize("k", [0, -1])
def test_alpha_cannot_be_split_into_fewer_than_one_share(k):
    with pytest.raises(ValueError, match=rf"cannot split alpha into {k} shares \(need k >= 1\)"):
        context().share(k)


# ----------------------------------------------------------------------------- seeds


def test_the_space_seed_is_the_runs_seed_and_else_the_checks_own():
    assert context(seed=3).space_seed == 3
    assert context(seed=3, run_seed=11).space_seed == 11
    assert context(seed=3, run_seed=0).space_seed == 0  # a run seed of 0 is a seed


def test_rng_is_fixed_by_the_checks_seed_and_the_keys():
    a = context(seed=3).rng(1, 2).random(4)
    assert np.array_equal(a, context(seed=3).rng(1, 2).random(4))
    assert not np.array_equal(a, context(seed=3).rng(2, 1).random(4))
    assert not np.array_equal(a, context(seed=4).rng(1, 2).random(4))


# ----------------------------------------------------------------------------- capabilities


class NoAutograd(ReferenceAdapter):
    name = "no-autograd"
    capabilities = Capabilities(inplace=False, seed=False, autograd=False,
                                dtypes=("float64", "float16"))


def test_require_skips_naming_the_adapter_and_the_absent_capability():
    ctx = context(NoAutograd())
    for capability in ("autograd", "seed", "inplace"):
        with pytest.raises(CheckSkipped, match=f"'no-autograd' has no {capability} capability"):
            ctx.require(capability)
    context(ReferenceAdapter()).require("seed")  # present: nothing happens


def test_dtypes_are_the_declared_ones_in_their_order():
    assert context(NoAutograd()).dtypes == [np.dtype("float64"), np.dtype("float16")]


# ----------------------------------------------------------------------------- registration


def test_check_registers_under_its_id_and_refuses_a_second_of_the_same(monkeypatch):
    catalogue: dict[str, base.RegisteredCheck] = {}
    monkeypatch.setattr(base, "CATALOGUE", catalogue)

    @base.register("a-new-check", requirement="R3", title="A title", kind="statistical",
                   timeout_s=5.0)
    def fn(adapter, ctx):
        return CheckPassed("ok")

    assert catalogue == {"a-new-check": base.RegisteredCheck("a-new-check", "R3", "statistical",
                                                        "A title", fn, 5.0)}
    with pytest.raises(ValueError, match="duplicate check id 'a-new-check'"):
        base.register("a-new-check", requirement="R4", title="Another")(fn)
    assert catalogue["a-new-check"].requirement == "R3"


def test_every_registered_check_is_well_formed():
    assert base.CATALOGUE
    for cid, c in base.CATALOGUE.items():
        assert cid == c.id and c.kind in ("deterministic", "statistical"), c
        assert c.title and c.timeout_s > 0, c
        assert c.fn.__module__.startswith("conformance.checks."), c


def test_an_outcome_and_a_level_are_immutable_records():
    outcome = CheckPassed("fine")
    assert outcome.findings == {} and outcome.stats == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.message = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        LEVELS["quick"].drop_rate_mde = 1.0  # type: ignore[misc]
    assert isinstance(LEVELS["quick"], base.Level)
