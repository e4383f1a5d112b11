"""Exceptions that carry a verdict: the runner turns each into a check result, never a crash."""

from __future__ import annotations

from typing import Any


class CheckFailed(AssertionError):
    """The implementation violates the contract; ``stats`` and ``findings`` travel to the report."""

    def __init__(
        self,
        message: str,
        *,
        stats: tuple = (),
        findings: dict[str, Any] | None = None,
        root_cause: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.stats = tuple(stats)
        self.findings = dict(findings or {})
        #: the property whose failure this is, when it is not the check's own (for example
        #: "R1 output dtype" for a value check that failed because the dtype was wrong)
        self.root_cause = root_cause


class CheckSkipped(Exception):
    """The check does not apply (a capability is absent); the message says why."""


class AdapterError(Exception):
    """The adapter raised, hung or returned something that is not an array where one was due."""


class SpecError(Exception):
    """An adapter spec could not be loaded: a usage error (exit code 2)."""


class CheckAborted(Exception):
    """The check could not finish for a reason the engine decided (its worker hung, crashed or
    exited while drawing what the check needed); ``message`` is the verdict's message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
