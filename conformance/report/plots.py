"""Plots for the HTML report, as compact inline SVG drawn by matplotlib (no pyplot, Agg-free).

Every function takes plain report data (check dicts, sub-test dicts) and returns an SVG string,
or ``None`` when the data it needs is absent or malformed: a plot is a bonus, never a reason
for the report to fail.  Text stays text (``svg.fonttype = 'none'``), ids are prefixed so that
several SVGs can live in one HTML document, and matplotlib's metadata is dropped.
"""

from __future__ import annotations

import html
import io
import itertools
import math
import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["dropcount_figure", "effect_figure", "position_rates_figure", "pvalue_figure"]

# colours shared with the page's CSS
PASS = "#1a7f37"
FAIL = "#cf222e"
INK = "#24292f"
MUTED = "#6e7781"
ACCENT = "#0969da"
BAND = "#ddf4ff"
REJECT_BG = "#ffebe9"

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "dropout2d-conformance",
    "svg.image_inline": True,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 8.5,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8.5,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#d8dee4",
    "grid.linewidth": 0.5,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "path.simplify": True,
}

_counter = [0]

#: figure width in inches: at 96 px per inch it fills most of the page's 1124 px column
FIG_W = 9.0


def _number(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _numbers(xs: Any) -> list[float] | None:
    """A list of finite numbers, or None if ``xs`` is not one."""
    if not isinstance(xs, (list, tuple)) or not xs:
        return None
    out = [_number(x) for x in xs]
    numbers = [v for v in out if v is not None]
    return numbers if len(numbers) == len(out) else None


def _safe(fn: Callable[..., str | None]) -> Callable[..., str | None]:
    def wrapper(*args: Any, **kwargs: Any) -> str | None:
        try:
            return fn(*args, **kwargs)
        except Exception:  # a malformed detail dict skips the plot, nothing more
            return None

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _figure(
    width: float,
    height: float,
    *,
    left: float = 0.75,
    right: float = 0.15,
    top: float = 0.32,
    bottom: float = 0.5,
) -> tuple[Any, Any]:
    """A figure with one axes and fixed margins in inches (no layout engine: it is slow)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=72)
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )
    return fig, fig.add_subplot()


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(href="#|url\(#)([^")]+)')
_ATTR = re.compile(r'="([^"]*)"')
_DIGITS = re.compile(r"(\d+\.\d{2})\d+")


def _svg(fig: Any, label: str) -> str:
    """The figure as a compact ``<svg>`` element with document-unique ids."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                             "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"<style[^>]*>.*?</style>\s*", "", text, flags=re.S)
    _counter[0] += 1
    prefix = f"g{_counter[0]}-"
    text = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{prefix}{m.group(2)}", text)
    # Responsive: drop the fixed size, keep the viewBox; the CSS caps the width.
    head_end = text.index(">")
    head = text[:head_end]
    width = re.search(r'width="([\d.]+)pt"', head)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    style = f' style="max-width:{float(width.group(1)) * 4 / 3:.0f}px"' if width else ""
    head += f' class="plot" role="img" aria-label="{html.escape(label)}"{style}'
    text = head + text[head_end:]
    # trim the float noise matplotlib leaves in coordinates (attribute values only, never text)
    text = _ATTR.sub(lambda m: '="' + _DIGITS.sub(r"\1", m.group(1)) + '"', text)
    return text


def _render(build: Callable[[], tuple[Any, str] | None]) -> str | None:
    import matplotlib

    with matplotlib.rc_context(_RC):
        made = build()
        if made is None:
            return None
        fig, label = made
        return _svg(fig, label)


def _shape(detail: dict[str, Any]) -> str:
    """The shape part of a sub-test's setting label, e.g. ``(64, 256, 2, 2)``, or ''."""
    setting = detail.get("setting")
    if isinstance(setting, str):
        m = re.search(r"shape=(\([^)]*\))", setting)
        if m:
            return m.group(1).replace(" ", "")[:24]
    return ""


