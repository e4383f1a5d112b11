"""A gallery of faulty Dropout2d implementations: each breaks the contract in one place.

Every mutant is built from the correct core in :mod:`conformance.mutants.core` (or, for the
backward-pass mutants, from PyTorch's own dropout2d) and differs from it in one hook or one
branch; its docstring names the real-world bug class it models.  ``MUTANTS`` maps a stable
kebab-case id to a :class:`Mutant` record saying where it lives and which checks must catch it.
Load one with ``conformance.adapters.load_adapter(MUTANTS[name].target)``.

``expected`` lists the checks that own the fault and certainly catch it at its ``level`` (and
above): deterministic faults are caught at every level ("quick"); a statistical fault's level
is the lowest whose sample sizes give it power close to 1.  ``also`` lists the other checks the
fault fails at default level (its consequences, reported under the owner's root cause);
``fails`` is exactly the set that fails at default.

"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Mutant:
    """One faulty implementation and the checks that must catch it."""

    name: str  # stable id, kebab-case
    target: str  # "module:attr" spec for conformance.adapters.load_adapter
    bug: str  # one line: the real-world bug class
    expected: tuple[str, ...]  # check ids that certainly catch it at `level` (at least one)
    level: str = "default"  # lowest level at which it is reliably caught (a LEVEL_NAMES entry)
    needs: str | None = None  # framework it needs, e.g. "torch"
    #: the other checks its fault fails at default, grouped under the owner's root cause
    also: tuple[str, ...] = ()

    @property
    def fails(self) -> tuple[str, ...]:
        """Exactly the checks the fault fails at default level: owners, then consequences."""
        return (*self.expected, *self.also)


def _table(module: str, *rows: tuple) -> list[Mutant]:
    """Rows of (name, attr, bug, expected[, level[, needs]]) from one module of the gallery."""
    out = []
    for name, attr, bug, expected, *rest in rows:
        level = rest[0] if rest else "quick"
        needs = rest[1] if len(rest) > 1 else None
        target = f"conformance.mutants.{module}:{attr}"
        out.append(Mutant(name, target, bug, tuple(expected), level, needs))
    return out


_R2_STRUCTURE = ("channel-structure", "scale-exact", "inplace", "three-d-input", "non-finite",
                 "determinism")

_ALL = [
    *_table(
        "structure",
        ("element-wise", "element_wise", "element-wise dropout where channel-wise was meant",
         _R2_STRUCTURE),
        ("nhwc-axis", "nhwc_axis", "NCHW input treated as NHWC: one decision per (n, w) column",
         _R2_STRUCTURE),
        ("three-d-columns", "three_d_columns",
         "3D input: one decision per column x[c, :, w], neither unbatched nor legacy",
         ["three-d-input"]),
        ("three-d-channels-last", "three_d_channels_last",
         "3D input taken as unbatched HWC: one decision per last-axis index", ["three-d-input"]),
        ("three-d-one-decision", "three_d_one_decision",
         "3D input promoted to one sample of one channel: one decision for the whole tensor",
         ["three-d-input"]),
        ("three-d-unscaled", "three_d_unscaled", "3D input: kept maps not rescaled",
         ["three-d-input"]),
        ("ignores-strides", "ignores_strides",
         "kernel reads memory linearly, ignoring strides: channels-last input scrambled",
         ["channel-structure"]),
    ),
    *_table(
        "scaling",
        ("no-scaling", "no_scaling", "kept maps not rescaled by 1/(1-p)",
         ["scale-exact", "expectation"]),
        ("scale-1-over-p", "scale_1_over_p", "scale 1/p instead of 1/(1-p)",
         ["scale-exact", "expectation"]),
        ("scale-in-eval", "scale_in_eval",
         "Paddle downscale_in_infer: unscaled in training, x*(1-p) in eval",
         ["eval-identity", "scale-exact", "expectation"]),
        ("p-rounded-fp16", "p_rounded_fp16", "p rounded to float16 before computing the scale",
         ["scale-exact"]),
        ("approx-reciprocal", "approx_reciprocal", "scale from a ~12-bit approximate reciprocal",
         ["scale-exact"]),
        ("scale-float32-in-float64", "scale_float32_in_float64",
         "scale computed in float32 for float64 input", ["scale-exact"]),
        ("scale-by-realised-keep", "scale_by_realised_keep",
         "DropBlock-style rescale by the realised keep fraction of the call", ["scale-exact"]),
        # one fault, one root cause: the value checks cast the output back and pass
        ("upcast-output", "upcast_output", "float64 output for float16/float32 input (NEP 50)",
         ["shape-dtype"]),
    ),
    *_table(
        "modes",
        ("eval-drops", "eval_drops", "training flag ignored: eval mode drops",
         ["eval-identity"]),
        ("eval-adds-zero", "eval_adds_zero", "eval computes x + 0, turning -0.0 into +0.0",
         ["eval-identity"]),
        ("eval-float32-roundtrip", "eval_float32_roundtrip",
         "eval casts through float32: float64 loses bits", ["eval-identity"]),
        ("inplace-ignored", "inplace_ignored",
         "inplace=True returns a new array, input untouched", ["inplace", "p-one"]),
        ("mutates-input", "mutates_input", "inplace=False still writes into the input",
         ["inplace"]),
        ("inplace-noncontiguous-lost", "inplace_noncontiguous_lost",
         "inplace=True on non-contiguous input writes into a temporary copy", ["inplace"]),
        ("p-one-nan", "p_one_nan", "p=1 computes x*mask/(1-p): 0*inf = NaN", ["p-one"]),
        ("p-one-nan-inplace", "p_one_nan_inplace", "p=1 gives NaN on the inplace path only",
         ["p-one"]),
        ("p-one-raises", "p_one_raises", "p=1 raises ZeroDivisionError instead of giving zeros",
         ["p-one"]),
        ("invalid-p-accepted", "invalid_p_accepted",
         "no validation: out-of-range p clamped, NaN gives NaN", ["invalid-p"]),
        ("invalid-p-clamped", "invalid_p_clamped", "invalid p returns the input unchanged",
         ["invalid-p"]),
        ("nan-to-num", "nan_to_num", "nan_to_num on the output rewrites NaN/Inf in kept maps",
         ["non-finite"]),
    ),
    *_table(
        "rates",
        ("p-swapped", "p_swapped", "keeps with probability p instead of 1-p",
         ["drop-rate", "expectation"]),
        ("rate-off-0.01", "rate_off_0_01", "drop rate p + 0.01",
         ["drop-rate", "expectation"], "default"),
        ("rate-off-0.005", "rate_off_0_005", "drop rate p + 0.005",
         ["drop-rate", "expectation"], "default"),
        ("rate-off-float16", "rate_off_float16", "drop rate p + 0.02 for float16 input only",
         ["drop-rate"], "default"),
        ("uniform-8bit", "uniform_8bit", "8-bit uniform: drop rate ceil(256p)/256",
         ["expectation"], "default"),
        ("uniform-bf16", "uniform_bf16", "uniform rounded to bfloat16 before comparing with p",
         ["drop-rate"], "thorough"),
        ("channel-biased", "channel_biased", "channel 3 dropped with probability p + 0.05",
         ["channel-uniformity"], "default"),
        ("first-sample-kept", "first_sample_kept", "sample 0 of every batch never dropped",
         ["batch-uniformity"]),
        ("value-dependent", "value_dependent",
         "drop probability p +- 0.02 by the sign of the map's first value",
         ["independence-values", "drop-rate"], "default"),
        ("drop-count-fixed", "drop_count_fixed",
         "floor(pC) or ceil(pC) channels dropped per sample, not Binomial(C, p)",
         ["drop-count-distribution"]),
    ),
    *_table(
        "independence",
        ("batch-shared-mask", "batch_shared_mask", "one (C,) mask shared across the batch",
         ["independence-batch"]),
        ("per-sample-mask", "per_sample_mask",
         "one decision per sample (DropPath) for all channels",
         ["independence-channels", "drop-count-distribution", "three-d-input"]),
        ("grouped-channels-4", "grouped_channels_4", "groups of 4 adjacent channels share a draw",
         ["independence-channels", "drop-count-distribution"]),
        ("adjacent-correlated", "adjacent_correlated",
         "channel c+1 copies channel c's decision with probability 0.05",
         ["independence-channels"]),
        ("channel-period-32", "channel_period_32", "channel c+32 repeats channel c's decision",
         ["independence-channels"]),
        ("same-mask-every-call", "same_mask_every_call", "same key every call: same mask",
         ["independence-calls"]),
        ("small-seed-space", "small_seed_space", "reseeded per call from only 16 seeds",
         ["independence-calls"]),
        ("mask-period", "mask_period", "RNG cycles every 8 calls", ["independence-calls"]),
        ("seed-ignored", "seed_ignored", "seed accepted and ignored", ["determinism"]),
        ("seed-offset-not-reset", "seed_offset_not_reset",
         "seed mixed with a call counter that re-seeding does not reset", ["determinism"]),
    ),
    *_table(
        "offgrid",
        # level: the lowest level whose planned MDE for the named sub-test is well below the
        # fault (power ~1); the others are also caught at default, where every MDE is smaller
        ("rate-batch-1", "rate_batch_1", "batch size 1 only: drop rate ceil(16p)/16",
         ["rate-homogeneity"], "default"),
        ("rate-unbatched", "rate_unbatched", "unbatched 3D input only: drop rate p + 0.04",
         ["rate-homogeneity"]),
        ("rate-1x1-maps", "rate_1x1_maps", "1x1 maps only: drop rate p + 0.03",
         ["rate-homogeneity"]),
        ("rate-many-channels", "rate_many_channels", "C >= 400 only: drop rate p + 0.02",
         ["rate-homogeneity"]),
        ("element-wise-large-maps", "element_wise_large_maps",
         "maps of 64 elements or more dropped element-wise", ["channel-structure"]),
        ("rate-band", "rate_band", "drop rate p + 0.05 for p in [0.37, 0.39] only",
         ["drop-rate"], "default"),
        ("rate-off-float64", "rate_off_float64", "float64 only: drop rate p - 0.02",
         ["rate-homogeneity"]),
        ("rate-strided", "rate_strided", "non-contiguous input only: drop rate p + 0.03",
         ["rate-homogeneity"]),
        ("last-channel-kept", "last_channel_kept", "the last channel is never dropped",
         ["channel-uniformity"]),
        ("magnitude-dependent", "magnitude_dependent",
         "maps with |x| > 100 dropped with probability p + 0.03", ["independence-values"]),
        ("shifted-neighbour", "shifted_neighbour",
         "sample n+1 reuses sample n's decisions shifted by one channel",
         ["independence-batch"]),
        ("count-fixed-per-call", "count_fixed_per_call",
         "every call drops exactly round(p N C) channels", ["drop-count-distribution"],
         "default"),
        ("channel-lag-7", "channel_lag_7", "channel c+7 copies channel c with probability 0.2",
         ["independence-channels"]),
        ("channel-period-23", "channel_period_23", "channel c+23 repeats channel c's decision",
         ["independence-channels"]),
        # level default: the lag tests centre each position on its own mean over a setting's
        # calls, so a position stuck across calls shows where the shapes repeat across settings
        ("calls-half-repeat", "calls_half_repeat",
         "half the channels of call t+1 repeat call t", ["independence-calls"], "default"),
        ("float16-batch-shared", "float16_batch_shared",
         "float16 only: one mask shared across the batch", ["independence-batch"]),
        ("rng-period-300", "rng_period_300", "masks repeat every 300 calls",
         ["independence-calls"], "default"),
        ("seed-low-16-bits", "SeedLow16Bits", "seed truncated to its low 16 bits",
         ["determinism"]),
    ),
    *_table(
        "edges",
        ("round-rate-table", "round_rate_table",
         "p = 0.2 and p = 0.25 take a threshold table with the two entries swapped",
         ["drop-rate"], "default"),
        ("never-drops-below-1e-3", "never_drops_below_1e3", "p below 1e-3 treated as 0",
         ["drop-rate", "rate-homogeneity"], "default"),
        ("always-drops-above-0.999", "always_drops_above_0999", "p above 0.999 treated as 1",
         ["drop-rate", "rate-homogeneity"], "default"),
        ("float16-uniforms", "float16_uniforms",
         "float16 input draws 10-bit float16 uniforms: drop rate ceil(1024 p) / 1024",
         ["drop-rate", "rate-homogeneity"], "default"),
        ("rate-cnn-maps", "rate_cnn_maps", "maps of 32x32 and more: drop rate p + 0.03",
         ["rate-homogeneity"], "default"),
        ("channels-repeat-above-2048", "channels_repeat_above_2048",
         "channel c >= 2048 repeats the decision of channel c mod 2048",
         ["independence-channels"], "default"),
        ("last-decisions-kept", "last_decisions_kept",
         "the last three (n, c) decisions of every call are never dropped",
         ["channel-uniformity"], "default"),
        ("calls-overlap", "calls_overlap",
         "the first half of each call's decisions repeat the second half of the previous call's",
         ["independence-calls"], "default"),
    ),
    *_table(
        "autograd",
        ("gradient-fresh-mask", "GradientFreshMask", "backward draws a fresh mask",
         ["gradient"], "quick", "torch"),
        ("gradient-unscaled", "GradientUnscaled", "backward omits the 1/(1-p) scale",
         ["gradient"], "quick", "torch"),
        ("gradient-straight-through", "GradientStraightThrough",
         "backward is the identity (straight-through)", ["gradient"], "quick", "torch"),
    ),
    *_table(
        "buffers",
        ("reused-output", "reused_output",
         "one output buffer reused by every call: later calls overwrite kept results",
         ["results-kept"]),
    ),
    # issue 19: faults where users run (CNN maps of 32x32 and up, tensors over 4 MiB, the round
    # rates), each owned by the one deterministic check listed, at every level; none was caught
    # by the deterministic checks before they met these sizes and rates
    *_table(
        "usersizes",
        ("element-wise-cnn-maps", "element_wise_cnn_maps",
         "maps of 32x32 elements or more dropped element-wise", ["channel-structure"]),
        ("inplace-copies-large", "inplace_copies_large",
         "inplace=True over 4 MiB returns a new array, input untouched", ["inplace"]),
        ("workspace-by-size", "workspace_by_size",
         "results over 4 MiB share a workspace per size: the next call overwrites them",
         ["results-kept"]),
        ("eval-float32-large", "eval_float32_large",
         "eval mode on float64 over 4 MiB copies through float32", ["eval-identity"]),
        ("p-zero-float32-large", "p_zero_float32_large",
         "p=0 on float64 over 4 MiB runs the kernel in float32", ["p-zero"]),
        ("p-one-nan-large", "p_one_nan_large",
         "p=1 over 4 MiB computes x*mask/(1-p): 0*inf = NaN", ["p-one"]),
        ("round-rate-table-typo", "round_rate_table_typo",
         "scale of p=0.15 from a literal table with two digits transposed (float64 off)",
         ["scale-exact"]),
        ("tiny-p-unscaled", "tiny_p_unscaled", "p <= 0.001 skips the 1/(1-p) rescale",
         ["scale-exact"]),
    ),
]

#: What else each fault fails at default level (seed 0), besides the checks that own it
#: (``expected``): the consequences that the report groups under the owner's root cause
#: (``conformance.results.EXPLAINS``) -- a structure fault corrupts every mask the statistics
#: read, dependence inflates the variance of every count, a rate that differs between
#: positions makes some settings' rates wrong, a wrong rate makes E[y] wrong.
#: tests/mutants/test_exact_sets.py holds every mutant to ``expected`` + ``also`` exactly, so
#: a check that starts (or stops) failing on a fault that is not its own is seen.
#: every statistical check: what a fault that corrupts the masks themselves fails
_EVERY_STATISTICAL = (
    "drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
    "batch-uniformity", "independence-channels", "independence-batch", "independence-calls",
    "independence-values", "expectation",
)
_EVERY_STATISTICAL_BUT_EXPECTATION = tuple(c for c in _EVERY_STATISTICAL if c != "expectation")
_ALSO: dict[str, tuple[str, ...]] = {
    "element-wise": _EVERY_STATISTICAL,
    "nhwc-axis": _EVERY_STATISTICAL,
    "three-d-columns": ("channel-structure", *_EVERY_STATISTICAL_BUT_EXPECTATION),
    "three-d-channels-last": ("channel-structure", *_EVERY_STATISTICAL_BUT_EXPECTATION),
    "three-d-one-decision": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "independence-channels",
        "independence-batch", "independence-calls",
    ),
    "three-d-unscaled": ("channel-structure",),
    "ignores-strides": ("expectation",),
    "no-scaling": ("three-d-input", "channel-structure",),
    "scale-1-over-p": ("three-d-input", "channel-structure",),
    "scale-in-eval": ("three-d-input", "channel-structure",),
    "p-rounded-fp16": ("channel-structure", "drop-rate", "rate-homogeneity", "expectation",),
    "approx-reciprocal": ("channel-structure", "expectation",),
    "scale-float32-in-float64": ("channel-structure", "expectation",),
    "scale-by-realised-keep": (
        "three-d-input", "channel-structure", "drop-rate", "rate-homogeneity",
        "channel-uniformity", "batch-uniformity", "independence-values", "expectation",
    ),
    "p-swapped": ("rate-homogeneity",),
    "rate-off-0.01": ("rate-homogeneity",),
    "rate-off-0.005": ("rate-homogeneity",),
    "rate-off-float16": ("rate-homogeneity", "expectation",),
    "uniform-8bit": ("drop-rate", "rate-homogeneity",),
    "channel-biased": ("drop-rate", "rate-homogeneity", "drop-count-distribution", "expectation",),
    "first-sample-kept": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "expectation",
    ),
    "value-dependent": ("rate-homogeneity", "expectation",),
    "drop-count-fixed": ("independence-channels", "independence-batch",),
    "batch-shared-mask": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
        "independence-channels", "independence-calls", "expectation",
    ),
    "per-sample-mask": (
        "drop-rate", "rate-homogeneity", "batch-uniformity", "independence-batch",
        "independence-calls", "expectation",
    ),
    "grouped-channels-4": (
        "drop-rate", "batch-uniformity", "independence-batch", "independence-calls",
    ),
    "adjacent-correlated": ("drop-count-distribution", "independence-batch",),
    "channel-period-32": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "batch-uniformity",
        "independence-batch", "independence-calls", "expectation",
    ),
    "same-mask-every-call": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
        "batch-uniformity", "expectation",
    ),
    "small-seed-space": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
        "batch-uniformity", "independence-channels", "independence-batch",
    ),
    "mask-period": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
        "batch-uniformity", "independence-channels", "independence-batch", "expectation",
    ),
    "rate-batch-1": ("drop-rate",),
    "rate-unbatched": ("drop-rate",),
    "rate-1x1-maps": ("drop-rate", "expectation",),
    "rate-many-channels": ("drop-rate", "expectation",),
    "element-wise-large-maps": (
        "three-d-input", "drop-rate", "rate-homogeneity", "drop-count-distribution",
        "channel-uniformity", "batch-uniformity", "independence-channels", "independence-batch",
        "independence-calls", "independence-values",
    ),
    "rate-off-float64": ("drop-rate", "expectation",),
    "rate-strided": ("drop-rate", "expectation",),
    "last-channel-kept": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "expectation",
    ),
    "magnitude-dependent": ("drop-rate", "rate-homogeneity", "expectation",),
    "shifted-neighbour": (
        "drop-rate", "drop-count-distribution", "independence-channels", "independence-calls",
    ),
    "count-fixed-per-call": (
        "drop-rate", "rate-homogeneity",
    ),
    "channel-lag-7": ("drop-rate", "drop-count-distribution", "independence-batch",),
    "channel-period-23": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "batch-uniformity",
        "independence-batch", "independence-calls",
    ),
    "calls-half-repeat": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
        "batch-uniformity", "independence-values", "expectation",
    ),
    "float16-batch-shared": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
        "independence-channels", "expectation",
    ),
    "rng-period-300": ("independence-batch",),
    "rate-cnn-maps": ("drop-rate",),
    "channels-repeat-above-2048": ("independence-batch",),
    "last-decisions-kept": ("drop-rate", "rate-homogeneity", "batch-uniformity",),
    "calls-overlap": (
        "drop-rate", "channel-uniformity", "independence-channels", "independence-batch",
    ),
    # the space's CNN maps read partial maps: grouped under channel-structure, which owns it
    "element-wise-cnn-maps": (
        "drop-rate", "rate-homogeneity", "drop-count-distribution", "channel-uniformity",
        "batch-uniformity", "independence-channels", "independence-batch", "independence-calls",
        "independence-values",
    ),
    "rate-band": (
        "rate-homogeneity",
    ),
}

MUTANTS: dict[str, Mutant] = {
    m.name: replace(m, also=_ALSO.get(m.name, ())) for m in _ALL
}

#: Correct implementations that draw masks in unusual but valid ways (conformance.mutants.
#: unusual) or take separate fast paths (conformance.mutants.fastpaths): each must pass every
#: check, so that no test encodes *how* masks are usually drawn.
CORRECT_VARIANTS: tuple[str, ...] = (
    "conformance.mutants.unusual:count_then_positions",
    "conformance.mutants.unusual:geometric_gaps",
    "conformance.mutants.unusual:transposed_integer",
    "conformance.mutants.unusual:blockwise_permutation",
    # separate fast paths for large maps, round rates and large tensors (issue 19)
    "conformance.mutants.fastpaths:large_maps_integer_draw",
    "conformance.mutants.fastpaths:round_rate_scale_table",
    "conformance.mutants.fastpaths:chunked_large_tensors",
)

def fresh_start(seed: int = 0) -> None:
    """Put every mutant's module-level state back to its start, and seed the generator that
    seed-less mutants draw from: a mutant without a seed is then as reproducible as one with,
    whatever ran before it in the process (selftest and tests/mutants run one after another)."""
    from conformance.mutants import buffers, core, edges, independence, offgrid, usersizes

    core.reseed(seed)
    buffers._BUFFERS.clear()
    edges._OVERLAP.tail = None
    independence._CALLS[0] = 0
    independence._SEEDED_CALLS[0] = 0
    offgrid._HALF[0] = None
    offgrid._PERIOD_CALLS[0] = 0
    usersizes._WORKSPACE.clear()


__all__ = ["CORRECT_VARIANTS", "MUTANTS", "Mutant", "fresh_start"]
