#!/usr/bin/env bash
# Compares wsmachine's codec benchmarks between an earlier commit and the work tree, in one
# run: both bench binaries are built, then run in turn, round after round, pinned to one core,
# and the medians of each workload's estimates are compared.
#
#   scripts/bench-compare.sh [BASE_REV] [ROUNDS]     (defaults: HEAD~1, 3)
#
# Prints one line per workload: base and current time, and current/base (above 1.05 is more
# than 5% slower). Exits non-zero if any workload is more than 5% slower. Run it on an idle
# machine.
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev=${1:-HEAD~1}
rounds=${2:-3}
base_dir=$(mktemp -d /tmp/wsmachine-bench-base.XXXXXX)
trap 'git worktree remove --force "$base_dir" >/dev/null 2>&1 || true' EXIT
git worktree add --detach "$base_dir" "$base_rev" >/dev/null

bench_bin() { # DIR -> path of the codec bench executable
  (cd "$1" && cargo bench --bench codec --no-run --message-format=json 2>/dev/null) |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "codec" and m.get("executable"):
        print(m["executable"])'
}
# The base build has its own target folder, kept between runs (dependencies compile once).
base_bin=$(CARGO_TARGET_DIR="$PWD/target/bench-base" bench_bin "$base_dir")
cur_bin=$(bench_bin .)
pin=()
if command -v taskset >/dev/null 2>&1; then
  pin=(taskset -c "${BENCH_CPU:-$(($(nproc) - 1))}")
fi
python3 scripts/bench/compare.py "$rounds" "${pin[*]:-}" "$base_bin" "$cur_bin"
