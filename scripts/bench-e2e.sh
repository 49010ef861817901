#!/usr/bin/env bash
# End-to-end echo load benchmark over loopback TCP (the uWebSockets `load_test` method): for
# each implementation, an echo server on one tokio current-thread runtime pinned to one core,
# and the load generator (N connections, one message in flight each) pinned to another.
#
#   scripts/bench-e2e.sh [SECONDS]      3 rounds of every case, SECONDS each (default 5)
#   scripts/bench-e2e.sh --smoke        1 round of 1 s per case, release profile: checks every
#                                       server echoes
#
# Cases: 100 x 20 B, 10 x 1 KiB, 200 x 16 KiB, 500 x 16 KiB (connections x message size),
# then server memory per idle connection at 1,000 connections (RSS growth from /proc), used
# once (one 20-byte echo each) and never used.
# Rounds are interleaved (round, case, implementation), so drift hits everyone alike.
# Writes target/bench-e2e/{raw.jsonl,results.json,results.csv,table.md} and prints the table.
# Exits non-zero if any server fails to echo exactly what was sent.
#
# Environment: E2E_LOG=1 makes the servers log connection errors; SERVER_CPU (default 0) and LOAD_CPU (default 1) choose the cores;
# IMPLS restricts the implementations (space-separated); E2E_ROUNDS overrides the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=5
rounds=${E2E_ROUNDS:-3}
# The smoke run checks correctness, not speed: the release profile (shared with the other
# release builds) builds much faster than fat LTO.
profile=e2e
smoke=0
case "${1:-}" in
  --smoke) smoke=1; seconds=1; rounds=1; profile=release ;;
  "") ;;
  *) seconds=$1 ;;
esac
impls=(${IMPLS:-wsmachine-tokio tokio-tungstenite fastwebsockets tokio-websockets raw})
cases=("100 20" "10 1024" "200 16384" "500 16384")
idle_connections=1000

out=target/bench-e2e
mkdir -p "$out"
raw_results="$out/raw.jsonl"
: >"$raw_results"
log="$out/servers.log"
: >"$log"

# Built once with fat LTO and one codegen unit (the `e2e` profile), like the micro benchmarks.
cargo build --profile "$profile" -p wsmachine-e2e --quiet
bin=target/$profile

# 1,000 idle connections need 1,000+ descriptors on each side.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"

server_pin=()
load_pin=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
  server_pin=(taskset -c "${SERVER_CPU:-0}")
  load_pin=(taskset -c "${LOAD_CPU:-1}")
else
  echo "bench-e2e: no taskset or one core: server and generator are not pinned" >&2
fi

server_pid=""
server_addr=""
start_server() { # IMPL
  local ready="$out/server.addr"
  : >"$ready"
  "${server_pin[@]}" "$bin/e2e-server" "$1" >"$ready" 2>>"$log" &
  server_pid=$!
  for _ in $(seq 100); do
    if [ -s "$ready" ]; then
      server_addr=$(awk '{print $2; exit}' "$ready")
      return
    fi
    sleep 0.05
  done
  echo "bench-e2e: the $1 server did not start" >&2
  exit 1
}
stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap 'if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi' EXIT

failed=0
record() { # KIND IMPL ROUND JSON
  printf '{"kind": "%s", "impl": "%s", "round": %s, "result": %s}\n' "$1" "$2" "$3" "$4" >>"$raw_results"
}

for round in $(seq "$rounds"); do
  for c in "${cases[@]}"; do
    read -r connections size <<<"$c"
    for impl in "${impls[@]}"; do
      flag=()
      [ "$impl" = raw ] && flag=(--raw)
      start_server "$impl"
      if result=$("${load_pin[@]}" "$bin/e2e-load" echo "$server_addr" "$connections" "$size" "$seconds" "${flag[@]}"); then
        record echo "$impl" "$round" "$result"
        printf 'round %s  %-18s %4s x %-6s %s\n' "$round" "$impl" "$connections" "$size" "$result"
      else
        echo "bench-e2e: FAILED: $impl, $connections x $size B" >&2
        failed=1
      fi
      stop_server
    done
  done
done

# Idle memory: the WebSocket servers (the raw echo keeps a 64 KiB buffer per connection and
# is no reference for it), with connections used once and with connections never used.
for impl in "${impls[@]}"; do
  [ "$impl" = raw ] && continue
  for mode in used unused; do
    flag=()
    [ "$mode" = unused ] && flag=(--unused)
    start_server "$impl"
    if result=$("${load_pin[@]}" "$bin/e2e-load" idle "$server_addr" "$idle_connections" "$server_pid" "${flag[@]}"); then
      record idle "$impl" 1 "$result"
      printf 'idle     %-18s %s\n' "$impl" "$result"
    else
      echo "bench-e2e: FAILED: $impl, $idle_connections idle connections" >&2
      failed=1
    fi
    stop_server
  done
done

python3 scripts/bench/e2e_report.py "$raw_results" "$out" --seconds "$seconds" --rounds "$rounds"
if [ "$failed" != 0 ]; then
  echo "bench-e2e: at least one server failed (see $log)" >&2
  exit 1
fi
