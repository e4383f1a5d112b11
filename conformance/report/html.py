"""The HTML report: one self-contained file (inline CSS, inline SVG plots, no script, no network).

``render_html(report)`` turns a validated report dict into a page: the verdict first, then a
matrix of checks by adapters (each requirement's text on its rows and in a contract table with the
checks that enforce it), the implementation-defined findings side by side, each adapter's
failures grouped by root cause and its checks in collapsible detail (with plots where the
sub-tests carry plot data), and the environment and configuration.  Every string from the
report is escaped by jinja2's autoescape; the only markup inserted verbatim is the SVG that
:mod:`conformance.report.plots` draws.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from conformance.contract import (
    IMPL_DEFINED,
    IMPLEMENTATION_DEFINED,
    IMPLEMENTATION_DEFINED_CHECKS,
    REQUIREMENTS,
    requirement_text,
)
from conformance.report import plots
from conformance.report.jsonreport import adapter_verdict, report_verdict
from conformance.results import AdapterVerdict, CheckResult, Verdict, group_by_root_cause

__all__ = ["FINDING_LABELS", "finding_label", "render_html", "render_selftest_html"]

VERDICT_SYMBOL = {Verdict.PASS: "✓", Verdict.FAIL: "✗", Verdict.SKIP: "–", Verdict.ERROR: "!"}
VERDICTS = tuple(v.value for v in Verdict)
TITLE_MAX = 300
#: an adapter's failing checks start expanded when there are at most this many
OPEN_MAX = 10


# --- number formatting -----------------------------------------------------------------------


def _finite(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def fmt_p(x: Any) -> str:
    """A p-value or an alpha: 3 significant digits, scientific below 1e-3."""
    v = _finite(x)
    if v is None:
        return "—"
    if v == 0:
        return "0"
    return f"{v:.3g}" if v >= 1e-3 else f"{v:.2e}"


def fmt_num(x: Any, digits: int = 4) -> str:
    v = _finite(x)
    if v is None:
        return "—"
    if v != 0 and (abs(v) < 1e-4 or abs(v) >= 1e6):
        return f"{v:.{max(digits - 1, 1)}e}"
    return f"{v:.{digits}g}"


def fmt_int(x: Any) -> str:
    v = _finite(x)
    if v is None:
        return "—"
    return f"{int(v):,}".replace(",", "\u202f")


def fmt_ci(ci: Any) -> str:
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return ""
    return f"[{fmt_num(ci[0])}, {fmt_num(ci[1])}]"


def fmt_duration(x: Any) -> str:
    v = _finite(x)
    if v is None:
        return ""
    if v < 0.01:
        return "<0.01 s"
    return f"{v:.2f} s" if v < 10 else f"{v:.1f} s"


def fmt_value(v: Any) -> str:
    """A finding's value as short text: lists joined, dicts as key: value, empty as 'none'."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, (list, tuple)):
        return ", ".join(fmt_value(x) for x in v) if v else "none"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {fmt_value(x)}" for k, x in v.items()) if v else "none"
    if isinstance(v, float):
        return fmt_num(v)
    return str(v)


