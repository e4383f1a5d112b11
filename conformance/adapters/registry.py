"""Adapter registry and spec loading.

A spec is a registered name (optionally ``name@device``), ``module:attr`` or
``path/to/file.py:attr``.  ``attr`` may be an Adapter subclass, an Adapter instance or a plain
callable.  Third-party packages register more names through the entry-point group
``dropout2d_conformance.adapters`` (value ``module:attr``).
"""

from __future__ import annotations

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


def to_adapter(obj: Any, *, name: str, spec: str, **kwargs: Any) -> Adapter:
    """Coerce an Adapter subclass, instance or plain callable into an Adapter instance."""
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
    return adapter


def _import_target(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _load_file(path: Path, attr: str, spec: str) -> Any:
    if not path.is_file():
        raise SpecError(f"{spec!r}: tried to load file {str(path)!r}, which does not exist")
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
        raise SpecError(f"{spec!r}: importing {str(path)!r} raised {exc!r}") from exc
    if not hasattr(module, attr):
        public = sorted(n for n in vars(module) if not n.startswith("_"))
        raise SpecError(f"{spec!r}: {str(path)!r} has no attribute {attr!r} (it has {public})")
    return getattr(module, attr)


def _usage(spec: str, tried: str) -> SpecError:
    names = ", ".join(registered())
    return SpecError(
        f"cannot load adapter {spec!r}: {tried}.\n"
        f"A spec is a registered name ({names}), 'module:attr' or 'path/to/file.py:attr'."
    )


def load_adapter(spec: str) -> Adapter:
    """Load the adapter that ``spec`` names; raise :class:`SpecError` saying what was tried."""
    spec = spec.strip()
    if not spec:
        raise _usage(spec, "the spec is empty")
    base, _, device = spec.partition("@")
    names = registered()
    if base in names:
        target = names[base]
        _, requires = BUILTIN.get(base, (target, None))
        kwargs = {"device": device} if device else {}
        try:
            obj = _import_target(target)
        except ImportError as exc:
            need = f" (it needs {requires!r}: pip install 'dropout2d-conformance[{requires}]')"
            raise SpecError(
                f"adapter {base!r} is registered but cannot be imported: {exc}"
                + (need if requires else "")
            ) from exc
        try:
            return to_adapter(obj, name=base, spec=spec, **kwargs)
        except SpecError:
            raise
        except Exception as exc:
            raise SpecError(f"adapter {spec!r} failed to start: {exc!r}") from exc
    if ":" not in spec:
        raise _usage(spec, "it is not a registered name and has no ':attr' part")
    location, _, attr = spec.rpartition(":")
    if not attr or not location:
        raise _usage(spec, "both sides of ':' must be non-empty")
    if location.endswith(".py") or "/" in location or "\\" in location:
        obj = _load_file(Path(location), attr, spec)
        adapter = to_adapter(obj, name=attr.rpartition(".")[2], spec=spec)
        if isinstance(adapter, CallableAdapter):
            # the module name is a generated one; the file name means something to a reader
            adapter.defined_in = Path(location).name
        return adapter
    else:
        try:
            obj = _import_target(f"{location}:{attr}")
        except ImportError as exc:
            raise _usage(spec, f"importing module {location!r} failed ({exc})") from exc
        except AttributeError as exc:
            raise _usage(spec, f"module {location!r} has no attribute {attr!r}") from exc
    return to_adapter(obj, name=attr.rpartition(".")[2], spec=spec)


def default_specs() -> list[str]:
    """The reference plus every framework adapter whose framework is installed."""
    return ["reference"] + [name for name in FRAMEWORKS if framework_available(name)]


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
            status = f"not installed (needs {requires})"
        else:
            versions = []
            for dist in dists.get(requires, [requires]):
                try:
                    versions.append(f"{dist} {importlib.metadata.version(dist)}")
                except importlib.metadata.PackageNotFoundError:
                    continue
            status = "installed" + (f" ({', '.join(versions)})" if versions else "")
        rows.append((name, target, status))
    return rows
