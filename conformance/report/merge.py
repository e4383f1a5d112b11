"""One report from several runs (one per tox environment, machine or framework version).

Rules:

- Every input is validated first; a merged report may itself be merged again (its sources are
  carried over, so merging is associative).
- Each run becomes one entry of ``sources`` (its label, tool, time, environment, config and
  completeness); each adapter keeps the index of its source in ``source``, so where it ran and
  with which configuration is never lost.
- Adapters are identified by (name, spec, framework, framework version).  The same adapter from
  two different runs (say torch 2.13 on two machines) is **kept twice**, made distinguishable by
  a ``label`` unique within the report: the name, then the framework version, then the run
  number are added until the labels differ.
- The same run given twice (identical creation time, environment, config and adapters) is
  **refused** with a :class:`ReportError`: it would only double every column.
- The top-level ``environment`` and ``config`` hold only what every source shares.
- ``complete`` is true when every source is complete; ``conformant`` when, in addition, every
  adapter is conformant.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import conformance
from conformance.report.schema import FORMAT_VERSION, ReportError, validate

__all__ = ["merge_reports"]


def _common(dicts: list[dict[str, Any]]) -> dict[str, Any]:
    """The keys on which every dict agrees, with their shared value (recursing into dicts)."""
    if not dicts:
        return {}
    out: dict[str, Any] = {}
    for key, value in dicts[0].items():
        values = [d.get(key, _MISSING) for d in dicts]
        if any(v is _MISSING for v in values):
            continue
        if all(isinstance(v, dict) for v in values):
            out[key] = _common(values)
        elif all(v == value for v in values):
            out[key] = copy.deepcopy(value)
    return out


_MISSING = object()


def _sources_of(report: dict[str, Any], label: str) -> tuple[list[dict], list[tuple[int, dict]]]:
    """A report's runs and its adapters as (index into those runs, entry)."""
    if report.get("merged"):
        sources = [copy.deepcopy(s) for s in report["sources"]]
        for s in sources:
            s["label"] = f"{label} / {s['label']}" if label else s["label"]
        adapters = []
        for a in report["adapters"]:
            entry = copy.deepcopy(a)
            index = entry.pop("source")
            entry.pop("label", None)
            if not 0 <= index < len(sources):
                raise ReportError(
                    f"{label or 'a merged report'}: adapter {a['name']!r} names source {index}, "
                    f"but there are {len(sources)} sources"
                )
            adapters.append((index, entry))
        return sources, adapters
    source = {
        "label": label,
        "format_version": report["format_version"],
        "tool": copy.deepcopy(report["tool"]),
        "created": report["created"],
        "complete": report["complete"],
        "environment": copy.deepcopy(report["environment"]),
        "config": copy.deepcopy(report["config"]),
    }
    return [source], [(0, copy.deepcopy(a)) for a in report["adapters"]]


def _fingerprint(source: dict[str, Any], adapters: list[dict[str, Any]]) -> str:
    ident = {k: source[k] for k in ("created", "tool", "environment", "config")}
    return json.dumps([ident, adapters], sort_keys=True)


def _labels(entries: list[dict[str, Any]], runs: list[int]) -> list[str]:
    """Display labels, unique within the report: name, then version, then run number."""
    names = Counter(e["name"] for e in entries)
    labels = []
    for e in entries:
        labels.append(e["name"])
    # adapters sharing a name: add the framework version where that tells them apart
    for name in [n for n, k in names.items() if k > 1]:
        group = [i for i, e in enumerate(entries) if e["name"] == name]
        versions = Counter(entries[i]["framework_version"] for i in group)
        for i in group:
            version = entries[i]["framework_version"]
            if version and versions[version] == 1:
                labels[i] = f"{name} {version}"
            else:  # the version alone does not tell: the run does (with the version if mixed)
                tail = f" {version}" if version and len(versions) > 1 else ""
                labels[i] = f"{name}{tail} (run {runs[i] + 1})"
    # last resort (the same adapter twice within one run): number the repeats
    seen: Counter[str] = Counter()
    counts = Counter(labels)
    for i, label in enumerate(labels):
        if counts[label] > 1:
            seen[label] += 1
            labels[i] = f"{label} #{seen[label]}"
    return labels


def merge_reports(
    reports: list[dict[str, Any]], *, labels: list[str] | None = None
) -> dict[str, Any]:
    """Merge validated reports into one (see the module docstring for the rules).

    ``labels`` name the inputs (the CLI passes their file paths); by default ``run 1``, ...
    Raises :class:`ReportError` on an invalid input or a run given twice.
    """
    if not reports:
        raise ReportError("nothing to merge: no reports given")
    if labels is None:
        labels = [f"run {i + 1}" for i in range(len(reports))]
    if len(labels) != len(reports):
        raise ReportError(f"{len(labels)} labels for {len(reports)} reports")

    sources: list[dict[str, Any]] = []
    adapters: list[dict[str, Any]] = []
    runs: list[int] = []
    seen: dict[str, str] = {}
    for report, label in zip(reports, labels, strict=True):
        validate(report, what=f"report {label!r}")
        own_sources, own_adapters = _sources_of(report, label)
        offset = len(sources)
        for local, source in enumerate(own_sources):
            mine = [a for i, a in own_adapters if i == local]
            key = _fingerprint(source, mine)
            if key in seen:
                raise ReportError(
                    f"the same run appears twice: {seen[key]!r} and {source['label']!r} "
                    f"(created {source['created']}); merge each run once"
                )
            seen[key] = source["label"]
            source["index"] = offset + local
            sources.append(source)
        for local, entry in own_adapters:
            entry["source"] = offset + local
            adapters.append(entry)
            runs.append(offset + local)

    for entry, label in zip(adapters, _labels(adapters, runs), strict=True):
        entry["label"] = label

    ordered_sources = [
        {
            "index": s["index"],
            "label": s["label"],
            **{k: s[k] for k in ("format_version", "tool", "created", "complete")},
            "environment": s["environment"],
            "config": s["config"],
        }
        for s in sources
    ]
    complete = all(s["complete"] for s in sources) and all(a["complete"] for a in adapters)
    merged = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "dropout2d-conformance", "version": conformance.__version__},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "complete": complete,
        "merged": True,
        "sources": ordered_sources,
        "environment": _common([s["environment"] for s in sources]),
        "config": _common([s["config"] for s in sources]),
        "conformant": complete and all(a["conformant"] for a in adapters),
        "adapters": adapters,
    }
    validate(merged, what="the merged report")
    return merged
