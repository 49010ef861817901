#!/usr/bin/env python3
"""SVG bar charts of the benchmark ratios, written by hand (Python standard library only).

    python3 scripts/bench/charts.py [--micro FILE] [--e2e FILE] [--out DIR]

Inputs: target/bench-report/micro.json (scripts/bench/report.py) and
target/bench-e2e/results.json (scripts/bench/e2e_report.py); either may be missing.
Writes into DIR (default benches/charts):
  micro.svg       wsmachine vs the best peer and vs memcpy, per codec workload (128 KiB reads)
  e2e.svg         every server's echo rate relative to the raw TCP echo, per case
  e2e-memory.svg  server memory per idle connection
"""
import argparse
import json
import os
from xml.sax.saxutils import escape

FONT = "font-family='system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif'"
COLORS = {
    "wsmachine": "#1f77b4", "wsmachine-tokio": "#1f77b4",
    "vs best peer": "#1f77b4", "borrowed events vs best peer": "#ff7f0e", "vs memcpy": "#9ecae1",
    "tokio-tungstenite": "#ff7f0e", "fastwebsockets": "#2ca02c",
    "tokio-websockets": "#9467bd", "raw": "#7f7f7f",
}


def svg_hbars(title, subtitle, groups, series, value_fmt, ref=None, unit="", ref_label=""):
    """Grouped horizontal bars. groups: [(label, {series: value})]."""
    label_w = 20 + 7 * max(len(label) for label, _ in groups)
    plot_w, bar_h, gap = 420, 14, 10
    top = 64
    group_h = bar_h * len(series) + gap
    height = top + group_h * len(groups) + 40
    width = label_w + plot_w + 90
    vmax = max([v for _, vals in groups for v in vals.values() if v is not None] + [ref or 0])
    vmax = vmax * 1.1 if vmax > 0 else 1
    x = lambda v: label_w + plot_w * v / vmax
    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
           f"viewBox='0 0 {width} {height}' {FONT} font-size='12'>",
           f"<rect width='{width}' height='{height}' fill='white'/>",
           f"<text x='10' y='22' font-size='16' font-weight='bold'>{escape(title)}</text>",
           f"<text x='10' y='40' fill='#555'>{escape(subtitle)}</text>"]
    # Legend.
    lx = 10
    for s in series:
        out.append(f"<rect x='{lx}' y='48' width='10' height='10' fill='{COLORS.get(s, '#333')}'/>")
        out.append(f"<text x='{lx + 14}' y='57'>{escape(s)}</text>")
        lx += 14 + 7 * len(s) + 16
    for gi, (label, vals) in enumerate(groups):
        y0 = top + gi * group_h
        out.append(f"<text x='{label_w - 8}' y='{y0 + group_h / 2}' text-anchor='end' "
                   f"dominant-baseline='middle'>{escape(label)}</text>")
        for si, s in enumerate(series):
            v = vals.get(s)
            if v is None:
                continue
            y = y0 + si * bar_h
            out.append(f"<rect x='{label_w}' y='{y}' width='{max(x(v) - label_w, 1):.1f}' "
                       f"height='{bar_h - 2}' fill='{COLORS.get(s, '#333')}'/>")
            out.append(f"<text x='{x(v) + 4:.1f}' y='{y + bar_h / 2}' dominant-baseline='middle' "
                       f"font-size='11'>{escape(value_fmt(v))}{unit}</text>")
    if ref is not None:
        rx = x(ref)
        out.append(f"<line x1='{rx:.1f}' y1='{top - 4}' x2='{rx:.1f}' y2='{height - 30}' "
                   f"stroke='#d62728' stroke-dasharray='4,3'/>")
        out.append(f"<text x='{rx:.1f}' y='{height - 16}' text-anchor='middle' fill='#d62728' "
                   f"font-size='11'>{escape(ref_label or value_fmt(ref))}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def micro_chart(micro):
    rows = [r for r in micro["rows"] if r["reads"] in ("128KiB reads", "")]
    groups = []
    for r in rows:
        vals = {"vs best peer": r.get("vs_best_peer"),
                "borrowed events vs best peer": r.get("borrowed_vs_best_peer"),
                "vs memcpy": r.get("vs_memcpy")}
        groups.append((r["workload"], vals))
    return svg_hbars(
        "wsmachine codec: speed ratios (above 1 = faster)",
        "best peer's time / ours, memcpy's time / ours; 128 KiB reads; fat LTO for everyone",
        groups, ["vs best peer", "borrowed events vs best peer", "vs memcpy"],
        lambda v: f"{v:.2f}x", ref=1.0, ref_label="1x")


def e2e_chart(e2e):
    impls = ["wsmachine-tokio", "tokio-tungstenite", "fastwebsockets", "tokio-websockets"]
    groups = []
    for c in e2e["cases"]:
        m = c["msgs_per_sec"]
        raw = m.get("raw")
        if not raw:
            continue
        groups.append((c["case"], {i: m[i] / raw for i in impls if i in m}))
    return svg_hbars(
        "End-to-end echo over loopback TCP: rate relative to raw TCP echo",
        "N connections x message size, one in flight each; server on one core (tokio current-thread)",
        groups, impls, lambda v: f"{v:.2f}", ref=1.0, ref_label="raw TCP echo = 1")


def memory_chart(e2e):
    rows = e2e["idle_memory"]["rows"]
    groups = [(r["impl"], {"used once": r["bytes_per_connection"] / 1024,
                           "never used": r["bytes_per_unused_connection"] / 1024
                           if r.get("bytes_per_unused_connection") is not None else None})
              for r in rows if r.get("bytes_per_connection") is not None]
    COLORS["used once"] = "#1f77b4"
    COLORS["never used"] = "#9ecae1"
    return svg_hbars(
        "Server memory per idle connection (KiB, lower is better)",
        f"server RSS growth at {e2e['idle_memory']['connections']} idle connections, / 1,000",
        groups, ["used once", "never used"], lambda v: f"{v:.1f}", unit=" KiB")


def main():
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    ap = argparse.ArgumentParser()
    ap.add_argument("--micro", default=os.path.join(target, "bench-report", "micro.json"))
    ap.add_argument("--e2e", default=os.path.join(target, "bench-e2e", "results.json"))
    ap.add_argument("--out", default=os.path.join("benches", "charts"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    written = []
    if os.path.isfile(args.micro):
        with open(args.micro) as f:
            micro = json.load(f)
        written.append(("micro.svg", micro_chart(micro)))
    if os.path.isfile(args.e2e):
        with open(args.e2e) as f:
            e2e = json.load(f)
        written.append(("e2e.svg", e2e_chart(e2e)))
        if e2e["idle_memory"]["rows"]:
            written.append(("e2e-memory.svg", memory_chart(e2e)))
    for name, svg in written:
        path = os.path.join(args.out, name)
        with open(path, "w") as f:
            f.write(svg)
        print(f"charts: wrote {path}")
    if not written:
        raise SystemExit("charts: no results to draw (run scripts/bench.sh, scripts/bench-e2e.sh)")


if __name__ == "__main__":
    main()
