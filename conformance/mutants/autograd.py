"""Mutants of the backward pass (R11), on PyTorch: forward is ``F.dropout2d`` (via the built-in
torch adapter) and ``grad`` runs a ``torch.autograd.Function`` whose backward is the fault.

torch is imported lazily (in ``__init__``), so importing the gallery does not need it.
"""

from __future__ import annotations

from typing import Any

from conformance.adapters.torch_adapter import TorchAdapter


def _function(torch: Any, backward_factor: Any) -> Any:
    """A channel-dropout autograd.Function; ``backward_factor(keep, p, dtype)`` scales dy."""

    def draw_keep(x: Any, p: float) -> Any:
        return torch.rand((*x.shape[:-2], 1, 1), device=x.device) >= p

    class ChannelDropout(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, p: float) -> Any:
            keep = draw_keep(x, p)
            ctx.p, ctx.dtype, ctx.shape = p, x.dtype, x.shape
            ctx.save_for_backward(keep)
            return x * (keep.to(x.dtype) * _scale(torch, p, x.dtype))

        @staticmethod
        def backward(ctx: Any, dy: Any) -> Any:
            (keep,) = ctx.saved_tensors
            return dy * backward_factor(keep, ctx.p, ctx.dtype, lambda: draw_keep(dy, ctx.p)), None

    return ChannelDropout


def _scale(torch: Any, p: float, dtype: Any) -> Any:
    return torch.tensor(1.0 / (1.0 - p), dtype=dtype)


class _AutogradCore(TorchAdapter):
    """PyTorch's dropout2d with an explicit autograd.Function for ``grad`` (correct as is; a
    control, not a mutant).  Subclasses override :meth:`backward_factor`."""

    name = "torch-autograd-core"

    def __init__(self, device: str = "cpu") -> None:
        super().__init__(device)
        self._fn = _function(self.torch, self.backward_factor)

    def backward_factor(self, keep: Any, p: float, dtype: Any, fresh: Any) -> Any:
        """What dy is multiplied by: the forward's keep mask times the scale."""
        return keep.to(dtype) * _scale(self.torch, p, dtype)

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        x = x.detach().clone().requires_grad_(True)
        y = self._fn.apply(x, p)
        (dx,) = self.torch.autograd.grad(y, x, upstream)
        return y, dx


class GradientFreshMask(_AutogradCore):
    """The backward pass draws a fresh mask instead of reusing the forward's, so gradients flow
    through dropped channels and skip kept ones (R11).  Models PyTorch issue #190717 (dropout
    recomputed in backward under activation checkpointing without the forward's RNG state)."""

    name = "gradient-fresh-mask"

    def backward_factor(self, keep, p, dtype, fresh):
        return fresh().to(dtype) * _scale(self.torch, p, dtype)


class GradientUnscaled(_AutogradCore):
    """The backward pass applies the mask but not the 1/(1-p) scale (R11): a hand-written
    backward kernel that forgot the scale the forward applied.  No public issue known."""

    name = "gradient-unscaled"

    def backward_factor(self, keep, p, dtype, fresh):
        return keep.to(dtype)


class GradientStraightThrough(_AutogradCore):
    """The backward pass is the identity (the mask treated as a constant 1, a straight-through
    estimator), so dropped channels still receive gradient (R11).  No public issue known."""

    name = "gradient-straight-through"

    def backward_factor(self, keep, p, dtype, fresh):
        return self.torch.ones_like(keep, dtype=dtype)
