"""Small SVG charts drawn in Python: a time line chart and a horizontal bar chart.

Each chart is one standalone `<svg>` (with its namespace, title and font stack), so the same text
works inline in the report and as an image (a data URI) in Dagster's metadata. No script, no
external font, no stylesheet: it renders the same with the network off.

Drawn by hand rather than with a charting library: altair rendered offline by vl-convert was
tried on these charts and drew them less well (end-of-line labels overlapping, axis ticks at
calendar dates instead of the snapshot dates, grouped bars breaking once a highlight layer is
added), many times slower and with larger SVG, for a large native dependency
(docs/performance.md has the measurements).
"""

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

from orchestration.defs.report.provenance import DERIVED, ILLUSTRATIVE, MARKS

# System fonts first, then CJK faces so that Chinese labels never fall back to empty boxes.
FONT_STACK = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans CJK SC',"
    " 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
)
# Colour-blind-safe (Okabe–Ito), in the order series are drawn.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
    "#B59F00",
)
MUTED = "#9aa4b1"
INK = "#1f2933"
GRID = "#e4e7eb"
HIGHLIGHT = "#fff4d6"
FONT_SIZE = 12
# How a chart shows a value's provenance (provenance.py): an illustrative point is hollow, a
# derived one a diamond; an illustrative bar is pale with a dashed outline. Labels get the mark.
POINT_SHAPES = {ILLUSTRATIVE: "hollow", DERIVED: "diamond"}
PROVENANCE_LEGEND = {
    ILLUSTRATIVE: f"{MARKS[ILLUSTRATIVE]} 示意数据",
    DERIVED: f"{MARKS[DERIVED]} 推算数据",
}


@dataclass(frozen=True)
class Line:
    """One series of a line chart: (date, value) points; a lone point shows as a dot.
    `kinds` gives a point's provenance when it is illustrative or derived (by date)."""

    name: str
    points: Sequence[tuple[date, float]]
    color: str | None = None
    dashed: bool = False
    kinds: Mapping[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Bars:
    """One series of a bar chart: a value (or None, shown as 无) per category; `kinds` the
    provenance of each value (provenance.py), when some are illustrative or derived."""

    name: str
    values: Sequence[float | None]
    color: str | None = None
    kinds: Sequence[str] | None = None

    def kind(self, index: int) -> str:
        return self.kinds[index] if self.kinds else ""


@dataclass(frozen=True)
class Chart:
    """A rendered chart: its title and its standalone SVG text."""

    key: str
    title: str
    svg: str
    notes: list[str] = field(default_factory=list)


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Approximate rendered width: CJK and full-width characters are square, Latin about half."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2, 2.5 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw_step = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _svg(title: str, width: float, height: float, body: list[str], key: str) -> str:
    title_id = f"chart-{key}-title"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}"'
        f' width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="{title_id}"'
        f' data-chart="{escape(key)}" font-family="{FONT_STACK}" font-size="{FONT_SIZE}"'
        f' fill="{INK}">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<rect width="100%" height="100%" fill="#ffffff"/>'
        f'<text x="16" y="24" font-size="15" font-weight="600">{escape(title)}</text>'
        + "".join(body)
        + "</svg>"
    )


def _text(x: float, y: float, content: str, anchor: str = "start", **attrs) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def _point(x: float, y: float, color: str, kind: str, tip: str) -> str:
    """A data point: filled dot, or hollow (illustrative) or a diamond (derived)."""
    title = f"<title>{escape(tip)}</title>"
    shape = POINT_SHAPES.get(kind)
    if shape == "hollow":
        return (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#ffffff" stroke="{color}"'
            f' stroke-width="2" data-kind="{kind}">{title}</circle>'
        )
    if shape == "diamond":
        return (
            f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f}'
            f' {x - 5:.1f},{y:.1f}" fill="{color}" data-kind="{kind}">{title}</polygon>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}">{title}</circle>'


def _swatch_width(shape: str) -> float:
    return 0 if shape == "text" else 26


