"""``torch.compile(torch.nn.functional.dropout2d, dynamic=True)``: Inductor's dropout, not eager's.

Inductor lowers dropout to its own generated code and its own random numbers, so this is a
different implementation from ``torch`` (eager ATen), worth testing on its own.  CPU code is
generated as C++ and built with the system compiler (gcc); ``torch@cuda`` works the same way
with ``torch-compile@cuda`` (Triton).

**Compile cost.** ``dynamic=True`` makes shapes symbolic, so a new shape does not recompile.
p, the dtype, ``training``, ``inplace`` and ``requires_grad`` are still guarded on: each new
combination recompiles (about 2 to 5 s each on 2 CPU cores once Inductor's on-disk cache is warm;
the first compile in a fresh process also pays Inductor's start-up, 5 s warm and up to a minute
with a cold cache).  The deterministic battery needs some 150 combinations.

**Recompile limit.** Dynamo's default ``recompile_limit`` is 8 per function; past it, Dynamo
silently runs the function *eagerly*, and the suite would be testing eager ATen under this
adapter's name.  The adapter raises the limits for its own calls (``torch._dynamo.config.patch``
around each call) and sets ``fail_on_recompile_limit_hit``, so that it tests compiled code or
errors, never falls back in silence.  Nothing else about the compile is changed.

Seeds go through ``torch.manual_seed`` (Inductor's RNG derives its seed from the default
generator).  Capabilities as for eager torch: inplace, seed, autograd (the compiled forward
saves its mask for the compiled backward), float16/32/64, 3D input.
"""

from __future__ import annotations

from typing import Any

from conformance.adapters.torch_adapter import TorchAdapter

#: far above the ~200 combinations of p, dtype and mode one full run of the battery needs
RECOMPILE_LIMIT = 4096


class TorchCompileAdapter(TorchAdapter):
    name = "torch-compile"
    framework = "torch.compile (inductor)"

    def __init__(self, device: str = "cpu") -> None:
        super().__init__(device)
        if self.device != "cpu":
            self.name = f"torch-compile@{self.device}"
        import torch._dynamo

        self._compiled = self.torch.compile(self.torch.nn.functional.dropout2d, dynamic=True)
        self._config = torch._dynamo.config

    def _limits(self) -> Any:
        return self._config.patch(
            recompile_limit=RECOMPILE_LIMIT,
            accumulated_recompile_limit=RECOMPILE_LIMIT,
            fail_on_recompile_limit_hit=True,
        )

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        with self._limits():
            return self._compiled(x, p, training, inplace)

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        x = x.detach().clone().requires_grad_(True)
        with self._limits():
            y = self._compiled(x, p, True, False)
        (dx,) = self.torch.autograd.grad(y, x, upstream)
        return y.detach(), dx
