"""Pure-NumPy reference Dropout2d: the contract (``CONTRACT.md``, R1-R11), executable.

Installed as ``dropout2d_reference`` (the name the suite imports; no user folder shadows it)
and, as a convenience, as ``reference``.  Imports are relative so that both names work.
"""

from .dropout2d import Dropout2d, dropout2d, scale_for, validate_p

__all__ = ["Dropout2d", "dropout2d", "scale_for", "validate_p"]
