"""A Markdown conformance matrix (checks x adapters) and findings, for READMEs and issues."""

from __future__ import annotations

from typing import Any

from conformance.results import Verdict

MARK = {Verdict.PASS: "pass", Verdict.FAIL: "**FAIL**", Verdict.ERROR: "**ERROR**",
        Verdict.SKIP: "skip"}


def _name(adapter: dict[str, Any]) -> str:
    version = adapter.get("framework_version") or ""
    return f"{adapter.get('label') or adapter['name']}<br>{adapter['framework']} {version}".strip()


def render_markdown(report: dict[str, Any]) -> str:
    adapters = report["adapters"]
    ids: list[str] = []
    for a in adapters:
        ids += [c["id"] for c in a["checks"] if c["id"] not in ids]
    lines = [
        f"Level `{report['config'].get('level')}`, seed {report['config'].get('seed')}, "
        f"F = {report['config'].get('family_alpha')}; dropout2d-conformance "
        f"{report['tool']['version']}.",
        "",
        "| check | " + " | ".join(_name(a) for a in adapters) + " |",
        "|---|" + "---|" * len(adapters),
    ]
    for cid in ids:
        cells = []
        for a in adapters:
            verdict = next((c["verdict"] for c in a["checks"] if c["id"] == cid), None)
            cells.append(MARK.get(verdict, "–"))
        lines.append(f"| `{cid}` | " + " | ".join(cells) + " |")
    lines.append(
        "| **conformant** | "
        + " | ".join("yes" if a["conformant"] else "**no**" for a in adapters)
        + " |"
    )
    keys: list[tuple[str, str]] = []
    for a in adapters:
        for cid, found in a.get("findings", {}).items():
            keys += [(cid, k) for k in found if (cid, k) not in keys]
    if keys:
        lines += ["", "| finding | " + " | ".join(a["name"] for a in adapters) + " |",
                  "|---|" + "---|" * len(adapters)]
        for cid, key in keys:
            cells = [str(a.get("findings", {}).get(cid, {}).get(key, "–")).replace("|", "/")
                     for a in adapters]
            lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
