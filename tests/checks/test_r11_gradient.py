"""checks/r11_gradient.py: gradient skips without autograd, passes a backward pass that reuses
the forward's mask and scale (a NumPy one here, and PyTorch's where installed), allows a few
ulps and no more, and fails each quick-level mutant on the elements it gets wrong."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.adapters.base import Capabilities
from conformance.adapters.reference_adapter import ReferenceAdapter
from conformance.checks.assertions import SCALE_ULPS
from conformance.contract import keep_scale
from conformance.mutants import MUTANTS

CHECK = "gradient"
SHAPE = (8, 32, 3, 5)  # the check's backward passes (one shape, three p, every dtype)
P_VALUES = (0.2, 0.5, 0.9)


class NumpyGrad(ReferenceAdapter):
    """The reference forward pass with a backward pass: dx = upstream * keep * scale, with the
    forward's keep mask.  Subclasses change what ``backward`` returns."""

    name = "numpy-grad"
    capabilities = Capabilities(inplace=True, seed=True, autograd=True,
                                dtypes=("float16", "float32", "float64"), three_d=True)

    def forward(self, x: np.ndarray, p: float, keep: np.ndarray) -> np.ndarray:
        return (x * keep * keep_scale(p, x.dtype)).astype(x.dtype)

    def backward(self, dy: np.ndarray, p: float, keep: np.ndarray) -> np.ndarray:
        return (dy * keep * keep_scale(p, dy.dtype)).astype(dy.dtype)

    def grad(self, x, p, upstream):
        keep = self._rng.random((*x.shape[:-2], 1, 1)) >= p
        return self.forward(x, p, keep), self.backward(upstream, p, keep)


def _away_from_zero(g: np.ndarray, keep: np.ndarray, ulps: int) -> np.ndarray:
    """``g`` moved ``ulps`` ulps away from zero in the kept maps."""
    for _ in range(ulps):
        g = np.where(keep, np.nextafter(g, np.copysign(np.inf, g)), g).astype(g.dtype)
    return g


class OneUlp(NumpyGrad):
    def backward(self, dy, p, keep):
        return _away_from_zero(super().backward(dy, p, keep), keep, 1)


class FiveUlps(NumpyGrad):
    def backward(self, dy, p, keep):
        return _away_from_zero(super().backward(dy, p, keep), keep, SCALE_ULPS + 1)


class DroppedTiny(NumpyGrad):
    """Dropped maps get the smallest subnormal instead of an exact zero."""

    def backward(self, dy, p, keep):
        g = super().backward(dy, p, keep)
        return np.where(keep, g, np.finfo(g.dtype).smallest_subnormal).astype(g.dtype)


class FreshMask(NumpyGrad):
    """The backward pass draws its own mask (the forward's is lost)."""

    def backward(self, dy, p, keep):
        return super().backward(dy, p, self._rng.random(keep.shape) >= p)


class Transposed(NumpyGrad):
    """The gradient comes back with H and W swapped."""

    def backward(self, dy, p, keep):
        return super().backward(dy, p, keep).swapaxes(-1, -2)


class PartlyZeroForward(NumpyGrad):
    """The forward pass of ``grad`` zeroes one element of a kept map."""

    def forward(self, x, p, keep):
        y = super().forward(x, p, keep)
        y[np.nonzero(keep[..., 0, 0])[0][0], np.nonzero(keep[..., 0, 0])[1][0], 0, 0] = 0
        return y


def test_gradient_skips_without_autograd_and_says_so(quick):
    outcome = quick("reference", CHECK)[CHECK]
    assert outcome.verdict == "skip"
    assert "has no autograd capability" in outcome.message


def test_a_backward_pass_with_the_forward_mask_and_scale_passes_in_every_dtype(quick):
    adapter = NumpyGrad()
    outcome = quick(adapter, CHECK)[CHECK]
    assert outcome.verdict == "pass", outcome.message
    passes = len(adapter.capabilities.dtypes) * len(P_VALUES)
    assert outcome.message.startswith(f"{passes} backward passes")


def test_a_gradient_one_ulp_off_is_within_tolerance(quick):
    outcome = quick(OneUlp(), CHECK)[CHECK]
    assert outcome.verdict == "pass", outcome.message


def test_a_gradient_beyond_the_contracts_ulps_fails(quick):
    outcome = quick(FiveUlps(), CHECK)[CHECK]
    assert outcome.verdict == "fail"
    assert f"off by more than {SCALE_ULPS} ulps of float16" in outcome.message
    assert "input gradient:" in outcome.message and "gradient, p=0.2, float16" in outcome.message


def test_a_dropped_map_must_get_an_exact_zero_gradient(quick):
    outcome = quick(DroppedTiny(), CHECK)[CHECK]
    assert outcome.verdict == "fail"
    assert "got 5.960464477539063e-08, expected 0.0" in outcome.message  # float16's smallest


def test_a_backward_pass_with_its_own_mask_fails(quick):
    outcome = quick(FreshMask(), CHECK)[CHECK]
    assert outcome.verdict == "fail"
    assert "input gradient:" in outcome.message
    assert f"of {int(np.prod(SHAPE))} elements off" in outcome.message


def test_a_gradient_of_another_shape_fails_naming_both_shapes(quick):
    outcome = quick(Transposed(), CHECK)[CHECK]
    assert outcome.verdict == "fail"
    assert "gradient shape (8, 32, 5, 3) != input shape (8, 32, 3, 5)" in outcome.message


def test_the_forward_pass_of_grad_is_held_to_channel_structure(quick):
    outcome = quick(PartlyZeroForward(), CHECK)[CHECK]
    assert outcome.verdict == "fail"
    assert "partly zero" in outcome.message and "(forward)" in outcome.message


# ----------------------------------------------------------------------------- on PyTorch

#: what each quick-level mutant of gradient fails on (its backward pass is the fault); the
#: MUTANTS table says which mutants belong here
ELEMENTS = int(np.prod(SHAPE))
FAILS_ON = {
    # some kept maps get none, some dropped maps get some: not every element
    "gradient-fresh-mask": "elements off by more than",
    "gradient-unscaled": "the scale is 1 (kept maps not rescaled)",
    # kept maps unscaled and dropped maps fed: every element is wrong
    "gradient-straight-through": f"{ELEMENTS} of {ELEMENTS} elements off",
}
QUICK = sorted(m.name for m in MUTANTS.values() if m.level == "quick" and CHECK in m.expected)


def test_pytorchs_dropout2d_passes(quick):
    pytest.importorskip("torch")
    for spec in ("torch", "conformance.mutants.autograd:_AutogradCore"):
        outcome = quick(spec, CHECK)[CHECK]
        assert outcome.verdict == "pass", (spec, outcome.message)


@pytest.mark.parametrize("name", sorted(set(QUICK) | set(FAILS_ON)))
def test_a_quick_mutant_fails_on_the_gradient_it_gets_wrong(name, quick):
    assert name in QUICK, f"{name} is no longer a quick-level mutant of {CHECK}: drop its row"
    assert name in FAILS_ON, f"say in FAILS_ON what {name} must fail on"
    pytest.importorskip(MUTANTS[name].needs or "numpy")
    outcome = quick(MUTANTS[name].target, CHECK)[CHECK]
    assert outcome.verdict == "fail", outcome.message
    assert outcome.message.startswith("input gradient: ")
    assert FAILS_ON[name] in outcome.message
    if name == "gradient-fresh-mask":
        assert f"{ELEMENTS} of {ELEMENTS}" not in outcome.message
