"""The HTML report: self-contained, escaped, parseable, with the matrix, details and plots."""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser

from conformance.report import render_html


class Page(HTMLParser):
    """Collects tags, attributes and the text of table cells."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def count(self, tag: str, **attrs: str) -> int:
        return sum(
            1 for t, a in self.tags
            if t == tag and all(v in (a.get(k) or "").split() for k, v in attrs.items())
        )

    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if a.get("id")]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def matrix_rows(html: str) -> list[list[str]]:
    """The matrix body as rows of cell texts (stdlib parser, flat and forgiving)."""
    body = html[html.index('<table class="matrix">'):]
    body = body[: body.index("</table>")]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, flags=re.S)
        rows.append([re.sub(r"<[^>]+>", " ", c).split() for c in cells])
    return rows


def test_html_parses_and_holds_the_matrix(mixed_report):
    html = render_html(mixed_report)
    page = parse(html)
    assert html.startswith("<!DOCTYPE html>")
    assert page.count("table", **{"class": "matrix"}) == 1
    n_adapters = len(mixed_report["adapters"])
    check_ids = [c["id"] for c in mixed_report["adapters"][0]["checks"]]
    rows = [r for r in matrix_rows(html) if len(r) == n_adapters + 1]
    assert [r[0][0] for r in rows[1:]] == check_ids  # header row first
    for adapter, col in zip(mixed_report["adapters"], range(1, n_adapters + 1), strict=True):
        verdicts = [r[col][-1] for r in rows[1:]]
        assert verdicts == [c["verdict"] for c in adapter["checks"]]
    # every verdict appears as a cell class and as text (colour is never alone)
    for v in ("pass", "fail", "skip", "error"):
        assert page.count("td", **{"class": f"v-{v}"}) >= 1
    # one collapsible detail per (adapter, check), each with a unique anchor the matrix links to
    assert page.count("details", **{"class": "check"}) == n_adapters * len(check_ids)
    ids = page.ids()
    assert len(ids) == len(set(ids))
    links = {a["href"][1:] for t, a in page.tags if t == "a" and (a.get("href") or "")[:1] == "#"}
    assert links <= set(ids)


def test_verdict_comes_first_and_per_adapter(mixed_report):
    html = render_html(mixed_report)
    text = " ".join(parse(html).text)
    first = text.index("NOT CONFORMANT")
    assert first < text.index("Checks by adapter")
    assert text.count("CONFORMANT") >= len(mixed_report["adapters"])
    assert "reproduce" in text.lower()
    assert "dropout2d-conformance run --adapter" in text


def test_hostile_strings_are_escaped(mixed_report, hostile):
    hostile_name, hostile_error = hostile
    html = render_html(mixed_report)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the adapter's name, as text
    text = " ".join(parse(html).text)
    assert hostile_name in text
    assert hostile_error in text  # the exception message, shown verbatim as text


def test_self_contained_no_network(fabricated):
    html = render_html(fabricated)
    page = parse(html)
    assert page.count("script") == 0 and page.count("link") == 0 and page.count("img") == 0
    for tag, attrs in page.tags:
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            assert not value.startswith(("http:", "https:", "//")), (tag, attrs)
    assert "@import" not in html and "url(http" not in html


def test_plots_drawn_when_the_data_is_there(fabricated):
    html = render_html(fabricated)
    page = parse(html)
    # p-values of the adapter, the drop-rate intervals, per-position rates, drop counts
    assert page.count("svg", **{"class": "plot"}) == 4
    labels = [a.get("aria-label", "") for t, a in page.tags if t == "svg"]
    assert any("p-values" in label for label in labels)
    assert any("per-position drop rates" in label for label in labels)
    assert any("drop-count histograms" in label for label in labels)
    ids = page.ids()
    assert len(ids) == len(set(ids)), "SVG ids must be unique in the document"
    assert "<?xml" not in html and "<metadata>" not in html
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        assert len(svg) < 60_000


def test_real_statistical_checks_render_with_plots(stat_report):
    html = render_html(stat_report)
    page = parse(html)
    assert page.count("svg", **{"class": "plot"}) == 3  # p-values, rates, drop counts
    assert "channel-uniformity" in " ".join(page.text)


def test_deterministic_only_report_renders_without_plots(mixed_report):
    html = render_html(mixed_report)
    assert "<svg" not in html
    assert "Implementation-defined behaviour" in html or not any(
        a["findings"] for a in mixed_report["adapters"]
    )


def test_malformed_plot_data_is_skipped_not_fatal(fabricated):
    report = copy.deepcopy(fabricated)
    for c in report["adapters"][0]["checks"]:
        for s in c.get("subtests", ()):
            s["detail"] = {"rates": "garbage", "observed": [1, 2], "expected": [1], "p": "x",
                           "setting": "<script>x</script>"}
    html = render_html(report)
    page = parse(html)
    assert page.count("svg", **{"class": "plot"}) == 1  # only the p-value plot survives
    assert "<script" not in html.lower()


def test_hostile_text_inside_a_plot_is_escaped(fabricated):
    report = copy.deepcopy(fabricated)
    dc = next(c for c in report["adapters"][0]["checks"] if c["id"] == "drop-count-distribution")
    dc["subtests"][0]["detail"].pop("p")
    dc["subtests"][0]["detail"]["setting"] = "<script>alert(3)</script>, more"
    html = render_html(report)
    assert "<script" not in html.lower()


def test_incomplete_and_empty_reports_render(mixed_report):
    report = copy.deepcopy(mixed_report)
    report["complete"] = False
    report["conformant"] = False
    report["adapters"][0]["complete"] = False
    report["adapters"][0]["conformant"] = False
    html = render_html(report)
    assert "INCOMPLETE" in html and "Incomplete run" in html
    report["adapters"] = []
    assert "NO ADAPTERS" in render_html(report)


def test_plots_can_be_left_out(fabricated):
    html = render_html(fabricated, plots=False)
    assert "<svg" not in html and "channel-uniformity" in html


def test_each_requirement_text_is_shown_beside_its_checks(mixed_report):
    from conformance.contract import REQUIREMENTS

    html = render_html(mixed_report)
    section = html[html.index('id="contract"'):]
    section = section[: section.index("</table>")]
    for req in REQUIREMENTS.values():
        assert req.text.replace("'", "&#39;") in section, req.id
    row = re.search(r"<b>R6</b>.*?</tr>", section, flags=re.S).group(0)
    assert "eval-identity" in row
    # the matrix rows carry the text too, as the row header's title
    assert f'title="{REQUIREMENTS["R6"].text}"' in html


def test_failures_are_grouped_by_root_cause(mixed_report):
    upcasts = next(a for a in mixed_report["adapters"] if a["name"] == "upcasts")
    assert "R1 output dtype" in upcasts["root_causes"]
    html = render_html(mixed_report)
    section = html[html.index('aria-label="upcasts"'):]
    section = section[: section.index("</section>")]
    box = section[section.index('class="rootcauses"'):]
    box = box[: box.index("</div>")]
    assert "Failures by root cause" in box and "R1 output dtype" in box
    for cid in upcasts["root_causes"]["R1 output dtype"]:
        assert f">{cid}</a>" in box
    assert "root cause: <b>R1 output dtype</b>" in section


def test_implementation_defined_findings_are_not_called_failures_while_failing(mixed_report):
    html = render_html(mixed_report)
    assert "never a failure" not in html
    assert "fail only what the contract forbids" in html


def _with_findings(mixed_report: dict) -> dict:
    report = copy.deepcopy(mixed_report)
    first, second = report["adapters"][:2]
    first["findings"] = {
        "three-d-input": {"three_d": "unbatched (C, H, W)"},
        "p-zero": {"p_zero_return": "returns the input object"},
        "invalid-p": {"eval_mode_accepts": []},
        "determinism": {"seed_width": "32 bits; wider seeds are silently truncated: "
                        + ", ".join(f"s + 2**{b}" for b in range(32, 64)) + " gave the mask"},
    }
    second["findings"] = {"three-d-input": {"three_d": "rejects 3D input"}}
    return report


def test_findings_have_human_labels_and_a_legend_for_none_and_dash(mixed_report):
    html = render_html(_with_findings(mixed_report))
    section = html[html.index('id="findings"'):]
    section = section[: section.index("</section>")]
    cells = [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", section, re.S)]
    for label in ("3D input is read as", "p = 0: what comes back", "seed width",
                  "invalid p accepted in evaluation mode"):
        assert label in cells, label
    for key in ("three d", "p zero return", "eval mode accepts"):  # the keys, spelt out
        assert key not in cells, key
    assert "none" in cells and "—" in cells  # an empty list, and no finding for an adapter
    legend = section[section.index('class="legend"'):]
    assert "<b>none</b>" in legend and "<b>—</b>" in legend and "did not run" in legend


def test_one_long_finding_wraps_in_its_cell_instead_of_widening_the_table(mixed_report):
    html = render_html(_with_findings(mixed_report))
    assert re.search(r"table\.findings \{ table-layout: fixed; \}", html)
    assert re.search(r"table\.findings td \{ overflow-wrap: anywhere; \}", html)
    section = html[html.index('id="findings"'):]
    table = section[section.index("<table"): section.index("</table>")]
    assert 'class="facts findings"' in table and "<colgroup>" in table
    assert table.count("<col") - table.count("<colgroup") == 2 + len(mixed_report["adapters"])


def test_the_contract_table_names_the_check_of_each_implementation_defined_point(mixed_report):
    html = render_html(mixed_report)
    section = html[html.index('id="contract"'):]
    section = section[: section.index("</table>")]
    row = re.search(r"<b>impl-defined</b> seed width.*?</tr>", section, re.S).group(0)
    assert "determinism" in row  # mixed_report runs determinism
    row = re.search(r"<b>impl-defined</b> 3D input.*?</tr>", section, re.S).group(0)
    assert "three-d-input" not in row  # not run in mixed_report: not claimed
