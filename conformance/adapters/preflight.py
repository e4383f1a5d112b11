"""Before any check: prove that the adapter can be called the way the interface says.

A function with the wrong signature (``def dropout2d(x)``), one that needs an argument the
suite never passes, or an ``Adapter`` subclass that never wrote ``dropout2d`` cannot be judged:
every check would error with the same ``TypeError``, and a check that passes when the
implementation raises (``invalid-p``) would pass.  That is a usage error (exit 2), found before
any check runs, with the expected signature in the message.

:func:`preflight` looks at the signatures first (nothing is called), then makes one valid call
(``p = 0`` in training mode, on a small array of the first declared dtype) and turns into a
:class:`SpecError` only what shows that the call itself cannot be made: a ``TypeError`` raised
where the call is made, before the implementation runs (an argument it does not take).  Anything
the implementation does once it runs (raise, return garbage, exit) is left to the checks, where
it becomes the verdict of the check that met it.

It runs where the adapter is loaded: in the supervised worker, never in the process that
decides verdicts, and in the caller's process for the in-process API (``isolate=False``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from conformance.adapters.base import Adapter, numpy_dtype
from conformance.adapters.callable import CallableAdapter
from conformance.errors import SpecError

__all__ = ["EXPECTED_FUNCTION", "EXPECTED_METHODS", "preflight"]

#: what a plain function must look like (the README's and DESIGN's wording)
EXPECTED_FUNCTION = (
    "f(x, p, training=True, inplace=False) over NCHW NumPy arrays, returning the output "
    "array (inplace may be left out; an optional seed=None keyword gives seed control)"
)
#: what an Adapter subclass must implement, by capability
EXPECTED_METHODS = {
    "dropout2d": "dropout2d(self, x, p, training=True, inplace=False) -> native output",
    "seed": "seed(self, seed: int) -> None (capabilities.seed=True)",
    "grad": "grad(self, x, p, upstream) -> (y, dx) (capabilities.autograd=True)",
}
#: the shape of the one valid call: small, no dimension of 1 (compilers specialise on 1)
SHAPE = (2, 3, 4, 5)


def preflight(adapter: Adapter) -> Adapter:
    """Raise :class:`SpecError` unless ``adapter`` can be called as the interface says;
    return it unchanged (so that a loader can write ``preflight(load(spec))``)."""
    where = f"adapter {adapter.spec or adapter.name!r}"
    if isinstance(adapter, CallableAdapter):
        _check_function(adapter, where)
    else:
        _check_methods(adapter, where)
    _one_valid_call(adapter, where)
    return adapter


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: the call decides
        return None


def _named(fn: Callable[..., Any], sig: inspect.Signature) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{name}{sig}"


def _check_function(adapter: CallableAdapter, where: str) -> None:
    sig = _signature(adapter.fn)
    if sig is None:
        return
    kwargs = {k: None for k, on in (("training", adapter._takes_training),
                                     ("inplace", adapter._takes_inplace),
                                     ("seed", adapter.capabilities.seed)) if on}
    try:
        sig.bind(None, None, **kwargs)
    except TypeError as exc:
        raise SpecError(
            f"{where}: {_named(adapter.fn, sig)} cannot be called as the suite calls it, "
            f"f(x, p{''.join(f', {k}=...' for k in kwargs)}): {exc}. Expected {EXPECTED_FUNCTION}"
        ) from None


def _check_methods(adapter: Adapter, where: str) -> None:
    cls = type(adapter)
    needed = {"dropout2d": (None, None, True, False)}
    if adapter.capabilities.seed:
        needed["seed"] = (0,)
    if adapter.capabilities.autograd:
        needed["grad"] = (None, None, None)
    for method, args in needed.items():
        if getattr(cls, method, None) is getattr(Adapter, method):
            why = "" if method == "dropout2d" else f" although capabilities.{_cap(method)}=True"
            raise SpecError(
                f"{where}: {cls.__name__} does not implement {method}(){why}. "
                f"Expected {EXPECTED_METHODS[method]}"
            )
        bound = getattr(adapter, method)
        sig = _signature(bound)
        if sig is None:
            continue
        try:
            sig.bind(*args)
        except TypeError as exc:
            raise SpecError(
                f"{where}: {cls.__name__}.{method}{sig} cannot be called as the suite calls "
                f"it: {exc}. Expected {EXPECTED_METHODS[method]}"
            ) from None


def _cap(method: str) -> str:
    return {"seed": "seed", "grad": "autograd"}[method]


def _one_valid_call(adapter: Adapter, where: str) -> None:
    """``dropout2d(x, 0.0, training=True, inplace=False)`` once; a usage error only when the
    call could not be made at all (see the module docstring)."""
    from conformance.checks.calling import guarded  # the checks' own process-state guard

    dtype = numpy_dtype(adapter.capabilities.dtypes[0])
    x = (np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE) % 7 + 1).astype(dtype)
    if adapter.layout == "NHWC":
        x = np.ascontiguousarray(np.moveaxis(x, 1, -1))
    call_site = (CallableAdapter.dropout2d.__code__, _one_valid_call.__code__)
    with guarded():
        try:
            native = adapter.to_native(x)
        except Exception:
            return  # the adapter's own conversion failed: shape-dtype and others will say so
        try:
            out = adapter.dropout2d(native, 0.0, True, False)
        except TypeError as exc:
            if _raised_at(exc, call_site):
                raise SpecError(
                    f"{where}: a valid call dropout2d(x, 0.0, training=True, inplace=False) "
                    f"could not be made: TypeError: {exc}. Expected {_expected(adapter)}"
                ) from None
            return
        except (Exception, SystemExit, KeyboardInterrupt):
            return  # the implementation ran and misbehaved: that is a verdict, not usage
    if out is None:
        raise SpecError(
            f"{where}: a valid call dropout2d(x, 0.0, training=True, inplace=False) returned "
            f"None; the suite reads the output from the return value (an in-place "
            f"implementation returns its input too). Expected {_expected(adapter)}"
        )


def _expected(adapter: Adapter) -> str:
    if isinstance(adapter, CallableAdapter):
        return EXPECTED_FUNCTION
    return EXPECTED_METHODS["dropout2d"]


def _raised_at(exc: BaseException, codes: tuple[Any, ...]) -> bool:
    """Whether ``exc`` was raised in one of the frames ``codes`` (the caller's), that is before
    the callee's own code ran: Python raises a binding ``TypeError`` in the calling frame."""
    tb = exc.__traceback__
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code in codes
