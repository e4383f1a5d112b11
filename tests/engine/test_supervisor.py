"""Running a battery on sessions, and several adapters at once."""

from __future__ import annotations

import json

from conformance.config import RunConfig
from conformance.engine import InProcessSession, Stopped, Supervisor, not_run, run_session
from conformance.results import AdapterVerdict


def test_run_session_gives_a_typed_result_in_battery_order():
    events = []
    session = InProcessSession("reference", RunConfig(level="quick"))
    result = run_session(session, ["p-zero", "p-one"],
                         progress=lambda name, cid, event: events.append((cid, event)))
    assert [c.id for c in result.checks] == ["p-zero", "p-one"]
    assert result.verdict == AdapterVerdict.CONFORMANT and result.complete
    assert events == [("p-zero", "start"), ("p-zero", "pass"), ("p-one", "start"),
                      ("p-one", "pass")]


def test_a_stop_keeps_what_finished_and_marks_the_run_incomplete():
    class StopsSecond(InProcessSession):
        def run(self, check_id):
            if check_id == "p-one":
                raise Stopped()
            return super().run(check_id)

    result = run_session(StopsSecond("reference", RunConfig(level="quick")), ["p-zero", "p-one"])
    assert [c.id for c in result.checks] == ["p-zero"] and not result.complete
    assert result.verdict == AdapterVerdict.INCOMPLETE


def test_an_adapter_stopped_before_it_loaded_says_so():
    supervisor = Supervisor(["reference"], RunConfig(level="quick"))
    result = not_run(supervisor.sessions[0])
    assert result.load_error == "the run was stopped before this adapter was loaded"
    assert result.verdict == AdapterVerdict.NOT_CONFORMANT


def test_two_adapters_at_once_in_workers():
    supervisor = Supervisor(["reference", "conformance.mutants.core:correct"],
                            RunConfig(level="quick"), jobs=2)
    supervisor.load()
    results = supervisor.run(["p-one", "expectation"])
    assert [r.info.spec for r in results] == ["reference", "conformance.mutants.core:correct"]
    assert all(r.conformant for r in results)


def test_the_longest_run_is_scheduled_first_and_results_keep_the_given_order(tmp_path,
                                                                               monkeypatch):
    """Two jobs finish together when the longest runs start first; a run remembers how long
    each adapter took (per level and checks), and one never seen goes first of all."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    specs = ["reference", "conformance.mutants.core:correct", "torch"]
    ids = ["p-one", "expectation"]
    supervisor = Supervisor(specs, RunConfig(level="quick"), jobs=2)
    assert supervisor.schedule(ids) == [0, 1, 2]  # nothing known: as given
    supervisor.load()
    results = supervisor.run(ids)
    assert [r.info.spec for r in results] == specs
    kept = json.loads((tmp_path / "dropout2d-conformance" / "durations.json").read_text())
    assert len(kept) == 3 and all(v > 0 for v in kept.values())
    key = {spec: k for k in kept for spec in specs if k.startswith(spec + " ")}
    kept[key["reference"]], kept[key["torch"]] = 100.0, 1.0
    kept[key["conformance.mutants.core:correct"]] = 50.0
    (tmp_path / "dropout2d-conformance" / "durations.json").write_text(json.dumps(kept))
    assert Supervisor(specs, RunConfig(level="quick"), jobs=2).schedule(ids)[0] == 0
    assert Supervisor(specs, RunConfig(level="quick"), jobs=2).schedule(ids)[-1] == 2
    unseen = Supervisor([*specs, "conformance.mutants.core:correct_unseeded"],
                        RunConfig(level="quick"), jobs=2)
    assert unseen.schedule(ids)[0] == 3


def test_the_kept_durations_are_the_most_recent_and_bounded(tmp_path, monkeypatch):
    """Every spec ever run (a test's temporary path too) would otherwise stay in the file."""
    from conformance.engine import supervisor as sup

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(sup, "_KEEP_DURATIONS", 3)
    for i in range(5):
        sup._remember({f"a{i} quick x": float(i)})
    sup._remember({"a2 quick x": 9.0})  # run again: now among the most recent
    sup._remember({"a5 quick x": 5.0})
    assert sup._durations() == {"a4 quick x": 4.0, "a2 quick x": 9.0, "a5 quick x": 5.0}
