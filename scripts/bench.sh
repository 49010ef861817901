#!/usr/bin/env bash
# Runs the codec benchmarks (wsmachine beside tungstenite, fastwebsockets and memcpy) and prints
# the BENCHMARKS.md table from that run.
#
#   scripts/bench.sh [CRITERION_FILTER]
#
# Run it on an otherwise idle machine: the ratios compare runs made one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench codec -- --noplot "$@"
python3 scripts/bench/table.py
