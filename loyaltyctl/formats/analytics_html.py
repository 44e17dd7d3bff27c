"""`report analytics --format html`: one self-contained page, charts drawn as inline SVG.

No script, no font or stylesheet fetched: it opens from a mail attachment or
a USB stick, prints on A4, and reads at a phone's width (each chart scales to
the page through its viewBox). Every chart has a title and a description for
screen readers, and the table of its figures beside it, folded.
"""

from collections.abc import Sequence
import math
import re
from html import escape

from loyaltyctl.core.analytics import Analytics
from loyaltyctl.formats.analytics import (COHORT_COLUMNS, NO_DATA, RATE, SEGMENTS, headline, section_grids,
                                          shown)
from loyaltyctl.model import ProgramRef
from loyaltyctl.money import format_money

WIDTH, HEIGHT = 560, 260  # a chart's drawing units; the page scales it
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 44  # room for axis labels

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d232b; margin: 0 auto;
       max-width: 60rem; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .2rem 0; } h2 { font-size: 1.15rem; margin: 1.8rem 0 .4rem; }
p.lead { color: #4a5563; margin-top: 0; }
dl.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: .5rem; margin: 0; }
dl.figures div { border: 1px solid #d5dae1; border-radius: 6px; padding: .45rem .6rem; }
dl.figures dt { font-size: .8rem; color: #4a5563; } dl.figures dd { margin: 0; font-size: 1.2rem; font-weight: 600; }
figure { margin: 0; } svg { width: 100%; height: auto; display: block; }
svg text { font: 12px system-ui, sans-serif; fill: #333c47; }
.axis line, .axis path { stroke: #9aa3ad; } .grid line { stroke: #e4e8ec; }
.issued { fill: #2f7d4f; } .redeemed { fill: #7b3fa0; } .expired { fill: #c2882b; } .active { fill: #2f6bb3; }
.share { stroke: #c0392b; stroke-width: 2.5; fill: none; } .dot { fill: #c0392b; }
.legend span { display: inline-block; margin-right: 1rem; font-size: .85rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
i.issued { background: #2f7d4f; } i.redeemed { background: #7b3fa0; } i.expired { background: #c2882b; }
table { border-collapse: collapse; font-size: .85rem; margin: .4rem 0; }
th, td { border: 1px solid #d5dae1; padding: .2rem .45rem; text-align: right; } th:first-child, td:first-child { text-align: left; }
details { margin: .3rem 0 1rem; } summary { cursor: pointer; color: #2f6bb3; }
.scroll { overflow-x: auto; }
.heat td.cell { color: #10161c; min-width: 2.6rem; } .heat td.light { color: #fff; }
@media print { body { max-width: none; font-size: 11pt; } details { display: block; } details > summary { display: none; }
               h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
@media (max-width: 40rem) { body { padding: .5rem; } dl.figures dd { font-size: 1.05rem; } }
"""


def analytics_html(ref: ProgramRef, a: Analytics) -> str:
    c = ref.currency
    grids = {grid.title: grid for grid in section_grids(ref, a, cell=shown)}
    months = [m.month.strftime("%Y-%m") for m in a.monthly]
    parts = [
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(ref.code)} analytics, {a.start} to {a.end}</title>", f"<style>{STYLE}</style>", "</head>",
        "<body>", f"<h1>{escape(ref.code)}: program analytics</h1>",
        f'<p class="lead">{a.start} to {a.end}, amounts in {escape(c)}; active means a purchase in the last '
        f"{a.active_days} days; {NO_DATA} where there is nothing to divide by.</p>",
        "<h2>Headline figures</h2>", '<dl class="figures">',
        *(f"<div><dt>{escape(f.label)}</dt><dd>{escape(shown(f.value, f.kind, c))}</dd></div>" for f in headline(a)),
        "</dl>",
        "<h2>Points by month</h2>",
        _legend((("issued", "issued"), ("redeemed", "redeemed"), ("expired", "expired"))),
        _bars("Points issued, redeemed and expired by month",
              "Grouped bars per month: points issued, redeemed and expired.", months,
              [("issued", [m.points.issued for m in a.monthly]), ("redeemed", [m.points.redeemed for m in a.monthly]),
               ("expired", [m.points.expired for m in a.monthly])]),
        "<h2>Active members by month</h2>",
        _bars("Members with a purchase, by month", "One bar per month: members with a purchase in it.", months,
              [("active", [m.active_members for m in a.monthly])]),
        "<h2>Member share of sales by month</h2>",
        _share_line("Member share of sales by month",
                    "A line per month: sales to members as a share of all sales, 0 to 100 percent; "
                    "months without sales are left out.", months, [m.member_sales_share for m in a.monthly]),
        _folded(grids["monthly"].columns, grids["monthly"].rows, "Monthly figures"),
        "<h2>Retention by join month</h2>",
        _heatmap(a),
        "<h2>Segments</h2>",
        _segment_bars(ref, a),
        _folded(grids["segments"].columns, grids["segments"].rows, "Segment figures"),
        "</body>", "</html>",
    ]
    return "\n".join(parts) + "\n"


def _legend(series: Sequence[tuple[str, str]]) -> str:
    return '<p class="legend">' + "".join(f'<span><i class="{css}"></i>{escape(name)}</span>'
                                          for css, name in series) + "</p>"


def _scale(value: float) -> tuple[int, float]:
    """An axis for values up to `value`: (steps, step), the step 1, 2 or 5 times a power of ten, at most
    five steps (at least one)."""
    if value <= 0:
        return 1, 1
    power = 1.0
    while power * 10 <= value / 5:
        power *= 10
    step = next(m * power for m in (1, 2, 5, 10) if m * power * 5 >= value)
    return max(1, math.ceil(value / step)), step


def _svg(title: str, desc: str, body: Sequence[str], height: int = HEIGHT) -> str:
    ident = re.sub(r"[^a-z0-9]+", "-", title.lower())
    return (f'<figure><svg viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{ident}t {ident}d">'
            f'<title id="{ident}t">{escape(title)}</title><desc id="{ident}d">{escape(desc)}</desc>'
            + "".join(body) + "</svg></figure>")


def _axis(steps: int, step: float, label=lambda v: f"{v:,.0f}") -> list[str]:
    """Grid lines at 0, step … steps × step, labelled at the left."""
    inner = HEIGHT - TOP - BOTTOM
    body = ['<g class="grid">']
    for n in range(steps + 1):
        y = TOP + inner - inner * n / steps
        body.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                    f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label(step * n))}</text>')
    body.append("</g>")
    return body


def _month_labels(months: Sequence[str], slot: float) -> list[str]:
    every = -(-len(months) // 7)  # at most seven labels: each stays readable at a phone's width
    return [f'<text x="{LEFT + slot * (i + .5):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(m)}</text>'
            for i, m in enumerate(months) if i % every == 0]


def _bars(title: str, desc: str, months: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]) -> str:
    steps, step = _scale(max((v for _, values in series for v in values), default=0))
    top = steps * step
    inner = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    width = slot * .8 / len(series)
    body = _axis(steps, step)
    for s, (css, values) in enumerate(series):
        for i, value in enumerate(values):
            h = inner * max(value, 0) / top
            x = LEFT + slot * i + slot * .1 + width * s
            body.append(f'<rect class="{css}" x="{x:.1f}" y="{TOP + inner - h:.1f}" width="{width:.1f}" '
                        f'height="{h:.1f}"><title>{escape(months[i])} {css}: {value:,}</title></rect>')
    body += _month_labels(months, slot)
    return _svg(title, desc, body)


def _share_line(title: str, desc: str, months: Sequence[str], shares: Sequence) -> str:
    inner = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(len(months), 1)
    body = _axis(4, .25, label=lambda v: f"{v:.0%}")
    points = [(LEFT + slot * (i + .5), TOP + inner - inner * float(max(min(share, 1), 0)), months[i], share)
              for i, share in enumerate(shares) if share is not None]
    if len(points) > 1:
        body.append('<polyline class="share" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in points) + '"/>')
    body += [f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3.5"><title>{escape(m)}: '
             f"{escape(shown(share, RATE, ''))}</title></circle>" for x, y, m, share in points]
    body += _month_labels(months, slot)
    return _svg(title, desc, body)


def _heat_colour(share) -> tuple[str, bool]:
    """A cell's background for a retention share (pale to deep blue) and whether its text is light."""
    level = float(share)
    low, high = (236, 243, 250), (22, 72, 140)
    rgb = tuple(round(lo + (hi - lo) * level) for lo, hi in zip(low, high))
    return "#%02x%02x%02x" % rgb, level > .5


def _heatmap(a: Analytics) -> str:
    """The retention table coloured as a heatmap: an HTML table is a grid a screen reader walks, and it
    reflows on a phone (scrolled sideways) where an SVG would shrink its numbers away."""
    if not a.cohorts:
        return "<p>No members joined in the 12 months to the last day.</p>"
    rows = []
    for h in a.cohorts:
        cells = []
        for r in h.retention:
            if r is None:
                cells.append("<td></td>")
                continue
            colour, light = _heat_colour(r)
            cells.append(f'<td class="cell{" light" if light else ""}" style="background:{colour}">'
                         f"{escape(shown(r, RATE, ''))}</td>")
        rows.append(f'<tr><th scope="row">{h.month.strftime("%Y-%m")}</th><td>{h.members:,}</td>{"".join(cells)}</tr>')
    head = "".join(f'<th scope="col">{k}</th>' for k in range(len(COHORT_COLUMNS)))
    return ('<div class="scroll"><table class="heat"><caption>Share of each month\'s joiners with a purchase in '
            'month 0 (the join month), 1, 2 … after it</caption>'
            f'<thead><tr><th scope="col">joined</th><th scope="col">members</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _segment_bars(ref: ProgramRef, a: Analytics) -> str:
    """Horizontal bars per segment: sales, and the average order."""
    c = ref.currency
    rows = [(label, a.segments[name]) for name, label in SEGMENTS]
    body = []
    height = 36 + 2 * 26 * len(rows) + 24
    charts = (("sales", lambda s: s.sales), ("average order", lambda s: s.average_order_value or 0))
    y = 22
    for heading, value in charts:
        steps, step = _scale(max((value(s) for _, s in rows), default=0))
        top = steps * step
        body.append(f'<text x="0" y="{y}" font-weight="600">{escape(heading)} ({escape(c)})</text>')
        y += 8
        for label, s in rows:
            w = (WIDTH - 220) * max(value(s), 0) / top
            body.append(f'<text x="0" y="{y + 14}">{escape(label)}</text>'
                        f'<rect class="active" x="110" y="{y + 2}" width="{w:.1f}" height="16"/>'
                        f'<text x="{116 + w:.1f}" y="{y + 14}">{escape(format_money(value(s), c))}</text>')
            y += 24
        y += 12
    return _svg("Sales and average order by segment",
                "Bars per segment (members who redeemed by the last day, the other members, non-members): their sales "
                "in the range, then their average order.", body, height=max(height, y))


def _folded(columns: Sequence[str], rows: Sequence[Sequence], summary: str) -> str:
    head = "".join(f'<th scope="col">{escape(str(c).replace("_", " "))}</th>' for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v if v is not None else NO_DATA))}</td>" for v in row) + "</tr>"
                   for row in rows)
    return (f'<details><summary>{escape(summary)} as a table</summary><div class="scroll"><table>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></details>")
