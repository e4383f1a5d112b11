"""dropout2d-conformance: a statistical conformance suite for channel-wise dropout.

The public Python API (everything a user needs to import):

- ``check(adapter, *, level, seed, checks, family_alpha, ...) -> ConformanceResult``
- ``assert_conformant(adapter, **same options)``: ``AssertionError`` listing each failing
  check with its message and reproduction command
- ``testing.conformance_tests(adapter, ...)``: one pytest test per check in your own module
- ``Adapter``, ``Capabilities``: write an adapter for a framework
- ``declare(dtypes=..., three_d=..., layout=..., ...)``: declare what a plain function supports

Names are resolved on first use, so importing this package (which the pytest plugin does in
every pytest run) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "check": "conformance.api",
    "assert_conformant": "conformance.api",
    "ConformanceResult": "conformance.api",
    "CheckOutcome": "conformance.api",
    "Adapter": "conformance.adapters.base",
    "Capabilities": "conformance.adapters.base",
    "declare": "conformance.adapters.callable",
}

__all__ = ["__version__", *_LAZY, "testing"]


def __getattr__(name: str) -> Any:
    if name == "testing":
        return importlib.import_module("conformance.testing")
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'conformance' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
