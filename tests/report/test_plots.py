"""The report's hand-built SVG plots: exact bands, well-formed and escaped SVG, no heavy imports."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from scipy.stats import binom

from conformance.report import plots


@pytest.mark.parametrize("t", [1, 2, 5, 37, 1000, 3500, 20_000, 1_000_000])
@pytest.mark.parametrize("p", [0.001, 0.1, 0.5, 0.97])
@pytest.mark.parametrize("q", [0.2, 0.025, 1.3e-3, 2.3e-8, 7e-13])
def test_binom_quantiles_match_scipy(t: int, p: float, q: float) -> None:
    # q values are not exact pmf sums, so there are no floating-point ties to break
    got = plots._binom_quantiles(t, p, q)
    want = (int(binom.ppf(q, t, p)), int(binom.isf(q, t, p)))
    assert got == want, f"t={t}, p={p}, q={q}: got {got}, scipy says {want}"


def _check(subtests: list[dict], cid: str = "drop-rate") -> dict:
    return {"id": cid, "kind": "statistical", "subtests": subtests}


RATE_SUBTESTS = [
    {"p_value": 0.4, "alpha": 1e-6, "reject": False, "estimate": 0.101, "ci": [0.099, 0.103],
     "mde": 0.005, "n": 40_000, "detail": {"p0": 0.1, "setting": "p=0.1, shape=(64, 8, 2, 2)"}},
    {"p_value": 1e-9, "alpha": 1e-6, "reject": True, "estimate": 0.52, "ci": [0.51, 0.53],
     "mde": 0.005, "n": 40_000, "detail": {"p0": 0.5, "setting": "p=0.5, shape=(2, 3, 1, 1)"}},
]
POSITION_SUBTESTS = [
    {"p_value": 1e-12, "alpha": 1e-5, "reject": True, "n": 4000,
     "detail": {"p": 0.3, "positions": "channel", "alpha_per_position": 2.5e-6,
                "rates": [0.3, 0.31, 0.29, 0.6]}},
]
COUNT_SUBTESTS = [
    {"p_value": 0.3, "alpha": 1e-5, "reject": False,
     "detail": {"p": 0.5, "observed": [10, 40, 12], "expected": [12, 38, 12]}},
]


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    assert root.tag.endswith("svg") and root.get("class") == "plot" and root.get("role") == "img"
    assert root.get("aria-label")
    assert "id=" not in svg  # no ids: any number of plots can share one page
    return root


def test_every_plot_is_well_formed_svg_and_marks_rejections() -> None:
    figures = {
        "pvalue": plots.pvalue_figure([_check(RATE_SUBTESTS)]),
        "effect": plots.effect_figure(_check(RATE_SUBTESTS)),
        "positions": plots.position_rates_figure(_check(POSITION_SUBTESTS, "channel-uniformity")),
        "counts": plots.dropcount_figure(_check(COUNT_SUBTESTS, "drop-count-distribution")),
    }
    for name, svg in figures.items():
        assert svg is not None, name
        _parse(svg)
    # a rejection is drawn in the failure colour; a pass-only plot has none of it
    assert plots.FAIL in figures["pvalue"] and plots.FAIL in figures["effect"]
    assert plots.FAIL in figures["positions"]  # the 0.6 position is far outside its band
    assert f'fill="{plots.FAIL}"' not in figures["counts"]


def test_text_in_a_plot_is_escaped() -> None:
    hostile = [dict(s, detail=dict(s["detail"], setting="<script>alert(1)</script>, x"))
               for s in COUNT_SUBTESTS]
    for s in hostile:
        s["detail"].pop("p")
    svg = plots.dropcount_figure(_check(hostile, "<b>id</b>"))
    assert svg is not None
    _parse(svg)
    assert "<script" not in svg and "<b>" not in svg


def test_malformed_data_gives_no_plot_rather_than_an_error() -> None:
    bad = [{"detail": {"rates": "garbage", "observed": [1], "expected": [0], "p0": "x"}}]
    assert plots.effect_figure(_check(bad)) is None
    assert plots.position_rates_figure(_check(bad)) is None
    assert plots.dropcount_figure(_check(bad)) is None
    assert plots.pvalue_figure([_check(bad)]) is None


def test_drawing_imports_neither_matplotlib_nor_scipy() -> None:
    code = (
        "import sys\n"
        "from conformance.report import plots\n"
        f"plots.position_rates_figure({_check(POSITION_SUBTESTS)!r})\n"
        f"plots.effect_figure({_check(RATE_SUBTESTS)!r})\n"
        "heavy = [m for m in ('matplotlib', 'scipy.stats') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    # conformance.report's package __init__ may import scipy through the stats package;
    # what matters here is that the plots add neither, so import the module on its own.
    code = code.replace("from conformance.report import plots",
                        "import importlib.util as u\n"
                        "spec = u.spec_from_file_location('plots', "
                        f"{plots.__file__!r})\n"
                        "plots = u.module_from_spec(spec); spec.loader.exec_module(plots)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_effect_estimates_without_p0_get_interval_rows_and_rates_do_not() -> None:
    excess = [{"test": "excess-rate-z", "p_value": pv, "alpha": 1e-6, "reject": pv <= 1e-6,
               "estimate": est, "ci": [est - 0.004, est + 0.004],
               "detail": {"setting": f"kind {i}: 3 settings"}}
              for i, (est, pv) in enumerate([(0.001, 0.6), (-0.002, 0.4), (0.03, 1e-9)])]
    svg = plots.effect_figure(_check(excess, "rate-homogeneity"))
    assert svg is not None
    _parse(svg)
    assert "kind 2: 3 settings" in svg and plots.FAIL in svg  # the rejecting row is marked
    # a max-|z| estimate is a rate, not an effect: drawn against 0 it would be misread
    rates = [dict(s, test="max-abs-z-bonferroni", estimate=0.5, ci=[0.49, 0.51]) for s in excess]
    assert plots.effect_figure(_check(rates, "channel-uniformity")) is None


def test_every_detail_key_the_plots_read_is_one_a_run_writes():
    """The plots read a sub-test's ``detail`` by key: each key they read must be a field of a
    statistics family or an annotation a check writes, or the plot silently falls back (it did:
    ``alpha_per_position`` was read and written nowhere)."""
    import re
    from pathlib import Path

    import conformance
    from conformance import battery
    from conformance.report import plots as module

    read = set(re.findall(r'\.get\("([a-z_0-9]+)"', Path(module.__file__).read_text()))
    # a check's and a sub-test's own fields, which the report writes outside ``detail``
    own = {"id", "kind", "subtests", "detail", "test", "p_value", "alpha", "reject", "n", "mde",
           "estimate", "ci"}
    result = conformance.check("reference", level="quick", checks=list(battery.STATISTICAL))
    written = {key for c in result.checks for s in c.stats for key in s.report_detail()}
    assert read - own and read - own <= written, sorted(read - own - written)
