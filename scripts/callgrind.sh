#!/usr/bin/env bash
# Instructions per message on the core's hot paths, beside tungstenite and fastwebsockets built
# the same way (profile `callgrind`: release, fat LTO, one codegen unit), counted by callgrind
# inside the benchmark's `measured` function only (input generation is not counted).
#
#   scripts/callgrind.sh [WORKLOAD...]     (default: small ping)
#
# Workloads and implementations: `cargo bench --profile callgrind --bench hotpath -- list`.
# Instruction counts do not depend on other processes, so this is the number to decide with on
# a shared machine; wall-clock ratios come from `... --bench hotpath -- ratios`.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install -y valgrind)" >&2; exit 2; }
workloads=("$@")
[ "${#workloads[@]}" -gt 0 ] || workloads=(small ping)
impls=(${IMPLS:-wsmachine wsmachine-ref tungstenite fastwebsockets})

bin="$(cargo bench --profile callgrind --bench hotpath --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*hotpath[^"]*\)".*/\1/p' | tail -n1)"
[ -x "$bin" ] || { echo "could not build the hotpath benchmark" >&2; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-8s %-15s %14s %10s %14s\n' workload impl instructions messages 'instr/message'
for w in "${workloads[@]}"; do
  for i in "${impls[@]}"; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
      --toggle-collect='hotpath::measured' "$bin" run "$w" "$i" >"$out/stdout" 2>"$out/stderr" \
      || { cat "$out/stderr" >&2; exit 1; }
    ir="$(sed -n 's/^summary: *//p; s/^totals: *//p' "$out/cg.out" | head -n1 | awk '{print $1}')"
    msgs="$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' "$out/stdout")"
    printf '%-8s %-15s %14s %10s %14.1f\n' "$w" "$i" "$ir" "$msgs" "$(echo "$ir / $msgs" | bc -l)"
  done
done
