"""``dropout2d-conformance``: run the battery and write reports (DESIGN.md section 6).

Exit codes: 0 every adapter conformant, 1 some adapter not conformant, 2 usage or
configuration error (a bad report file for ``merge`` and ``report``), 130 interrupted (``run``
still writes the checks that finished, marked ``complete: false``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance import __version__, battery
from conformance.adapters.registry import default_specs, load_adapter, registered, try_load
from conformance.console import Console
from conformance.errors import SpecError
from conformance.report import (
    ReportError,
    atomic_write,
    build_report,
    load_report,
    merge_reports,
    write_json,
    write_reports,
)
from conformance.results import AdapterResult
from conformance.runner import RunConfig, Runner

EXIT_OK, EXIT_NONCONFORMANT, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {text}")
    return value


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--adapter",
        action="append",
        metavar="SPEC",
        help="registered name, module:attr or path/to/file.py:attr (repeatable; default: "
        "the reference plus every installed framework)",
    )
    p.add_argument("--level", choices=list(battery.LEVELS), default="default")
    p.add_argument("--seed", type=int, default=0, help="global seed (default 0)")
    p.add_argument(
        "--family-alpha",
        type=_probability,
        default=battery.FAMILY_ALPHA,
        help="family-wise false-alarm rate of one adapter's run (default %(default)g)",
    )
    p.add_argument(
        "--check", action="append", metavar="ID", help="run only these check ids (repeatable)"
    )
    p.add_argument("--out", default="reports", help="report directory (default reports/)")
    p.add_argument("--quiet", action="store_true", help="print only the summary")
    p.add_argument(
        "--timeout-scale",
        type=float,
        default=1.0,
        help="multiply every check's timeout (default 1: 120 s deterministic, 600 s "
        "statistical); raise it for slow adapters such as torch-compile",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dropout2d-conformance",
        description="Statistical conformance suite for channel-wise dropout (Dropout2d).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run_options(sub.add_parser("run", help="run the battery and write reports"))
    sub.add_parser("list", help="list registered adapters and whether each loads")
    sub.add_parser("checks", help="list the check ids with their requirements")
    _add_report_commands(sub)
    _add_self_commands(sub)
    return parser


# --- the suite measured on itself: selftest, calibrate, power ---------------------------------


def _add_self_commands(sub: argparse._SubParsersAction) -> None:
    levels = list(battery.LEVELS)
    st = sub.add_parser("selftest", help="run the gallery of faulty implementations: kill matrix")
    st.add_argument("--level", choices=levels, default="default")
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--mutant", action="append", metavar="NAME", help="only these mutants")
    st.add_argument("--out", default="reports", help="writes selftest.json here")
    cal = sub.add_parser("calibrate", help="false-alarm rate of an adapter across seeds")
    cal.add_argument("--adapter", default="reference", metavar="SPEC")
    cal.add_argument("--runs", type=int, default=10)
    cal.add_argument("--level", choices=levels, default="default")
    cal.add_argument("--first-seed", type=int, default=1)
    cal.add_argument("--family-alpha", type=_probability, default=battery.FAMILY_ALPHA)
    cal.add_argument("--out", default="reports", help="writes calibration.json here")
    pw = sub.add_parser("power", help="MDE, sample size and expected time per check and level")
    pw.add_argument("--level", action="append", choices=levels, help="default: every level")
    pw.add_argument("--adapter", default="reference", metavar="SPEC",
                    help="whose drawing speed gives the expected time (default reference)")


def _write_json_file(out: str, name: str, data: dict) -> Path:
    path = Path(out) / name
    atomic_write(path, json.dumps(data, indent=2, allow_nan=False) + "\n")
    return path


def cmd_selftest(args: argparse.Namespace) -> int:
    from conformance.mutants import MUTANTS
    from conformance.selftest import format_matrix, selftest

    unknown = sorted(set(args.mutant or ()) - set(MUTANTS))
    if unknown:
        print(f"error: unknown mutant(s) {unknown}; known: {sorted(MUTANTS)}", file=sys.stderr)
        return EXIT_USAGE

    def progress(name: str, caught: tuple) -> None:
        print(f"  {name:<28} {'caught by ' + ', '.join(caught) if caught else 'not caught'}",
              file=sys.stderr)

    result = selftest(args.level, seed=args.seed, names=args.mutant, progress=progress)
    print(format_matrix(result))
    from conformance.report.html import render_selftest_html

    html = render_selftest_html(result)  # rendered before anything is written
    print(f"report: {_write_json_file(args.out, 'selftest.json', result)}")
    html_path = Path(args.out) / "selftest.html"
    atomic_write(html_path, html)
    print(f"report: {html_path}")
    return EXIT_OK if result["ok"] else EXIT_NONCONFORMANT


def cmd_calibrate(args: argparse.Namespace) -> int:
    from conformance.calibration import calibrate

    if args.runs < 1:
        print("error: --runs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    adapter = load_adapter(args.adapter)

    def progress(seed: int, alarms: list) -> None:
        print(f"  seed {seed}: {'false alarm in ' + ', '.join(alarms) if alarms else 'ok'}",
              file=sys.stderr)

    result = calibrate(adapter, runs=args.runs, level=args.level, first_seed=args.first_seed,
                       family_alpha=args.family_alpha, progress=progress).to_dict()
    lo, hi = result["family_ci95"]
    last = args.first_seed + args.runs - 1
    print(f"{adapter.name} at {args.level}, seeds {args.first_seed}..{last}:"
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
    from conformance.planning import decision_cost, plan

    adapter = load_adapter(args.adapter)
    per_call, per_decision = decision_cost(adapter)
    print(f"expected times from {adapter.name}: {per_call * 1e6:.0f} us per call + "
          f"{per_decision * 1e9:.0f} ns per channel decision (through the harness, statistics "
          f"not included); F = {battery.FAMILY_ALPHA:g}, beta = {battery.BETA:g}")
    print(f"{'level':<9} {'check':<26} {'subtests':>8} {'decisions':>12} {'calls':>6} "
          f"{'MDE':>9}  {'unit':<24} {'time s':>7}")
    for level in args.level or list(battery.LEVELS):
        total = 0.0
        for row in plan(level):
            seconds = row["calls"] * per_call + row["decisions"] * per_decision
            total += seconds
            print(f"{level:<9} {row['check']:<26} {row['subtests']:>8} {row['decisions']:>12,} "
                  f"{row['calls']:>6} {row['mde']:>9.4g}  {row['unit']:<24} {seconds:>7.2f}")
        print(f"{level:<9} {'(all statistical checks)':<26} {'':>8} {'':>12} {'':>6} {'':>9}  "
              f"{'':<24} {total:>7.2f}")
    return EXIT_OK


# --- reports: merge and re-render (exit 0/1 as for run, 2 for a bad input file) ------------


def _add_report_commands(sub: argparse._SubParsersAction) -> None:
    merge = sub.add_parser("merge", help="merge several JSON reports into one matrix")
    merge.add_argument("reports", nargs="+", metavar="REPORT.json")
    report = sub.add_parser("report", help="re-render the HTML (and JSON) of a JSON report")
    report.add_argument("report", metavar="REPORT.json")
    report.add_argument("--markdown", metavar="FILE",
                        help="also write the matrix and findings as Markdown ('-': stdout)")
    for p in (merge, report):
        p.add_argument("--out", default="reports", help="report directory (default reports/)")
        p.add_argument("--quiet", action="store_true", help="print only the report paths")


def _write_and_summarise(report: dict, out: str, console: Console | None) -> int:
    """Write JSON and HTML, print the summary and the paths; the exit code for the verdict."""
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


def _summary_console(args: argparse.Namespace) -> Console | None:
    return None if args.quiet else Console(sys.stderr, summary_stream=sys.stdout)


def cmd_merge(args: argparse.Namespace) -> int:
    try:
        reports = [load_report(p) for p in args.reports]
        merged = merge_reports(reports, labels=list(args.reports))
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return _write_and_summarise(merged, args.out, _summary_console(args))


def cmd_report(args: argparse.Namespace) -> int:
    try:
        report = load_report(args.report)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.markdown:
        from conformance.report.markdown import render_markdown

        text = render_markdown(report)
        if args.markdown == "-":
            sys.stdout.write(text)
        else:
            atomic_write(Path(args.markdown), text)
    return _write_and_summarise(report, args.out, _summary_console(args))


def _run_adapters(runner: Runner, adapters: list, console: Console) -> tuple[list, bool]:
    """Run adapters one by one; on Ctrl-C keep what finished (True: interrupted).

    The adapter running when Ctrl-C came keeps its finished checks and is marked incomplete;
    adapters not started appear with no checks, also incomplete.
    """
    entries: list[dict] = []
    for i, adapter in enumerate(adapters):
        console.expect(adapter.name, len(runner.checks()))
        done: list = []
        try:
            entries.append(runner.run_adapter(adapter, on_result=done.append).to_dict())
        except KeyboardInterrupt:
            for a, checks in [(adapter, done)] + [(b, []) for b in adapters[i + 1 :]]:
                entry = AdapterResult(info=a.info(), checks=tuple(checks)).to_dict()
                entries.append({**entry, "complete": False})
            return entries, True
    return entries, False


def cmd_run(args: argparse.Namespace) -> int:
    specs = args.adapter or default_specs()
    if args.check:
        try:
            battery.battery(args.check)
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            return EXIT_USAGE
    config = RunConfig(
        level=args.level,
        seed=args.seed,
        family_alpha=args.family_alpha,
        checks=tuple(args.check or ()),
        timeout_scale=args.timeout_scale,
    )

    console = Console(sys.stderr, quiet=args.quiet, summary_stream=sys.stdout)
    runner = Runner(config, progress=console.progress)
    # Load every adapter first: a bad spec is a usage error before any work is done.
    adapters = []
    for spec in specs:
        adapter, reason = try_load(spec)
        if adapter is None:
            print(f"error: {reason}", file=sys.stderr)
            return EXIT_USAGE
        adapters.append(adapter)
    entries, interrupted = _run_adapters(runner, adapters, console)
    console.close()
    report = build_report(entries, config.as_dict(), complete=not interrupted)
    code = _write_and_summarise(report, args.out, console)
    if interrupted:
        print("interrupted: the report holds the checks that finished (complete: false)",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


def cmd_list(args: argparse.Namespace) -> int:
    for name, target in registered().items():
        adapter, reason = try_load(name)
        status = f"ok ({adapter.framework} {adapter.framework_version})" if adapter else reason
        print(f"{name:<14} {target:<60} {status.splitlines()[0]}")
    return EXIT_OK


def cmd_checks(args: argparse.Namespace) -> int:
    for check in battery.battery():
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
    try:
        return COMMANDS[args.command](args)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
