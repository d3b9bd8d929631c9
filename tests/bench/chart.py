# -*- coding: utf-8 -*-
"""A dependency-free SVG bar chart of cost per secret by pattern and implementation."""
from __future__ import annotations

from xml.sax.saxutils import escape

COLOURS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f"]


def svg(report, width=960, bar_h=14):
    # the held variable's figure is per reference (3 tasks), fixed costs included: not comparable, left out
    rows = [r for r in report["rows"] if r.get("ms_per_secret") is not None and r["pattern"] != "held variable"]
    patterns = []
    for row in rows:
        if row["pattern"] not in patterns:
            patterns.append(row["pattern"])
    impls = []
    for row in rows:
        if row["impl"] not in impls:
            impls.append(row["impl"])
    peak = max([r["ms_per_secret"] for r in rows] + [1.0])
    left, y, parts = 330, 30, []
    scale = (width - left - 80) / peak
    parts.append('<text x="10" y="18" font-size="14" font-weight="bold">ms per secret (lower is better), %d secrets, '
                 '%s</text>' % (report["secrets"], escape(report["date"])))
    for pattern in patterns:
        parts.append('<text x="10" y="%d" font-size="12" font-weight="bold">%s</text>' % (y + 12, escape(pattern)))
        y += 18
        for row in [r for r in rows if r["pattern"] == pattern]:
            colour = COLOURS[impls.index(row["impl"]) % len(COLOURS)]
            w = max(1, row["ms_per_secret"] * scale)
            parts.append('<text x="20" y="%d" font-size="11">%s</text>' % (y + 11, escape(row["impl"])))
            parts.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>' % (left, y, w, bar_h, colour))
            label = (left + w + 4, y + 11, row["ms_per_secret"])
            parts.append('<text x="%.1f" y="%d" font-size="11">%.2f</text>' % label)
            y += bar_h + 4
        y += 8
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif">%s</svg>\n'
            % (width, y + 10, "".join(parts)))
