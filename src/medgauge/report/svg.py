"""Tiny inline-SVG charts (no JS, no external assets).  Every label is escaped."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from medgauge.stats import Proportion, ReliabilityBin

PALETTE = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#000000")


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def _f(x: float) -> str:
    return f"{x:.1f}"


def _pct(p: Proportion) -> str:
    if p.n == 0:
        return "no answered items"
    return f"{100 * p.value:.1f}% [{100 * p.lo:.1f}, {100 * p.hi:.1f}] n={p.n}"


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>{"".join(body)}</svg>'
    )


def _y_axis(x0: float, y0: float, h: float, w: float) -> list[str]:
    out = []
    for t in range(0, 101, 25):
        y = y0 + h - h * t / 100
        out.append(f'<line x1="{_f(x0)}" x2="{_f(x0 + w)}" y1="{_f(y)}" y2="{_f(y)}" '
                   'class="grid"/>')
        out.append(f'<text x="{_f(x0 - 4)}" y="{_f(y + 4)}" text-anchor="end">{t}</text>')
    return out


def bar_chart(
    labels: Sequence[str],
    values: Sequence[Proportion],
    title: str,
    colours: Sequence[str] | None = None,
) -> str:
    """Horizontal bars (accuracy %) with 95% interval whiskers, one per label."""
    row, left, right, top = 26, 150, 56, 24
    w = 360
    height = top + row * len(labels) + 26
    body = [f'<text x="{left}" y="15" class="ttl">{escape(title)}</text>']
    for t in range(0, 101, 25):
        x = left + w * t / 100
        body.append(f'<line x1="{_f(x)}" x2="{_f(x)}" y1="{top}" y2="{height - 22}" class="grid"/>')
        body.append(f'<text x="{_f(x)}" y="{height - 8}" text-anchor="middle">{t}%</text>')
    for i, (lab, p) in enumerate(zip(labels, values, strict=True)):
        y = top + i * row
        short = lab if len(lab) <= 22 else lab[:21] + "…"
        body.append(f'<text x="{left - 6}" y="{y + 16}" text-anchor="end">{escape(short)}</text>')
        if p.n == 0 or math.isnan(p.value):
            continue
        bw = w * p.value
        fill = colours[i] if colours else colour(i)
        body.append(f'<rect x="{left}" y="{y + 4}" width="{_f(bw)}" height="{row - 8}" '
                    f'fill="{fill}"><title>{escape(lab + ": " + _pct(p))}</title></rect>')
        x1, x2, yc = left + w * p.lo, left + w * p.hi, y + row / 2
        body.append(f'<path d="M{_f(x1)} {_f(yc)}H{_f(x2)}M{_f(x1)} {_f(yc - 5)}v10'
                    f'M{_f(x2)} {_f(yc - 5)}v10" class="whisk"/>')
        body.append(f'<text x="{_f(left + w + 6)}" y="{y + 16}">{100 * p.value:.1f}%</text>')
    return _frame(left + w + right, height, title, body)


def line_chart(
    x_labels: Sequence[str], series: dict[str, list[Proportion]], title: str, x_title: str
) -> str:
    """Accuracy per x bin, one line per series, with interval whiskers."""
    left, top, w, h = 50, 28, 440, 200
    width, height = left + w + 170, top + h + 48
    body = [f'<text x="{left}" y="16" class="ttl">{escape(title)}</text>']
    body += _y_axis(left, top, h, w)
    k = max(len(x_labels), 1)
    step = w / k

    def x_at(i: int) -> float:
        return left + step * (i + 0.5)

    for i, lab in enumerate(x_labels):
        body.append(f'<text x="{_f(x_at(i))}" y="{top + h + 16}" text-anchor="middle">'
                    f'{escape(lab)}</text>')
    body.append(f'<text x="{left + w / 2}" y="{top + h + 36}" text-anchor="middle">'
                f'{escape(x_title)}</text>')
    for s, (name, props) in enumerate(series.items()):
        c = colour(s)
        off = (s - (len(series) - 1) / 2) * 4
        pts = []
        for i, p in enumerate(props):
            if p.n == 0:
                continue
            x = x_at(i) + off
            y = top + h - h * p.value
            pts.append(f"{_f(x)},{_f(y)}")
            body.append(f'<path d="M{_f(x)} {_f(top + h - h * p.lo)}V{_f(top + h - h * p.hi)}" '
                        f'style="stroke:{c};stroke-width:1.4"/>')
            body.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="{c}">'
                        f'<title>{escape(name + " " + x_labels[i] + ": " + _pct(p))}</title>'
                        '</circle>')
        if len(pts) > 1:
            body.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{c}" '
                        'stroke-width="2"/>')
        ly = top + 12 + 18 * s
        short = name if len(name) <= 22 else name[:21] + "…"
        body.append(f'<rect x="{left + w + 14}" y="{ly - 9}" width="10" height="10" fill="{c}"/>')
        body.append(f'<text x="{left + w + 30}" y="{ly}">{escape(short)}</text>')
    return _frame(width, height, title, body)


def reliability_diagram(bins: Sequence[ReliabilityBin], title: str) -> str:
    """Accuracy per confidence bin against the diagonal; bar opacity grows with bin count."""
    left, top, size = 44, 26, 220
    width, height = left + size + 20, top + size + 44
    body = [f'<text x="{left}" y="16" class="ttl">{escape(title)}</text>']
    body += _y_axis(left, top, size, size)
    body.append(f'<line x1="{left}" y1="{top + size}" x2="{left + size}" y2="{top}" '
                'class="diag"/>')
    total = max(sum(b.count for b in bins), 1)
    k = max(len(bins), 1)
    bw = size / k
    for i, b in enumerate(bins):
        x = left + i * bw
        if i % 2 == 0:
            body.append(f'<text x="{_f(x)}" y="{top + size + 14}" text-anchor="middle">'
                        f'{b.lo:.1f}</text>')
        if i == k - 1:
            body.append(f'<text x="{_f(x + bw)}" y="{top + size + 14}" text-anchor="middle">'
                        f'{b.hi:.1f}</text>')
        if b.count == 0:
            continue
        bh = size * b.accuracy
        op = 0.35 + 0.65 * min(1.0, 4 * b.count / total)
        tip = f"({b.lo:.1f}, {b.hi:.1f}]: n={b.count}, conf={b.mean_conf:.2f}, acc={b.accuracy:.2f}"
        body.append(
            f'<rect x="{_f(x + 1)}" y="{_f(top + size - bh)}" width="{_f(bw - 2)}" '
            f'height="{_f(bh)}" fill="#4477aa" fill-opacity="{op:.2f}"><title>{escape(tip)}'
            '</title></rect>'
        )
        cy = top + size - size * b.mean_conf
        body.append(f'<path d="M{_f(x + 2)} {_f(cy)}H{_f(x + bw - 2)}" class="conf"/>')
    body.append(f'<text x="{left + size / 2}" y="{top + size + 32}" text-anchor="middle">'
                'stated confidence</text>')
    return _frame(width, height, title, body)
