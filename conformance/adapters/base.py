"""The adapter interface: the only thing a user writes.

The suite speaks NCHW NumPy arrays.  An adapter converts them to its native tensors and calls
the implementation under test; ``layout = "NHWC"`` tells the suite to transpose for it.

bfloat16 exists on the NumPy side through ``ml_dtypes`` (the package JAX uses for it). It is
imported only when bfloat16 is needed (a capability that declares it, or :func:`numpy_dtype`),
because its import costs more than NumPy's: from then on ``np.dtype("bfloat16")`` resolves
everywhere in the suite, and :func:`numpy_dtype` / :func:`dtype_finfo` give the dtype and its
real spacing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: the dtypes an implementation is assumed to support when it declares nothing
ALL_FLOAT_DTYPES = ("float16", "float32", "float64")
#: every floating dtype the suite can test; bfloat16 last so that checks that use one dtype
#: (the first declared) keep using the one they used before bfloat16 existed
KNOWN_DTYPES = ("float16", "float32", "float64", "bfloat16")
#: the common float dtypes and bfloat16, for adapters of frameworks that support it
FLOAT_DTYPES_BF16 = (*ALL_FLOAT_DTYPES, "bfloat16")
LAYOUTS = ("NCHW", "NHWC")


def _ml_dtypes() -> Any:
    import ml_dtypes  # registers bfloat16 with NumPy

    return ml_dtypes


def numpy_dtype(name: str | np.dtype | type) -> np.dtype:
    """The NumPy dtype for a dtype name the suite knows ("bfloat16" through ``ml_dtypes``)."""
    if isinstance(name, str) and name == "bfloat16":
        return np.dtype(_ml_dtypes().bfloat16)
    dtype = np.dtype(name)
    if dtype.name not in KNOWN_DTYPES:
        raise ValueError(f"dtype {name!r} is not one the suite tests; known: {KNOWN_DTYPES}")
    return dtype


def dtype_finfo(dtype: np.dtype | type | str) -> Any:
    """Machine limits of a float dtype, bfloat16 included (``ml_dtypes.finfo`` knows both)."""
    resolved = numpy_dtype(dtype) if isinstance(dtype, str) else np.dtype(dtype)
    if resolved.name != "bfloat16":
        return np.finfo(resolved)
    return _ml_dtypes().finfo(resolved)


@dataclass(frozen=True)
class Capabilities:
    """What an adapter can do; checks that need an absent capability are skipped with a reason."""

    inplace: bool = False
    seed: bool = False
    autograd: bool = False
    dtypes: tuple[str, ...] = ("float32",)
    three_d: bool = True

    def __post_init__(self) -> None:
        bad = [d for d in self.dtypes if d not in KNOWN_DTYPES]
        if bad or not self.dtypes:
            raise ValueError(
                f"capabilities: dtypes {list(self.dtypes)!r} must be a non-empty tuple of "
                f"{list(KNOWN_DTYPES)} (unknown: {bad})"
            )
        if "bfloat16" in self.dtypes:
            _ml_dtypes()  # the suite will build bfloat16 arrays for this adapter

    def as_dict(self) -> dict[str, Any]:
        return {
            "inplace": self.inplace,
            "seed": self.seed,
            "autograd": self.autograd,
            "dtypes": list(self.dtypes),
            "three_d": self.three_d,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Capabilities:
        """Capabilities read back from :meth:`as_dict` (a report, or a worker's message)."""
        return cls(inplace=bool(data.get("inplace", False)), seed=bool(data.get("seed", False)),
                   autograd=bool(data.get("autograd", False)),
                   dtypes=tuple(data.get("dtypes") or ("float32",)),
                   three_d=bool(data.get("three_d", True)))


@dataclass(frozen=True)
class AdapterInfo:
    """What the report says about an adapter: the one list of its fields.

    ``defined_in`` and ``imports`` are a plain callable's (the file that defines it and the
    frameworks that file imports, name -> version)."""

    name: str
    spec: str
    framework: str = ""
    framework_version: str = ""
    layout: str = "NCHW"
    device: str = "cpu"
    capabilities: Capabilities = Capabilities()
    defined_in: str | None = None
    imports: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, adapter: Adapter) -> AdapterInfo:
        """The info of a loaded adapter, from its :meth:`Adapter.info` (which a subclass may
        override: fields the report has no place for are left out)."""
        return cls.from_dict(adapter.info())

    @classmethod
    def unloaded(cls, spec: str) -> AdapterInfo:
        """The info of an adapter that never loaded: only its spec is known."""
        return cls(name=spec, spec=spec, layout="", device="")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "spec": self.spec,
            "framework": self.framework,
            "framework_version": self.framework_version,
            "layout": self.layout,
            "device": self.device,
            "capabilities": self.capabilities.as_dict(),
        }
        if self.defined_in is not None:
            out["defined_in"] = self.defined_in
            out["imports"] = dict(self.imports)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AdapterInfo:
        def text(key: str, default: str = "") -> str:
            value = data.get(key)
            return default if value is None else str(value)

        caps = data.get("capabilities")
        defined_in = data.get("defined_in")
        return cls(
            name=text("name", "adapter"),
            spec=text("spec") or text("name", "adapter"),
            framework=text("framework"),
            framework_version=text("framework_version"),
            layout=text("layout"),
            device=text("device"),
            capabilities=Capabilities.from_dict(caps) if isinstance(caps, Mapping)
            else caps if isinstance(caps, Capabilities) else Capabilities(),
            defined_in=None if defined_in is None else str(defined_in),
            imports={str(k): str(v) for k, v in (data.get("imports") or {}).items()},
        )


class Adapter:
    """Base class.  Override ``dropout2d``; override the conversions for non-NumPy tensors.

    ``dropout2d(native_x, p, training, inplace) -> native_y`` is called with ``inplace=True``
    only when ``capabilities.inplace`` is set.  ``seed(int)`` is called only when
    ``capabilities.seed`` is set and must make the following calls reproducible.
    ``grad(native_x, p, native_upstream) -> (native_y, native_dx)`` runs one forward pass and
    its backward pass, only when ``capabilities.autograd`` is set.
    """

    name: str = "adapter"
    framework: str = "unknown"
    framework_version: str = ""
    layout: str = "NCHW"
    device: str = "cpu"
    capabilities: Capabilities = Capabilities()
    #: the spec string this adapter was loaded from (set by the loader)
    spec: str = ""

    def to_native(self, x: np.ndarray) -> Any:
        return x

    def to_numpy(self, y: Any) -> np.ndarray:
        return np.asarray(y)

    def dropout2d(self, x: Any, p: float, training: bool = True, inplace: bool = False) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement dropout2d")

    def seed(self, seed: int) -> None:
        raise NotImplementedError(f"{type(self).__name__} has no seed capability")

    def grad(self, x: Any, p: float, upstream: Any) -> tuple[Any, Any]:
        raise NotImplementedError(f"{type(self).__name__} has no autograd capability")

    def info(self) -> dict[str, Any]:
        """What the report says about this adapter (the fields of :class:`AdapterInfo`)."""
        return AdapterInfo(name=self.name, spec=self.spec or self.name, framework=self.framework,
                           framework_version=self.framework_version, layout=self.layout,
                           device=self.device, capabilities=self.capabilities).to_dict()


@dataclass
class SeedStream:
    """Turns ``seed(s)`` into a per-call seed sequence for functions that take ``seed=``."""

    base: int | None = None
    calls: int = field(default=0)

    def next(self) -> int | None:
        if self.base is None:
            return None
        self.calls += 1
        return int(np.random.SeedSequence([self.base, self.calls]).generate_state(1)[0])
