"""Pure-NumPy reference Dropout2d: the contract of DESIGN.md section 1, executable."""

from reference.dropout2d import Dropout2d, dropout2d, scale_for, validate_p

__all__ = ["Dropout2d", "dropout2d", "scale_for", "validate_p"]
