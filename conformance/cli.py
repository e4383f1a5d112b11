"""``dropout2d-conformance``: run the battery and write reports.

Exit codes: 0 every adapter conformant, 1 some adapter not conformant, 2 usage or
configuration error (checked before anything runs: options, the report directory, every
adapter spec), 130 interrupted by SIGINT and 143 by SIGTERM (``run`` still writes the checks
that finished, marked ``complete: false``; a second signal exits at once).

Every implementation under test runs in supervised worker processes (conformance.engine):
nothing it does can end this process or fake its exit code.  Heavy modules are imported inside
the commands that need them, so ``--help``, ``list`` and ``checks`` answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import conformance._self  # noqa: F401  (first: a folder named conformance must not shadow us)
from conformance import __version__
from conformance.defaults import (
    FAMILY_ALPHA,
    FAMILY_ALPHA_TYPE,
    LEVEL_NAMES,
    POSITIVE_INT_TYPE,
    SEED_TYPE,
    add_shared_run_options,
)

EXIT_OK, EXIT_NONCONFORMANT, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
SIGNAL_EXIT = {signal.SIGINT: EXIT_INTERRUPTED, signal.SIGTERM: EXIT_TERMINATED}


class UsageError(Exception):
    """A problem with the command line or the environment, found before anything runs."""


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--adapter",
        action="append",
        metavar="SPEC",
        help="registered name, module:attr or path/to/file.py:attr (repeatable; default: "
        "the reference plus every installed framework)",
    )
    add_shared_run_options(p.add_argument)
    p.add_argument("--out", default="reports", help="report directory (default reports/)")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.add_argument(
        "--jobs", "-j",
        type=POSITIVE_INT_TYPE,
        default=None,
        help="adapters run at once, each in its own worker (default: the number of cores, "
        "at most the number of adapters); verdicts do not depend on it",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dropout2d-conformance",
        description="Statistical conformance suite for channel-wise dropout (Dropout2d).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run_options(sub.add_parser("run", help="run the battery and write reports"))
    sub.add_parser("list", help="list registered adapters and whether their framework is "
                   "installed (nothing is imported)")
    sub.add_parser("checks", help="list the check ids with their requirements")
    _add_report_commands(sub)
    _add_self_commands(sub)
    return parser


# --- the suite measured on itself: selftest, calibrate, power ---------------------------------


def _add_self_commands(sub: argparse._SubParsersAction) -> None:
    levels = list(LEVEL_NAMES)
    st = sub.add_parser("selftest", help="run the gallery of faulty implementations: kill matrix")
    st.add_argument("--level", choices=levels, default="default")
    st.add_argument("--seed", type=SEED_TYPE, default=0)
    st.add_argument("--mutant", action="append", metavar="NAME", help="only these mutants")
    st.add_argument("--out", default="reports", help="writes selftest.json here")
    cal = sub.add_parser("calibrate", help="false-alarm rate of an adapter across seeds")
    cal.add_argument("--adapter", default="reference", metavar="SPEC")
    cal.add_argument("--runs", type=POSITIVE_INT_TYPE, default=10)
    cal.add_argument("--level", choices=levels, default="default")
    cal.add_argument("--first-seed", type=SEED_TYPE, default=1)
    cal.add_argument("--family-alpha", type=FAMILY_ALPHA_TYPE, default=FAMILY_ALPHA)
    cal.add_argument("--out", default="reports", help="writes calibration.json here")
    pw = sub.add_parser("power", help="MDE, sample size and expected time per check and level")
    pw.add_argument("--level", action="append", choices=levels, help="default: every level")
    pw.add_argument("--adapter", default="reference", metavar="SPEC",
                    help="whose drawing speed gives the expected time (default reference)")


def _write_json_file(out: str, name: str, data: dict) -> Path:
    from conformance.report import atomic_write

    path = Path(out) / name
    atomic_write(path, json.dumps(data, indent=2, allow_nan=False) + "\n")
    return path


def cmd_selftest(args: argparse.Namespace) -> int:
    from conformance.mutants import MUTANTS
    from conformance.selftest import format_matrix, selftest

    unknown = sorted(set(args.mutant or ()) - set(MUTANTS))
    if unknown:
        raise UsageError(f"unknown mutant(s) {unknown}; known: {sorted(MUTANTS)}")
    _writable_dir(args.out)

    def progress(name: str, caught: tuple) -> None:
        print(f"  {name:<28} {'caught by ' + ', '.join(caught) if caught else 'not caught'}",
              file=sys.stderr)

    result = selftest(args.level, seed=args.seed, names=args.mutant, progress=progress)
    print(format_matrix(result))
    from conformance.report import atomic_write
    from conformance.report.html import render_selftest_html

    html = render_selftest_html(result)  # rendered before anything is written
    print(f"report: {_write_json_file(args.out, 'selftest.json', result)}")
    html_path = Path(args.out) / "selftest.html"
    atomic_write(html_path, html)
    print(f"report: {html_path}")
    return EXIT_OK if result["ok"] else EXIT_NONCONFORMANT


def cmd_calibrate(args: argparse.Namespace) -> int:
    from conformance.calibration import calibrate

    _writable_dir(args.out)

    def progress(seed: int, alarms: list) -> None:
        print(f"  seed {seed}: {'false alarm in ' + ', '.join(alarms) if alarms else 'ok'}",
              file=sys.stderr)

    try:
        result = calibrate(args.adapter, runs=args.runs, level=args.level,
                           first_seed=args.first_seed, family_alpha=args.family_alpha,
                           progress=progress).to_dict()
    except ValueError as exc:  # the adapter does not load
        raise UsageError(str(exc)) from None
    lo, hi = result["family_ci95"]
    last = args.first_seed + args.runs - 1
    print(f"{result['adapter']} at {args.level}, seeds {args.first_seed}..{last}:"
          f" {result['family_alarms']} of {args.runs} runs with a false alarm "
          f"(95% CI {lo:.3g}..{hi:.3g}; budget F = {args.family_alpha:g})")
    for cid, row in result["checks"].items():
        alpha = f"{row['alpha']:.3g}" if row["alpha"] is not None else "-"
        print(f"  {cid:<26} {row['alarms']:>3} alarms  95% CI {row['ci95'][0]:.3g}.."
              f"{row['ci95'][1]:.3g}  alpha {alpha}")
    print(f"report: {_write_json_file(args.out, 'calibration.json', result)}")
    # a correct adapter whose false alarms exceed the budget beyond doubt is a suite failure
    return EXIT_OK if result["consistent_with_budget"] else EXIT_NONCONFORMANT


def cmd_power(args: argparse.Namespace) -> int:
    from conformance.adapters.registry import load_adapter
    from conformance.power import format_plan

    # Timing the adapter's draws means calling it here; `power` decides no verdict.
    print(format_plan(args.level or list(LEVEL_NAMES), load_adapter(args.adapter)))
    return EXIT_OK


# --- reports: merge and re-render ---------------------------------------------------------------


def _add_report_commands(sub: argparse._SubParsersAction) -> None:
    merge = sub.add_parser("merge", help="merge several JSON reports into one matrix "
                           "(exit 0 once the matrix is written; the verdicts are in it)")
    merge.add_argument("reports", nargs="+", metavar="REPORT.json")
    report = sub.add_parser("report", help="re-render the HTML (and JSON) of a JSON report; "
                            "the verdict is derived again from its checks")
    report.add_argument("report", metavar="REPORT.json")
    report.add_argument("--markdown", metavar="FILE",
                        help="also write the matrix and findings as Markdown ('-': stdout)")
    for p in (merge, report):
        p.add_argument("--out", default="reports", help="report directory (default reports/)")
        p.add_argument("--quiet", action="store_true", help="print only the report paths")


def _write_and_summarise(report: dict, out: str, console: Any) -> int:
    """Write JSON and HTML, print the summary and the paths; the exit code for the verdict."""
    from conformance.report import ReportError, write_json, write_reports

    try:
        paths = write_reports(report, Path(out))
    except (ReportError, OSError) as exc:
        print(f"error: cannot write the report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug in the HTML renderer must not cost the results
        print(f"error: no HTML report ({type(exc).__name__}: {exc}); JSON only", file=sys.stderr)
        paths = [write_json(report, Path(out))]
    if console is not None:
        console.summary(report["adapters"])
    for path in paths:
        print(f"report: {path}")
    return EXIT_OK if report["conformant"] else EXIT_NONCONFORMANT


def _summary_console(args: argparse.Namespace) -> Any:
    from conformance.console import Console

    return None if args.quiet else Console(sys.stderr, summary_stream=sys.stdout)


def cmd_merge(args: argparse.Namespace) -> int:
    from conformance.report import ReportError, load_report, merge_reports

    try:
        reports = [load_report(p) for p in args.reports]
        merged = merge_reports(reports, labels=list(args.reports))
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    _writable_dir(args.out)
    code = _write_and_summarise(merged, args.out, _summary_console(args))
    # The matrix is the product of `merge`: a non-conformant adapter in it is a finding that the
    # report carries, not a failure of merging (a tox matrix goes green when every env ran).
    return EXIT_USAGE if code == EXIT_USAGE else EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from conformance.report import ReportError, atomic_write, load_report
    from conformance.report.jsonreport import rederive_verdicts

    try:
        report = rederive_verdicts(load_report(args.report))
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    _writable_dir(args.out)
    if args.markdown:
        from conformance.report.markdown import render_markdown

        text = render_markdown(report)
        if args.markdown == "-":
            sys.stdout.write(text)
        else:
            atomic_write(Path(args.markdown), text)
    return _write_and_summarise(report, args.out, _summary_console(args))


# --- run ----------------------------------------------------------------------------------------


def _writable_dir(out: str) -> Path:
    """The report directory, created and proven writable now, before any work is done."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".dropout2d-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"--out {out!r} is not a writable directory: "
                         f"{exc.strerror or exc}") from None
    return path.resolve()


