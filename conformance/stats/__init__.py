"""Pure statistical functions over counts and arrays (no adapters, no frameworks).

Every test takes its error rates as keyword arguments (``alpha`` = false-alarm rate of this
sub-test, two-sided unless stated; ``beta`` = 1 - power at the reported MDE) and returns a
``StatResult``.  Each test sits beside ``*_mde`` (effect detectable at a given n) and
``*_sample_size`` (n needed for a given effect), which are inverses.
"""

from conformance.stats._result import StatResult
from conformance.stats.autocorrelation import (
    autocorrelation_mde,
    autocorrelation_sample_size,
    autocorrelation_test,
    autocorrelation_validity_sample_size,
)
from conformance.stats.binomial import (
    binomial_critical_counts,
    binomial_mde,
    binomial_normal_scores,
    binomial_power,
    binomial_pvalues,
    binomial_sample_size,
    binomial_test,
    clopper_pearson,
)
from conformance.stats.dispersion import (
    dispersion_mde,
    dispersion_sample_size,
    dispersion_test,
)
from conformance.stats.expectation import (
    expectation_mde,
    expectation_sample_size,
    expectation_test,
    expectation_validity_sample_size,
)
from conformance.stats.goodness import (
    binomial_count_gof,
    binomial_count_gof_sample_size,
    chi2_gof_mde,
    chi2_gof_sample_size,
    pool_bins,
    pooled_df,
)
from conformance.stats.homogeneity import (
    homogeneity_chi2,
    homogeneity_sample_size,
    max_abs_z,
    max_abs_z_mde,
    rate_homogeneity,
    rate_homogeneity_mde,
    rate_homogeneity_omnibus,
    rate_homogeneity_omnibus_mde,
    rate_homogeneity_omnibus_sample_size,
    rate_homogeneity_sample_size,
)
from conformance.stats.independence import (
    contingency_2x2,
    count_identical_pairs,
    fisher_exact_pvalue,
    identical_mask_mde,
    identical_mask_min_length,
    identical_mask_probability,
    identical_mask_sample_size,
    identical_mask_test,
    identical_masks_test,
    phi_mde,
    phi_sample_size,
)
from conformance.stats.multiplicity import bonferroni_split, holm, holm_adjusted
from conformance.stats.power import z_power, z_two_sided, z_upper

__all__ = [
    "StatResult",
    "autocorrelation_mde",
    "autocorrelation_sample_size",
    "autocorrelation_test",
    "autocorrelation_validity_sample_size",
    "binomial_count_gof",
    "binomial_count_gof_sample_size",
    "binomial_critical_counts",
    "binomial_mde",
    "binomial_normal_scores",
    "binomial_power",
    "binomial_pvalues",
    "binomial_sample_size",
    "binomial_test",
    "bonferroni_split",
    "chi2_gof_mde",
    "chi2_gof_sample_size",
    "clopper_pearson",
    "contingency_2x2",
    "count_identical_pairs",
    "dispersion_mde",
    "dispersion_sample_size",
    "dispersion_test",
    "expectation_mde",
    "expectation_sample_size",
    "expectation_test",
    "expectation_validity_sample_size",
    "fisher_exact_pvalue",
    "holm",
    "holm_adjusted",
    "homogeneity_chi2",
    "homogeneity_sample_size",
    "identical_mask_mde",
    "identical_mask_min_length",
    "identical_mask_probability",
    "identical_mask_sample_size",
    "identical_mask_test",
    "identical_masks_test",
    "max_abs_z",
    "max_abs_z_mde",
    "phi_mde",
    "phi_sample_size",
    "pool_bins",
    "pooled_df",
    "rate_homogeneity",
    "rate_homogeneity_mde",
    "rate_homogeneity_omnibus",
    "rate_homogeneity_omnibus_mde",
    "rate_homogeneity_omnibus_sample_size",
    "rate_homogeneity_sample_size",
    "z_power",
    "z_two_sided",
    "z_upper",
]