def _short_setting(detail: dict[str, Any], fallback: str) -> str:
    setting = detail.get("setting")
    if isinstance(setting, str) and setting:
        # "p=0.1, shape=(64, 40, 2, 2), input=ones, float32" -> first two parts
        parts = [s.strip() for s in re.split(r",\s*(?![^()]*\))", setting)]
        return ", ".join(parts[:2])[:60]
    return fallback


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _log_axis(axis: Any) -> None:
    """Plain-text decade labels (10⁻⁶): matplotlib's mathtext labels are slow and bulky."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    def label(x: float, _pos: int) -> str:
        if x <= 0:
            return ""
        e = round(math.log10(x))
        if abs(math.log10(x) - e) > 1e-6:
            return ""
        return "1" if e == 0 else f"10{str(e).translate(_SUPERSCRIPT)}"

    axis.set_major_locator(LogLocator(base=10, numticks=9))
    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_locator(NullLocator())  # minor ticks cost a tick object each: skip them
    axis.set_minor_formatter(NullFormatter())


def _segments(ax: Any, spans: list[tuple[float, float]], labels: list[str]) -> None:
    """Label side-by-side segments of one axes (one per sub-test) and separate them."""
    centres = [(a + b) / 2 for a, b in spans]
    ax.set_xticks(centres, labels)
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="x", visible=False)
    for (_, b), (a2, _) in itertools.pairwise(spans):
        ax.axvline((b + a2) / 2, color="#d8dee4", lw=0.8, zorder=0)
    ax.set_xlim(spans[0][0] - 1, spans[-1][1] + 1)


# --- p-values against their thresholds ------------------------------------------------------


@_safe
def pvalue_figure(checks: Sequence[dict[str, Any]]) -> str | None:
    """Every statistical sub-test's p-value on a log axis, one row per check, alpha marked."""
    rows: list[tuple[str, list[tuple[float, float, bool]]]] = []
    for check in checks:
        if check.get("kind") != "statistical":
            continue
        points = []
        for sub in check.get("subtests") or ():
            p, a = _number(sub.get("p_value")), _number(sub.get("alpha"))
            if p is None or a is None or a <= 0:
                continue
            points.append((p, a, bool(sub.get("reject"))))
        if points:
            rows.append((str(check.get("id", "?"))[:40], points))
    if not rows:
        return None

    def build() -> tuple[Any, str]:
        floor = 1e-300
        smallest = min(min(max(p, floor), a) for _, pts in rows for p, a, _ in pts)
        left = 10 ** math.floor(math.log10(smallest) - 1)
        longest = max(len(r[0]) for r in rows)
        fig, ax = _figure(FIG_W, 0.85 + 0.24 * len(rows), left=0.25 + 0.075 * longest, top=0.3,
                          bottom=0.55)
        ax.set_xscale("log")
        _log_axis(ax.xaxis)
        ax.set_xlim(left, 2.0)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.grid(axis="y", visible=False)
        for y, (_, pts) in enumerate(rows):
            alphas = sorted({a for _, a, _ in pts})
            ax.fill_betweenx([y - 0.38, y + 0.38], left, alphas[-1], color=REJECT_BG, lw=0,
                             zorder=0)
            ax.vlines(alphas, y - 0.38, y + 0.38, color=FAIL, lw=1.4, zorder=2)
            ok = [max(p, left) for p, _, r in pts if not r]
            bad = [max(p, left) for p, _, r in pts if r]
            if ok:
                ax.plot(ok, [y] * len(ok), ls="none", marker="o", ms=4, mew=0, color=ACCENT,
                        alpha=0.75, zorder=3)
            if bad:
                ax.plot(bad, [y] * len(bad), ls="none", marker="X", ms=6, mew=0, color=FAIL,
                        zorder=4)
        ax.set_yticks(range(len(rows)), [r[0] for r in rows])
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("p-value (log scale); a sub-test rejects when its dot is left of its red bar")
        ax.set_title("Every statistical sub-test: p-value against its threshold alpha", loc="left")
        return fig, "p-values of every statistical sub-test against their alpha thresholds"

    return _render(build)


# --- per-position drop rates ----------------------------------------------------------------


def _band(p: float, trials: Sequence[float], alpha: float) -> tuple[list[float], list[float]]:
    """Per-position acceptance band of the exact two-sided binomial test at level ``alpha``."""
    try:
        import numpy as np
        from scipy.stats import binom

        t = np.rint(np.asarray(trials, dtype=float))
        lo = binom.ppf(alpha / 2, t, p) / t
        hi = binom.isf(alpha / 2, t, p) / t
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ValueError("band not finite")
        return lo.tolist(), hi.tolist()
    except Exception:  # no scipy, or odd input: the normal approximation
        from statistics import NormalDist

        z = NormalDist().inv_cdf(1 - alpha / 2)
        half = [z * math.sqrt(p * (1 - p) / t) for t in trials]
        return [p - h for h in half], [p + h for h in half]


