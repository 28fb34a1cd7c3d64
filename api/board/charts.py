"""Charts drawn on the server as SVG: no script, no web fonts, nothing fetched.

Each chart is an ``<svg role="img">`` named by its own ``<title>`` and ``<desc>``
and comes with the same figures as a data table (:class:`Chart.table`), which the
page shows beside it, so nothing is said by colour or shape alone. Amounts are
integer pence; geometry is computed in exact fractions and only printed rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from html import escape

from markupsafe import Markup

from api.board.fmt import pounds, pounds_short

INK = "#0b0c0c"
GREY = "#505a5f"
RULE = "#b1b4b6"
BLUE = "#1d70b8"
DARK_BLUE = "#003078"
PURPLE = "#4c2c92"
RED = "#d4351c"
GREEN = "#00703c"

FONT = "font-family=\"'Helvetica Neue', Arial, sans-serif\""


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[int, ...]  # pence, one per category
    colour: str
    hatched: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    svg: Markup
    table: Table
    legend: tuple[tuple[str, str, bool], ...] = field(default=())  # (name, colour, hatched)


def _n(x: Fraction | int) -> str:
    """A coordinate to one decimal place."""
    v = round(Fraction(x) * 10)
    s = f"{v // 10}.{v % 10}" if v >= 0 else f"-{(-v) // 10}.{(-v) % 10}"
    return s[:-2] if s.endswith(".0") else s


def _nice_step(span: int, ticks: int = 5) -> int:
    """A round step (1, 2, 2.5 or 5 times a power of ten pence) giving about
    ``ticks`` intervals over ``span`` pence."""
    if span <= 0:
        return 100_00
    raw = Fraction(span, ticks)
    power = 1
    while power * 10 <= raw:
        power *= 10
    for m in (Fraction(1), Fraction(2), Fraction(5, 2), Fraction(5), Fraction(10)):
        if m * power >= raw:
            return max(1, int(m * power))
    return power * 10


@dataclass(frozen=True)
class Axis:
    low: int
    high: int
    step: int

    @staticmethod
    def over(values: Sequence[int], ticks: int = 5) -> Axis:
        lo = min([0, *values])
        hi = max([0, *values])
        if lo == hi:
            hi = 100_00
        step = _nice_step(hi - lo, ticks)
        low = -((-lo + step - 1) // step) * step if lo < 0 else 0
        high = ((hi + step - 1) // step) * step if hi > 0 else 0
        return Axis(low, high, step)

    def ticks(self) -> list[int]:
        return list(range(self.low, self.high + 1, self.step))

    def scale(self, value: int, length: int) -> Fraction:
        return Fraction(value - self.low, self.high - self.low) * length


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    if len(lines) > 3:
        lines = [*lines[:2], lines[2][: width - 1] + "…"]
    return lines or [""]


def _open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img"'
        f' aria-labelledby="{chart_id}-title {chart_id}-desc" {FONT}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _hatch(chart_id: str, colour: str) -> str:
    pid = f"{chart_id}-hatch-{colour.lstrip('#')}"
    return (
        f'<pattern id="{pid}" width="6" height="6" patternUnits="userSpaceOnUse"'
        f' patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<rect width="3" height="6" fill="{colour}"/></pattern>'
    )


def _fill(chart_id: str, s: Series) -> str:
    if s.hatched:
        return f'fill="url(#{chart_id}-hatch-{s.colour.lstrip("#")})" stroke="{s.colour}"'
    return f'fill="{s.colour}"'


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    caption: str | None = None,
    label_width: int = 250,
) -> Chart:
    """Horizontal bars, one group per category and one bar per series, from a zero
    line (negative amounts go left). For risk shares and spend against plan."""
    width, plot_w = 760, 760 - label_width - 90
    bar_h = 16 if len(series) > 1 else 22
    gap = 4
    group_h = len(series) * bar_h + (len(series) - 1) * gap
    wrapped = [_wrap(c, 34) for c in categories]
    row_h = [max(group_h, 16 * len(w)) + 18 for w in wrapped]
    top, axis_h = 10, 28
    height = top + sum(row_h) + axis_h
    axis = Axis.over([v for s in series for v in s.values])
    x0 = label_width + axis.scale(0, plot_w)
    out = _open(chart_id, width, height, title, desc)
    hatches = {s.colour for s in series if s.hatched}
    if hatches:
        out.append("<defs>" + "".join(_hatch(chart_id, c) for c in sorted(hatches)) + "</defs>")
    plot_bottom = top + sum(row_h)
    for t in axis.ticks():
        x = label_width + axis.scale(t, plot_w)
        out.append(
            f'<line x1="{_n(x)}" y1="{top}" x2="{_n(x)}" y2="{plot_bottom}" stroke="{RULE}"'
            ' stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_n(x)}" y="{plot_bottom + 18}" font-size="12" fill="{GREY}"'
            f' text-anchor="middle">{escape(pounds_short(t))}</text>'
        )
    y = top
    for ci, (lines, h) in enumerate(zip(wrapped, row_h, strict=True)):
        label_y = Fraction(y) + Fraction(h - 16 * len(lines), 2) + 12
        text = "".join(
            f'<tspan x="{label_width - 10}" y="{_n(label_y + 16 * i)}">{escape(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        out.append(f'<text font-size="13" fill="{INK}" text-anchor="end">{text}</text>')
        by = y + (h - group_h) // 2
        for s in series:
            v = s.values[ci]
            x = label_width + axis.scale(v, plot_w)
            left, right = (x0, x) if v >= 0 else (x, x0)
            w = max(right - left, Fraction(1) if v else Fraction(0))
            out.append(
                f'<rect x="{_n(left)}" y="{by}" width="{_n(w)}" height="{bar_h}"'
                f" {_fill(chart_id, s)}/>"
            )
            anchor, lx = ("start", right + 4) if v >= 0 else ("end", left - 4)
            out.append(
                f'<text x="{_n(lx)}" y="{by + bar_h - 4}" font-size="12" fill="{INK}"'
                f' text-anchor="{anchor}">{escape(pounds_short(v))}</text>'
            )
            by += bar_h + gap
        y += h
    out.append(
        f'<line x1="{_n(x0)}" y1="{top}" x2="{_n(x0)}" y2="{plot_bottom}" stroke="{INK}"'
        ' stroke-width="2"/>'
    )
    out.append("</svg>")
    table = Table(
        caption or title,
        ("", *(s.name for s in series)),
        tuple((c, *(pounds(s.values[i]) for s in series)) for i, c in enumerate(categories)),
    )
    return Chart(
        chart_id,
        title,
        desc,
        Markup("".join(out)),
        table,
        tuple((s.name, s.colour, s.hatched) for s in series) if len(series) > 1 else (),
    )


def trend_chart(
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[str],
    columns: Sequence[Series],
    line: Series | None = None,
    *,
    caption: str | None = None,
) -> Chart:
    """Columns per period (e.g. income and spend per quarter) with an optional line
    (e.g. the cumulative balance) on the same pounds axis."""
    width, height = 760, 300
    left, right, top, bottom = 80, 20, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in columns for v in s.values] + (list(line.values) if line else [])
    axis = Axis.over(values)

    def y_of(v: int) -> Fraction:
        return top + plot_h - axis.scale(v, plot_h)

    out = _open(chart_id, width, height, title, desc)
    hatches = {s.colour for s in columns if s.hatched}
    if hatches:
        out.append("<defs>" + "".join(_hatch(chart_id, c) for c in sorted(hatches)) + "</defs>")
    for t in axis.ticks():
        y = y_of(t)
        out.append(
            f'<line x1="{left}" y1="{_n(y)}" x2="{width - right}" y2="{_n(y)}"'
            f' stroke="{INK if t == 0 else RULE}" stroke-width="{2 if t == 0 else 1}"/>'
        )
        out.append(
            f'<text x="{left - 8}" y="{_n(y + 4)}" font-size="12" fill="{GREY}"'
            f' text-anchor="end">{escape(pounds_short(t))}</text>'
        )
    n = max(1, len(categories))
    slot = Fraction(plot_w, n)
    col_w = min(Fraction(36), (slot - 24) / max(1, len(columns)))
    for ci, cat in enumerate(categories):
        cx = left + slot * ci + slot / 2
        out.append(
            f'<text x="{_n(cx)}" y="{height - 14}" font-size="13" fill="{INK}"'
            f' text-anchor="middle">{escape(cat)}</text>'
        )
        x = cx - col_w * len(columns) / 2
        for s in columns:
            v = s.values[ci]
            y0, y1 = y_of(0), y_of(v)
            top_y, h = (y1, y0 - y1) if v >= 0 else (y0, y1 - y0)
            out.append(
                f'<rect x="{_n(x)}" y="{_n(top_y)}" width="{_n(col_w - 2)}" height="{_n(h)}"'
                f" {_fill(chart_id, s)}/>"
            )
            x += col_w
    if line is not None:
        pts = [(left + slot * i + slot / 2, y_of(v)) for i, v in enumerate(line.values)]
        out.append(
            f'<polyline points="{" ".join(f"{_n(px)},{_n(py)}" for px, py in pts)}"'
            f' fill="none" stroke="{line.colour}" stroke-width="3"/>'
        )
        for (px, py), v in zip(pts, line.values, strict=True):
            out.append(
                f'<circle cx="{_n(px)}" cy="{_n(py)}" r="5" fill="#ffffff"'
                f' stroke="{line.colour}" stroke-width="3"/>'
            )
            out.append(
                f'<text x="{_n(px + 8)}" y="{_n(py - 8)}" font-size="12" fill="{INK}">'
                f"{escape(pounds_short(v))}</text>"
            )
    out.append("</svg>")
    all_series = [*columns, *([line] if line else [])]
    table = Table(
        caption or title,
        ("", *(s.name for s in all_series)),
        tuple((c, *(pounds(s.values[i]) for s in all_series)) for i, c in enumerate(categories)),
    )
    legend = tuple((s.name, s.colour, s.hatched) for s in all_series)
    return Chart(chart_id, title, desc, Markup("".join(out)), table, legend)
