"""dropout2d-conformance: a statistical conformance suite for channel-wise dropout."""

__version__ = "0.1.0"
