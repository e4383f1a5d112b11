"""Adapter registry and spec loading.

A spec is a registered name (optionally ``name@device``), ``module:attr`` or
``path/to/file.py:attr``.  ``attr`` may be an Adapter subclass, an Adapter instance or a plain
callable.  Third-party packages register more names through the entry-point group
``dropout2d_conformance.adapters`` (value ``module:attr``).
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import importlib.util
import inspect
import sys
from pathlib import Path
from typing import Any

from conformance.adapters.base import Adapter
from conformance.adapters.callable import CallableAdapter
from conformance.errors import SpecError

ENTRY_POINT_GROUP = "dropout2d_conformance.adapters"

#: built-in adapters: name -> (target "module:attr", the framework module it needs)
BUILTIN: dict[str, tuple[str, str | None]] = {
    "reference": ("conformance.adapters.reference_adapter:ReferenceAdapter", None),
    "torch": ("conformance.adapters.torch_adapter:TorchAdapter", "torch"),
    "torch-compile": ("conformance.adapters.torch_compile_adapter:TorchCompileAdapter", "torch"),
    "jax": ("conformance.adapters.jax_adapter:JaxAdapter", "jax"),
    "flax-linen": ("conformance.adapters.flax_adapter:FlaxLinenAdapter", "flax"),
    "flax-nnx": ("conformance.adapters.flax_adapter:FlaxNnxAdapter", "flax"),
    "keras": ("conformance.adapters.keras_adapter:KerasAdapter", "keras"),
    "keras-channels-first": (
        "conformance.adapters.keras_adapter:KerasChannelsFirstAdapter",
        "keras",
    ),
    "tensorflow": ("conformance.adapters.tf_adapter:TensorFlowAdapter", "tensorflow"),
    "tf-keras": ("conformance.adapters.tf_adapter:TfKerasAdapter", "tf_keras"),
    "paddle": ("conformance.adapters.paddle_adapter:PaddleAdapter", "paddle"),
    "mlx": ("conformance.adapters.mlx_adapter:MlxAdapter", "mlx"),
    "haiku": ("conformance.adapters.haiku_adapter:HaikuAdapter", "haiku"),
    "mindspore": ("conformance.adapters.mindspore_adapter:MindSporeAdapter", "mindspore"),
    "mindspore-nn": (
        "conformance.adapters.mindspore_adapter:MindSporeNnAdapter",
        "mindspore",
    ),
    "jittor": ("conformance.adapters.jittor_adapter:JittorAdapter", "jittor"),
    "trax": ("conformance.adapters.trax_adapter:TraxAdapter", "trax"),
}

#: the framework adapters that `run` with no --adapter tries (besides the reference)
#: (torch-compile is left out: it recompiles for every p and dtype, minutes per run; name it)
FRAMEWORKS: list[str] = [
    "torch",
    "jax",
    "flax-linen",
    "flax-nnx",
    "keras",
    "tensorflow",
    "tf-keras",
    "paddle",
    "mlx",
    "haiku",
    "mindspore",
    "mindspore-nn",
    "jittor",
    "trax",
]


#: built-in adapters that `run` with no --adapter leaves out even when installed, and why
#: (`list` and the run's opening line say so; name one with --adapter to run it)
NOT_BY_DEFAULT: dict[str, str] = {
    "torch-compile": "it recompiles for every p and dtype (minutes per run)",
    "keras-channels-first": "it tests the layer of `keras` again, channels first",
}


def registered() -> dict[str, str]:
    """Every registered name with its target, entry points included."""
    names = {name: target for name, (target, _) in BUILTIN.items()}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        names.setdefault(ep.name, ep.value)
    return dict(sorted(names.items()))


def framework_available(name: str) -> bool:
    """Whether the framework that a registered adapter needs is importable (no import done)."""
    _, requires = BUILTIN.get(name, (None, None))
    return requires is None or importlib.util.find_spec(requires) is not None


def to_adapter(obj: Any, *, name: str, spec: str, preflight: bool = False,
               **kwargs: Any) -> Adapter:
    """Coerce an Adapter subclass, instance or plain callable into an Adapter instance.

    ``preflight``: prove it callable as the interface says before returning it (one valid
    call; see :mod:`conformance.adapters.preflight`), else :class:`SpecError`.
    """
    if inspect.isclass(obj) and issubclass(obj, Adapter):
        adapter = obj(**kwargs)
    elif isinstance(obj, Adapter):
        adapter = obj
    elif callable(obj):
        if kwargs:
            raise SpecError(f"{spec!r}: options {sorted(kwargs)} need an Adapter class")
        adapter = CallableAdapter(obj, name=name)
    else:
        raise SpecError(
            f"{spec!r} names a {type(obj).__name__}; expected an Adapter subclass, "
            "an Adapter instance or a callable f(x, p, training=True, inplace=False)"
        )
    adapter.spec = spec
    if preflight:
        from conformance.adapters.preflight import preflight as check_callable

        check_callable(adapter)
    return adapter


def _import_target(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


#: the extra of pyproject.toml that installs each framework module an adapter needs
EXTRAS: dict[str, str] = {
    "torch": "torch",
    "jax": "jax",
    "flax": "flax",
    "keras": "keras",
    "tensorflow": "tensorflow",
    "tf_keras": "tf-keras",
    "paddle": "paddle",
    "mlx": "mlx",
    "haiku": "haiku",
    "mindspore": "mindspore",
    "jittor": "jittor",
    "trax": "trax",
}


def install_hint(module: str) -> str:
    """How to install the framework ``module`` belongs to, in the project's own terms."""
    extra = EXTRAS.get(module.partition(".")[0])
    if extra is None:
        return f"install the package that provides {module!r}"
    hint = (f"pip install -e '.[{extra}]' in a clone of this project (elsewhere: "
            f"pip install 'dropout2d-conformance[{extra}]')")
    if extra == "torch":  # a bare torch requirement pulls a multi-GB CUDA build
        hint = "pip install torch==2.13.0 for a CPU build, or " + hint
    return hint


