"""Argument validation shared by conformance.stats: messages carry the name and the value."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.stats import _validate as validate


def test_validation_messages_carry_values():
    with pytest.raises(ValueError, match=r"alpha=1\.5"):
        validate.error_rate("alpha", 1.5)
    with pytest.raises(ValueError, match="alpha"):
        validate.error_rate("alpha", float("nan"))
    with pytest.raises(TypeError):
        validate.error_rate("alpha", "0.05")
    with pytest.raises(ValueError, match="alpha \\+ beta < 1"):
        validate.rates(0.6, 0.5)
    with pytest.raises(ValueError, match=r"p=1\.0"):
        validate.open_probability("p", 1.0)
    with pytest.raises(ValueError, match=r"p=1\.5"):
        validate.closed_probability("p", 1.5)
    with pytest.raises(ValueError, match=r"mde=0\.0"):
        validate.effect("mde", 0.0)
    with pytest.raises(TypeError):
        validate.count("n", 3.0)
    with pytest.raises(TypeError):
        validate.count("n", True)
    assert validate.count("n", np.int64(3)) == 3
