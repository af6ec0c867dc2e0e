"""Charts as inline SVG for the HTML reports: no script, no external file, printable, read at a glance.

Every label is escaped here (names of checks and vendors are data); the result is Markup for the
templates. Two shapes: horizontal bars (a value per label: failures by check) and stacked columns per
period (accepted and rejected items per week).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

ACCEPTED = "#2e7d32"
REJECTED = "#c62828"
BAR = "#c62828"
SVG = "xmlns='http://www.w3.org/2000/svg' data-guidang-chart='' role='img'"
FONT = "font-family='Noto Sans CJK SC, sans-serif' font-size='12'"


def _open(width: int, height: int, title: str) -> str:
    return f"<svg {SVG} width='{width}' height='{height}' viewBox='0 0 {width} {height}'><title>{escape(title)}</title>"


def hbars(rows: Sequence[tuple[str, int]], *, title: str, width: int = 640, bar_height: int = 18) -> Markup:
    """One horizontal bar per (label, value), longest first as given; an empty list says so."""
    if not rows:
        return Markup("<p class='empty'>无数据 / no data</p>")
    label_w, gap = 260, 6
    top = max(v for _, v in rows) or 1
    height = len(rows) * (bar_height + gap) + 10
    parts = [_open(width, height, title)]
    for n, (label, value) in enumerate(rows):
        y = 5 + n * (bar_height + gap)
        w = max(1, round((width - label_w - 60) * value / top)) if value else 0
        parts.append(f"<text x='{label_w - 6}' y='{y + bar_height - 5}' text-anchor='end' {FONT}>{escape(label)}</text>"
                     f"<rect x='{label_w}' y='{y}' width='{w}' height='{bar_height}' fill='{BAR}'/>"
                     f"<text x='{label_w + w + 4}' y='{y + bar_height - 5}' {FONT}>{value}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_columns(periods: Sequence[tuple[str, int, int]], *, title: str, width: int = 640,
                    height: int = 220) -> Markup:
    """One column per (period, accepted, rejected): accepted below in green, rejected above in red."""
    if not periods:
        return Markup("<p class='empty'>无数据 / no data</p>")
    base, left, right = height - 40, 40, 10
    top = max(a + r for _, a, r in periods) or 1
    slot = (width - left - right) / len(periods)
    col = max(4.0, min(48.0, slot * 0.6))
    parts = [_open(width, height, title),
             f"<line x1='{left}' y1='{base}' x2='{width - right}' y2='{base}' stroke='#555'/>",
             f"<text x='{left - 4}' y='{base - (base - 20) + 4}' text-anchor='end' {FONT}>{top}</text>",
             f"<text x='{left - 4}' y='{base}' text-anchor='end' {FONT}>0</text>"]
    for n, (period, accepted, rejected) in enumerate(periods):
        x = left + n * slot + (slot - col) / 2
        h_a = (base - 20) * accepted / top
        h_r = (base - 20) * rejected / top
        parts.append(f"<rect x='{x:.1f}' y='{base - h_a:.1f}' width='{col:.1f}' height='{h_a:.1f}' fill='{ACCEPTED}'>"
                     f"<title>{escape(period)} 接收 accepted {accepted}</title></rect>"
                     f"<rect x='{x:.1f}' y='{base - h_a - h_r:.1f}' width='{col:.1f}' height='{h_r:.1f}' "
                     f"fill='{REJECTED}'><title>{escape(period)} 退回 rejected {rejected}</title></rect>"
                     f"<text x='{x + col / 2:.1f}' y='{base + 16}' text-anchor='middle' {FONT}>{escape(period)}</text>")
    parts.append(f"<rect x='{left}' y='{height - 14}' width='10' height='10' fill='{ACCEPTED}'/>"
                 f"<text x='{left + 14}' y='{height - 5}' {FONT}>接收 accepted</text>"
                 f"<rect x='{left + 120}' y='{height - 14}' width='10' height='10' fill='{REJECTED}'/>"
                 f"<text x='{left + 134}' y='{height - 5}' {FONT}>退回 rejected</text></svg>")
    return Markup("".join(parts))
