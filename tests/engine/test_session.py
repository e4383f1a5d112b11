"""Opening a session: in this process, or in a worker for what another process can load."""

from __future__ import annotations

import pytest

from conformance.config import RunConfig
from conformance.engine import InProcessSession, LoadFailed, open_session, spec_of
from conformance.mutants.core import correct


def test_spec_of_names_only_what_another_process_can_import():
    assert spec_of(correct) == "conformance.mutants.core:correct"

    def local(x, p, training=True):
        return x

    assert spec_of(local) is None  # defined inside a function
    assert spec_of(lambda x, p: x) is None


def test_isolate_needs_an_importable_adapter():
    def local(x, p, training=True):
        return x

    with pytest.raises(ValueError, match="isolate=True needs an adapter another process"):
        open_session(local, RunConfig(), isolate=True)


def test_in_process_is_the_default_and_a_bad_spec_is_a_load_failure():
    session = open_session(correct, RunConfig(level="quick"), isolate=False)
    assert isinstance(session, InProcessSession)
    assert session.info.name == "correct"
    with pytest.raises(LoadFailed, match="no_such"):
        open_session("conformance.mutants.core:no_such", RunConfig(), isolate=False)