@_safe
def position_rates_figure(check: dict[str, Any]) -> str | None:
    """Per-position observed drop rate minus p, with the acceptance band, one segment per sub-test.

    The band is each position's exact binomial acceptance region at the Bonferroni level
    ``alpha / positions`` (``detail["alpha_per_position"]``), from ``detail["trials"]`` or,
    when absent, the sub-test's ``n`` spread evenly over the positions.
    """
    panels = []
    for sub in check.get("subtests") or ():
        detail = sub.get("detail") or {}
        rates = _numbers(detail.get("rates"))
        p = _number(detail.get("p"))
        if rates is None or len(rates) < 2 or p is None or not 0 < p < 1:
            continue
        P = len(rates)
        trials_raw = detail.get("trials")
        listed = _numbers(trials_raw)
        if _number(trials_raw) is not None:
            trials: list[float] | None = [float(trials_raw)] * P
        elif listed is not None and len(listed) == P:
            trials = listed
        elif _number(sub.get("n")):
            trials = [float(sub["n"]) / P] * P
        else:
            trials = None
        alpha_pp = _number(detail.get("alpha_per_position"))
        if alpha_pp is None and _number(sub.get("alpha")):
            alpha_pp = float(sub["alpha"]) / P
        band = None
        if trials and alpha_pp and all(t >= 1 for t in trials):
            band = _band(p, trials, alpha_pp)
        panels.append((sub, detail, rates, p, band))
    if not panels:
        return None

    def build() -> tuple[Any, str]:
        fig, ax = _figure(FIG_W, 2.5, left=0.75, bottom=0.55)
        spans, labels, values = [], [], [0.0]
        x0 = 0
        bad_any = False
        for sub, _detail, rates, p, band in panels:
            xs = list(range(x0, x0 + len(rates)))
            dev = [r - p for r in rates]
            if band is not None:
                lo = [v - p for v in band[0]]
                hi = [v - p for v in band[1]]
                ax.fill_between(xs, lo, hi, step="mid", color=BAND, lw=0, zorder=0)
                values += lo + hi
                outside = [not (a <= d <= b) for a, d, b in zip(lo, dev, hi, strict=True)]
            else:
                outside = [False] * len(dev)
            ax.plot([x for x, o in zip(xs, outside, strict=True) if not o],
                    [d for d, o in zip(dev, outside, strict=True) if not o],
                    ls="none", marker="o", ms=2.6, mew=0, color=ACCENT, zorder=3)
            if any(outside):
                bad_any = True
                ax.plot([x for x, o in zip(xs, outside, strict=True) if o],
                        [d for d, o in zip(dev, outside, strict=True) if o],
                        ls="none", marker="X", ms=6, mew=0, color=FAIL, zorder=4)
            values += dev
            spans.append((xs[0], xs[-1]))
            pv = _number(sub.get("p_value"))
            labels.append(f"p = {p:g}" + (f"\np-value {pv:.2g}" if pv is not None else ""))
            x0 += len(rates) + 6
        ax.axhline(0, color=MUTED, lw=0.8, ls="--", zorder=1)
        span = max(values) - min(values) or 0.01
        ax.set_ylim(min(values) - 0.06 * span, max(values) + 0.06 * span)
        _segments(ax, spans, labels)
        where = panels[0][1].get("positions")
        noun = f"{where} index" if isinstance(where, str) else "position"
        ax.set_ylabel("observed rate − p")
        ax.set_title(f"Drop rate at each {noun} (dots) and its acceptance band (blue)"
                     + (" — red: outside" if bad_any else ""), loc="left")
        label = f"per-position drop rates of {check.get('id', 'a check')} with acceptance bands"
        return fig, label

    return _render(build)


# --- drop counts: observed against expected ---------------------------------------------------


@_safe
def dropcount_figure(check: dict[str, Any]) -> str | None:
    """Per-sample dropped-channel histograms (pooled bins): observed bars, expected marks.

    One segment per sub-test, each scaled to its own largest expected count so that every
    histogram fills the height.
    """
    panels = []
    for sub in check.get("subtests") or ():
        detail = sub.get("detail") or {}
        obs, exp = _numbers(detail.get("observed")), _numbers(detail.get("expected"))
        if obs is None or exp is None or len(obs) != len(exp) or max(exp) <= 0:
            continue
        panels.append((sub, detail, obs, exp))
    if not panels:
        return None

    def build() -> tuple[Any, str]:
        fig, ax = _figure(FIG_W, 2.4, left=0.6, bottom=0.55)
        spans, labels = [], []
        x0 = 0
        ok_x, ok_h, bad_x, bad_h, ex_x, ex_h = [], [], [], [], [], []
        for sub, detail, obs, exp in panels:
            peak = max(exp)
            slot = max(len(obs), 9)  # narrow histograms still get room for their label
            start = x0 + (slot - len(obs)) // 2
            xs = list(range(start, start + len(obs)))
            if sub.get("reject"):
                bad_x += xs
                bad_h += [o / peak for o in obs]
            else:
                ok_x += xs
                ok_h += [o / peak for o in obs]
            ex_x += xs
            ex_h += [e / peak for e in exp]
            spans.append((x0, x0 + slot - 1))
            p = _number(detail.get("p"))
            pv = _number(sub.get("p_value"))
            head = f"p = {p:g}" if p is not None else _short_setting(detail, "")
            labels.append(head + (f"\np-value {pv:.2g}" if pv is not None else ""))
            x0 += slot + 3
        if ok_x:
            ax.bar(ok_x, ok_h, width=0.85, color=ACCENT, alpha=0.45, lw=0, label="observed")
        if bad_x:
            ax.bar(bad_x, bad_h, width=0.85, color=FAIL, alpha=0.6, lw=0,
                   label="observed (rejected)")
        ax.plot(ex_x, ex_h, ls="none", marker="_", ms=5, mew=1.4, color=INK, label="expected")
        _segments(ax, spans, labels)
        ax.set_ylim(0, max(ok_h + bad_h + ex_h) * 1.08)
        ax.set_yticks([0, 0.5, 1.0], ["0", "½", "peak"])
        ax.set_ylabel("samples (scaled)")
        ax.legend(loc="upper right", ncols=3, fontsize=7, bbox_to_anchor=(1, 1.13))
        ax.set_title("Channels dropped per sample (pooled bins)", loc="left")
        label = f"observed against expected drop-count histograms of {check.get('id', '')}"
        return fig, label

    return _render(build)


