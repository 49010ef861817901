#!/usr/bin/env bash
# Profiles the end-to-end echo servers with a fixed amount of work, so the numbers do not
# depend on how busy the machine is: for each implementation, system calls per echoed
# message (`strace -c`) and user-space instructions per echoed message (callgrind).
#
#   scripts/bench-e2e-profile.sh [CONNECTIONS] [SIZE] [MESSAGES]   (defaults: 100 16384 20)
#
# MESSAGES round trips on each of CONNECTIONS (`e2e-load count`); the first one on every
# connection, and the handshakes, are left out of both counts: `e2e-load` runs
# `callgrind_control -z` (zero the counters) or starts strace only once every connection has
# made its first round trip. Per message: (MESSAGES - 1) x CONNECTIONS.
# Needs strace and valgrind (apt-get install -y strace valgrind). Prints two Markdown tables;
# callgrind files are kept in target/bench-e2e/profile/.
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-100}
size=${2:-16384}
messages=${3:-20}
impls=(${IMPLS:-wsmachine-tokio tokio-tungstenite fastwebsockets tokio-websockets raw})
out=target/bench-e2e/profile
mkdir -p "$out"
cargo build --profile e2e -p wsmachine-e2e --quiet
bin=target/e2e
ulimit -n 8192 2>/dev/null || true
total=$((connections * (messages - 1)))

wait_addr() { # FILE -> address the server printed
  for _ in $(seq 400); do
    if [ -s "$1" ]; then awk '{print $2; exit}' "$1"; return; fi
    sleep 0.05
  done
  echo "bench-e2e-profile: the server did not start" >&2
  exit 1
}

syscalls=()
instructions=()
for impl in "${impls[@]}"; do
  flag=()
  [ "$impl" = raw ] && flag=(--raw)

  # System calls: strace attached once every connection made its first round trip.
  : >"$out/addr"
  "$bin/e2e-server" "$impl" >"$out/addr" 2>/dev/null &
  pid=$!
  addr=$(wait_addr "$out/addr")
  cat >"$out/attach.sh" <<ATTACH
#!/bin/sh
strace -c -f -p $pid -o "$out/strace.$impl.txt" 2>/dev/null &
echo \$! >"$out/strace.pid"
sleep 0.5
ATTACH
  chmod +x "$out/attach.sh"
  E2E_AFTER_WARMUP="$out/attach.sh" \
    "$bin/e2e-load" count "$addr" "$connections" "$size" "$messages" "${flag[@]}" >/dev/null
  spid=$(cat "$out/strace.pid")
  kill -INT "$spid"
  while kill -0 "$spid" 2>/dev/null; do sleep 0.05; done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  syscalls+=("| $impl | $(awk -v t="$total" '
    $1 ~ /^[0-9.]+$/ && $NF != "total" {
      n = $4; name = $NF
      if (name ~ /^(recvfrom|read|readv|sendto|write|writev|sendmsg|epoll_wait)$/) v[name] = n / t
    }
    END {
      r = v["recvfrom"] + v["read"] + v["readv"]; w = v["sendto"] + v["writev"] + v["sendmsg"] + v["write"]
      printf "%.2f | %.2f | %.2f", r, w, v["epoll_wait"]
    }' "$out/strace.$impl.txt") |")

  # Instructions: callgrind, zeroed once every connection is open and used once.
  : >"$out/addr"
  rm -f "$out/callgrind.$impl".*
  valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$impl" \
    "$bin/e2e-server" "$impl" >"$out/addr" 2>/dev/null &
  pid=$!
  addr=$(wait_addr "$out/addr")
  E2E_AFTER_WARMUP="callgrind_control -z $pid" \
    "$bin/e2e-load" count "$addr" "$connections" "$size" "$messages" "${flag[@]}" >/dev/null
  callgrind_control -d "$pid" >/dev/null
  sleep 0.5
  kill "$pid"; wait "$pid" 2>/dev/null || true
  dump=$(ls -t "$out/callgrind.$impl".* | head -1)
  ir=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}')
  instructions+=("| $impl | $((ir / total)) |")
done
echo
echo "System calls per echoed message, $connections x $size B, $messages round trips each:"
echo
echo "| server | reads | writes | epoll_wait |"
echo "|---|---|---|---|"
printf '%s\n' "${syscalls[@]}"
echo
echo "User-space instructions per echoed message (callgrind), same workload:"
echo
echo "| server | instructions |"
echo "|---|---|"
printf '%s\n' "${instructions[@]}"
