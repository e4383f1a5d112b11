"""Adapters: the Adapter interface, the registry and spec loading, one module per framework.

Names resolve on first use, so ``dropout2d-conformance list`` and the registry tables cost
nothing to import.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "ALL_FLOAT_DTYPES": "conformance.adapters.base",
    "Adapter": "conformance.adapters.base",
    "Capabilities": "conformance.adapters.base",
    "CallableAdapter": "conformance.adapters.callable",
    "default_specs": "conformance.adapters.registry",
    "load_adapter": "conformance.adapters.registry",
    "registered": "conformance.adapters.registry",
    "to_adapter": "conformance.adapters.registry",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'conformance.adapters' has no attribute {name!r}")
