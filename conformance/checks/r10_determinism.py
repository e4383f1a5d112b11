"""R10, with a seed capability: the same seed gives the same output; seeds that differ in any
bit within the seed's width give different masks (determinism).

The width is implementation-defined and reported (CONTRACT.md): at least 32 bits, every bit of
which is tested here; above 32 bits single bits are tried up to bit 63, and a seed the
implementation silently truncates is a finding, not a failure."""

from __future__ import annotations

import numpy as np

from conformance.adapters.base import Adapter
from conformance.checks import calling
from conformance.checks.assertions import assert_bitwise_equal
from conformance.checks.base import CheckContext, CheckPassed, register
from conformance.checks.inputs import extract_keep_mask, nonzero_values
from conformance.errors import AdapterError, CheckFailed


#: seeds that must give masks different from the check's seed ``s`` (R10: however they
#: differ): neighbours, single high bits of the 32-bit seed, far-apart values
def _seed_variants(s: int) -> list[tuple[str, int]]:
    mask = 0xFFFF_FFFF
    out = [("s + 1", (s + 1) & mask)]
    out += [(f"s xor 2**{b}", s ^ (1 << b)) for b in (8, 16, 24, 31)]
    out += [("s + 1,000,003 * 7919", (s + 1_000_003 * 7919) & mask),
            ("s xor 0x5A5A5A5A", s ^ 0x5A5A5A5A)]
    return out


#: single bits above the 32 the suite's own seeds use: the seed's width is
#: implementation-defined (CONTRACT.md); each bit is used (another mask), rejected (an error)
#: or truncated (the mask of s: reported, since a truncated seed is a finding), and a bit
#: ignored below one that is used is a failure (within its width, every bit must matter)
WIDE_BITS = (32, 40, 48, 56, 63)


@register("determinism", requirement="R10", title="Same seed, same output; other seed, other mask")
def determinism(adapter: Adapter, ctx: CheckContext) -> CheckPassed:
    ctx.require("seed")
    rng = ctx.rng()
    shape = (16, 64, 3, 3)  # 1024 decisions: two independent masks agree with prob. 2**-1024
    x = nonzero_values(rng, shape, ctx.dtypes[0])
    s = ctx.seed & 0xFFFF_FFFF

    def outputs(seed: int) -> tuple[np.ndarray, np.ndarray]:
        calling.seed_adapter(adapter, seed)
        return ctx.forward(x, 0.5).y, ctx.forward(x, 0.5).y

    a1, a2 = outputs(s)
    b1, b2 = outputs(s)
    assert_bitwise_equal(actual=b1, expected=a1, what="first output after re-seeding",
                         where=f"seed={s}")
    assert_bitwise_equal(actual=b2, expected=a2, what="second output after re-seeding",
                         where=f"seed={s}")
    base = extract_keep_mask(x=x, y=a1, where="determinism")
    masks = {"s": base}
    same = []
    for name, seed in _seed_variants(s):
        mask = extract_keep_mask(x=x, y=outputs(seed)[0], where=f"determinism, seed {name}")
        twins = [other for other, m in masks.items() if np.array_equal(m, mask)]
        if twins:
            same.append(f"seed {name} = {seed} gave the mask of seed {twins[0]}")
        masks[name] = mask
    if same:
        raise CheckFailed(
            f"different seeds gave the same mask over {base.size} decisions (probability "
            f"2**-{base.size} if the seed is used; s = {s}): " + "; ".join(same) + ". A seed "
            "is at least 32 bits wide, and within its width every bit must change the mask"
        )
    wide: dict[int, str] = {}
    errors: dict[int, str] = {}
    for bit in WIDE_BITS:
        seed = s + (1 << bit)
        try:
            mask = extract_keep_mask(x=x, y=outputs(seed)[0], where=f"seed s + 2**{bit}")
        except AdapterError as exc:
            wide[bit], errors[bit] = "rejected", str(exc)
            continue
        wide[bit] = "truncated" if np.array_equal(mask, base) else "used"
    width, text = seed_width(wide, errors)
    ignored = [b for b in WIDE_BITS if wide[b] == "truncated" and b < width]
    if ignored:
        raise CheckFailed(
            f"within the seed width it accepts, every bit must change the mask: s + 2**"
            f"{ignored[0]} gave the mask of s, while s + 2**{_first_used_above(wide, ignored[0])}"
            f" gave another (s = {s}; seed width: {text})",
            findings={"seed_width": text},
        )
    return CheckPassed(
        f"re-seeding reproduced two successive outputs bit for bit; {len(masks) - 1} other "
        "seeds below 2**32 (s + 1, single high bits, far apart) each gave another mask; "
        f"seed width: {text}",
        findings={"seed_width": text},
    )


def _first_used_above(wide: dict[int, str], bit: int) -> int:
    return min(b for b, state in wide.items() if b > bit and state == "used")


def seed_width(wide: dict[int, str], errors: dict[int, str] | None = None) -> tuple[int, str]:
    """(the lowest bit above which no tested bit is used, the finding's text) from what each
    single bit in :data:`WIDE_BITS` did: "used", "truncated" or "rejected"."""
    used = [b for b in WIDE_BITS if wide.get(b) == "used"]
    width = used[-1] + 1 if used else 32
    above = [b for b in WIDE_BITS if b >= width]
    ignored = [b for b in WIDE_BITS if b < width and wide.get(b) == "truncated"]
    but = ("; yet " + ", ".join(f"s + 2**{b}" for b in ignored) + " gave the mask of s"
           if ignored else "")
    if not above:
        return width, (f"at least {WIDE_BITS[-1] + 1} bits: seeds that differ only at bit "
                       f"{', '.join(str(b) for b in used)} give other masks{but}")
    low = f"{width} bits" if not used else f"between {width} and {above[0]} bits"
    truncated = [b for b in above if wide.get(b) == "truncated"]
    rejected = [b for b in above if wide.get(b) == "rejected"]
    parts = []
    if truncated:
        parts.append("silently truncated: " + ", ".join(f"s + 2**{b}" for b in truncated)
                     + " gave the mask of s")
    if rejected:
        why = (errors or {}).get(rejected[0], "")
        parts.append("rejected with an error: " + ", ".join(f"s + 2**{b}" for b in rejected)
                     + (f" ({why})" if why else ""))
    return width, f"{low}; wider seeds are " + "; ".join(parts) + but
