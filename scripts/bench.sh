#!/usr/bin/env bash
# Runs the codec benchmarks (wsmachine beside tungstenite, fastwebsockets, tokio-websockets and
# memcpy, all built with fat LTO and one codegen unit) and prints the ratio tables from that
# one run (scripts/bench/report.py; also written to target/bench-report/micro.{md,json}).
#
#   scripts/bench.sh [CRITERION_FILTER]
#
# Run it on an otherwise idle machine: the ratios compare runs made one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
# Pinned to one core (BENCH_CPU, default the last one) when `taskset` exists: a benchmark that
# migrates between cores, or shares one with interrupts, measures the scheduler too.
pin=()
if command -v taskset >/dev/null 2>&1; then
  pin=(taskset -c "${BENCH_CPU:-$(($(nproc) - 1))}")
fi
# Compiled first, on every core (`--no-run`, the same profile as the run).
cargo bench --bench codec --no-run --quiet
# The report takes only results written by this run.
since=$(date +%s)
"${pin[@]}" cargo bench --bench codec -- --noplot "$@"
python3 scripts/bench/report.py --since "$since"
