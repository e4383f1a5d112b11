"""The run configuration every front door shares, validated in one place."""

from __future__ import annotations

import pytest

from conformance.config import RunConfig, run_config


def test_options_are_validated_with_the_reason():
    with pytest.raises(ValueError, match="level must be one of"):
        run_config(level="fast")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        run_config(seed=-1)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        run_config(seed=True)  # type: ignore[arg-type]  (a bool is the bad input tested)
    with pytest.raises(ValueError, match="family_alpha must lie in"):
        run_config(family_alpha=0.9)
    with pytest.raises(ValueError, match="timeout_scale must be a finite number"):
        run_config(timeout_scale=0)
    with pytest.raises(ValueError, match="unknown check id"):
        run_config(checks=["drop-rat"])


def test_a_config_round_trips_through_the_reports_form():
    config = run_config(level="quick", seed=7, checks="p-one", timeout_scale=2)
    assert config.checks == ("p-one",)
    assert RunConfig.from_dict(config.as_dict()) == config