def _legend(items: list[tuple[str, str, str]], x: float, y: float, max_width: float) -> list[str]:
    """Swatch + name per item, wrapping onto further rows; returns SVG pieces. An item's shape
    is its swatch: box (a bar or a series), dash (a dashed line), pale (an illustrative bar),
    a provenance kind (a point drawn as such), or text (a line of text with no swatch)."""
    parts, cx, cy = [], x, y
    for name, color, shape in items:
        width = _swatch_width(shape) + text_width(name) + 18
        if cx + width > x + max_width and cx > x:
            cx, cy = x, cy + 20
        if shape == "dash":
            parts.append(
                f'<line x1="{cx:.1f}" y1="{cy - 4:.1f}" x2="{cx + 20:.1f}" y2="{cy - 4:.1f}"'
                f' stroke="{color}" stroke-width="3" stroke-dasharray="6 3"/>'
            )
        elif shape in POINT_SHAPES:
            parts.append(_point(cx + 10, cy - 4, color, shape, name))
        elif shape == "pale":
            parts.append(
                f'<rect x="{cx:.1f}" y="{cy - 10:.1f}" width="20" height="11" fill="{color}"'
                f' fill-opacity="0.35" stroke="{color}" stroke-dasharray="3 2"/>'
            )
        elif shape == "box":
            parts.append(
                f'<rect x="{cx:.1f}" y="{cy - 10:.1f}" width="20" height="11" fill="{color}"'
                f' stroke="{MUTED}" stroke-width="0.5"/>'
            )
        parts.append(_text(cx + _swatch_width(shape), cy, name))
        cx += width
    return parts


def _legend_height(items: list[tuple[str, str, str]], max_width: float) -> float:
    rows, used = 1, 0.0
    for name, _color, shape in items:
        width = _swatch_width(shape) + text_width(name) + 18
        if used + width > max_width and used > 0:
            rows, used = rows + 1, 0.0
        used += width
    return rows * 20


def _spread(labels: list[tuple[float, int]], gap: float, low: float, high: float) -> dict:
    """Move label baselines apart (at least `gap`) keeping their order: {index: y}."""
    placed: dict[int, float] = {}
    previous = None
    for y, index in sorted(labels):
        y = max(y, low) if previous is None else max(y, previous + gap)
        placed[index] = previous = y
    overflow = (previous or 0) - high
    if overflow > 0:  # pushed past the bottom: shift everything up
        placed = {i: y - overflow for i, y in placed.items()}
    return placed