def _truncate(text: str, limit: int = TITLE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the view model ----------------------------------------------------------------------------


_CSS = {AdapterVerdict.CONFORMANT: "pass", AdapterVerdict.NOT_CONFORMANT: "fail",
        AdapterVerdict.INCOMPLETE: "incomplete"}


def _verdict(label: str) -> tuple[str, str]:
    return label, _CSS.get(label, "incomplete")


def _labels(entries: Sequence[dict[str, Any]]) -> list[str]:
    """Display labels, unique: the merged report's label, else the name (numbered if repeated)."""
    labels = [str(e.get("label") or e.get("name") or "adapter") for e in entries]
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        if counts[label] > 1:
            seen[label] = seen.get(label, 0) + 1
            out.append(f"{label} #{seen[label]}")
        else:
            out.append(label)
    return out


def _primary(subtests: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The decisive sub-test: the smallest p-value relative to its alpha."""
    best, key = None, math.inf
    for s in subtests:
        p, a = _finite(s.get("p_value")), _finite(s.get("alpha"))
        if p is None:
            continue
        k = p / a if a else p
        if k < key:
            best, key = s, k
    return best


def _stat_fields(record: dict[str, Any], *, estimate: str) -> dict[str, str]:
    """A check's or a sub-test's statistics as text; ``estimate`` names the key of its point
    estimate (a check's ``observed``, a sub-test's ``estimate``)."""
    return {
        "statistic": fmt_num(record.get("statistic")),
        "p_value": fmt_p(record.get("p_value")),
        "alpha": fmt_p(record.get("alpha")),
        "n": fmt_int(record.get("n")),
        "mde": fmt_num(record.get("mde"), 3),
        estimate: fmt_num(record.get(estimate)),
        "ci": fmt_ci(record.get("ci")),
    }


def _subtest_view(s: dict[str, Any]) -> dict[str, Any]:
    detail = s.get("detail") if isinstance(s.get("detail"), dict) else {}
    setting = detail.get("setting")
    extra = {
        k: fmt_value(v)
        for k, v in detail.items()
        if k not in ("setting", "rates", "trials", "observed", "expected", "bin_edges", "edges",
                     "table", "beta", "p")
        and not isinstance(v, (list, dict))
    }
    return {
        "test": str(s.get("test", "")),
        "setting": str(setting) if setting is not None else "",
        **_stat_fields(s, estimate="estimate"),
        "reject": bool(s.get("reject")),
        "extra": " · ".join(f"{k.replace('_', ' ')} {v}" for k, v in list(extra.items())[:8]),
    }


def _check_view(
    check: dict[str, Any], anchor: str, with_plots: bool, open_failures: bool = True
) -> dict[str, Any]:
    verdict = Verdict.parse(check.get("verdict")).value
    subtests = [s for s in check.get("subtests") or () if isinstance(s, dict)]
    statistical = check.get("kind") == "statistical"
    primary = _primary(subtests)
    figures: list[Markup] = []
    if with_plots and statistical and subtests:
        for make in (plots.effect_figure, plots.position_rates_figure, plots.dropcount_figure):
            svg = make(check)
            if svg:
                figures.append(Markup(svg))  # drawn by us; matplotlib escapes its text
    findings = check.get("findings") if isinstance(check.get("findings"), dict) else {}
    return {
        "anchor": anchor,
        "id": str(check.get("id", "?")),
        "requirement": str(check.get("requirement", "")),
        "kind": str(check.get("kind", "")),
        "verdict": verdict,
        "symbol": VERDICT_SYMBOL.get(verdict, "?"),
        "message": str(check.get("message", "")),
        "title": _truncate(str(check.get("message", ""))),
        "duration": fmt_duration(check.get("duration_s")),
        "seed": check.get("seed"),
        "reproduce": str(check.get("reproduce", "")),
        "warnings": [str(w) for w in check.get("warnings") or ()],
        "decisions": fmt_int(check.get("decisions")) if check.get("decisions") else "",
        "findings": [(finding_label(str(k)), fmt_value(v)) for k, v in findings.items()],
        "statistical": statistical,
        "stats": _stat_fields(check, estimate="observed") if statistical else None,
        "primary": {
            "setting": str((primary.get("detail") or {}).get("setting", "")),
            "test": str(primary.get("test", "")),
            "p_value": fmt_p(primary.get("p_value")),
            "alpha": fmt_p(primary.get("alpha")),
        }
        if primary
        else None,
        "subtests": [_subtest_view(s) for s in subtests],
        "rejected": sum(1 for s in subtests if s.get("reject")),
        "plots": figures,
        "open": not Verdict.parse(verdict).ok and open_failures,
        "root_cause": str(check.get("root_cause", "")) if not Verdict.parse(verdict).ok else "",
    }


def _adapter_view(
    entry: dict[str, Any],
    index: int,
    label: str,
    sources: Sequence[dict[str, Any]],
    with_plots: bool = True,
) -> dict[str, Any]:
    anchor = f"a{index}"
    checks = [c for c in entry.get("checks") or () if isinstance(c, dict)]
    caps = entry.get("capabilities") or {}
    flags = [k for k in ("inplace", "seed", "autograd", "three_d") if caps.get(k) is True]
    dtypes = caps.get("dtypes") or []
    summary = {v: int((entry.get("summary") or {}).get(v, 0)) for v in VERDICTS}
    source = entry.get("source")
    source_label = None
    if isinstance(source, int) and 0 <= source < len(sources):
        source_label = str(sources[source].get("label", f"run {source + 1}"))
    bad = summary[Verdict.FAIL] + summary[Verdict.ERROR]
    view = {
        "anchor": anchor,
        "label": label,
        "name": str(entry.get("name", "")),
        "spec": str(entry.get("spec", "")),
        "framework": str(entry.get("framework", "")),
        "framework_version": str(entry.get("framework_version", "")),
        "layout": str(entry.get("layout", "")),
        "device": str(entry.get("device", "")),
        "capabilities": ", ".join(f.replace("_", "-") for f in flags) or "none",
        "dtypes": ", ".join(str(d) for d in dtypes),
        "load_error": entry.get("load_error"),
        "complete": entry.get("complete", True),
        "summary": summary,
        "total": sum(summary.values()),
        "source": source_label,
        "checks": [
            _check_view(c, f"{anchor}-{i}", with_plots, open_failures=bad <= OPEN_MAX)
            for i, c in enumerate(checks)
        ],
        "pvalues": None,
        "defined_in": str(entry.get("defined_in", "")),
    }
    anchors = {c["id"]: c["anchor"] for c in view["checks"]}
    view["root_causes"] = [
        {"cause": cause, "checks": [(cid, anchors.get(cid, anchor)) for cid in ids]}
        for cause, ids in group_by_root_cause([CheckResult.from_dict(c) for c in checks]).items()
    ]
    view["verdict"] = _verdict(adapter_verdict(entry))
    svg = plots.pvalue_figure(checks) if with_plots else None
    if svg:
        view["pvalues"] = Markup(svg)
    return view


def _matrix(report_adapters: Sequence[dict[str, Any]], views: Sequence[dict[str, Any]]) -> dict:
    """Rows: every check id in first-seen order, deterministic first; one cell per adapter."""
    order: dict[str, dict[str, str]] = {}
    for entry in report_adapters:
        for c in entry.get("checks") or ():
            cid = str(c.get("id", "?"))
            order.setdefault(cid, {"kind": str(c.get("kind", "")),
                                   "requirement": str(c.get("requirement", ""))})
    groups = []
    for kind, title in (("deterministic", "Deterministic checks"),
                        ("statistical", "Statistical checks")):
        ids = [cid for cid, meta in order.items() if meta["kind"] == kind]
        if ids:
            groups.append((kind, title, ids))
    others = [cid for cid, meta in order.items()
              if meta["kind"] not in ("deterministic", "statistical")]
    if others:
        groups.append(("other", "Other checks", others))
    by_adapter = [{c["id"]: c for c in v["checks"]} for v in views]
    rows = []
    for _kind, title, ids in groups:
        rows.append({"group": title})
        for cid in ids:
            rows.append({
                "id": cid,
                "requirement": order[cid]["requirement"],
                "requirement_text": _requirement_text(order[cid]["requirement"]),
                "cells": [cells.get(cid) for cells in by_adapter],
            })
    return {"rows": rows}


def _requirement_text(req: str) -> str:
    try:
        return requirement_text(req)
    except KeyError:
        return ""


def _contract(report_adapters: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each requirement's text beside the checks of this report that enforce it."""
    checks: dict[str, list[str]] = {}
    for entry in report_adapters:
        for c in entry.get("checks") or ():
            ids = checks.setdefault(str(c.get("requirement", "")), [])
            if str(c.get("id", "")) not in ids:
                ids.append(str(c.get("id", "")))
    rows = [
        {"id": r.id, "title": r.title, "text": r.text, "checks": checks.get(r.id, [])}
        for r in REQUIREMENTS.values()
    ]
    ran = {cid for ids in checks.values() for cid in ids}
    for key, text in IMPLEMENTATION_DEFINED.items():
        rows.append({"id": IMPL_DEFINED, "title": IMPL_DEFINED_TITLES.get(key, key),
                     "text": text,
                     "checks": [c for c in IMPLEMENTATION_DEFINED_CHECKS.get(key, ())
                                if c in ran]})
    return rows


#: CONTRACT.md's names of the implementation-defined points
IMPL_DEFINED_TITLES = {"three-d": "3D input", "non-finite": "non-finite values",
                       "seed-width": "seed width"}


#: what each finding key means, as the report's reader says it (the keys are the report's)
FINDING_LABELS: dict[str, str] = {
    "empty_return": "empty input: what comes back",
    "eval_return": "evaluation mode: what comes back",
    "p_zero_return": "p = 0: what comes back",
    "three_d": "3D input is read as",
    "dropped_non_finite": "NaN and Inf in dropped maps",
    "raises": "error raised for each invalid p",
    "error_types": "errors raised for invalid p",
    "eval_mode_accepts": "invalid p accepted in evaluation mode",
    "seed_width": "seed width",
    "seed_above_32_bits": "seeds above 32 bits",  # reports written before seed_width
    "output_type": "output type",
}


def finding_label(key: str) -> str:
    """A finding key as words: "three_d" -> "3D input is read as"; unknown keys spelt out."""
    return FINDING_LABELS.get(key, key.replace("_", " "))


def _findings(report_adapters: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (check, finding) in check order, one value per adapter."""
    order: dict[str, int] = {}
    for entry in report_adapters:
        for c in entry.get("checks") or ():
            order.setdefault(str(c.get("id")), len(order))
    keys: dict[tuple[str, str], None] = {}
    for entry in report_adapters:
        for cid, found in (entry.get("findings") or {}).items():
            if isinstance(found, dict):
                for key in found:
                    keys.setdefault((str(cid), str(key)), None)
    ranked = sorted(enumerate(keys), key=lambda ik: (order.get(ik[1][0], len(order)), ik[0]))
    rows = []
    for _, (cid, key) in ranked:
        values = []
        for entry in report_adapters:
            found = (entry.get("findings") or {}).get(cid)
            values.append(fmt_value(found[key]) if isinstance(found, dict) and key in found
                          else None)
        distinct = {v for v in values if v is not None}
        rows.append({"check": cid, "key": finding_label(key), "values": values,
                     "differs": len(distinct) > 1})
    return rows


def _config_rows(config: dict[str, Any]) -> list[tuple[str, str]]:
    names = {
        "level": "level",
        "seed": "seed",
        "family_alpha": "F (family-wise false-alarm rate)",
        "beta": "β (miss rate at the MDE)",
        "checks": "checks selected",
    }
    rows = []
    for key, value in config.items():
        if key == "checks":
            text = ", ".join(str(v) for v in value) if value else "all"
        elif key in ("family_alpha", "beta"):
            text = fmt_p(value)
        else:
            text = fmt_value(value)
        rows.append((names.get(key, key), text))
    return rows


def _env_rows(env: dict[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rows = [(str(k), fmt_value(v)) for k, v in env.items() if k != "packages"]
    packages = env.get("packages") if isinstance(env.get("packages"), dict) else {}
    pkgs = [(str(k), str(v) if v is not None else "not installed") for k, v in packages.items()]
    return rows, pkgs


def build_context(report: dict[str, Any], *, plots: bool = True) -> dict[str, Any]:
    """Everything the template shows, as plain strings, numbers and lists (and SVG Markup)."""
    entries = [a for a in report.get("adapters") or () if isinstance(a, dict)]
    sources = [s for s in report.get("sources") or () if isinstance(s, dict)]
    labels = _labels(entries)
    views = [_adapter_view(e, i, labels[i], sources, plots) for i, e in enumerate(entries)]
    verdict = _verdict(report_verdict(report)) if entries else ("NO ADAPTERS", "incomplete")
    config = report.get("config") if isinstance(report.get("config"), dict) else {}
    env_rows, packages = _env_rows(report.get("environment") or {})
    source_views = []
    for s in sources:
        s_env, s_pkgs = _env_rows(s.get("environment") or {})
        source_views.append({
            "index": s.get("index"),
            "label": str(s.get("label", "")),
            "created": str(s.get("created", "")),
            "tool": f"{(s.get('tool') or {}).get('version', '')}",
            "complete": bool(s.get("complete", True)),
            "environment": s_env,
            "packages": s_pkgs,
            "config": _config_rows(s.get("config") or {}),
            "adapters": [
                v["label"]
                for v, e in zip(views, entries, strict=True)
                if e.get("source") == s.get("index")
            ],
        })
    n_checks = sum(v["total"] for v in views)
    meta = [
        str(report.get("created", "")),
        f"dropout2d-conformance {(report.get('tool') or {}).get('version', '')}",
        f"report format {report.get('format_version', '')}",
    ]
    if report.get("merged"):
        meta.append(f"merged from {len(sources)} runs")
    if "level" in config:
        meta.append(f"level {config['level']}")
    if "seed" in config:
        meta.append(f"seed {config['seed']}")
    if "family_alpha" in config:
        meta.append(f"F = {fmt_p(config['family_alpha'])}")
    if "beta" in config:
        meta.append(f"β = {fmt_p(config['beta'])}")
    return {
        "report": report,
        "verdict": verdict,
        "adapters": views,
        "matrix": _matrix(entries, views),
        "findings": _findings(entries),
        "contract": _contract(entries),
        "config": _config_rows(config),
        "config_raw": config,
        "environment": env_rows,
        "packages": packages,
        "sources": source_views,
        "merged": bool(report.get("merged")),
        "complete": bool(report.get("complete", True)),
        "created": str(report.get("created", "")),
        "tool_version": str((report.get("tool") or {}).get("version", "")),
        "format_version": str(report.get("format_version", "")),
        "n_checks": n_checks,
        "meta": meta,
        "symbols": VERDICT_SYMBOL,
    }


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    """The templates' environment, made once (its templates compile once per process)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("conformance.report", "templates"),
        autoescape=True,  # every string from an adapter is escaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["p"] = fmt_p
    env.filters["num"] = fmt_num
    env.filters["int"] = fmt_int
    return env


def prepare() -> None:
    """Compile the report's template now (a run does it while its workers load)."""
    _environment().get_template("report.html.j2")


def render_selftest_html(result: dict[str, Any]) -> str:
    """The selftest's kill matrix (mutants x checks) as one self-contained page."""
    return _environment().get_template("selftest.html.j2").render(**result)


def render_html(report: dict[str, Any], *, plots: bool = True) -> str:
    """The report as one self-contained HTML page (see the module docstring).

    ``plots=False`` leaves the matplotlib figures out (faster; the tables stay).
    """
    template = _environment().get_template("report.html.j2")
    return template.render(**build_context(report, plots=plots))
