#!/usr/bin/env bash
# Regenerates every published benchmark number in one go, on an otherwise idle machine:
#
#   scripts/bench-all.sh [E2E_SECONDS]     (default 5)
#
# 1. scripts/bench.sh: the codec benchmarks (criterion, pinned), then the ratio tables
#    (target/bench-report/micro.{md,json});
# 2. scripts/bench-e2e.sh: the end-to-end echo load benchmark, 3 rounds
#    (target/bench-e2e/{results.json,results.csv,table.md});
# 3. scripts/bench/charts.py: the SVG charts (benches/charts/*.svg);
# 4. the tables spliced into BENCHMARKS.md between their markers, with the machine and date.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bench.sh
scripts/bench-e2e.sh "${1:-5}"
python3 scripts/bench/charts.py
{
  echo "Measured on $(date -u +%Y-%m-%d) with \`scripts/bench-all.sh\`:" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores," \
    "$(rustc --version | cut -d' ' -f1-2)."
} >target/bench-report/machine.md
python3 scripts/bench/splice.py BENCHMARKS.md machine target/bench-report/machine.md
python3 scripts/bench/splice.py BENCHMARKS.md micro-table target/bench-report/micro.md
python3 scripts/bench/splice.py BENCHMARKS.md e2e-table target/bench-e2e/table.md
echo "bench-all: BENCHMARKS.md tables and benches/charts/*.svg regenerated"
