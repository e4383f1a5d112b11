"""Plots for the HTML report, as small hand-built inline SVG (no matplotlib, no scipy).

Every plot here is dots, bars, intervals and bands on one or two axes: drawing them directly
costs well under a millisecond each, where a matplotlib round trip cost about 0.8 s of import
plus 50-300 ms a figure and made report writing the slowest part of a quick run.

Every function takes plain report data (check dicts, sub-test dicts) and returns an SVG string,
or ``None`` when the data it needs is absent or malformed: a plot is a bonus, never a reason
for the report to fail.  Every piece of text is escaped (labels can carry adapter-supplied
settings); the SVG has no ids, so any number of plots can share one HTML document.  Shapes of
one style are merged into one ``<path>`` to keep the page small.
"""

from __future__ import annotations

import html
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
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
GRID = "#d8dee4"
MDE_BG = "#eaeef2"

#: width of every plot in CSS pixels (the page's column is about 1124 px; the CSS scales down)
WIDTH = 860
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
FONT_SIZE = 11.5
#: average advance of one character at FONT_SIZE, for margins sized to their labels
CHAR_W = 6.4
MINUS = "\u2212"


# --- input hygiene ----------------------------------------------------------------------------


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


def _shape(detail: dict[str, Any]) -> str:
    """The shape part of a sub-test's setting label, e.g. ``(64,256,2,2)``, or ''."""
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


# --- the SVG canvas ---------------------------------------------------------------------------