def line_chart(
    key: str,
    title: str,
    lines: Sequence[Line],
    *,
    y_title: str,
    y_format: Callable[[float], str],
    x_format: Callable[[date], str] = lambda d: d.isoformat(),
    width: float = 760,
    height: float = 340,
) -> Chart:
    """Values over time, x proportional to the date (snapshots come at uneven gaps).

    Every series is labelled at its last point with its value; the y axis starts at zero.
    """
    lines = [line for line in lines if line.points]
    items = [
        (line.name, line.color or PALETTE[i % len(PALETTE)], "dash" if line.dashed else "box")
        for i, line in enumerate(lines)
    ]
    kinds = {kind for line in lines for kind in line.kinds.values()}
    legend_items = items + [
        (PROVENANCE_LEGEND[kind], MUTED, kind) for kind in POINT_SHAPES if kind in kinds
    ]
    legend_height = _legend_height(legend_items, width - 32)
    all_points = [p for line in lines for p in line.points]
    if not all_points:
        body = [_text(16, 60, "暂无数据", fill=MUTED)]
        return Chart(key, title, _svg(title, width, 80, body, key))
    y_ticks = nice_ticks(0, max(v for _, v in all_points))
    y_max = y_ticks[-1]
    dates = sorted({d for d, _ in all_points})
    label_width = max(text_width(y_format(t)) for t in y_ticks) + 12
    end_label_width = max(text_width(y_format(line.points[-1][1]) + "*") for line in lines) + 14
    left, right = 16 + label_width, width - 16 - end_label_width
    top, bottom = 64, height - 44 - legend_height
    first, last = dates[0].toordinal(), dates[-1].toordinal()
    span = max(last - first, 1)

    def sx(d: date) -> float:
        if first == last:
            return (left + right) / 2
        return left + (d.toordinal() - first) / span * (right - left)

    def sy(v: float) -> float:
        return bottom - v / y_max * (bottom - top)

    body = [_text(16, 46, y_title, fill=MUTED)]
    for tick in y_ticks:
        y = sy(tick)
        body.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, y + 4, y_format(tick), "end", fill=MUTED))
    # x ticks: every date with data when few, else a thinned set that never overlaps
    tick_width = max(text_width(x_format(d)) for d in dates) + 10
    shown: list[float] = []
    for d in dates:
        x = sx(d)
        if all(abs(x - s) >= tick_width for s in shown):
            shown.append(x)
            body.append(
                f'<line x1="{x:.1f}" y1="{bottom:.1f}" x2="{x:.1f}" y2="{bottom + 4:.1f}"'
                f' stroke="{MUTED}"/>'
            )
            body.append(_text(x, bottom + 18, x_format(d), "middle", fill=MUTED))
    body.append(
        f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}"'
        f' stroke="{MUTED}"/>'
    )
    end_labels = _spread(
        [(sy(sorted(line.points)[-1][1]) + 4, i) for i, line in enumerate(lines)],
        13,
        top,
        bottom + 4,
    )
    for i, ((name, color, shape), line) in enumerate(zip(items, lines, strict=True)):
        points = sorted(line.points)
        coords = " ".join(f"{sx(d):.1f},{sy(v):.1f}" for d, v in points)
        dash = ' stroke-dasharray="6 3"' if shape == "dash" else ""
        body.append(f'<g data-series="{escape(name)}">')
        if len(points) > 1:
            body.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}"'
                f' stroke-width="2.5"{dash}/>'
            )
        for d, v in points:
            kind = line.kinds.get(d, "")
            tip = f"{name} {x_format(d)}: {y_format(v)}" + (f" ({kind})" if kind else "")
            body.append(_point(sx(d), sy(v), color, kind, tip))
        d, v = points[-1]
        mark = MARKS.get(line.kinds.get(d, ""), "")
        body.append(_text(sx(d) + 7, end_labels[i], y_format(v) + mark, fill=color))
        body.append("</g>")
    body += _legend(legend_items, 16, bottom + 42, width - 32)
    return Chart(key, title, _svg(title, width, height, body, key))


