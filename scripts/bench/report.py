#!/usr/bin/env python3
"""Ratio tables for the codec benchmarks (benches/codec.rs) from ONE criterion run.

    python3 scripts/bench/report.py [--criterion DIR] [--since EPOCH] [--out DIR]

Reads every `DIR/**/new/benchmark.json` + `estimates.json` (default target/criterion) of the
codec groups, and for each workload and read size gives every implementation's median time,
wsmachine's ratio to the best peer (best peer's time / ours: above 1 means we are faster) and
to memcpy (memcpy's time / ours: the fraction of the floor's speed we reach).

`--since` (seconds since the epoch) skips results older than the run that started then, so a
table never mixes two runs; scripts/bench.sh passes it. Writes OUT/micro.json (read by
scripts/bench/charts.py) and OUT/micro.md (default target/bench-report), and prints the table.
"""
import argparse
import json
import os
import sys

OURS = "wsmachine"
# The same decoder taking its events borrowed (`poll_event_ref`); decode workloads only.
BORROWED = "wsmachine-borrowed"
PEERS = ["tungstenite", "fastwebsockets", "tokio-websockets"]
FLOOR = "memcpy"
# The codec workloads, in the order of the tables.
WORKLOADS = [
    "decode 1M x 16 B text",
    "decode 20k x 4 KiB UTF-8 text",
    "decode 64 x 1 MiB binary",
    "decode 64 x 1 MiB in 4 KiB fragments",
    "decode 100k text + ping",
    "encode 1M x 16 B text (server)",
    "encode 64 x 1 MiB masked binary (client)",
]
READ_ORDER = {"128KiB reads": 0, "64KiB reads": 1, "4KiB reads": 2, "": 3}


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def load(root, since):
    """(group, read label) -> impl -> median ns."""
    found, stale = {}, 0
    for dirpath, dirnames, filenames in os.walk(root):
        if os.path.basename(dirpath) != "new" or "estimates.json" not in filenames:
            continue
        est_path = os.path.join(dirpath, "estimates.json")
        if since is not None and os.path.getmtime(est_path) < since:
            stale += 1
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            bench = json.load(f)
        with open(est_path) as f:
            median = json.load(f)["median"]["point_estimate"]
        group = bench["group_id"]
        if group not in WORKLOADS:
            continue
        impl = bench["function_id"]
        param = bench.get("value_str") or ""
        found.setdefault((group, param), {})[impl] = median
    return found, stale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--criterion", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "criterion"))
    ap.add_argument("--since", type=float, default=None)
    ap.add_argument("--out", default=os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "bench-report"))
    args = ap.parse_args()
    found, stale = load(args.criterion, args.since)
    if stale:
        print(f"report: skipped {stale} results older than this run", file=sys.stderr)
    if not found:
        sys.exit("report: no codec results found (run scripts/bench.sh)")

    rows = []
    for (group, param), times in sorted(
            found.items(), key=lambda kv: (WORKLOADS.index(kv[0][0]), READ_ORDER.get(kv[0][1], 9))):
        if OURS not in times:
            continue
        ours = times[OURS]
        peers = {p: times[p] for p in PEERS if p in times}
        best = min(peers, key=peers.get) if peers else None
        row = {
            "workload": group,
            "reads": param,
            "median_ns": times,
            "best_peer": best,
            "vs_best_peer": peers[best] / ours if best else None,
            "borrowed_vs_best_peer": (peers[best] / times[BORROWED]
                                      if best and BORROWED in times else None),
            "vs_memcpy": times[FLOOR] / ours if FLOOR in times else None,
        }
        rows.append(row)

    impls = [OURS, BORROWED] + PEERS + [FLOOR]
    head = ["workload", "reads"] + impls + ["vs best peer", "borrowed vs best peer", "vs memcpy"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [fmt_time(r["median_ns"][i]) if i in r["median_ns"] else "—" for i in impls]
        vp = f"{r['vs_best_peer']:.2f}x ({r['best_peer']})" if r["vs_best_peer"] else "—"
        vb = f"{r['borrowed_vs_best_peer']:.2f}x" if r["borrowed_vs_best_peer"] else "—"
        vm = f"{r['vs_memcpy']:.2f}x" if r["vs_memcpy"] else "—"
        lines.append("| " + " | ".join([r["workload"], r["reads"] or "—"] + cells + [vp, vb, vm])
                     + " |")
    table = "\n".join(lines) + "\n"
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "micro.json"), "w") as f:
        json.dump({"rows": rows}, f, indent=2)
    with open(os.path.join(args.out, "micro.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
