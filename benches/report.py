#!/usr/bin/env python3
"""benches/REPORT.md from what benches/compare.sh measured.

    python3 benches/report.py --results benches/results.tsv --skipped SKIPPED.tsv \
        --machine MACHINE.tsv --out benches/REPORT.md

Tables of ours against theirs at one size, throughput and peak memory at every size, and
the goals with "met" or "not met" worked out from the figures. Python 3 standard library.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plot import AREAS, load  # noqa: E402  (beside this file)

MIB = 1 << 20
# Peak RSS "roughly flat": at the largest size at most this many times the figure at the
# ratio size (256 MiB), while the data grows 4 to 16 times.
FLAT = 1.5
GOAL_CNTMP = 0.9
GOAL_DB = 1.0
GOAL_POLICY = 100.0


def fmt_rate(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def fmt_s(v):
    return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}" if v >= 1 else f"{v:.3f}"


def fmt_mib(v):
    return f"{v:.0f} MiB" if v >= 10 else f"{v:.1f} MiB"


def fmt_size(mib):
    if mib >= 1024:
        return f"{mib / 1024:.3g} GiB"
    return f"{mib:.3g} MiB" if mib < 10 else f"{mib:.0f} MiB"


def size_cell(row):
    text = fmt_size(row["bytes"] / MIB)
    return f"{text} ({row['note']})" if row["note"] else text


def ops_in_order(rows, area):
    seen = []
    for r in rows:
        if r["area"] == area:
            for op in r["ops"]:
                if op not in seen:
                    seen.append(op)
    return seen


def pick_size(rows, ratio_size):
    """The ratio size when measured, else the largest below it, else the smallest."""
    sizes = sorted({r["size_mib"] for r in rows})
    if ratio_size in sizes:
        return ratio_size, True
    below = [s for s in sizes if s < ratio_size]
    return (below[-1] if below else sizes[0]), False


def read_tsv(path, width):
    out = []
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", width - 1)
                if len(parts) == width:
                    out.append(parts)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--skipped")
    ap.add_argument("--machine")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    rows = load(args.results)
    machine = dict(read_tsv(args.machine, 2))
    skipped = read_tsv(args.skipped, 3)
    ratio_size = int(machine.get("ratio_size", "256"))
    runs = sorted({len(r["runs"]) for r in rows})
    runs_text = "/".join(map(str, runs))
    areas = [a for a in AREAS if any(r["area"] == a for r in rows)]

    def of(area, op, side):
        return [r for r in rows if r["area"] == area and op in r["ops"] and r["side"] == side]

    def at(rs, size):
        return [r for r in rs if r["size_mib"] == size]

    md = []

    def w(line):
        # In a table row a `|` inside code (`pg_dump | zstd`) would end the cell.
        if line.startswith("|"):
            line = re.sub(r"`[^`]*`", lambda m: m.group(0).replace("|", "\\|"), line)
        md.append(line)
    w("# continuum-backup beside the standard tools")
    w("")
    w(
        "Written by `bash benches/compare.sh` (do not edit by hand: run it again). The project and "
        "the standard tools ran one after the other on the same data on the same machine; "
        f"every figure is the median of {runs_text} run(s)."
    )
    w("")
    if runs and min(runs) < 5 or ratio_size not in {r["size_mib"] for r in rows}:
        w(
            "> **A trial run**: fewer than 5 runs a figure, or the ratio size "
            f"({ratio_size} MiB) was not measured. The figures below show the script works; they "
            "are not the results. Run `bash benches/compare.sh` with its defaults for those."
        )
        w("")

    # The machine.
    w("## Machine")
    w("")
    w("| | |")
    w("| --- | --- |")
    cpu = machine.get("cpu", "?")
    items = [
        ("date", machine.get("date", "?")),
        ("CPU", f"{cpu}, {machine.get('nproc', '?')} CPUs (`nproc`)"),
        ("memory", machine.get("memory", "?")),
        ("kernel", machine.get("kernel", "?")),
        ("disk (work folder)", machine.get("disk", "?")),
        ("git commit", machine.get("commit", "?")),
        ("binary", machine.get("binary", "?")),
        ("tools", machine.get("versions", "?")),
        ("load average (1, 5, 15 min)", f"{machine.get('load_start', '?')} at the start, {machine.get('load_end', '?')} at the end"),
        ("settings", f"BENCH_SIZES=\"{machine.get('sizes', '?')}\" BENCH_RUNS={machine.get('runs', '?')}; caps: {machine.get('caps', '?')}; ratio tables at {ratio_size} MiB; areas: {machine.get('areas', '?')}"),
    ]
    if "elapsed" in machine:
        def mins(k):
            secs = int(machine[k])
            return f"{secs // 60} min {secs % 60} s"

        parts = [f"{k[5:]} {mins(k)}" for k in machine if k.startswith("time_")]
        items.append(("whole run", mins("elapsed") + (f" ({', '.join(parts)})" if parts else "")))
    for k, v in items:
        w(f"| {k} | {v.replace('|', '/')} |")
    w("")

    w("## How to read")
    w("")
    w(
        "- **Ratio = ours ÷ theirs in throughput** (= theirs' seconds ÷ our seconds): **above 1 "
        "continuum-backup is faster**, below 1 it is slower (0.5: it takes twice as long)."
    )
    w(
        "- MB/s: 10^6 bytes a second, of the operation's data (the file, the layers, the release "
        "bundle and dumps, `pg_database_size` of the database, the policy or cluster.conf text) "
        "over wall-clock seconds. Sizes are in MiB (2^20 bytes)."
    )
    w(
        "- Within one area and size every case ran once per round, the order rotating from round "
        "to round, so a change of load weighs on all alike. The time of a run includes starting "
        "the process (a few ms: it dominates the 1 MiB points)."
    )
    w(
        "- Peak RSS: GNU `time -f %M` of the command, the median over the runs. For a pipeline or "
        "a command that starts others (`db backup` runs `pg_dump`) it is the largest single "
        "process, not the sum; servers (PostgreSQL, moto) are not counted on either side."
    )
    w(
        "- Writes are made durable on both sides: ours fsync by themselves, the standard tools are "
        "followed by `sync FILE…` in the timed command. Reads (`get`, `verify`, `cat`) find the "
        "data in the page cache (it was just written): they measure CPU, not the disk."
    )
    w("")

    # Goals.
    w("## Goals")
    w("")
    w("| goal | figure | status |")
    w("| --- | --- | --- |")

    def ratio_goal(label, area, op, ours_tool, theirs_tool, limit):
        o_all = [r for r in of(area, op, "ours") if r["tool"] == ours_tool]
        t_all = [r for r in of(area, op, "theirs") if r["tool"] == theirs_tool]
        common = sorted({r["size_mib"] for r in o_all} & {r["size_mib"] for r in t_all})
        if not common:
            w(f"| {label} | not measured | not measured |")
            return
        size, exact = pick_size([r for r in o_all if r["size_mib"] in common], ratio_size)
        o, t = at(o_all, size)[0], at(t_all, size)[0]
        ratio = t["median_s"] / o["median_s"]
        where = fmt_size(o["bytes"] / MIB) + ("" if exact else f", not {ratio_size} MiB (not measured)")
        status = "**met**" if ratio >= limit else "**not met**"
        if not exact:
            status += " (provisional)"
        w(
            f"| {label} | {ratio:.2f}× ({fmt_rate(o['mbps'])} vs {fmt_rate(t['mbps'])} MB/s, "
            f"`{theirs_tool}`, at {where}) | {status} |"
        )

    ratio_goal("cntmp export ≥ 0.9× cp", "cntmp", "export", "continuum-backup export all", "cp -r + sync", GOAL_CNTMP)
    ratio_goal("cntmp import ≥ 0.9× cp", "cntmp", "import", "continuum-backup import", "cp -r + sync", GOAL_CNTMP)
    ratio_goal(
        "db backup no slower than `pg_dump | zstd -T0` (≥ 1.0×)", "db", "backup",
        "continuum-backup db backup", "pg_dump | zstd -T0 + sync", GOAL_DB,
    )
    pol = of("parse", "policy check", "ours")
    if pol:
        size, exact = pick_size(pol, ratio_size)
        p = at(pol, size)[0]
        status = "**met**" if p["mbps"] > GOAL_POLICY else "**not met**"
        if not exact:
            status += " (provisional)"
        w(
            f"| policy parsing > 100 MB/s (`policy check`, the CLI, process start included) | "
            f"{fmt_rate(p['mbps'])} MB/s at {size_cell(p)} | {status} |"
        )
    else:
        w("| policy parsing > 100 MB/s | not measured | not measured |")

    # Bounded memory: each of our tools, from the ratio size to its largest size.
    mem_rows = []
    for area in areas:
        tools = []
        for r in rows:
            if r["area"] == area and r["side"] == "ours" and r["tool"] not in tools:
                tools.append(r["tool"])
        for tool in tools:
            rs = sorted((r for r in rows if r["area"] == area and r["tool"] == tool), key=lambda r: r["size_mib"])
            base = at(rs, ratio_size)
            top = rs[-1]
            if base and top["size_mib"] > ratio_size:
                growth = top["rss_mib"] / base[0]["rss_mib"]
                mem_rows.append((area, tool, base[0], top, growth, True))
            elif len(rs) > 1:
                mem_rows.append((area, tool, rs[0], top, top["rss_mib"] / rs[0]["rss_mib"], False))
    measured = [m for m in mem_rows if m[5]]
    if measured:
        worst = max(measured, key=lambda m: m[4])
        flat = all(m[4] <= FLAT for m in measured)
        spans = sorted({m[3]["size_mib"] for m in measured})
        w(
            f"| bounded memory: peak RSS of ours roughly flat from {ratio_size} MiB to the largest size "
            f"(at most {FLAT}× while the data grows {max(spans) // ratio_size}×) | "
            f"{len(measured)} operations up to {fmt_size(max(spans))}; largest growth {worst[4]:.2f}× "
            f"(`{worst[1]}`, {fmt_mib(worst[2]['rss_mib'])} → {fmt_mib(worst[3]['rss_mib'])}); see Memory | "
            f"{'**met**' if flat else '**not met**'} |"
        )
    else:
        worst = max(mem_rows, key=lambda m: m[4]) if mem_rows else None
        figure = (
            f"largest growth {worst[4]:.2f}× over the sizes measured (`{worst[1]}`)" if worst else "no figures"
        )
        w(f"| bounded memory: peak RSS of ours roughly flat from {ratio_size} MiB to 4 GiB | {figure} | not measured ({ratio_size} MiB and larger not run) |")
    w("")
    w(
        "A goal not met is explained, with a profile of where the time goes, in "
        "[PROFILE.md](PROFILE.md) (written by hand from the run it names)."
    )
    w("")

    # Ratio tables.
    w(f"## Ours ÷ theirs at {ratio_size} MiB")
    w("")
    w(
        f"Every row at {ratio_size} MiB of data, or where an area cannot reach it (cluster.conf is "
        "capped at 4 MiB by its parser) or it was not measured, the size the row says. Ratio: ours "
        "÷ theirs in throughput, above 1 we are faster."
    )
    w("")
    for area in areas:
        w(f"### {AREAS[area]}")
        w("")
        w("| operation | size | ours | MB/s | s | peak RSS | theirs | MB/s | s | peak RSS | ours ÷ theirs |")
        w("| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |")
        for op in ops_in_order(rows, area):
            ours_all, theirs_all = of(area, op, "ours"), of(area, op, "theirs")
            size, _ = pick_size(ours_all or theirs_all, ratio_size)
            ours, theirs = at(ours_all, size), at(theirs_all, size)
            for o in ours:
                if not theirs:
                    w(
                        f"| {op} | {size_cell(o)} | `{o['tool']}` | {fmt_rate(o['mbps'])} | {fmt_s(o['median_s'])} | "
                        f"{fmt_mib(o['rss_mib'])} | — | | | | |"
                    )
                for t in theirs:
                    ratio = t["median_s"] / o["median_s"]
                    w(
                        f"| {op} | {size_cell(o)} | `{o['tool']}` | {fmt_rate(o['mbps'])} | {fmt_s(o['median_s'])} | "
                        f"{fmt_mib(o['rss_mib'])} | `{t['tool']}` | {fmt_rate(t['mbps'])} | {fmt_s(t['median_s'])} | "
                        f"{fmt_mib(t['rss_mib'])} | **{ratio:.2f}** |"
                    )
        w("")

    # Scaling.
    w("## Scaling: throughput and peak RSS against data size")
    w("")
    w("![throughput against data size](throughput.svg)")
    w("")
    w("Each cell: MB/s · peak RSS. A blank cell was not measured (see Skipped).")
    w("")
    for area in areas:
        ars = [r for r in rows if r["area"] == area]
        sizes = sorted({r["size_mib"] for r in ars})
        w(f"### {AREAS[area]}")
        w("")
        w("| tool | side | " + " | ".join(fmt_size(s) for s in sizes) + " |")
        w("| --- | --- | " + " | ".join("---:" for _ in sizes) + " |")
        tools = []
        for r in ars:
            if (r["side"], r["tool"]) not in tools:
                tools.append((r["side"], r["tool"]))
        for side, tool in tools:
            cells = []
            for s in sizes:
                m = [r for r in ars if r["tool"] == tool and r["size_mib"] == s]
                cells.append(f"{fmt_rate(m[0]['mbps'])} · {fmt_mib(m[0]['rss_mib'])}" if m else "")
            w(f"| `{tool}` | {side} | " + " | ".join(cells) + " |")
        notes = sorted({(r["size_mib"], r["op"], r["note"]) for r in ars if r["note"]})
        if notes:
            several = len({op for _, op, _ in notes}) > 1
            w("")
            w("Data: " + "; ".join(f"{fmt_size(s)}{' ' + op if several else ''}: {n}" for s, op, n in notes) + ".")
        w("")

    # Memory.
    w("## Memory: peak RSS of ours")
    w("")
    w(
        f"Growth: peak RSS at the largest size measured ÷ peak RSS at {ratio_size} MiB; \"flat\" when "
        f"at most {FLAT}×. A memory use that followed the data would grow as much as the data."
    )
    w("")
    if mem_rows:
        w("| area | operation | from | to | data grew | peak RSS grew | flat |")
        w("| --- | --- | --- | --- | ---: | ---: | --- |")
        for area, tool, base, top, growth, real in mem_rows:
            flat = ("yes" if growth <= FLAT else "**no**") if real else f"not measured (from {fmt_size(base['bytes'] / MIB)}, not {ratio_size} MiB)"
            w(
                f"| {area} | `{tool}` | {fmt_mib(base['rss_mib'])} at {fmt_size(base['bytes'] / MIB)} | "
                f"{fmt_mib(top['rss_mib'])} at {fmt_size(top['bytes'] / MIB)} | {top['bytes'] / base['bytes']:.0f}× | "
                f"{growth:.2f}× | {flat} |"
            )
    else:
        w("Only one size was measured: no growth to show.")
    w("")

    w("## Skipped")
    w("")
    if skipped:
        w("| area | size | why |")
        w("| --- | --- | --- |")
        for area, size, why in skipped:
            w(f"| {area} | {fmt_size(int(size))} | {why} |")
    else:
        w("Nothing.")
    w("")

    w("## What was compared")
    w("")
    w(
        "- **Folder store**: `sets create STORE FILE` (temporary file, SHA-256 on the way, fsync, "
        "link, manifest) beside `cp FILE COPY && sync COPY`; `sets verify STORE SET` (reads the "
        "artifact back and checks size and SHA-256) beside `cat ARTIFACT > /dev/null` and "
        "`sha256sum ARTIFACT` of the same stored file."
    )
    w(
        "- **S3 store**: the same commands on `s3://BUCKET/PREFIX?endpoint=…&path_style=true` beside "
        "`aws s3 cp FILE s3://…` and `aws s3 cp s3://… - > /dev/null` (aws-cli, the same moto "
        "server on this machine; moto is the bottleneck on both sides, not the network)."
    )
    w(
        "- **cntmp**: a job-data registry of two packages whose layers are incompressible (at most "
        "256 MiB a layer); `export all` beside `zip -0 -r` of the registry folder and `cp -r` of it; "
        "`import` of the export beside `unzip` of the zip and the same `cp -r`; each followed by sync."
    )
    w(
        "- **Orchestrator archive**: `orchestrator backup` of the demo cluster.conf, the demo "
        "`orchestrator` database and an incompressible release bundle of the size, beside doing "
        "the same by hand: `pg_dump -Fp orchestrator`, `pg_dumpall --globals-only`, then `tar czf` "
        "(gzip -6, as ours) or `tar -I zstd` of the dumps, the bundle and cluster.conf, then sync."
    )
    w(
        "- **Database**: a pgbench database (`pgbench -i -s N`, about 15 MiB a step), `db backup "
        "--no-globals` (pg_dump streamed through zstd into a folder store, row counts from the same "
        "snapshot) beside `pg_dump -Fc` and `pg_dump | zstd -T0`; `db restore --as NEW` (creates, "
        "restores, verifies row counts) beside `createdb && pg_restore` and `createdb && zstd -dc | "
        "psql`. The server is local; its fsync setting is in Machine."
    )
    w(
        "- **Parsing**: `policy check` of copies of a valid 512 KB policy document (the policy "
        "corpus repeated, 0 warnings), all in one process; `conf check` of the demo cluster.conf "
        "grown with generated machine groups (a cluster.conf holds at most 4 MiB). These are the "
        "CLI's figures, process start and file reading included; `cargo bench -p continuum-benches "
        "--bench policy` measures the parser alone, in process."
    )
    w(
        "- The whole-platform backup with `--parallel` 1, 2, 4 beside pg_dump | zstd one after the "
        "other and all at once is in `benches/compare-platform.sh` (not run here)."
    )
    w("")
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
