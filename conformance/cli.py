"""``dropout2d-conformance``: run the battery and write reports (DESIGN.md section 6).

Exit codes: 0 every adapter conformant, 1 some adapter not conformant, 2 usage or
configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance import __version__, battery
from conformance.adapters.registry import default_specs, registered, try_load
from conformance.errors import SpecError
from conformance.report import build_report, write_json
from conformance.results import AdapterResult
from conformance.runner import RunConfig, Runner

EXIT_OK, EXIT_NONCONFORMANT, EXIT_USAGE = 0, 1, 2


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
    return parser


def _print_summary(results: list[AdapterResult]) -> None:
    out = sys.stdout
    for res in results:
        verdict = "CONFORMANT" if res.conformant else "NOT CONFORMANT"
        print(f"{res.info['name']}: {verdict}", file=out)
        for c in res.checks:
            if c.verdict.value != "pass":
                print(f"  {c.verdict.value.upper():5} {c.id}: {c.message}", file=out)


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
    )

    def progress(adapter: str, check_id: str, event: str) -> None:
        if not args.quiet and event != "start":
            print(f"  {adapter:>16}  {check_id:<26} {event}", file=sys.stderr)

    runner = Runner(config, progress=progress)
    # Load every adapter first: a bad spec is a usage error before any work is done.
    adapters = []
    for spec in specs:
        adapter, reason = try_load(spec)
        if adapter is None:
            print(f"error: {reason}", file=sys.stderr)
            return EXIT_USAGE
        adapters.append(adapter)
    results = [runner.run_adapter(a) for a in adapters]
    report = build_report(results, config.as_dict())
    path = write_json(report, Path(args.out))
    _print_summary(results)
    print(f"report: {path}")
    return EXIT_OK if report["conformant"] else EXIT_NONCONFORMANT


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


COMMANDS = {"run": cmd_run, "list": cmd_list, "checks": cmd_checks}


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
        return 130
