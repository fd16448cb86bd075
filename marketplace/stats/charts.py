"""Bar charts drawn on the server as inline SVG: no JavaScript and no chart CDN, so they show without JS, print,
and scale with the page (viewBox, width 100%).

One drawing serves every chart on the statistics page: one series is a plain bar chart, several are grouped bars
with a legend; bars run up (`horizontal=False`, for months) or across (for long category names such as cities and
providers). Every bar is a <rect class="bar"> carrying data-label, data-series and data-value (the exact integer),
and a <title> tooltip. All text is escaped."""
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

BLUE = "#0b5cad"
ORANGE = "#e8912d"
GRID = "#e3e8ef"
INK = "#333"
MUTED = "#666"
WIDTH = 960
LABEL_SIZE = 12
VALUE_SIZE = 11
MAX_LABEL_WIDTH = 190
EMPTY = "暂无数据"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    colour: str = BLUE


@dataclass(frozen=True)
class Chart:
    """What to draw: the categories, one or more series of non-negative integers, and how to print a value."""
    title: str
    labels: Sequence[str]
    series: Sequence[Series]
    format_value: Callable[[int], str] = str
    unit: str = ""
    horizontal: bool = False

    @property
    def top_value(self) -> int:
        return max((value for series in self.series for value in series.values), default=0)

    def tooltip(self, label: str, series: Series, value: int) -> str:
        name = f" · {series.name}" if len(self.series) > 1 else ""
        return f"{label}{name}：{self.format_value(value)}{self.unit}"


def bar_chart(chart: Chart) -> Markup:
    """The chart as an <svg> element ready to put in a template (empty data draws "暂无数据")."""
    if not chart.labels or chart.top_value <= 0:
        return _empty(chart.title)
    return (_horizontal if chart.horizontal else _vertical)(chart)


def nice_ticks(top_value: int, target: int = 5) -> list[int]:
    """Axis ticks from 0 in steps of 1, 2 or 5 × 10ⁿ (whole numbers), reaching at least `top_value`."""
    raw = max(-(-top_value // target), 1)
    magnitude = 10 ** (len(str(raw)) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    steps = max(-(-top_value // step), 1)
    return [step * index for index in range(steps + 1)]


def text_width(text: str, size: int) -> float:
    """Rough rendered width: CJK characters are one em wide, Latin letters and digits about 0.6 em."""
    return sum(size if ord(char) >= 0x2E80 else size * 0.6 for char in text)


def fit(text: str, width: float, size: int) -> str:
    """`text` shortened with an ellipsis to fit `width` (the full text stays in the bar's tooltip)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def _horizontal(chart: Chart) -> Markup:
    bar, gap, group_gap = 13, 2, 10
    group = len(chart.series) * (bar + gap) - gap + group_gap
    label_width = min(max(text_width(label, LABEL_SIZE) for label in chart.labels), MAX_LABEL_WIDTH)
    left, right, top = label_width + 16, 90, _plot_top(chart)
    plot_width, plot_height = WIDTH - left - right, len(chart.labels) * group
    height = top + plot_height + 28
    ticks = nice_ticks(chart.top_value)
    scale = plot_width / ticks[-1]
    parts = [_grid_line(left + tick * scale, top, left + tick * scale, top + plot_height)
             + _text(left + tick * scale, top + plot_height + 16, chart.format_value(tick), VALUE_SIZE, MUTED, "middle")
             for tick in ticks]
    for row, label in enumerate(chart.labels):
        y = top + row * group + group_gap / 2
        parts.append(_text(left - 8, y + (group - group_gap) / 2 + 4, fit(label, label_width, LABEL_SIZE),
                           LABEL_SIZE, INK, "end"))
        for index, series in enumerate(chart.series):
            value, bar_y = series.values[row], y + index * (bar + gap)
            parts.append(_bar(chart, label, series, value, left, bar_y, value * scale, bar))
            if value:
                parts.append(_text(left + value * scale + 4, bar_y + bar - 2, chart.format_value(value), VALUE_SIZE,
                                   INK))
    return _svg(chart, height, parts)


def _vertical(chart: Chart) -> Markup:
    height, left, right, bottom, top = 320, 64, 16, 32, _plot_top(chart)
    plot_width, plot_height = WIDTH - left - right, height - top - bottom
    band = plot_width / len(chart.labels)
    bar = band * 0.7 / len(chart.series)
    ticks = nice_ticks(chart.top_value)
    scale = plot_height / ticks[-1]
    base = top + plot_height
    parts = [_grid_line(left, base - tick * scale, WIDTH - right, base - tick * scale)
             + _text(left - 6, base - tick * scale + 4, chart.format_value(tick), VALUE_SIZE, MUTED, "end")
             for tick in ticks]
    for column, label in enumerate(chart.labels):
        x = left + column * band + band * 0.15
        parts.append(_text(left + (column + 0.5) * band, base + 18, fit(label, band - 4, LABEL_SIZE),
                           LABEL_SIZE, INK, "middle"))
        for index, series in enumerate(chart.series):
            value, bar_x = series.values[column], x + index * bar
            parts.append(_bar(chart, label, series, value, bar_x, base - value * scale, bar, value * scale))
            shown = chart.format_value(value)
            if value and text_width(shown, VALUE_SIZE - 1) <= bar + 6:
                parts.append(_text(bar_x + bar / 2, base - value * scale - 4, shown, VALUE_SIZE - 1, INK, "middle"))
    return _svg(chart, height, parts)


def _plot_top(chart: Chart) -> int:
    """Room above the plot for the unit caption and, with several series, the legend."""
    return 30 + (22 if len(chart.series) > 1 else 0)


def _svg(chart: Chart, height: float, parts: list[str]) -> Markup:
    head = [f'<title>{escape(chart.title)}</title>']
    if chart.unit:
        head.append(_text(8, 18, f"单位：{chart.unit}", VALUE_SIZE, MUTED))
    if len(chart.series) > 1:
        head.append(_legend(chart.series))
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height:.0f}" '
                  f'width="100%" role="img" aria-label="{escape(chart.title)}">'
                  + "".join(head + parts) + "</svg>")


def _legend(series: Sequence[Series]) -> str:
    items, x = [], 8.0
    for one in series:
        items.append(f'<rect x="{x:.1f}" y="30" width="12" height="12" fill="{escape(one.colour)}"/>'
                     + _text(x + 16, 40, one.name, LABEL_SIZE, INK))
        x += 16 + text_width(one.name, LABEL_SIZE) + 20
    return f'<g class="legend">{"".join(items)}</g>'


def _bar(chart: Chart, label: str, series: Series, value: int, x: float, y: float, width: float,
         height: float) -> str:
    return (f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
            f'fill="{escape(series.colour)}" data-label="{escape(label)}" data-series="{escape(series.name)}" '
            f'data-value="{int(value)}"><title>{escape(chart.tooltip(label, series, value))}</title></rect>')


def _grid_line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{GRID}" stroke-width="1"/>'


def _text(x: float, y: float, text: str, size: int, colour: str, anchor: str = "start") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{colour}" text-anchor="{anchor}">'
            f'{escape(text)}</text>')


def _empty(title: str) -> Markup:
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} 100" width="100%" '
                  f'role="img" aria-label="{escape(title)}：{EMPTY}"><title>{escape(title)}</title>'
                  + _text(WIDTH / 2, 56, EMPTY, 16, MUTED, "middle") + "</svg>")
