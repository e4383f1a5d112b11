"""torch@cuda says what is missing instead of torch's AssertionError or driver text; the three
cases a real machine shows (a CPU build; a CUDA build that sees no GPU, e.g.
CUDA_VISIBLE_DEVICES=, where torch says 'No CUDA GPUs are available'; an index past the last
device, where torch says 'invalid device ordinal'), with a stand-in for torch."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conformance.adapters.torch_adapter import _require_cuda
from conformance.errors import SpecError


def fake_torch(cuda: str | None, devices: int) -> SimpleNamespace:
    return SimpleNamespace(
        __version__="2.11.0+cu130" if cuda else "2.13.0+cpu",
        version=SimpleNamespace(cuda=cuda),
        cuda=SimpleNamespace(is_available=lambda: devices > 0, device_count=lambda: devices),
    )


class device:  # torch.device's spelling
    def __init__(self, kind: str, index: int | None = None) -> None:
        self.type, self.index = kind, index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


@pytest.mark.parametrize(("torch", "dev", "needle"), [
    (fake_torch(None, 0), device("cuda"), "no CUDA device is available: torch 2.13.0+cpu is a "
                                          "build without CUDA"),
    (fake_torch("13.0", 0), device("cuda"), "finds no GPU (torch.cuda.is_available() is False"),
    (fake_torch("13.0", 1), device("cuda", 7), "there is no CUDA device 7; this machine has 1"),
])
def test_each_missing_cuda_is_named(torch, dev, needle):
    with pytest.raises(SpecError, match="torch@cuda") as info:
        _require_cuda(torch, dev)
    assert needle in str(info.value)


def test_a_present_device_and_other_devices_pass():
    _require_cuda(fake_torch("13.0", 1), device("cuda", 0))
    _require_cuda(fake_torch("13.0", 1), device("cuda"))
    _require_cuda(fake_torch(None, 0), device("mps"))
