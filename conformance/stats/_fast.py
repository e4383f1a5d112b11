"""Binomial pmf / cdf / sf without ``scipy.stats`` argument-checking overhead.

``scipy.stats.binom.pmf`` spends ~90 % of a small call validating arguments; the searches in
``binomial.py`` make thousands of such calls.  The ufuncs below are the very ones scipy.stats
dispatches to (so results are bit-identical); if a scipy release moves them, fall back to the
public API (slower, same numbers).  Inputs are trusted: callers validate.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

try:  # the kernels scipy.stats.binom / hypergeom use internally (scipy >= 1.10)
    from scipy.special._ufuncs import (
        _binom_cdf,
        _binom_pmf,
        _binom_sf,
        _hypergeom_cdf,
        _hypergeom_pmf,
        _hypergeom_sf,
    )
except ImportError:  # pragma: no cover - depends on the scipy release
    # Public-API fallbacks with the private kernels' signatures; the type checker sees both
    # definitions of each name, hence the no-redef ignores below.
    _binom_pmf = stats.binom.pmf

    def _binom_cdf(k, n, p):  # type: ignore[no-redef]
        return stats.binom.cdf(k, n, p)

    def _binom_sf(k, n, p):  # type: ignore[no-redef]
        return stats.binom.sf(k, n, p)

    # scipy's kernels take (k, successes, draws, total); stats.hypergeom takes (k, M, n, N)
    def _hypergeom_pmf(k, n, N, M):  # type: ignore[no-redef]
        return stats.hypergeom.pmf(k, M, n, N)

    def _hypergeom_cdf(k, n, N, M):  # type: ignore[no-redef]
        return stats.hypergeom.cdf(k, M, n, N)

    def _hypergeom_sf(k, n, N, M):  # type: ignore[no-redef]
        return stats.hypergeom.sf(k, M, n, N)


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


def hypergeom_pmf(k: float, total: int, good: int, draws: int) -> float:
    """P(X = k), X the number of ``good`` items among ``draws`` from ``total`` (no checks)."""
    return float(_hypergeom_pmf(float(k), float(good), float(draws), float(total)))


def hypergeom_cdf(k: float, total: int, good: int, draws: int) -> float:
    """P(X <= k) for the hypergeometric above."""
    return float(_hypergeom_cdf(float(k), float(good), float(draws), float(total)))


def hypergeom_sf(k: float, total: int, good: int, draws: int) -> float:
    """P(X > k) for the hypergeometric above."""
    return float(_hypergeom_sf(float(k), float(good), float(draws), float(total)))
