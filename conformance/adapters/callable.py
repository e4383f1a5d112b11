"""Wrap a plain function ``f(x, p, training=True, inplace=False[, seed=None])`` as an Adapter.

The function receives and returns NCHW NumPy arrays (NHWC if it declares that layout).
Capabilities come from its signature and from what it declares, without subclassing:

* an ``inplace`` parameter means in-place support; an optional ``seed`` keyword means seed
  control (both can be switched off by a declaration, never on without the parameter);
* :func:`declare` (or a ``__dropout2d__`` dict attribute set by hand) states the rest: the
  dtypes (bfloat16 included), 3D support, layout, device, the gradient function and the
  framework's name.  A module-level ``__dropout2d__`` dict applies to every function of the
  module; a function's own declaration overrides it field by field.  The loader validates
  both and raises :class:`SpecError` naming the bad field and the allowed values.

Undeclared, a callable is assumed to support float16, float32 and float64 and 4D input only:
3D support is declared (``three_d=True``), because a function written for 4D may return a
wrongly broadcast array for some 3D shapes instead of raising.  ``three-d-input`` still offers a
4D-only function one 3D input and reports "rejects 3D input" when it raises, never a failure;
so a function written for 4D conforms without declaring anything.  The framework
under test is named from the modules the function's module imported (a wrapper that imports
torch is "torch 2.13.0"), so the report says who was tested.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from conformance.adapters.base import (
    ALL_FLOAT_DTYPES,
    KNOWN_DTYPES,
    LAYOUTS,
    Adapter,
    Capabilities,
    SeedStream,
)
from conformance.errors import SpecError

F = TypeVar("F", bound=Callable[..., Any])

#: the attribute :func:`declare` sets; a dict with any of :data:`DECLARABLE`'s keys
DECLARATION_ATTR = "__dropout2d__"

#: every field a declaration may carry, with what it accepts (used in error messages)
DECLARABLE: dict[str, str] = {
    "dtypes": f"a non-empty tuple of {list(KNOWN_DTYPES)}",
    "three_d": "True (3D input is part of what it implements: judged like 4D input) or False "
    "(4D only, the default: other checks never offer 3D input)",
    "layout": f"one of {list(LAYOUTS)}",
    "inplace": "a bool (True needs an 'inplace' parameter)",
    "seed": "a bool (True needs an optional 'seed' keyword)",
    "autograd": "False, or a function grad(x, p, upstream) -> (y, dx) over NumPy arrays",
    "device": "a non-empty str, e.g. 'cpu' or 'cuda:0'",
    "framework": "a non-empty str naming the framework under test, e.g. 'torch'",
    "framework_version": "a str",
}

#: frameworks a wrapper may import, most specific first: a file importing flax also imports
#: jax, a Keras wrapper imports its backend; numpy is what every wrapper imports, so it is last
_FRAMEWORKS: tuple[tuple[str, str], ...] = (
    ("keras", "keras"),
    ("tf_keras", "tf-keras"),
    ("flax", "flax"),
    ("tensorflow", "tensorflow"),
    ("paddle", "paddlepaddle"),
    ("mlx", "mlx"),
    ("cupy", "cupy"),
    ("jax", "jax"),
    ("torch", "torch"),
    ("numpy", "numpy"),
)


def _accepts(sig: inspect.Signature | None, name: str) -> bool:
    if sig is None:
        return False
    param = sig.parameters.get(name)
    return param is not None and param.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


def _bad(field: str, value: Any, where: str, why: str = "") -> SpecError:
    extra = f" ({why})" if why else ""
    return SpecError(
        f"{where}: declared {field}={value!r} is not valid{extra}; {field} must be "
        f"{DECLARABLE[field]}"
    )


def validate_declaration(decl: Mapping[str, Any], *, where: str = "declare()") -> dict[str, Any]:
    """Check a capability declaration field by field; return it as a plain dict.

    Raises :class:`SpecError` naming the first bad field, the value and the allowed values.
    """
    if not isinstance(decl, Mapping):
        raise SpecError(
            f"{where}: the {DECLARATION_ATTR} attribute must be a dict, got "
            f"{type(decl).__name__}; allowed keys: {sorted(DECLARABLE)}"
        )
    unknown = sorted(set(decl) - set(DECLARABLE))
    if unknown:
        raise SpecError(
            f"{where}: unknown declaration field(s) {unknown}; allowed: {sorted(DECLARABLE)}"
        )
    out = dict(decl)
    if "dtypes" in out:
        value = out["dtypes"]
        if isinstance(value, str):
            value = (value,)
        try:
            names = tuple(str(np.dtype(d)) if not isinstance(d, str) else d for d in value)
        except TypeError as exc:
            raise _bad("dtypes", out["dtypes"], where, str(exc)) from exc
        unknown_dtypes = [d for d in names if d not in KNOWN_DTYPES]
        if not names or unknown_dtypes:
            raise _bad("dtypes", out["dtypes"], where,
                       f"unknown: {unknown_dtypes}" if unknown_dtypes else "empty")
        out["dtypes"] = tuple(dict.fromkeys(names))
    for flag in ("three_d", "inplace", "seed"):
        if flag in out and not isinstance(out[flag], bool):
            raise _bad(flag, out[flag], where)
    if "layout" in out and out["layout"] not in LAYOUTS:
        raise _bad("layout", out["layout"], where)
    if "autograd" in out and not (out["autograd"] is False or callable(out["autograd"])):
        raise _bad("autograd", out["autograd"], where,
                   "True alone says nothing about how to differentiate" if out["autograd"]
                   is True else "")
    for text in ("device", "framework"):
        if text in out and (not isinstance(out[text], str) or not out[text]):
            raise _bad(text, out[text], where)
    if "framework_version" in out and not isinstance(out["framework_version"], str):
        raise _bad("framework_version", out["framework_version"], where)
    return out


def declare(
    *,
    dtypes: tuple[str, ...] | None = None,
    three_d: bool | None = None,
    layout: str | None = None,
    inplace: bool | None = None,
    seed: bool | None = None,
    autograd: Callable[..., Any] | bool | None = None,
    device: str | None = None,
    framework: str | None = None,
    framework_version: str | None = None,
) -> Callable[[F], F]:
    """Declare what a plain dropout function supports, without subclassing ``Adapter``.

    Fields left out keep their defaults (see the module docstring).  Example::

        @conformance.declare(dtypes=("float32", "bfloat16"), three_d=False, layout="NHWC")
        def dropout2d(x, p, training=True, seed=None): ...

    The declaration is validated here and again when the suite loads the function.
    """
    given = {
        "dtypes": dtypes, "three_d": three_d, "layout": layout, "inplace": inplace,
        "seed": seed, "autograd": autograd, "device": device, "framework": framework,
        "framework_version": framework_version,
    }
    decl = validate_declaration({k: v for k, v in given.items() if v is not None})

    def deco(fn: F) -> F:
        name = getattr(fn, "__name__", type(fn).__name__)
        _check_against_signature(decl, _signature(fn), where=f"declare() on {name}")
        setattr(fn, DECLARATION_ATTR, decl)
        return fn

    return deco


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None


def _takes_seed(sig: inspect.Signature | None) -> bool:
    param = sig.parameters.get("seed") if sig is not None else None
    return param is not None and param.default is not inspect.Parameter.empty


def _check_against_signature(
    decl: Mapping[str, Any], sig: inspect.Signature | None, *, where: str
) -> None:
    if decl.get("inplace") and not _accepts(sig, "inplace"):
        raise _bad("inplace", True, where, "the function has no 'inplace' parameter")
    if decl.get("seed") and not _takes_seed(sig):
        raise _bad("seed", True, where, "the function has no optional 'seed' keyword")


def _version_of(module_name: str, dist: str) -> str:
    module = sys.modules.get(module_name)
    version = getattr(module, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""


def imported_frameworks(fn: Callable[..., Any]) -> dict[str, str]:
    """The known frameworks (name -> version) that the module defining ``fn`` imported.

    Read from the module's globals: imported modules, and objects imported from them
    (``from torch.nn.functional import dropout2d`` counts as torch).
    """
    target = inspect.unwrap(fn) if callable(fn) else fn
    globs = getattr(target, "__globals__", None)
    if globs is None:
        module = sys.modules.get(getattr(target, "__module__", "") or "")
        globs = vars(module) if module is not None else {}
    roots: set[str] = set()
    for value in list(globs.values()):
        if inspect.ismodule(value):
            roots.add(value.__name__.partition(".")[0])
        else:
            owner = getattr(value, "__module__", None)
            if isinstance(owner, str):
                roots.add(owner.partition(".")[0])
    return {
        name: _version_of(name, dist) for name, dist in _FRAMEWORKS if name in roots
    }


def _type_name(value: Any) -> str:
    """The public name of an array type: torch.Tensor, jax.Array, ... (not jaxlib's)."""
    cls = type(value)
    root = (cls.__module__ or "").partition(".")[0]
    if root in ("jax", "jaxlib"):
        return "jax.Array"
    if root == "builtins":
        return cls.__qualname__
    return f"{root}.{cls.__qualname__}"


def output_type_finding(adapter: Adapter) -> dict[str, str]:
    """``{"output_type": ...}`` when a plain function returned something other than a NumPy
    array (a torch tensor, a JAX array) and the suite converted it; empty otherwise."""
    seen = sorted(getattr(adapter, "foreign_outputs", None) or ())
    if not seen:
        return {}
    return {"output_type": f"{' and '.join(seen)}, not a NumPy array as the interface says: "
                           "accepted, converted with numpy.asarray"}


class CallableAdapter(Adapter):
    """An Adapter around a NumPy function; see the module docstring."""

    framework = "python"

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        if not callable(fn):
            raise TypeError(f"expected a callable, got {type(fn).__name__}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        sig = _signature(fn)
        where = f"{self.name}.{DECLARATION_ATTR}"
        module = sys.modules.get(getattr(fn, "__module__", None) or "")
        module_decl = validate_declaration(
            getattr(module, DECLARATION_ATTR, {}) if module is not None else {},
            where=f"module {getattr(module, '__name__', '?')}.{DECLARATION_ATTR}",
        )
        decl = {**module_decl,
                **validate_declaration(getattr(fn, DECLARATION_ATTR, {}), where=where)}
        _check_against_signature(decl, sig, where=where)
        self.declaration = decl
        self._takes_training = _accepts(sig, "training")
        self._takes_inplace = _accepts(sig, "inplace")
        self._grad = decl.get("autograd") or None
        self.capabilities = Capabilities(
            inplace=decl.get("inplace", self._takes_inplace),
            seed=decl.get("seed", _takes_seed(sig)),
            autograd=self._grad is not None,
            dtypes=decl.get("dtypes", ALL_FLOAT_DTYPES),
            three_d=decl.get("three_d", False),
        )
        self.layout = decl.get("layout", "NCHW")
        self.device = decl.get("device", "cpu")
        self._seeds = SeedStream()
        self.imports = imported_frameworks(fn)
        if "framework" in decl:
            self.framework = decl["framework"]
            self.framework_version = decl.get(
                "framework_version", self.imports.get(self.framework, "")
            )
        elif self.imports:
            self.framework, self.framework_version = next(iter(self.imports.items()))
        else:
            self.framework = "python"
            self.framework_version = sys.version.split()[0]
        self.defined_in = getattr(fn, "__module__", None) or ""
        #: the non-NumPy types its outputs came back as (converted with np.asarray)
        self.foreign_outputs: set[str] = set()

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        kwargs: dict[str, Any] = {}
        if self._takes_training:
            kwargs["training"] = training
        elif not training:
            # A function with no ``training`` parameter only knows training mode.
            raise TypeError(f"{self.name} has no 'training' parameter")
        if self._takes_inplace:
            kwargs["inplace"] = inplace
        if self.capabilities.seed:
            seed = self._seeds.next()
            if seed is not None:
                kwargs["seed"] = seed
        return self.fn(x, p, **kwargs)

    def seed(self, seed: int) -> None:
        self._seeds = SeedStream(base=int(seed))

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        if self._grad is None:
            return super().grad(x, p, upstream)
        return self._grad(x, p, upstream)

    def to_numpy(self, y: Any) -> np.ndarray:
        if type(y) is not np.ndarray and not isinstance(y, (np.ndarray, np.generic)):
            # the interface says NumPy; a torch tensor or a JAX array converts, and is
            # accepted, but the report says so (output_type_finding)
            self.foreign_outputs.add(_type_name(y))
        return np.asarray(y)

    def info(self) -> dict[str, Any]:
        out = super().info()
        out["defined_in"] = self.defined_in
        out["imports"] = dict(self.imports)
        return out