def _f(v: float) -> str:
    """A coordinate with one decimal, no trailing zeros (most of an SVG's bytes are these)."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


class _Linear:
    """Maps data ``[d0, d1]`` onto pixels ``[r0, r1]``."""

    def __init__(self, d0: float, d1: float, r0: float, r1: float) -> None:
        if not d1 > d0:
            d0, d1 = d0 - 0.5, d0 + 0.5
        self.d0, self.d1, self.r0, self.r1 = d0, d1, r0, r1
        self.k = (r1 - r0) / (d1 - d0)

    def __call__(self, v: float) -> float:
        return self.r0 + (v - self.d0) * self.k


class _Log(_Linear):
    """Maps data ``[d0, d1]`` (positive) onto pixels on a base-10 log scale."""

    def __init__(self, d0: float, d1: float, r0: float, r1: float) -> None:
        super().__init__(math.log10(d0), math.log10(d1), r0, r1)

    def __call__(self, v: float) -> float:
        return super().__call__(math.log10(v))


class _Svg:
    """An SVG document under construction: shapes, text, and the axes frame helpers."""

    def __init__(self, height: float, label: str) -> None:
        self.height = height
        self.label = label
        self.parts: list[str] = []

    # primitives ---------------------------------------------------------------------------

    def add(self, element: str) -> None:
        self.parts.append(element)

    def path(self, d: str, *, fill: str = "none", stroke: str | None = None,
             width: float = 1.0, opacity: float | None = None, dash: str | None = None) -> None:
        if not d:
            return
        attrs = f'd="{d}" fill="{fill}"'
        if stroke:
            attrs += f' stroke="{stroke}" stroke-width="{_f(width)}"'
        if dash:
            attrs += f' stroke-dasharray="{dash}"'
        if opacity is not None:
            attrs += f' opacity="{opacity:g}"'
        self.add(f"<path {attrs}/>")

    def text(self, x: float, y: float, s: str, *, anchor: str = "start", size: float = FONT_SIZE,
             fill: str = INK, weight: str | None = None, rotate: bool = False) -> None:
        attrs = f'x="{_f(x)}" y="{_f(y)}"'
        if anchor != "start":
            attrs += f' text-anchor="{anchor}"'
        if size != FONT_SIZE:
            attrs += f' font-size="{size:g}"'
        if fill != INK:
            attrs += f' fill="{fill}"'
        if weight:
            attrs += f' font-weight="{weight}"'
        if rotate:
            attrs += f' transform="rotate(-90 {_f(x)} {_f(y)})"'
        lines = s.split("\n")
        if len(lines) == 1:
            self.add(f"<text {attrs}>{html.escape(s)}</text>")
        else:  # one tspan per line, each a line height below the one before
            spans = "".join(
                f'<tspan x="{_f(x)}" dy="{0 if i == 0 else 1.2}em">{html.escape(t)}</tspan>'
                for i, t in enumerate(lines)
            )
            self.add(f"<text {attrs}>{spans}</text>")

    def render(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" '
            f'aria-label="{html.escape(self.label)}" viewBox="0 0 {WIDTH} {_f(self.height)}" '
            f'style="max-width:{WIDTH}px" font-family="{html.escape(FONT)}" '
            f'font-size="{FONT_SIZE}" fill="{INK}">'
        )
        return head + f"<title>{html.escape(self.label)}</title>" + "".join(self.parts) + "</svg>"

    # frames -------------------------------------------------------------------------------

    def title(self, s: str, x: float) -> None:
        self.text(x, 16, s, weight="600")

    def frame(self, left: float, top: float, right: float, bottom: float) -> None:
        """The left and bottom spines (the axes' only lines besides the grid)."""
        self.path(f"M{_f(left)},{_f(top)}V{_f(bottom)}H{_f(right)}", stroke=MUTED, width=0.8)


# --- shapes as path data (one path per style: small pages) -------------------------------------


def _dots(points: Iterable[tuple[float, float]], r: float) -> str:
    """Circles of radius ``r`` as two arcs each."""
    d2 = _f(2 * r)
    return "".join(
        f"M{_f(x - r)},{_f(y)}a{_f(r)},{_f(r)} 0 1,0 {d2},0a{_f(r)},{_f(r)} 0 1,0 -{d2},0"
        for x, y in points
    )


def _crosses(points: Iterable[tuple[float, float]], r: float) -> str:
    """X marks (stroked), the marker for a rejection: its shape says so without colour."""
    return "".join(
        f"M{_f(x - r)},{_f(y - r)}l{_f(2 * r)},{_f(2 * r)}m0,-{_f(2 * r)}l-{_f(2 * r)},{_f(2 * r)}"
        for x, y in points
    )


_MARKERS = ("circle", "square", "diamond", "triangle", "triangle-down", "plus")


def _marker(kind: str, x: float, y: float, r: float) -> str:
    if kind == "square":
        r *= 0.85
        return f"M{_f(x - r)},{_f(y - r)}h{_f(2 * r)}v{_f(2 * r)}h-{_f(2 * r)}z"
    if kind == "diamond":
        r *= 1.15
        return f"M{_f(x)},{_f(y - r)}L{_f(x + r)},{_f(y)}L{_f(x)},{_f(y + r)}L{_f(x - r)},{_f(y)}z"
    if kind == "triangle":
        return f"M{_f(x)},{_f(y - r)}L{_f(x + r)},{_f(y + r)}H{_f(x - r)}z"
    if kind == "triangle-down":
        return f"M{_f(x)},{_f(y + r)}L{_f(x + r)},{_f(y - r)}H{_f(x - r)}z"
    if kind == "plus":
        w = r / 3
        return (f"M{_f(x - w)},{_f(y - r)}h{_f(2 * w)}v{_f(r - w)}h{_f(r - w)}v{_f(2 * w)}"
                f"h-{_f(r - w)}v{_f(r - w)}h-{_f(2 * w)}v-{_f(r - w)}h-{_f(r - w)}"
                f"v-{_f(2 * w)}h{_f(r - w)}z")
    return _dots([(x, y)], r)


def _rects(boxes: Iterable[tuple[float, float, float, float]]) -> str:
    """Rectangles given as (x0, y0, x1, y1) in pixels."""
    return "".join(
        f"M{_f(x0)},{_f(min(y0, y1))}H{_f(x1)}V{_f(max(y0, y1))}H{_f(x0)}z"
        for x0, y0, x1, y1 in boxes
    )


# --- ticks ------------------------------------------------------------------------------------


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering ``[lo, hi]``."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9)
    ticks = []
    i = first
    while i * step <= hi + step * 1e-9:
        ticks.append(round(i * step, 12))
        i += 1
    return ticks


def _tick_label(v: float, ticks: Sequence[float]) -> str:
    """``v`` with as many decimals as the tick spacing needs, and a real minus sign."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(v) or 1.0
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    if abs(step / 10 ** -decimals - round(step / 10 ** -decimals)) > 1e-6:
        decimals += 1  # 2.5 steps
    if v == 0:
        return "0"
    s = f"{v:.{decimals}f}"
    return s.replace("-", MINUS)


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decade(e: int) -> str:
    return "1" if e == 0 else f"10{str(e).translate(_SUPERSCRIPT)}"


def _y_axis(svg: _Svg, ys: _Linear, ticks: Sequence[float], left: float, right: float,
            labels: Sequence[str] | None = None) -> None:
    """Horizontal grid lines and labels at ``ticks``."""
    grid = "".join(f"M{_f(left)},{_f(ys(t))}H{_f(right)}" for t in ticks)
    svg.path(grid, stroke=GRID, width=0.6)
    for i, t in enumerate(ticks):
        text = labels[i] if labels is not None else _tick_label(t, ticks)
        svg.text(left - 5, ys(t) + 4, text, anchor="end", fill=MUTED)


def _segments(svg: _Svg, xs: _Linear, spans: Sequence[tuple[float, float]],
              labels: Sequence[str], top: float, bottom: float) -> None:
    """Label side-by-side segments (one per sub-test) under the axis and separate them."""
    seps = "".join(
        f"M{_f(xs((b + a2) / 2))},{_f(top)}V{_f(bottom)}"
        for (_, b), (a2, _) in itertools.pairwise(spans)
    )
    svg.path(seps, stroke=GRID, width=0.8)
    for (a, b), label in zip(spans, labels, strict=True):
        svg.text(xs((a + b) / 2), bottom + 15, label, anchor="middle")


# --- exact binomial quantiles (the acceptance band) --------------------------------------------


def _binom_quantiles(t: int, p: float, q: float) -> tuple[int, int]:
    """``(ppf(q), isf(q))`` of Binomial(t, p), exactly as ``scipy.stats.binom`` defines them.

    ppf(q) is the smallest k with P(X <= k) >= q; isf(q) the smallest k with P(X > k) <= q.
    Computed with NumPy from the pmf ratio recurrence around the mode, over a window of 50
    standard deviations plus 60 (the mass outside is far below any alpha this suite uses), so
    that drawing a report never imports scipy.stats (about a second).
    """
    import numpy as np

    mode = min(t, int((t + 1) * p))
    half = int(50 * math.sqrt(t * p * (1 - p)) + 60)
    lo_k, hi_k = max(0, mode - half), min(t, mode + half)
    odds = math.log(p) - math.log1p(-p)
    up = np.arange(mode, hi_k)  # log pmf(k + 1) - log pmf(k) = log((t - k) / (k + 1)) + odds
    down = np.arange(mode - 1, lo_k - 1, -1)
    right = np.cumsum(np.log((t - up) / (up + 1.0)) + odds)
    left = np.cumsum(-(np.log((t - down) / (down + 1.0)) + odds))
    logpmf = np.concatenate((left[::-1], [0.0], right))
    pmf = np.exp(logpmf - logpmf.max())
    pmf /= pmf.sum()
    ks = np.arange(lo_k, hi_k + 1)
    cdf = np.cumsum(pmf)
    sf = np.cumsum(pmf[::-1])[::-1] - pmf  # P(X > k), summed from the right (tail precision)
    lo = int(ks[np.argmax(cdf >= q * (1 - 1e-10))])
    hi = int(ks[np.argmax(sf <= q * (1 + 1e-10))])
    return lo, hi


def _band(p: float, trials: Sequence[float], alpha: float) -> tuple[list[float], list[float]]:
    """Per-position acceptance band of the exact binomial test at level ``alpha`` (equal tails)."""
    cache: dict[int, tuple[float, float]] = {}
    lo, hi = [], []
    for trial in trials:
        t = round(trial)
        if t not in cache:
            a, b = _binom_quantiles(t, p, alpha / 2)
            cache[t] = (a / t, b / t)
        lo.append(cache[t][0])
        hi.append(cache[t][1])
    return lo, hi


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

    floor = 1e-300
    smallest = min(min(max(p, floor), a) for _, pts in rows for p, a, _ in pts)
    e_lo = math.floor(math.log10(smallest)) - 1
    row_h = 22
    left = 16 + CHAR_W * max(len(r[0]) for r in rows)
    right, top = WIDTH - 14, 28
    bottom = top + row_h * len(rows)
    svg = _Svg(bottom + 44, "p-values of every statistical sub-test against their alpha thresholds")
    svg.title("Every statistical sub-test: p-value against its threshold alpha", 6)
    xs = _Log(10.0**e_lo, 10**0.1, left, right)
    # decade grid: at most about 12 labels however many decades the smallest p-value spans
    step = max(1, math.ceil(-e_lo / 12))
    decades = [e for e in range(e_lo, 1) if e % step == 0]
    svg.path("".join(f"M{_f(xs(10.0**e))},{top}V{_f(bottom)}" for e in decades),
             stroke=GRID, width=0.6)
    for e in decades:
        svg.text(xs(10.0**e), bottom + 15, _decade(e), anchor="middle", fill=MUTED)
    pink, bars, ok, bad = [], [], [], []
    for i, (cid, pts) in enumerate(rows):
        y = top + row_h * (i + 0.5)
        alphas = sorted({a for _, a, _ in pts})
        pink.append((left, y - 0.38 * row_h, xs(alphas[-1]), y + 0.38 * row_h))
        bars += [f"M{_f(xs(a))},{_f(y - 0.38 * row_h)}v{_f(0.76 * row_h)}" for a in alphas]
        for p, _, rejected in pts:
            (bad if rejected else ok).append((xs(max(p, 10.0**e_lo)), y))
        svg.text(left - 6, y + 4, cid, anchor="end")
    svg.path(_rects(pink), fill=REJECT_BG)
    svg.path("".join(bars), stroke=FAIL, width=1.8)
    svg.path(_dots(ok, 3), fill=ACCENT, opacity=0.7)
    svg.path(_crosses(bad, 4.5), stroke=FAIL, width=2.2)
    svg.frame(left, top, right, bottom)
    svg.text((left + right) / 2, bottom + 36,
             "p-value (log scale); a sub-test rejects when its dot is left of its red bar",
             anchor="middle")
    return svg.render()


# --- per-position drop rates ----------------------------------------------------------------


@_safe
def position_rates_figure(check: dict[str, Any]) -> str | None:
    """Per-position observed drop rate minus p, with the acceptance band, one segment per sub-test.

    The band is each position's exact binomial acceptance region at the Bonferroni level
    ``detail["alpha_per_position"]`` (``stats.PositionsResult``), from ``detail["trials"]``
    or, when absent, the sub-test's ``n`` spread evenly over the positions.
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
        if trials and alpha_pp and 0 < alpha_pp < 1 and all(t >= 1 for t in trials):
            band = _band(p, trials, alpha_pp)
        panels.append((sub, detail, rates, p, band))
    if not panels:
        return None

    # data coordinates: positions side by side, a gap of 6 between sub-tests
    spans, labels, values = [], [], [0.0]
    series = []
    x0 = 0
    for sub, _detail, rates, p, band in panels:
        xs_ = list(range(x0, x0 + len(rates)))
        dev = [r - p for r in rates]
        if band is not None:
            lo = [v - p for v in band[0]]
            hi = [v - p for v in band[1]]
            values += lo + hi
            outside = [not (a <= d <= b) for a, d, b in zip(lo, dev, hi, strict=True)]
        else:
            lo = hi = None
            outside = [False] * len(dev)
        values += dev
        series.append((xs_, dev, lo, hi, outside))
        spans.append((xs_[0], xs_[-1]))
        pv = _number(sub.get("p_value"))
        labels.append(f"p = {p:g}" + (f"\np-value {pv:.2g}" if pv is not None else ""))
        x0 += len(rates) + 6
    span = max(values) - min(values) or 0.01
    ticks = _nice_ticks(min(values) - 0.06 * span, max(values) + 0.06 * span, 5)
    tick_texts = [_tick_label(t, ticks) for t in ticks]
    left = 34 + CHAR_W * max(len(s) for s in tick_texts)
    right, top, bottom = WIDTH - 12, 28, 196
    xs = _Linear(-1.0, spans[-1][1] + 1.0, left, right)
    ys = _Linear(min(ticks[0], min(values) - 0.04 * span),
                 max(ticks[-1], max(values) + 0.04 * span), bottom, top)
    where = panels[0][1].get("what")  # "channel", "batch index", ... (from the end)
    where = where.removesuffix(" from the end") if isinstance(where, str) else None
    noun = where if where is None or where.endswith("index") else f"{where} index"
    noun = noun or "position"
    bad_any = any(any(s[4]) for s in series)
    svg = _Svg(bottom + 42, f"per-position drop rates of {check.get('id', 'a check')} "
                            "with acceptance bands")
    svg.title(f"Drop rate at each {noun} (dots) and its acceptance band (blue)"
              + (" — red: outside" if bad_any else ""), 6)
    _y_axis(svg, ys, ticks, left, right, tick_texts)
    band_boxes = []
    ok, bad = [], []
    for xs_, dev, lo, hi, outside in series:
        if lo is not None and hi is not None:
            band_boxes += [(xs(x - 0.5), ys(a), xs(x + 0.5), ys(b))
                           for x, a, b in zip(xs_, lo, hi, strict=True)]
        for x, d, o in zip(xs_, dev, outside, strict=True):
            (bad if o else ok).append((xs(x), ys(d)))
    svg.path(_rects(band_boxes), fill=BAND)
    svg.path(f"M{_f(left)},{_f(ys(0))}H{_f(right)}", stroke=MUTED, width=0.9, dash="4 3")
    _segments(svg, xs, spans, labels, top, bottom)
    svg.path(_dots(ok, 2.2), fill=ACCENT)
    svg.path(_crosses(bad, 4.5), stroke=FAIL, width=2.2)
    svg.frame(left, top, right, bottom)
    svg.text(14, (top + bottom) / 2, f"observed rate {MINUS} p", anchor="middle", rotate=True)
    return svg.render()


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

    spans, labels = [], []
    x0 = 0
    ok, bad, expected = [], [], []  # (x, height as a fraction of the segment's peak)
    for sub, detail, obs, exp in panels:
        peak = max(exp)
        slot = max(len(obs), 9)  # narrow histograms still get room for their label
        start = x0 + (slot - len(obs)) // 2
        xs_ = list(range(start, start + len(obs)))
        (bad if sub.get("reject") else ok).extend(
            (x, o / peak) for x, o in zip(xs_, obs, strict=True))
        expected += [(x, e / peak) for x, e in zip(xs_, exp, strict=True)]
        spans.append((x0, x0 + slot - 1))
        p = _number(detail.get("p"))
        pv = _number(sub.get("p_value"))
        head = f"p = {p:g}" if p is not None else _short_setting(detail, "")
        labels.append(head + (f"\np-value {pv:.2g}" if pv is not None else ""))
        x0 += slot + 3
    height = max(h for _, h in ok + bad + expected) * 1.08
    left, right, top, bottom = 72, WIDTH - 12, 30, 190
    xs = _Linear(spans[0][0] - 1.0, spans[-1][1] + 1.0, left, right)
    ys = _Linear(0.0, height, bottom, top)
    svg = _Svg(bottom + 42, "observed against expected drop-count histograms of "
                            f"{check.get('id', '')}")
    svg.title("Channels dropped per sample (pooled bins)", 6)
    _y_axis(svg, ys, [0.0, 0.5, 1.0], left, right, ["0", "½", "peak"])
    half = 0.85 / 2
    svg.path(_rects((xs(x - half), ys(0), xs(x + half), ys(h)) for x, h in ok),
             fill=ACCENT, opacity=0.45)
    svg.path(_rects((xs(x - half), ys(0), xs(x + half), ys(h)) for x, h in bad),
             fill=FAIL, opacity=0.6)
    mark = max(2.5, min(8.0, (xs(1) - xs(0)) * 0.4))
    svg.path("".join(f"M{_f(xs(x) - mark)},{_f(ys(h))}h{_f(2 * mark)}" for x, h in expected),
             stroke=INK, width=1.6)
    _segments(svg, xs, spans, labels, top, bottom)
    svg.frame(left, top, right, bottom)
    svg.text(14, (top + bottom) / 2, "samples (scaled)", anchor="middle", rotate=True)
    # legend, top right
    legend = [("observed", ACCENT, 0.45)] + ([("observed (rejected)", FAIL, 0.6)] if bad else [])
    lx = right - 90 - sum(CHAR_W * len(t) + 30 for t, _, _ in legend)
    for text, colour, opacity in legend:
        svg.path(_rects([(lx, 8, lx + 12, 18)]), fill=colour, opacity=opacity)
        svg.text(lx + 16, 17, text, size=10.5)
        lx += CHAR_W * len(text) + 30
    svg.path(f"M{_f(lx)},13h12", stroke=INK, width=1.6)
    svg.text(lx + 16, 17, "expected", size=10.5)
    return svg.render()


# --- observed rates with intervals against p ---------------------------------------------------


@_safe
def effect_figure(check: dict[str, Any]) -> str | None:
    """Observed drop rate minus p with its interval, per sub-test, against the MDE.

    Sub-tests without a ``p0`` but with an estimate and an interval (excess rates of a kind of
    setting, lag correlations, the mean output over the input) get an interval plot instead:
    one row per sub-test, labelled with its setting (see ``_interval_rows``).
    """
    rows = _interval_rows(check)
    if rows is not None:
        return rows
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

    shapes = list(dict.fromkeys(pt[6] for pt in points))
    markers = dict(zip(shapes, _MARKERS, strict=False))
    values = [0.0]
    for pt in points:
        values += [pt[2], pt[3]] + ([pt[4], -pt[4]] if pt[4] else [])
    span = max(values) - min(values) or 0.01
    ticks = _nice_ticks(min(values) - 0.05 * span, max(values) + 0.05 * span, 5)
    tick_texts = [_tick_label(t, ticks) for t in ticks]
    left = 34 + CHAR_W * max(len(s) for s in tick_texts)
    right, top, bottom = WIDTH - 12, 30, 190
    xs = _Linear(-0.6, len(points) - 0.4, left, right)
    ys = _Linear(min(ticks[0], min(values) - 0.04 * span),
                 max(ticks[-1], max(values) + 0.04 * span), bottom, top)
    svg = _Svg(bottom + 30, f"observed rate minus p with intervals for {check.get('id', '')}")
    svg.title(f"Observed drop rate {MINUS} p with its interval (grey: ± MDE)", 6)
    _y_axis(svg, ys, ticks, left, right, tick_texts)
    svg.path(_rects((xs(i - 0.3), ys(-pt[4]), xs(i + 0.3), ys(pt[4]))
                    for i, pt in enumerate(points) if pt[4]), fill=MDE_BG)
    svg.path(f"M{_f(left)},{_f(ys(0))}H{_f(right)}", stroke=MUTED, width=0.9, dash="4 3")
    # one label per run of equal p, separators between runs
    groups: list[tuple[float, int, int]] = []
    for i, pt in enumerate(points):
        if groups and groups[-1][0] == pt[0]:
            groups[-1] = (pt[0], groups[-1][1], i)
        else:
            groups.append((pt[0], i, i))
    _segments(svg, xs, [(a, b) for _, a, b in groups], [f"p = {g:g}" for g, _, _ in groups],
              top, bottom)
    for rejected, colour in ((False, ACCENT), (True, FAIL)):
        sel = [(i, pt) for i, pt in enumerate(points) if pt[5] == rejected]
        svg.path("".join(f"M{_f(xs(i))},{_f(ys(pt[2]))}V{_f(ys(pt[3]))}" for i, pt in sel),
                 stroke=colour, width=1.8)
        svg.path("".join(_marker(markers[pt[6]], xs(i), ys(pt[1]), 3.6) for i, pt in sel),
                 fill=colour)
    svg.frame(left, top, right, bottom)
    svg.text(14, (top + bottom) / 2, f"observed {MINUS} p", anchor="middle", rotate=True)
    if len(shapes) > 1 or shapes[0]:
        texts = [f"shape {s}" if s else "other" for s in shapes]
        lx = right - sum(CHAR_W * len(t) + 26 for t in texts)
        for s, text in zip(shapes, texts, strict=True):
            svg.path(_marker(markers[s], lx + 5, 13, 3.6), fill=MUTED)
            svg.text(lx + 13, 17, text, size=10.5)
            lx += CHAR_W * len(text) + 26
    return svg.render()


#: tests whose estimate is an effect, and the value that means "no effect": only these get an
#: interval row (an estimate that is a rate or a statistic would be misread against 0)
NO_EFFECT = {"excess-rate-z": 0.0, "conditional-excess-z": 0.0, "max-lag-z": 0.0,
             "expectation-exact": 1.0}


def _interval_rows(check: dict[str, Any]) -> str | None:
    """One row per sub-test whose estimate is an effect (``NO_EFFECT``): a forest plot.

    The dashed reference line is the no-effect value: 0 for excess rates and lag
    correlations, 1 for the mean output over the input.  None when fewer than two sub-tests
    of one kind of effect qualify or when any sub-test carries a ``p0`` (``effect_figure``
    draws those).
    """
    subs = [s for s in check.get("subtests") or () if isinstance(s, dict)]
    if any(_number((s.get("detail") or {}).get("p0")) is not None for s in subs):
        return None
    refs = [NO_EFFECT[s["test"]] for s in subs if s.get("test") in NO_EFFECT]
    if not refs:
        return None
    ref = max(set(refs), key=refs.count)
    rows = []
    for sub in subs:
        if NO_EFFECT.get(sub.get("test")) != ref:
            continue
        est, ci = _number(sub.get("estimate")), sub.get("ci")
        if est is None or not isinstance(ci, list) or len(ci) != 2:
            continue
        lo, hi = _number(ci[0]), _number(ci[1])
        if lo is None or hi is None:
            continue
        label = str((sub.get("detail") or {}).get("setting") or sub.get("test") or "")
        label = label if len(label) <= 58 else label[:57] + "…"
        rows.append((label, est, lo, hi, bool(sub.get("reject"))))
    if len(rows) < 2:
        return None
    values = [ref] + [v for r in rows for v in r[1:4]]
    span = max(values) - min(values) or 0.01
    ticks = _nice_ticks(min(values) - 0.04 * span, max(values) + 0.04 * span, 6)
    row_h = 20
    left = 16 + CHAR_W * max(len(r[0]) for r in rows)
    right, top = WIDTH - 14, 28
    bottom = top + row_h * len(rows)
    xs = _Linear(min(ticks[0], min(values)), max(ticks[-1], max(values)), left, right)
    what = "mean output / input" if ref == 1.0 else "estimate"
    svg = _Svg(bottom + 44, f"{what} with intervals per sub-test of {check.get('id', '')}")
    svg.title(f"Each sub-test's {what} with its interval (dashed: no effect)", 6)
    svg.path("".join(f"M{_f(xs(t))},{top}V{_f(bottom)}" for t in ticks), stroke=GRID, width=0.6)
    for t in ticks:
        svg.text(xs(t), bottom + 15, _tick_label(t, ticks), anchor="middle", fill=MUTED)
    svg.path(f"M{_f(xs(ref))},{top}V{_f(bottom)}", stroke=MUTED, width=0.9, dash="4 3")
    for rejected, colour in ((False, ACCENT), (True, FAIL)):
        sel = [(top + row_h * (i + 0.5), r) for i, r in enumerate(rows) if r[4] == rejected]
        svg.path("".join(f"M{_f(xs(r[2]))},{_f(y)}H{_f(xs(r[3]))}" for y, r in sel),
                 stroke=colour, width=1.8)
        if rejected:
            svg.path(_crosses([(xs(r[1]), y) for y, r in sel], 4.5), stroke=colour, width=2.2)
        else:
            svg.path(_dots([(xs(r[1]), y) for y, r in sel], 3.2), fill=colour)
    for i, r in enumerate(rows):
        svg.text(left - 6, top + row_h * (i + 0.5) + 4, r[0], anchor="end")
    svg.frame(left, top, right, bottom)
    svg.text((left + right) / 2, bottom + 36,
             f"{what} (dots) with its interval; red crosses: the sub-test rejects",
             anchor="middle")
    return svg.render()
