"""The worker process's own helpers (its serving loop is exercised by every isolated run)."""

from __future__ import annotations

import numpy as np

from conformance.engine.worker import plain


def test_findings_become_what_execnet_carries():
    value = {"a": np.float32(1.5), "b": (np.int64(2), np.arange(3)), 3: object.__name__,
             "c": float("inf"), "d": None, "e": b"x"}
    out = plain(value)
    assert out == {"a": 1.5, "b": [2, [0, 1, 2]], "3": "object", "c": float("inf"), "d": None,
                   "e": b"x"}
    assert isinstance(out["a"], float) and isinstance(out["b"][0], int)