# --- observed rates with intervals against p ---------------------------------------------------


@_safe
def effect_figure(check: dict[str, Any]) -> str | None:
    """Observed drop rate minus p with its interval, per sub-test, against the MDE."""
    points = []
    for sub in check.get("subtests") or ():
        detail = sub.get("detail") or {}
        p0 = _number(detail.get("p0"))
        est = _number(sub.get("estimate"))
        ci = sub.get("ci")
        if p0 is None or est is None or not isinstance(ci, list) or len(ci) != 2:
            continue
        lo, hi = _number(ci[0]), _number(ci[1])
        if lo is None or hi is None:
            continue
        points.append((p0, est - p0, lo - p0, hi - p0, _number(sub.get("mde")),
                       bool(sub.get("reject")), _shape(detail)))
    if len(points) < 2:
        return None

    def build() -> tuple[Any, str]:
        fig, ax = _figure(FIG_W, 2.4, left=0.8, bottom=0.5)
        shapes = list(dict.fromkeys(pt[6] for pt in points))
        markers = dict(zip(shapes, "osD^v<>p*h", strict=False))
        xs = list(range(len(points)))
        for x, pt in zip(xs, points, strict=True):
            if pt[4]:
                ax.fill_between([x - 0.3, x + 0.3], -pt[4], pt[4], color="#eaeef2", lw=0,
                                zorder=0)
        for rejected, colour in ((False, ACCENT), (True, FAIL)):
            sel = [(x, pt) for x, pt in zip(xs, points, strict=True) if pt[5] == rejected]
            if sel:
                ax.vlines([x for x, _ in sel], [pt[2] for _, pt in sel],
                          [pt[3] for _, pt in sel], color=colour, lw=1.6, zorder=2)
            for shape in shapes:
                pts = [(x, pt) for x, pt in sel if pt[6] == shape]
                if pts:
                    ax.plot([x for x, _ in pts], [pt[1] for _, pt in pts], ls="none",
                            marker=markers.get(shape, "o"), ms=4.5, color=colour, zorder=3)
        ax.axhline(0, color=MUTED, lw=0.9, ls="--", zorder=1)
        # one tick per run of equal p, separators between runs
        groups: list[tuple[float, int, int]] = []
        for x, pt in zip(xs, points, strict=True):
            if groups and groups[-1][0] == pt[0]:
                groups[-1] = (pt[0], groups[-1][1], x)
            else:
                groups.append((pt[0], x, x))
        ax.set_xticks([(a + b) / 2 for _, a, b in groups], [f"p = {g:g}" for g, _, _ in groups])
        ax.tick_params(axis="x", length=0)
        for (_, _, b), (_, a2, _) in itertools.pairwise(groups):
            ax.axvline((b + a2) / 2, color="#d8dee4", lw=0.8, zorder=0)
        ax.grid(axis="x", visible=False)
        ax.set_xlim(-0.6, len(points) - 0.4)
        if len(shapes) > 1 or shapes[0]:
            from matplotlib.lines import Line2D

            handles = [Line2D([], [], ls="none", marker=markers[s_], color=MUTED, ms=4.5)
                       for s_ in shapes]
            ax.legend(handles, [f"shape {s_}" if s_ else "other" for s_ in shapes],
                      loc="upper right", ncols=len(shapes), fontsize=7,
                      bbox_to_anchor=(1, 1.16))
        ax.set_ylabel("observed − p")
        ax.set_title("Observed drop rate − p with its interval (grey: ± MDE)", loc="left")
        return fig, f"observed rate minus p with intervals for {check.get('id', '')}"

    return _render(build)