def _callables_of(module: Any) -> tuple[list[str], list[str]]:
    """The public callables a user's file defines (not what it imports: np, torch, ...):
    (those that could be an adapter: an Adapter subclass or instance, or a function that
    takes (x, p); the others)."""
    name = module.__name__
    likely, other = [], []
    for attr, value in vars(module).items():
        if attr.startswith("_") or inspect.ismodule(value):
            continue
        if isinstance(value, Adapter):
            likely.append(attr)
        elif callable(value) and getattr(value, "__module__", None) == name:
            if inspect.isclass(value):
                (likely if issubclass(value, Adapter) else other).append(attr)
            else:
                (likely if _takes_x_and_p(value) else other).append(attr)
    return likely, other


def _takes_x_and_p(fn: Any) -> bool:
    try:
        inspect.signature(fn).bind(None, None)
    except (TypeError, ValueError):
        return False
    return True


def _import_file(path: Path, spec: str) -> Any:
    module_name = f"_dropout2d_user_{abs(hash(str(path.resolve())))}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    if module_spec is None or module_spec.loader is None:
        raise SpecError(f"{spec!r}: cannot import {str(path)!r} as a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[module_name]
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            raise SpecError(f"{spec!r}: importing {str(path)!r} raised {exc!r}; "
                            f"{install_hint(exc.name)}") from exc
        raise SpecError(f"{spec!r}: importing {str(path)!r} raised {exc!r}") from exc
    return module


def _suggest_attrs(location: str, module: Any, attr: str | None = None) -> str:
    """'Did you mean ...?': the names close to ``attr``, else the callables that could be an
    adapter (a few at most: a library module defines hundreds)."""
    likely, other = _callables_of(module)
    close = difflib.get_close_matches(attr, likely + other, n=3, cutoff=0.6) if attr else []
    if close:
        return "Did you mean " + " or ".join(f"'{location}:{a}'" for a in close) + "?"
    if not likely and not other:
        return "It defines no function or Adapter."
    if not likely:
        if len(other) > 8:
            return ""
        return f"It defines {', '.join(other)}, none of which takes (x, p) or is an Adapter."
    if len(likely) > 5:
        return ""
    text = "Did you mean " + " or ".join(f"'{location}:{a}'" for a in likely) + "?"
    if other and len(other) <= 8:
        text += f" (it also defines {', '.join(other)})"
    return text


def _load_file(path: Path, attr: str, spec: str) -> Any:
    if not path.is_file():
        raise SpecError(f"{spec!r}: tried to load file {str(path)!r}, which does not exist")
    module = _import_file(path, spec)
    if not hasattr(module, attr):
        raise SpecError(f"{spec!r}: {str(path)!r} has no attribute {attr!r}. "
                        f"{_suggest_attrs(str(path), module, attr)}".rstrip())
    return getattr(module, attr)


def _usage(spec: str, tried: str, hint: str = "") -> SpecError:
    names = ", ".join(registered())
    return SpecError(
        f"cannot load adapter {spec!r}: {tried}.{' ' + hint if hint else ''}\n"
        f"A spec is a registered name ({names}), 'module:attr' or 'path/to/file.py:attr'."
    )


def _no_attr_hint(spec: str) -> str:
    """What a spec without ':attr' most likely meant: a registered name spelt differently,
    or a file whose function or Adapter was not named."""
    path = Path(spec)
    if spec.endswith(".py") or path.is_file():
        if not path.is_file():
            return f"There is no file {spec!r} either."
        try:
            module = _import_file(path, spec)
        except SpecError as exc:
            return f"It names a Python file, which does not import: {exc}"
        return (f"It names a Python file: add ':' and the function or Adapter to test. "
                f"{_suggest_attrs(spec, module)}").rstrip()
    close = difflib.get_close_matches(spec.partition("@")[0], list(registered()), n=3,
                                      cutoff=0.6)
    if close:
        return "Did you mean " + " or ".join(repr(c) for c in close) + "?"
    return ""


def _start_registered(base: str, spec: str, device: str, *, preflight: bool) -> Adapter:
    names = registered()
    target = names[base]
    _, requires = BUILTIN.get(base, (target, None))
    if requires is not None and importlib.util.find_spec(requires) is None:
        raise SpecError(f"adapter {base!r} needs {requires}, which is not installed: "
                        f"{install_hint(requires)}")
    kwargs = {"device": device} if device else {}
    try:
        obj = _import_target(target)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or requires
        raise SpecError(
            f"adapter {base!r} is registered but cannot be imported: {exc}"
            + (f"; {install_hint(missing)}" if missing else "")
        ) from exc
    try:
        return to_adapter(obj, name=base, spec=spec, preflight=preflight, **kwargs)
    except SpecError:
        raise
    except ModuleNotFoundError as exc:  # the framework imports what is not installed
        raise SpecError(f"adapter {spec!r} failed to start: {exc}; "
                        f"{install_hint(exc.name or requires or '')}") from exc
    except Exception as exc:
        raise SpecError(f"adapter {spec!r} failed to start: {type(exc).__name__}: {exc}") from exc


def load_adapter(spec: str, *, preflight: bool = False) -> Adapter:
    """Load the adapter that ``spec`` names; raise :class:`SpecError` saying what was tried
    and, where it can tell, what was meant.  ``preflight``: also prove it callable as the
    interface says (one valid call, :mod:`conformance.adapters.preflight`)."""
    spec = spec.strip()
    if not spec:
        raise _usage(spec, "the spec is empty")
    base, _, device = spec.partition("@")
    if base in registered():
        return _start_registered(base, spec, device, preflight=preflight)
    if ":" not in spec:
        raise _usage(spec, "it is not a registered name and has no ':attr' part",
                     _no_attr_hint(spec))
    location, _, attr = spec.rpartition(":")
    if not attr or not location:
        raise _usage(spec, "both sides of ':' must be non-empty")
    if location.endswith(".py") or "/" in location or "\\" in location:
        obj = _load_file(Path(location), attr, spec)
        adapter = to_adapter(obj, name=attr.rpartition(".")[2], spec=spec)
        if isinstance(adapter, CallableAdapter):
            # the module name is a generated one; the file name means something to a reader
            adapter.defined_in = Path(location).name
        if preflight:
            from conformance.adapters.preflight import preflight as check_callable

            check_callable(adapter)
        return adapter
    try:
        obj = _import_target(f"{location}:{attr}")
    except ImportError as exc:
        missing = getattr(exc, "name", None)
        hint = install_hint(missing) if missing and missing.partition(".")[0] in EXTRAS else ""
        raise _usage(spec, f"importing module {location!r} failed ({exc})", hint) from exc
    except AttributeError as exc:
        module = sys.modules.get(location)
        hint = _suggest_attrs(location, module, attr) if module is not None else ""
        raise _usage(spec, f"module {location!r} has no attribute {attr!r}", hint) from exc
    return to_adapter(obj, name=attr.rpartition(".")[2], spec=spec, preflight=preflight)


def default_specs() -> list[str]:
    """The reference plus every framework adapter whose framework is installed."""
    return ["reference"] + [name for name in FRAMEWORKS if framework_available(name)]


def left_out_by_default() -> list[tuple[str, str]]:
    """(name, why) of each installed adapter that `run` with no --adapter does not run."""
    return [(name, why) for name, why in NOT_BY_DEFAULT.items() if framework_available(name)]


def describe_registered() -> list[tuple[str, str, str]]:
    """(name, target, status) of every registered adapter, without importing any of them:
    whether the framework it needs is installed, and its version from package metadata."""
    try:
        dists = importlib.metadata.packages_distributions()
    except Exception:  # metadata of some installed package is broken: versions unknown
        dists = {}
    rows = []
    for name, target in registered().items():
        _, requires = BUILTIN.get(name, (target, None))
        if name not in BUILTIN:
            module = target.partition(":")[0].partition(".")[0]
            found = importlib.util.find_spec(module) is not None
            status = "entry point" + ("" if found else f" (module {module!r} not found)")
        elif requires is None:
            status = "built in (no framework needed)"
        elif importlib.util.find_spec(requires) is None:
            extra = EXTRAS.get(requires)
            status = f"not installed (needs {requires}" + (
                f": pip install -e '.[{extra}]')" if extra else ")")
        else:
            versions = []
            for dist in dists.get(requires, [requires]):
                try:
                    versions.append(f"{dist} {importlib.metadata.version(dist)}")
                except importlib.metadata.PackageNotFoundError:
                    continue
            status = "installed" + (f" ({', '.join(versions)})" if versions else "")
            if name in NOT_BY_DEFAULT:
                status += f"; not in a plain run, {NOT_BY_DEFAULT[name]}"
        rows.append((name, target, status))
    return rows
