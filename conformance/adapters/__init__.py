"""Adapters: the Adapter interface, the registry and spec loading, one module per framework."""

from conformance.adapters.base import ALL_FLOAT_DTYPES, Adapter, Capabilities
from conformance.adapters.callable import CallableAdapter
from conformance.adapters.registry import (
    default_specs,
    load_adapter,
    register,
    registered,
    to_adapter,
)

__all__ = [
    "ALL_FLOAT_DTYPES",
    "Adapter",
    "CallableAdapter",
    "Capabilities",
    "default_specs",
    "load_adapter",
    "register",
    "registered",
    "to_adapter",
]
