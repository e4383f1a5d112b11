"""checks/r08_invalid_p.py: the message says what each accepted invalid p returned."""

from __future__ import annotations

import dropout2d_reference as reference
import numpy as np

from conformance.adapters import CallableAdapter


def test_invalid_p_says_what_each_accepted_p_returned(run_one):
    def flax_like(x, p, training=True):  # no validation, keeps with probability 1 - p
        if not training:
            return x
        keep = np.random.default_rng(0).random((*x.shape[:2], 1, 1)) >= p
        with np.errstate(all="ignore"):
            return np.where(keep, x / (1 - p), 0).astype(x.dtype)

    message = run_one(CallableAdapter(flax_like), "invalid-p").message
    assert "p=-0.1 returned the input scaled by 1/(1-p) = 1/1.1 (the rate is used unvalidated)" \
        in message
    assert "p=2.0 returned all zeros" in message


def test_invalid_p_names_an_all_nan_output(run_one):
    def nan_for_nan(x, p, training=True):
        if 0 <= p <= 1:
            return reference.dropout2d(x, p, training)
        return np.full_like(x, np.nan)

    message = run_one(CallableAdapter(nan_for_nan), "invalid-p").message
    assert "p=nan returned an all-NaN output" in message
