#!/usr/bin/env python3
"""Throughput against data size, one panel per area, as an SVG written by hand.

    python3 benches/plot.py benches/results.tsv benches/throughput.svg

Reads what benches/compare.sh writes (a line per case and size, every run's seconds and
peak RSS) and draws the median MB/s (10^6 bytes a second) of every tool against the data
size, both axes logarithmic: continuum-backup in solid lines, the standard tools dashed.
Python 3 standard library only.
"""

import math
import statistics
import sys
from xml.sax.saxutils import escape

# The areas in the order compare.sh runs them, with their panel titles.
AREAS = {
    "store": "Folder store: put, get",
    "s3": "S3 store (moto on this machine): put, get",
    "cntmp": "cntmp export, import",
    "orchestrator": "Orchestrator archive",
    "db": "Database backup, restore (pgbench)",
    "parse": "Parsing: policy documents, cluster.conf",
}
COLUMNS = (
    "area op side tool size_mib bytes note seconds rss_kib"
).split()
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]
MIB = 1 << 20


def load(path):
    """The results, a dict per line, with the medians worked out (seconds, MB/s, MiB)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            row = dict(zip(COLUMNS, line.split("\t")))
            row["ops"] = row["op"].split(",")
            row["size_mib"] = int(row["size_mib"])
            row["bytes"] = int(row["bytes"])
            row["runs"] = [float(s) for s in row["seconds"].split()]
            row["rss_runs"] = [int(k) for k in row["rss_kib"].split()]
            row["median_s"] = statistics.median(row["runs"])
            row["mbps"] = row["bytes"] / 1e6 / row["median_s"]
            row["rss_mib"] = statistics.median(row["rss_runs"]) / 1024
            rows.append(row)
    return rows


def series(rows):
    """{area: {(side, tool): [(MiB, MB/s), …] by size}}, in the order of first appearance."""
    out = {}
    for r in rows:
        out.setdefault(r["area"], {}).setdefault((r["side"], r["tool"]), []).append(
            (r["bytes"] / MIB, r["mbps"])
        )
    for by_tool in out.values():
        for points in by_tool.values():
            points.sort()
    return out


def size_label(mib):
    if mib >= 1024:
        return f"{mib / 1024:g} GiB"
    return f"{mib:g} MiB"


def rate_label(v):
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


def nice_ticks(lo, hi):
    """1, 2, 5 × 10^k between lo and hi (both powers of ten)."""
    ticks = []
    k = round(math.log10(lo))
    while 10**k <= hi * 1.0001:
        for m in (1, 2, 5):
            v = m * 10**k
            if lo * 0.9999 <= v <= hi * 1.0001:
                ticks.append(v)
        k += 1
    return ticks


def panel(out, x0, y0, width, title, by_tool, xlo, xhi):
    """Draws one panel at (x0, y0); returns its height."""
    left, right, top, plot_h = 64, 16, 34, 220
    pw = width - left - right
    values = [v for pts in by_tool.values() for _, v in pts if v > 0]
    ylo = 10 ** math.floor(math.log10(min(values)))
    yhi = 10 ** math.ceil(math.log10(max(values)))
    if yhi <= ylo:
        yhi = ylo * 10

    def px(mib):
        return x0 + left + pw * (math.log2(mib) - math.log2(xlo)) / (math.log2(xhi) - math.log2(xlo))

    def py(v):
        return y0 + top + plot_h * (1 - (math.log10(v) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)))

    ax, ay = x0 + left, y0 + top
    out.append(f'<text x="{x0 + left}" y="{y0 + 20}" class="title">{escape(title)}</text>')
    out.append(f'<rect x="{ax}" y="{ay}" width="{pw}" height="{plot_h}" class="frame"/>')
    # Grid and ticks.
    mib = xlo
    while mib <= xhi:
        x = px(mib)
        out.append(f'<line x1="{x:.1f}" y1="{ay}" x2="{x:.1f}" y2="{ay + plot_h}" class="grid"/>')
        out.append(f'<text x="{x:.1f}" y="{ay + plot_h + 14}" class="tick" text-anchor="middle">{size_label(mib)}</text>')
        mib *= 4
    for v in nice_ticks(ylo, yhi):
        y = py(v)
        major = abs(math.log10(v) - round(math.log10(v))) < 1e-9
        out.append(f'<line x1="{ax}" y1="{y:.1f}" x2="{ax + pw}" y2="{y:.1f}" class="{"grid" if major else "grid minor"}"/>')
        out.append(f'<text x="{ax - 5}" y="{y + 4:.1f}" class="tick" text-anchor="end">{rate_label(v)}</text>')
    out.append(f'<text x="{ax + pw / 2:.1f}" y="{ay + plot_h + 32}" class="axis" text-anchor="middle">data size (log scale)</text>')
    cy = ay + plot_h / 2
    out.append(f'<text x="{x0 + 14}" y="{cy:.1f}" class="axis" text-anchor="middle" transform="rotate(-90 {x0 + 14} {cy:.1f})">MB/s (log scale)</text>')
    # Lines, markers, legend.
    legend_y = ay + plot_h + 50
    col_w = (width - left - right) / 2
    for i, ((side, tool), points) in enumerate(by_tool.items()):
        color = PALETTE[i % len(PALETTE)]
        dash = "" if side == "ours" else ' stroke-dasharray="6 4"'
        cls = "ours" if side == "ours" else "theirs"
        coords = " ".join(f"{px(m):.1f},{py(v):.1f}" for m, v in points)
        out.append(f'<polyline points="{coords}" class="{cls}" stroke="{color}"{dash}/>')
        for m, v in points:
            out.append(f'<circle cx="{px(m):.1f}" cy="{py(v):.1f}" r="3" fill="{color}"/>')
        lx = ax + (i % 2) * col_w
        ly = legend_y + (i // 2) * 16
        out.append(f'<line x1="{lx:.1f}" y1="{ly - 4}" x2="{lx + 24:.1f}" y2="{ly - 4}" class="{cls}" stroke="{color}"{dash}/>')
        out.append(f'<text x="{lx + 30:.1f}" y="{ly}" class="legend">{escape(tool)}</text>')
    rows = (len(by_tool) + 1) // 2
    return legend_y - y0 + rows * 16 + 8


def svg(rows, runs_note):
    data = series(rows)
    sizes = [m for by_tool in data.values() for pts in by_tool.values() for m, _ in pts]
    # 1 MiB to 4 GiB, wider only for a point well outside (a 0.996 MiB cluster.conf is not).
    xlo = min([1.0] + [2 ** math.floor(math.log2(m) + 0.1) for m in sizes])
    xhi = max([4096.0] + [2 ** math.ceil(math.log2(m) - 0.1) for m in sizes])
    width, col = 1200, 600
    out = []
    y = 62
    areas = [a for a in AREAS if a in data] + [a for a in data if a not in AREAS]
    for i in range(0, len(areas), 2):
        heights = []
        for j, area in enumerate(areas[i : i + 2]):
            heights.append(panel(out, j * col, y, col, AREAS.get(area, area), data[area], xlo, xhi))
        y += max(heights) + 10
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y:.0f}" viewBox="0 0 {width} {y:.0f}" font-family="sans-serif">',
        "<style>"
        ".title{font-size:14px;font-weight:bold}.tick{font-size:10px;fill:#444}.axis{font-size:11px;fill:#222}"
        ".legend{font-size:11px}.frame{fill:none;stroke:#888}.grid{stroke:#ddd}.minor{stroke:#f0f0f0}"
        ".ours{fill:none;stroke-width:2.5}.theirs{fill:none;stroke-width:1.5}"
        "</style>",
        f'<rect width="{width}" height="{y:.0f}" fill="white"/>',
        '<text x="20" y="26" font-size="17" font-weight="bold">continuum-backup beside the standard tools: throughput against data size</text>',
        f'<text x="20" y="46" font-size="12" fill="#444">{escape(runs_note)}</text>',
    ]
    return "\n".join(head + out + ["</svg>", ""])


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: plot.py RESULTS.tsv OUT.svg")
    rows = load(argv[1])
    if not rows:
        sys.exit(f"plot.py: no results in {argv[1]}")
    runs = sorted({len(r["runs"]) for r in rows})
    note = (
        f"MB/s = 10^6 bytes a second, the median of {'/'.join(map(str, runs))} run(s); "
        "solid: continuum-backup, dashed: the standard tools; both axes logarithmic. See REPORT.md."
    )
    with open(argv[2], "w", encoding="utf-8") as f:
        f.write(svg(rows, note))


if __name__ == "__main__":
    main(sys.argv)
