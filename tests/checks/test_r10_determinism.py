"""R10's seed width (CONTRACT.md: implementation-defined, at least 32 bits, reported): every bit
within the width must change the mask; a seed truncated above it is a finding, not a failure."""

from __future__ import annotations

import pytest

from conformance.adapters.reference_adapter import ReferenceAdapter
from conformance.checks.r10_determinism import WIDE_BITS, seed_width


class Truncates32(ReferenceAdapter):
    """Keeps the low 32 bits of the seed (PyTorch's CPU generator, Jittor)."""

    def seed(self, seed: int) -> None:
        super().seed(int(seed) & 0xFFFF_FFFF)


class RejectsWide(ReferenceAdapter):
    def seed(self, seed: int) -> None:
        if seed >= 2**48:
            raise OverflowError("seed too large")
        super().seed(seed)


class IgnoresBit32(ReferenceAdapter):
    """Uses bit 40 but not bit 32: a bit within its width that does not matter."""

    def seed(self, seed: int) -> None:
        super().seed(int(seed) & ~(1 << 32))


@pytest.mark.parametrize(("adapter", "verdict", "width"), [
    (ReferenceAdapter(), "pass", "at least 64 bits"),
    (Truncates32(), "pass", "32 bits; wider seeds are silently truncated: s + 2**32"),
    (RejectsWide(), "pass", "between 41 and 48 bits; wider seeds are rejected with an error"),
    (IgnoresBit32(), "fail", "at least 64 bits: seeds that differ only at bit 40, 48, 56, 63 "
                             "give other masks; yet s + 2**32 gave the mask of s"),
])
def test_the_seed_width_is_reported_and_bits_within_it_must_matter(run_one, adapter, verdict,
                                                                   width):
    result = run_one(adapter, "determinism")
    assert result.verdict.value == verdict, result.message
    assert result.findings["seed_width"].startswith(width), result.findings
    if verdict == "fail":
        assert "s + 2**32 gave the mask of s, while s + 2**40 gave another" in result.message


def test_seed_width_text_names_each_kind_of_wide_seed():
    assert seed_width(dict.fromkeys(WIDE_BITS, "used"))[0] == 64
    width, text = seed_width({32: "used", 40: "truncated", 48: "rejected", 56: "rejected",
                              63: "rejected"}, {48: "OverflowError"})
    assert width == 33
    assert text == ("between 33 and 40 bits; wider seeds are silently truncated: s + 2**40 gave "
                    "the mask of s; rejected with an error: s + 2**48, s + 2**56, s + 2**63 "
                    "(OverflowError)")
