#!/usr/bin/env python3
"""Runs two builds of the codec benchmarks in turn and compares wsmachine's medians.

    compare.py ROUNDS PIN_COMMAND BASE_BIN CURRENT_BIN

Each round runs BASE_BIN then CURRENT_BIN on wsmachine's workloads (criterion, short
measurements); the median over rounds of each build's point estimates is compared.
"""
import re
import shlex
import statistics
import subprocess
import sys

UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
LINE = re.compile(r"^(\S.*?)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]")


def run(pin, binary):
    cmd = shlex.split(pin) + [
        binary, "--bench", "--noplot", "--warm-up-time", "1", "--measurement-time", "3",
        "wsmachine",
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    results, name = {}, None
    for line in out.splitlines():
        if "change:" in line or "thrpt:" in line:
            continue
        m = LINE.match(line)
        if m and m.group(3) not in UNITS:
            continue
        if m:
            name = m.group(1).strip() or name
            results[name] = float(m.group(2)) * UNITS[m.group(3)]
        elif line and not line.startswith((" ", "Benchmarking", "Found", "Gnuplot", "WARNING")) and "time:" not in line:
            name = line.strip()
        elif "time:" in line and name:
            m2 = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+)", line)
            # Percentages (criterion's comparison with its last run) are not times.
            if m2 and m2.group(2) in UNITS:
                results[name] = float(m2.group(1)) * UNITS[m2.group(2)]
    return results


def main():
    rounds, pin, base, cur = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    samples = {"base": {}, "cur": {}}
    for r in range(rounds):
        for key, binary in (("base", base), ("cur", cur)):
            for name, ns in run(pin, binary).items():
                samples[key].setdefault(name, []).append(ns)
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    worst = 0.0
    print(f"{'workload':72} {'base':>12} {'current':>12} {'cur/base':>9}")
    for name in sorted(samples["cur"]):
        if name not in samples["base"]:
            continue
        b = statistics.median(samples["base"][name])
        c = statistics.median(samples["cur"][name])
        worst = max(worst, c / b)
        print(f"{name:72} {b:10.1f}ns {c:10.1f}ns {c / b:9.3f}")
    print(f"slowest relative to base: {worst:.3f}")
    sys.exit(1 if worst > 1.05 else 0)


if __name__ == "__main__":
    main()
