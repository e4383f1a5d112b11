"""Binomial pmf / cdf / sf without ``scipy.stats`` argument-checking overhead.

``scipy.stats.binom.pmf`` spends ~90 % of a small call validating arguments; the searches in
``binomial.py`` make thousands of such calls.  The ufuncs below are the very ones scipy.stats
dispatches to (so results are bit-identical); if a scipy release moves them, fall back to the
public API (slower, same numbers).  Inputs are trusted: callers validate.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


@functools.cache
def _kernels() -> dict[str, Any]:
    """The kernels scipy.stats.binom uses internally (scipy >= 1.10), imported on first use
    (see conformance.stats._scipy for why); public-API fallbacks with the same signatures if a
    scipy release moves them."""
    try:
        from scipy.special import _ufuncs as u

        return {"binom_pmf": u._binom_pmf, "binom_cdf": u._binom_cdf, "binom_sf": u._binom_sf}
    except (ImportError, AttributeError):  # pragma: no cover - depends on the scipy release
        from scipy import stats

        return {"binom_pmf": stats.binom.pmf, "binom_cdf": stats.binom.cdf,
                "binom_sf": stats.binom.sf}


def binom_pmf(k, n, p) -> np.ndarray:
    """P(X = k) for X ~ Binomial(n, p); ``k`` integer-valued."""
    return _kernels()["binom_pmf"](np.asarray(k, dtype=float), np.asarray(n, dtype=float), p)


def binom_cdf(k, n, p) -> np.ndarray:
    """P(X <= k); 0 for k < 0."""
    k = np.asarray(k, dtype=float)
    out = _kernels()["binom_cdf"](np.maximum(k, 0.0), np.asarray(n, dtype=float), p)
    return np.where(k < 0, 0.0, out)


def binom_sf(k, n, p) -> np.ndarray:
    """P(X > k); 1 for k < 0."""
    k = np.asarray(k, dtype=float)
    out = _kernels()["binom_sf"](np.maximum(k, 0.0), np.asarray(n, dtype=float), p)
    return np.where(k < 0, 1.0, out)