class _Signals:
    """First SIGINT/SIGTERM: stop the workers and keep what finished; second: exit at once."""

    def __init__(self, stop: Any) -> None:
        self.stop = stop
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for sig in SIGNAL_EXIT:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: object) -> None:
        if self.received is not None:
            os._exit(SIGNAL_EXIT.get(signal.Signals(signum), EXIT_INTERRUPTED))
        self.received = signum
        print(f"\n{signal.Signals(signum).name}: stopping the workers; the report keeps the "
              "checks that finished (again to exit at once)", file=sys.stderr)
        self.stop()


def cmd_run(args: argparse.Namespace) -> int:
    from conformance.adapters.registry import default_specs, left_out_by_default
    from conformance.battery import check_ids
    from conformance.config import run_config
    from conformance.console import Console
    from conformance.engine import LoadFailed, Supervisor, not_run
    from conformance.report import build_report

    try:
        config = run_config(level=args.level, seed=args.seed, checks=args.check,
                            family_alpha=args.family_alpha, timeout_scale=args.timeout_scale)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    out = _writable_dir(args.out)  # before the battery, so no verdict is lost to a bad --out
    specs = list(dict.fromkeys(args.adapter or default_specs()))
    ids = check_ids(config.checks)
    jobs = args.jobs or min(len(specs), os.cpu_count() or 1)
    console = Console(sys.stderr, quiet=args.quiet, summary_stream=sys.stdout)
    console.opening(adapters=specs, level=config.level, seed=config.seed, n_checks=len(ids),
                    jobs=min(jobs, len(specs)),
                    left_out=() if args.adapter else left_out_by_default())
    supervisor = Supervisor(specs, config, jobs=jobs, gateway=args.gateway,
                            progress=console.progress)
    with _Signals(supervisor.stop) as signals:
        console.loading(specs)
        try:
            supervisor.load()
        except LoadFailed as exc:
            console.close()
            raise UsageError(exc.message) from None
        for session in supervisor.sessions:
            info = session.info
            assert info is not None  # (loaded)
            about = f"{info.framework} {info.framework_version}".strip()
            console.expect(info.name, len(ids), spec=session.spec,
                           about=f"{about} on {info.device or 'cpu'}")
        runs = [] if supervisor.stopped else supervisor.run(ids)
        console.close()
        if supervisor.stopped and not runs:
            runs = [not_run(s) for s in supervisor.sessions]
        complete = not supervisor.stopped and all(r.complete for r in runs)
        report = build_report(runs, config.as_dict(), complete=complete, expected=ids)
        code = _write_and_summarise(report, str(out), console)
    if signals.received is not None:
        print("stopped: the report holds the checks that finished (complete: false)",
              file=sys.stderr)
        return SIGNAL_EXIT[signal.Signals(signals.received)]
    return code


def cmd_list(args: argparse.Namespace) -> int:
    """Registered adapters and whether their framework is installed, from package metadata:
    nothing is imported, so a broken adapter cannot break the listing."""
    from conformance.adapters.registry import describe_registered

    for name, target, status in describe_registered():
        print(f"{name:<22} {target:<62} {status}")
    return EXIT_OK


def cmd_checks(args: argparse.Namespace) -> int:
    from conformance.battery import battery

    for check in battery():
        print(f"{check.id:<26} {check.requirement:<13} {check.kind:<14} {check.title}")
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "list": cmd_list,
    "checks": cmd_checks,
    "merge": cmd_merge,
    "report": cmd_report,
    "selftest": cmd_selftest,
    "calibrate": cmd_calibrate,
    "power": cmd_power,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from conformance.errors import SpecError

    try:
        return COMMANDS[args.command](args)
    except (UsageError, SpecError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `... | head`: the reader left; nothing more to say
        sys.stderr.close()
        return EXIT_OK
