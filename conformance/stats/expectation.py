"""Is ``E[y] = x``?  The exact test of the mean output, from the kept count.

A correct implementation keeps each channel with probability ``1 - p`` and scales a kept map by
``s``, the scale ``1/(1 - p)`` rounded to the dtype.  Every kept map's ratio ``y/x`` (at its
first element) is then ``s``, so ``E[y/x] = s (1 - p)`` and the estimate ``sum(y/x) / n`` is
``s K / n`` with ``K ~ Binomial(n, 1 - p)`` kept maps: the exact binomial p-value of the dropped
count ``n - K`` is the exact p-value of the mean -- no normal approximation, which at p = 0.01 or
0.99 needs millions of extra decisions -- *provided* every kept ratio is the scale.  The caller
checks that (it knows the dtype's tolerance) and names the settings where a kept ratio leaves
the scale (``scale_off``): the test then rejects outright (p-value 0).
"""

from __future__ import annotations

from collections.abc import Sequence

from conformance.stats import _validate as validate
from conformance.stats.binomial import binomial_mde, binomial_sample_size, binomial_test
from conformance.stats.result import StatResult


def expectation_test(
    kept: int, n: int, ratio_sum: float, p: float, *, alpha: float, beta: float = 1e-3,
    scale_off: Sequence[str] = (), label: str = "",
) -> StatResult:
    """Is the mean of ``y/x`` over ``n`` channel decisions at drop rate ``p`` equal to 1?

    ``kept`` maps were kept and their ratios ``y/x`` sum to ``ratio_sum`` (dropped maps give
    0); ``scale_off`` lists where a kept ratio left the dtype's scale (found by the caller).

    Guarantee: false-alarm rate <= ``alpha`` exactly (the exact binomial test of the dropped
    count ``n - kept`` against ``p``, ``binomial_test``), given that every kept ratio is the
    scale -- a ratio off the scale rejects outright (``p_value = 0``, power 1 against any
    scale fault the caller's tolerance sees).  Power >= ``1 - beta`` (exact power function)
    against a drop-rate fault that biases ``E[y]/x`` by a relative ``mde`` or more in either
    direction (``expectation_mde``: a drop-rate shift ``m`` moves ``E[y]/x`` by ``m / (1 -
    p)``).  ``estimate`` is ``E[y]/x`` (``ratio_sum / n``) and ``ci`` its interval at
    ``1 - alpha`` (the drop rate's Clopper-Pearson interval times the mean kept scale);
    ``statistic`` is the dropped count.  The context carries ``label`` as the setting, ``p``,
    the first five ``scale_off`` entries and the ``relative_bias`` ``estimate - 1``.
    """
    kept = validate.count("kept", kept)
    if kept > validate.count("n", n, minimum=1):
        raise ValueError(f"need kept <= n, got kept={kept}, n={n}")
    rate = binomial_test(n - kept, n, p, alpha=alpha, beta=beta)
    estimate = ratio_sum / n  # E[y]/x
    mean_scale = ratio_sum / kept if kept else 1.0 / (1.0 - p)
    lo, hi = rate.ci if rate.ci else (p, p)
    return StatResult(
        test="expectation-exact",
        statistic=float(n - kept),
        p_value=0.0 if scale_off else rate.p_value,
        alpha=alpha,
        n=n,
        # a drop-rate shift of m moves E[y]/x by m / (1 - p)
        mde=(rate.mde or 0.0) / (1 - p),
        estimate=estimate,
        ci=(mean_scale * (1 - hi), mean_scale * (1 - lo)),
        context={"setting": label, "p": p, "scale_off": list(scale_off)[:5],
                 "relative_bias": estimate - 1.0},
    )


def expectation_mde(n: int, p: float, *, alpha: float, beta: float) -> float:
    """The relative bias of ``E[y]/x`` that ``expectation_test`` detects with power
    ``1 - beta`` at ``n`` decisions (exact): ``binomial_mde(n, p) / (1 - p)``."""
    p = validate.open_probability("p", p)
    return binomial_mde(n, p, alpha=alpha, beta=beta) / (1 - p)


def expectation_sample_size(mde: float, p: float, *, alpha: float, beta: float) -> int:
    """Decisions for which ``expectation_test`` detects a relative bias ``mde`` of ``E[y]/x``
    with power ``1 - beta``: the binomial sample size for a drop-rate shift ``mde (1 - p)``
    (inverse of ``expectation_mde``, as exact as ``binomial_sample_size``)."""
    mde = validate.effect("mde", mde)
    p = validate.open_probability("p", p)
    return binomial_sample_size(mde * (1 - p), p, alpha=alpha, beta=beta)


__all__ = ["expectation_mde", "expectation_sample_size", "expectation_test"]
