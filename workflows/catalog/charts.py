"""The report's two charts as inline SVG text: no JavaScript, no CDN, nothing fetched when the page opens.

* ``suitability_value``: suitability (1–5) across, annual hours saved up, one dot per process numbered by rank.
  Hours run on a square-root scale (labelled in plain hours) so that a few large processes do not squash
  the rest against the axis; negative hours (automation would cost time) sit below the zero line in red.
* ``hours_bars``: one horizontal bar per process, annual net hours saved, longest first.
"""

from __future__ import annotations

import math
from html import escape

from workflows.catalog.score import Score

FONT = "'Noto Sans CJK JP','Noto Sans JP','IPAexGothic',sans-serif"
BLUE, GREY, RED, GREEN = "#1f5fa8", "#8a94a6", "#c62828", "#2e7d32"


def _signed_sqrt(value: float) -> float:
    return math.copysign(math.sqrt(abs(value)), value)


def _hour_ticks(low: float, high: float) -> list[int]:
    """Round hour values between low and high, spaced to suit the square-root scale (at most four each side)."""
    nice = [10, 25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200]
    above = [t for t in nice if t <= high][-4:]
    below = [-t for t in nice if t <= -low][-3:]
    return sorted([0, *above, *below])


def _colour(s: Score, top: int) -> str:
    if s.hours.net < 0:
        return RED
    return BLUE if s.rank <= top else GREY


def suitability_value(scores: list[Score], top: int = 10, width: int = 760, height: int = 440) -> str:
    """Scatter of suitability × annual hours saved, the top candidates numbered and coloured."""
    left, right, up, down = 70, 20, 30, 50
    plot_w, plot_h = width - left - right, height - up - down
    nets = [s.hours.net for s in scores] or [0.0]
    high, low = max(max(nets), 100.0), min(min(nets), 0.0)
    y_top, y_bottom = _signed_sqrt(high) * 1.08, _signed_sqrt(low) * 1.08 if low < 0 else 0.0

    def x(level: float) -> float:
        return left + (level - 1.0) / 4.0 * plot_w

    def y(hours: float) -> float:
        return up + (y_top - _signed_sqrt(hours)) / (y_top - y_bottom) * plot_h

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-suitability-value" class="chart" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="{FONT}" font-size="12">',
           "<title>適合度 × 年間削減時間</title>",
           f'<rect x="{x(3.5):.1f}" y="{up}" width="{x(5) - x(3.5):.1f}" height="{max(0.0, y(100) - up):.1f}" '
           f'fill="#e8f0fb"/>',
           f'<text x="{x(5) - 6:.1f}" y="{up + 16}" text-anchor="end" fill="{BLUE}">有望(適合度3.5以上・100時間以上)</text>']
    for tick in _hour_ticks(low, high):
        ty = y(tick)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" '
                   f'stroke="{"#555" if tick == 0 else "#ddd"}" stroke-width="{1.2 if tick == 0 else 1}"/>')
        out.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#333">{tick:,}</text>')
    for level in range(1, 6):
        tx = x(level)
        out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{up}" y2="{up + plot_h}" stroke="#eee"/>')
        out.append(f'<text x="{tx:.1f}" y="{up + plot_h + 18}" text-anchor="middle" fill="#333">{level}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" fill="#222">'
               f'適合度(1〜5、UiPath Automation Hub の5観点)</text>')
    out.append(f'<text transform="translate(16,{up + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" fill="#222">'
               f'年間削減時間(時間、平方根目盛)</text>')
    for s in sorted(scores, key=lambda s: -s.rank):  # best drawn last, on top
        cx, cy, colour = x(s.suitability), y(s.hours.net), _colour(s, top)
        label = escape(f"{s.rank}. {s.process.name}({s.process.department}) 適合度{s.suitability:.1f}"
                       f" 年間{s.hours.net:,.0f}時間")
        out.append(f'<circle class="dot" cx="{cx:.1f}" cy="{cy:.1f}" r="{6 if s.rank <= top else 4}" fill="{colour}" '
                   f'fill-opacity="0.85" stroke="#fff"><title>{label}</title></circle>')
    placed: list[tuple[float, float]] = []
    for s in sorted(scores, key=lambda s: s.rank)[:top]:
        cx, cy = x(s.suitability), y(s.hours.net)
        # the first of four spots around the dot that no earlier number occupies (else the first spot)
        spots = [(cx + 8, cy - 6), (cx + 8, cy + 14), (cx - 20, cy - 6), (cx - 20, cy + 14)]
        tx, ty = next((p for p in spots if all(abs(p[0] - q[0]) > 14 or abs(p[1] - q[1]) > 12 for q in placed)),
                      spots[0])
        placed.append((tx, ty))
        out.append(f'<text x="{tx:.1f}" y="{ty:.1f}" fill="{_colour(s, top)}" font-weight="bold">{s.rank}</text>')
    out.append("</svg>")
    return "\n".join(out)


def hours_bars(scores: list[Score], top: int = 10, width: int = 760, row: int = 20) -> str:
    """Horizontal bars of annual net hours saved, one per process, most first; negatives to the left in red."""
    ordered = sorted(scores, key=lambda s: -s.hours.net)
    label_w, right, up = 300, 70, 24
    height = up + row * len(ordered) + 30
    nets = [s.hours.net for s in ordered] or [0.0]
    high, low = max(max(nets), 1.0), min(min(nets), 0.0)
    span = high - low
    plot_w = width - label_w - right

    def x(hours: float) -> float:
        return label_w + (hours - low) / span * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" id="chart-hours" class="chart" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="{FONT}" font-size="12">',
           "<title>業務別の年間削減時間</title>",
           f'<text x="{label_w}" y="14" fill="#222">年間削減時間(時間/年、構築・保守・確認の時間を差し引いた純効果)</text>']
    zero = x(0.0)
    for i, s in enumerate(ordered):
        top_y = up + i * row
        bar_x, bar_w = (zero, x(s.hours.net) - zero) if s.hours.net >= 0 else (x(s.hours.net), zero - x(s.hours.net))
        name = s.process.name if len(s.process.name) <= 22 else s.process.name[:21] + "…"
        out.append(f'<text x="{label_w - 6}" y="{top_y + row * 0.7:.1f}" text-anchor="end" fill="#222">'
                   f'{s.rank}. {escape(name)}</text>')
        out.append(f'<rect class="bar" x="{bar_x:.1f}" y="{top_y + 3}" width="{max(bar_w, 0.5):.1f}" '
                   f'height="{row - 6}" fill="{_colour(s, top)}"><title>{escape(s.process.name)}: '
                   f'{s.hours.net:,.0f}時間/年</title></rect>')
        value_x = bar_x + bar_w + 4 if s.hours.net >= 0 else zero + 4  # negatives: beside the zero line
        out.append(f'<text x="{value_x:.1f}" y="{top_y + row * 0.7:.1f}" fill="#333">{s.hours.net:,.0f}</text>')
    out.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{up}" y2="{up + row * len(ordered)}" stroke="#555"/>')
    out.append("</svg>")
    return "\n".join(out)
