"""Splitting a family-wise error budget over sub-tests: Holm step-down and Bonferroni."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from conformance.stats.power import check_count, check_error_rate


def _as_pvalues(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p_values must be a 1-D sequence, got shape {p.shape}")
    if p.size and not (np.all(p >= 0.0) and np.all(p <= 1.0)):
        raise ValueError(f"p-values must lie in [0, 1] (no NaN), got {p.tolist()}")
    return p


def holm_adjusted(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values, in the input order: reject ``i`` at level F iff ``adj[i] <= F``.

    ``adj_(j) = max_{i <= j} min(1, (m - i) p_(i))`` over the sorted p-values (0-based);
    monotone in the sorted order and capped at 1.  Family-wise error <= F under any dependence.
    """
    p = _as_pvalues(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adj = np.empty(m)
    adj[order] = np.maximum.accumulate(stepped) if m else stepped
    return adj


def holm(p_values: Sequence[float] | np.ndarray, *, alpha: float) -> list[bool]:
    """Holm step-down reject flags at family-wise level ``alpha`` (input order).

    Guarantee: P(any true null rejected) <= ``alpha`` under arbitrary dependence; uniformly
    more powerful than Bonferroni.
    """
    alpha = check_error_rate("alpha", alpha)
    return [bool(a <= alpha) for a in holm_adjusted(p_values)]


def bonferroni_split(alpha: float, k: int) -> float:
    """Per-test level ``alpha / k``: ``k`` tests at this level have family-wise error <= alpha."""
    alpha = check_error_rate("alpha", alpha)
    k = check_count("k", k, minimum=1)
    return alpha / k
