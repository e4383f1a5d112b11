"""Binomial pmf / cdf / sf without ``scipy.stats`` argument-checking overhead.

``scipy.stats.binom.pmf`` spends ~90 % of a small call validating arguments; the searches in
``binomial.py`` make thousands of such calls.  The ufuncs below are the very ones scipy.stats
dispatches to (so results are bit-identical); if a scipy release moves them, fall back to the
public API (slower, same numbers).  Inputs are trusted: callers validate.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

try:  # the kernels scipy.stats.binom uses internally (scipy >= 1.10)
    from scipy.special._ufuncs import _binom_cdf, _binom_pmf, _binom_sf
except ImportError:  # pragma: no cover - depends on the scipy release
    _binom_pmf = stats.binom.pmf

    def _binom_cdf(k, n, p):  # type: ignore[no-redef]
        return stats.binom.cdf(k, n, p)

    def _binom_sf(k, n, p):  # type: ignore[no-redef]
        return stats.binom.sf(k, n, p)


def binom_pmf(k, n, p) -> np.ndarray:
    """P(X = k) for X ~ Binomial(n, p); ``k`` integer-valued."""
    return _binom_pmf(np.asarray(k, dtype=float), np.asarray(n, dtype=float), p)


def binom_cdf(k, n, p) -> np.ndarray:
    """P(X <= k); 0 for k < 0."""
    k = np.asarray(k, dtype=float)
    out = _binom_cdf(np.maximum(k, 0.0), np.asarray(n, dtype=float), p)
    return np.where(k < 0, 0.0, out)


def binom_sf(k, n, p) -> np.ndarray:
    """P(X > k); 1 for k < 0."""
    k = np.asarray(k, dtype=float)
    out = _binom_sf(np.maximum(k, 0.0), np.asarray(n, dtype=float), p)
    return np.where(k < 0, 1.0, out)
