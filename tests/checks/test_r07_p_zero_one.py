"""checks/r07_p_zero_one.py: p-zero names -0.0 turned into +0.0."""

from __future__ import annotations

import dropout2d_reference as reference

from conformance.adapters import CallableAdapter


def test_p_zero_names_minus_zero_turned_plus_zero(run_one):
    def adds_zero(x, p, training=True):
        return x + x.dtype.type(0) if p == 0 else reference.dropout2d(x, p, training)

    message = run_one(CallableAdapter(adds_zero), "p-zero").message
    assert "-0.0 turned into +0.0" in message
