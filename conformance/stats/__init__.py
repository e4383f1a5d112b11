"""Pure statistical functions over counts and arrays (no adapters, no frameworks).

Every test family ``X`` has three members: ``X_test(...)`` returns a result (a frozen
:class:`StatResult` subclass with the family's named fields), ``X_mde(n, ...)`` is the minimum
detectable effect at ``n`` and ``X_sample_size(effect, ...)`` the ``n`` needed for an effect;
the last two are inverses.  Error rates are keyword arguments (``alpha`` = false-alarm rate of
this sub-test, two-sided unless stated; ``beta`` = 1 - power at the reported MDE), and each
docstring states its guarantee.

==================  ===========  =============================================================
family ``X``        module       what ``X_test`` guarantees (``mde``: the effect it detects); the
                                 check that uses it
==================  ===========  =============================================================
binomial            binomial     exact: size <= alpha; power >= 1 - beta when ``|rate - p0| >=
                                 mde`` (exact power function); drop-rate at each anchor p
max_abs_z           homogeneity  exact per entry, Bonferroni: size <= alpha; power ~ 1 - beta
                                 when the median entry's rate is off by ``mde`` (normal
                                 approximation); drop-rate over every setting
homogeneity_chi2    homogeneity  size <= ~alpha (exact normal scores); power ~ 1 - beta
                                 against a common standardised shift ``w >= mde``; drop-rate's
                                 omnibus over every setting
binomial_count_gof  goodness     size <= ~alpha (pooled bins, normal scores); power ~ 1 - beta
                                 against Cohen's ``w >= mde`` (large-sample);
                                 drop-count-distribution per sample
dispersion          dispersion   size <= ~alpha (saddlepoint); power >= 1 - beta at variance
                                 ratios ``1 + mde`` and ``1 - mde``; drop-count-distribution
                                 per sample, per call and per channel
expectation         expectation  exact (binomial count of kept maps, a ratio off the scale
                                 rejects outright): size <= alpha; power >= 1 - beta at a
                                 relative bias ``mde`` of E[y]/x; expectation
excess_rate         pooled       size ~ alpha (exact mean and variance, normal); power >=
                                 1 - beta at a common rate shift ``mde`` over strata;
                                 rate-homogeneity per region
conditional_excess  pooled       conditional on each stratum's count (hypergeometric): size ~
                                 alpha; power >= 1 - beta when marked decisions' rate is off
                                 their stratum's by ``mde``; independence-values
positions           pooled       max-|z| (Bonferroni) and omnibus of conditional z's per
                                 position: size ~ alpha; power at one position;
                                 channel- and batch-uniformity
lag                 pooled       centred on each position's own mean: size ~ alpha (normal,
                                 Bonferroni over lags); power >= 1 - beta at a lag correlation
                                 ``mde`` (many calls); independence-channels, -batch, -calls
flattened_lag       pooled       each stratum's lags of the flattened order on its own, max over
                                 strata and lags: size ~ alpha; power >= 1 - beta at a lag
                                 correlation ``mde`` (many calls); independence-batch
identical_repeats   pooled       Markov: size <= alpha; power 1 against any repeat of masks at
                                 least ``identical_repeats_sample_size`` long (``mde``: the
                                 repeats that reject); independence-channels, -batch, -calls
==================  ===========  =============================================================

Helpers beside them: ``chi2_gof_mde`` / ``chi2_gof_sample_size`` (power of any chi-square
test), ``binomial_edge_sample_size`` (trials at which a rate stuck at 0 or 1 fails
``binomial_test`` with certainty), exact p-values and intervals (``binomial_pvalues``,
``binomial_critical_counts``, ``binomial_normal_scores``, ``clopper_pearson``), bin pooling
(``pool_bins``, ``pooled_df``), the repeats' null expectation (``identical_pair_probability``,
``identical_repeats_expected``, ``identical_repeats_rate``), lag sums (``centred_lag_sums``),
conditional z's (``conditional_z``), Bonferroni over z-tests (``bonferroni_p``,
``bonferroni_z``, ``significant``, ``omnibus_chi2``) and normal quantiles (``z_upper``,
``z_two_sided``, ``z_power``).
"""

# Each module's ``__all__`` is what it exports; the package exports all of them. Star imports
# (noqa F403) so that a family's names are listed once, in its module, not again here: the
# three copies of these lists were pairs that `duplicates` reported.
from conformance.stats import (
    binomial,
    dispersion,
    expectation,
    goodness,
    homogeneity,
    normal,
    pooled,
    result,
)
from conformance.stats.binomial import *  # noqa: F403
from conformance.stats.dispersion import *  # noqa: F403
from conformance.stats.expectation import *  # noqa: F403
from conformance.stats.goodness import *  # noqa: F403
from conformance.stats.homogeneity import *  # noqa: F403
from conformance.stats.normal import *  # noqa: F403
from conformance.stats.pooled import *  # noqa: F403
from conformance.stats.result import *  # noqa: F403

__all__ = sorted({
    *binomial.__all__,
    *dispersion.__all__,
    *expectation.__all__,
    *goodness.__all__,
    *homogeneity.__all__,
    *normal.__all__,
    *pooled.__all__,
    *result.__all__,
})
