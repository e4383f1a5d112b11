"""Make ``conformance`` this package even when a folder of that name in the working directory
shadows it.

An editable install resolves top-level names after the working directory's folders: a user's
empty ``conformance/`` folder becomes a namespace package called ``conformance`` whose
submodules still resolve to this package but whose ``__init__`` never runs.  The entry points
(``python -m conformance``, the CLI, the pytest plugin) import this module first; it puts the
real package in place.  Regular installs never need it (a regular package wins over a
namespace folder), and it does nothing then.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def ensure_package() -> None:
    """Replace a namespace ``conformance`` module by this package (no-op when it is this one)."""
    current = sys.modules.get("conformance")
    if current is not None and getattr(current, "__file__", None):
        return
    spec = importlib.util.spec_from_file_location(
        "conformance", _HERE / "__init__.py", submodule_search_locations=[str(_HERE)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - the file is ours
        return
    module = importlib.util.module_from_spec(spec)
    for name, sub in list(sys.modules.items()):  # submodules imported through the namespace
        if name.startswith("conformance.") and name.count(".") == 1:
            setattr(module, name.partition(".")[2], sub)
    sys.modules["conformance"] = module
    spec.loader.exec_module(module)


ensure_package()
