#!/usr/bin/env python3
"""Turns criterion's results for `benches/codec.rs` into the BENCHMARKS.md table.

    python3 scripts/bench/table.py [CRITERION_DIR]     (default target/criterion)

For each workload and read size: the median time of wsmachine, tungstenite, fastwebsockets and
memcpy from the same run, wsmachine's speed relative to the best peer (peer time / our time)
and to memcpy (memcpy time / our time), the issue's target, and whether it is met.
"""
import json
import os
import sys

# workload group -> (what the target compares with, the ratio to reach)
TARGETS = {
    "decode 1M x 16 B text": ("peer", 2.0),
    "decode 20k x 4 KiB UTF-8 text": ("peer", 1.3),
    "decode 64 x 1 MiB binary": ("memcpy", 0.9),
    "decode 64 x 1 MiB in 4 KiB fragments": ("memcpy", 0.8),
    "decode 100k text + ping": ("peer", 2.0),
    "encode 1M x 16 B text (server)": ("peer", 2.0),
    "encode 64 x 1 MiB masked binary (client)": ("memcpy", 0.9),
}
IMPLS = ["wsmachine", "tungstenite", "fastwebsockets", "memcpy"]


def median_ns(path):
    with open(os.path.join(path, "new", "estimates.json")) as f:
        return json.load(f)["median"]["point_estimate"]


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")
    rows = []
    for group, (against, goal) in TARGETS.items():
        gdir = os.path.join(root, group)
        if not os.path.isdir(gdir):
            continue
        # Decode groups have a read-size parameter level; encode groups do not.
        params = sorted({p for impl in IMPLS if os.path.isdir(os.path.join(gdir, impl))
                         for p in os.listdir(os.path.join(gdir, impl))
                         if os.path.isdir(os.path.join(gdir, impl, p, "new"))}) or [None]
        for param in params:
            times = {}
            for impl in IMPLS:
                path = os.path.join(gdir, impl, param) if param else os.path.join(gdir, impl)
                if os.path.isfile(os.path.join(path, "new", "estimates.json")):
                    times[impl] = median_ns(path)
            if "wsmachine" not in times:
                continue
            ours = times["wsmachine"]
            peers = [times[p] for p in ("tungstenite", "fastwebsockets") if p in times]
            vs_peer = min(peers) / ours if peers else None
            vs_memcpy = times["memcpy"] / ours if "memcpy" in times else None
            ratio = vs_peer if against == "peer" else vs_memcpy
            met = "yes" if ratio is not None and ratio >= goal else "no"
            target = f"≥ {goal}x {'best peer' if against == 'peer' else 'memcpy'}"
            rows.append((group, param or "—", *(fmt_time(times[i]) if i in times else "—" for i in IMPLS),
                         f"{vs_peer:.2f}x" if vs_peer else "—", f"{vs_memcpy:.2f}x" if vs_memcpy else "—",
                         target, met))
    head = ("workload", "reads", *IMPLS, "vs best peer", "vs memcpy", "target", "met")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