def bar_chart(
    key: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Bars],
    *,
    x_title: str,
    value_format: Callable[[float], str],
    tick_format: Callable[[float], str] | None = None,
    stacked: bool = False,
    x_max: float | None = None,
    category_notes: Sequence[str] | None = None,
    highlighted: Sequence[bool] | None = None,
    highlight_label: str | None = None,
    total_format: Callable[[float], str] | None = None,
    legend_notes: Sequence[str] = (),
    width: float = 760,
) -> Chart:
    """Horizontal bars, one row per category: grouped (a bar per series) or stacked.

    `category_notes` writes a note at the right of each row (a TGI); `highlighted` shades rows
    (buckets inside the target segment). Stacked rows end with their total (`total_format`).
    An illustrative value (`Bars.kinds`) is a pale bar with a dashed outline and its label
    carries the mark; `legend_notes` are lines of text added to the legend (what a mark in a
    category label means).
    """
    items = [(s.name, s.color or PALETTE[i % len(PALETTE)], "box") for i, s in enumerate(series)]
    bar_height = 14 if stacked or len(series) > 2 else 16
    group_height = bar_height + 12 if stacked else len(series) * (bar_height + 2) + 12
    label_width = max((text_width(c) for c in categories), default=0) + 14
    note_width = max((text_width(n) for n in category_notes or []), default=0) + 16
    totals = [
        sum(s.values[i] or 0 for s in series)
        if stacked
        else max((s.values[i] or 0 for s in series), default=0)
        for i in range(len(categories))
    ]
    ticks = nice_ticks(0, x_max if x_max is not None else max(totals, default=0) or 1)
    upper = ticks[-1]
    value_label_width = (
        max(
            [text_width((total_format or value_format)(t)) for t in totals]
            + [text_width(value_format(upper) + "*")]
        )
        + 12
    )
    left = 16 + label_width
    right = width - 16 - note_width - value_label_width
    top = 72
    legend_items = list(items)
    if highlight_label:
        legend_items.append((highlight_label, HIGHLIGHT, "box"))
    kinds = {s.kind(i) for s in series for i in range(len(categories))}
    if ILLUSTRATIVE in kinds:
        legend_items.append((PROVENANCE_LEGEND[ILLUSTRATIVE], MUTED, "pale"))
    if DERIVED in kinds:
        legend_items.append((PROVENANCE_LEGEND[DERIVED], MUTED, "text"))
    legend_items += [(note, "#ffffff", "text") for note in legend_notes]
    legend_height = _legend_height(legend_items, width - 32)
    plot_height = group_height * len(categories)
    bottom = top + plot_height
    height = bottom + 40 + legend_height

    def sx(v: float) -> float:
        return left + v / upper * (right - left)

    body = [_text(16, 46, x_title, fill=MUTED)]
    for tick in ticks:
        x = sx(tick)
        body.append(
            f'<line x1="{x:.1f}" y1="{top - 6:.1f}" x2="{x:.1f}" y2="{bottom:.1f}"'
            f' stroke="{GRID}"/>'
        )
        body.append(
            _text(x, bottom + 16, (tick_format or value_format)(tick), "middle", fill=MUTED)
        )
    for row, category in enumerate(categories):
        y0 = top + row * group_height
        if highlighted and highlighted[row]:
            body.append(
                f'<rect x="8" y="{y0 - 3:.1f}" width="{width - 16:.0f}" height="{group_height - 6}"'
                f' fill="{HIGHLIGHT}" data-highlight="true"/>'
            )
        middle = y0 + (group_height - 12) / 2
        body.append(_text(left - 8, middle + 4, category, "end"))
        if category_notes:
            note = category_notes[row]
            body.append(_text(width - 16, middle + 4, note, "end", font_weight="600"))
        offset = 0.0
        for (name, color, _), s in zip(items, series, strict=True):
            value = s.values[row]
            y = y0 if stacked else y0 + series.index(s) * (bar_height + 2)
            if value is None:
                if not stacked:
                    body.append(_text(left + 4, y + bar_height - 3, "无", fill=MUTED))
                continue
            x = sx(offset) if stacked else left
            w = max(value / upper * (right - left), 0.5)
            kind = s.kind(row)
            tip = f"{category} · {name}: {value_format(value)}" + (f" ({kind})" if kind else "")
            pale = (
                f' fill-opacity="0.35" stroke="{color}" stroke-dasharray="3 2" data-kind="{kind}"'
                if kind == ILLUSTRATIVE
                else ""
            )
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar_height}"'
                f' fill="{color}"{pale}><title>{escape(tip)}</title></rect>'
            )
            if stacked:
                offset += value
            else:
                label = value_format(value) + MARKS.get(kind, "")
                body.append(_text(x + w + 4, y + bar_height - 3, label))
        if stacked:
            body.append(
                _text(
                    sx(offset) + 4,
                    y0 + bar_height - 3,
                    (total_format or value_format)(offset),
                    font_weight="600",
                )
            )
    body.append(
        f'<line x1="{left:.1f}" y1="{top - 6:.1f}" x2="{left:.1f}" y2="{bottom:.1f}"'
        f' stroke="{MUTED}"/>'
    )
    body += _legend(legend_items, 16, bottom + 44, width - 32)
    return Chart(key, title, _svg(title, width, height, body, key))
