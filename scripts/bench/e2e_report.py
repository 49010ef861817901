#!/usr/bin/env python3
"""Summarizes one run of scripts/bench-e2e.sh: medians over the rounds, and ratios.

    python3 scripts/bench/e2e_report.py RAW_JSONL OUT_DIR [--seconds S] [--rounds R]

Reads the generator's JSON lines (RAW_JSONL, one per round, case and implementation) and
writes OUT_DIR/results.json (machine-readable, read by scripts/bench/charts.py),
OUT_DIR/results.csv and OUT_DIR/table.md (the BENCHMARKS.md tables), and prints the tables.
"vs best peer" is wsmachine-tokio's rate over the best other WebSocket implementation's;
"vs raw" is its rate over the raw TCP echo's (the ceiling).
"""
import argparse
import json
import os
import statistics

OURS = "wsmachine-tokio"
PEERS = ["tokio-tungstenite", "fastwebsockets", "tokio-websockets"]
RAW = "raw"


def size_label(n):
    return f"{n // 1024} KiB" if n >= 1024 and n % 1024 == 0 else f"{n} B"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()

    rates = {}  # (connections, size) -> impl -> [msgs/s]
    idle = {}  # impl -> {"used"|"unused": bytes per connection}
    with open(args.raw) as f:
        for line in f:
            rec = json.loads(line)
            r = rec["result"]
            if rec["kind"] == "echo":
                key = (r["connections"], r["size"])
                rates.setdefault(key, {}).setdefault(rec["impl"], []).append(r["msgs_per_sec"])
            else:
                mode = "used" if r.get("used", True) else "unused"
                idle.setdefault(rec["impl"], {})[mode] = r["bytes_per_connection"]

    cases = []
    for (conns, size), by_impl in sorted(rates.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        med = {impl: statistics.median(v) for impl, v in by_impl.items()}
        peers = {p: med[p] for p in PEERS if p in med}
        best = max(peers, key=peers.get) if peers else None
        case = {
            "case": f"{conns} x {size_label(size)}",
            "connections": conns,
            "size": size,
            "msgs_per_sec": med,
            "rounds": by_impl,
            "best_peer": best,
        }
        if OURS in med and best:
            case["ours_vs_best_peer"] = med[OURS] / peers[best]
        if OURS in med and RAW in med:
            case["ours_vs_raw"] = med[OURS] / med[RAW]
        if RAW in med and best:
            case["raw_vs_best_peer"] = med[RAW] / peers[best]
        cases.append(case)

    idle_rows = [{"impl": i, "bytes_per_connection": idle[i].get("used"),
                  "bytes_per_unused_connection": idle[i].get("unused")}
                 for i in [OURS] + PEERS if i in idle]
    results = {
        "method": "N connections, one message in flight each, loopback TCP; server on a tokio "
                  "current-thread runtime pinned to one core, generator pinned to another; "
                  "median of the rounds",
        "seconds_per_case": args.seconds,
        "rounds": args.rounds,
        "cases": cases,
        "idle_memory": {"connections": 1000, "rows": idle_rows},
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    impls = [OURS] + PEERS + [RAW]
    with open(os.path.join(args.out, "results.csv"), "w") as f:
        f.write("case,connections,size," + ",".join(impls) + ",ours_vs_best_peer,ours_vs_raw\n")
        for c in cases:
            cells = [f"{c['msgs_per_sec'][i]:.0f}" if i in c["msgs_per_sec"] else "" for i in impls]
            f.write(",".join([c["case"], str(c["connections"]), str(c["size"])] + cells + [
                f"{c.get('ours_vs_best_peer', 0):.3f}", f"{c.get('ours_vs_raw', 0):.3f}"]) + "\n")

    lines = []
    head = ["case"] + impls + ["vs best peer", "vs raw TCP", "raw vs best peer"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for c in cases:
        m = c["msgs_per_sec"]
        cells = [f"{m[i]:,.0f}" if i in m else "—" for i in impls]
        ratio = lambda k: f"{c[k]:.2f}x" if k in c else "—"
        best = f" ({c['best_peer']})" if c.get("best_peer") else ""
        lines.append("| " + " | ".join([c["case"]] + cells + [
            ratio("ours_vs_best_peer") + best, ratio("ours_vs_raw"), ratio("raw_vs_best_peer")]) + " |")
    lines.append("")
    lines.append("Messages per second (median of the rounds).")
    lines.append("")
    if idle_rows:
        kib = lambda v: f"{v / 1024:.1f} KiB" if v is not None else "—"
        lines.append("| server | memory per idle connection, used once | never used |")
        lines.append("|---|---|---|")
        for row in idle_rows:
            lines.append(f"| {row['impl']} | {kib(row['bytes_per_connection'])} | "
                         f"{kib(row['bytes_per_unused_connection'])} |")
        lines.append("")
        lines.append("Server RSS growth over 1,000 idle connections, divided by 1,000.")
    table = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(table)
    print(table)


if __name__ == "__main__":
    main()
