"""scipy, imported on first use.

``import scipy.stats`` alone costs about 1.5 s on a 2-core machine.  The statistics modules are
imported whenever the battery's catalogue is (``dropout2d-conformance checks``, ``--help`` of
the pytest door, the supervisor), but only the checks that test need scipy: these proxies
defer the import to the first attribute access, and the call sites read as usual
(``stats.binom.sf(...)``, ``special.ndtri(...)``, ``brentq(...)``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule(ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if self._module is None:
            self._module = importlib.import_module(self.__name__)
        return getattr(self._module, attr)


special: Any = _LazyModule("scipy.special")
stats: Any = _LazyModule("scipy.stats")
fft: Any = _LazyModule("scipy.fft")
_optimize: Any = _LazyModule("scipy.optimize")


def brentq(*args: Any, **kwargs: Any) -> Any:
    """``scipy.optimize.brentq``."""
    return _optimize.brentq(*args, **kwargs)


__all__ = ["brentq", "fft", "special", "stats"]
