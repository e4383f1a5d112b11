"""A session in the caller's process: every check, statistical ones too, calls the
implementation here and shares one run cache of draws."""

from __future__ import annotations

from conformance.config import RunConfig
from conformance.engine import InProcessSession
from conformance.results import CheckResult, Verdict


def test_checks_run_here_and_share_the_draws():
    calls = []

    def counted(x, p, training=True, seed=None):
        from conformance.mutants.core import correct

        calls.append(p)
        return correct(x, p, training, seed=seed)

    session = InProcessSession(counted, RunConfig(level="quick"))
    first = session.run("drop-rate")
    assert isinstance(first, CheckResult) and first.verdict == Verdict.PASS
    drawn = len(calls)
    assert first.decisions > 0 and drawn > 0
    again = session.run("rate-homogeneity")  # reads the same settings: no new calls
    # (its decisions are those of the settings it read, drawn once for both)
    assert again.verdict == Verdict.PASS and len(calls) == drawn and again.decisions > 0
    session.close()
    assert session._run_cache == {}
