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
    """The kernels scipy.stats.binom / hypergeom use internally (scipy >= 1.10), imported on
    first use (see conformance.stats._scipy for why); public-API fallbacks with the same
    signatures if a scipy release moves them."""
    try:
        from scipy.special import _ufuncs as u

        return {"binom_pmf": u._binom_pmf, "binom_cdf": u._binom_cdf, "binom_sf": u._binom_sf,
                "hypergeom_pmf": u._hypergeom_pmf, "hypergeom_cdf": u._hypergeom_cdf,
                "hypergeom_sf": u._hypergeom_sf}
    except (ImportError, AttributeError):  # pragma: no cover - depends on the scipy release
        from scipy import stats

        # scipy's kernels take (k, successes, draws, total); stats.hypergeom takes (k, M, n, N)
        return {
            "binom_pmf": stats.binom.pmf,
            "binom_cdf": stats.binom.cdf,
            "binom_sf": stats.binom.sf,
            "hypergeom_pmf": lambda k, n, N, M: stats.hypergeom.pmf(k, M, n, N),
            "hypergeom_cdf": lambda k, n, N, M: stats.hypergeom.cdf(k, M, n, N),
            "hypergeom_sf": lambda k, n, N, M: stats.hypergeom.sf(k, M, n, N),
        }


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


def hypergeom_pmf(k: float, total: int, good: int, draws: int) -> float:
    """P(X = k), X the number of ``good`` items among ``draws`` from ``total`` (no checks)."""
    return float(_kernels()["hypergeom_pmf"](float(k), float(good), float(draws), float(total)))


def hypergeom_cdf(k: float, total: int, good: int, draws: int) -> float:
    """P(X <= k) for the hypergeometric above."""
    return float(_kernels()["hypergeom_cdf"](float(k), float(good), float(draws), float(total)))


def hypergeom_sf(k: float, total: int, good: int, draws: int) -> float:
    """P(X > k) for the hypergeometric above."""
    return float(_kernels()["hypergeom_sf"](float(k), float(good), float(draws), float(total)))
