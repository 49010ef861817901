#!/usr/bin/env bash
# The chat example in a real browser: headless Chromium driven by playwright-core.
#
#   scripts/browser-test.sh [--no-build]
#
# Installs Debian's `chromium` if missing (apt) and the pinned `playwright-core` from
# scripts/browser/package.json into .tools/browser/ (npm, cache inside .tools/). Starts
# `examples/chat` on a free loopback port, opens two pages, sends from one and checks the
# other shows it, checks the leave notice and a clean close, and saves a screenshot to
# .tools/browser/chat.png. Exit status 0 only if every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS="$ROOT/.tools/browser"
BUILD=1
[[ "${1:-}" == "--no-build" ]] && BUILD=0

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# Chromium from Debian (a test tool's own browser download cannot work on these machines).
if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
  log "installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  timeout 900 apt-get install -y -qq chromium >/dev/null
fi
CHROMIUM_BIN="$(command -v "${CHROMIUM:-chromium}")"

# playwright-core, pinned, installed only when the pins change.
mkdir -p "$TOOLS" "$ROOT/.tools/cache/npm"
cp scripts/browser/package.json scripts/browser/chat_test.mjs "$TOOLS/"
cp scripts/browser/package-lock.json "$TOOLS/"
STAMP="$TOOLS/.installed-$(cat scripts/browser/package.json scripts/browser/package-lock.json | sha256sum | cut -c1-16)"
if [[ ! -f "$STAMP" ]]; then
  log "installing playwright-core (npm ci, pinned by scripts/browser/package-lock.json)"
  (cd "$TOOLS" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 timeout 300 npm ci --no-audit --no-fund \
    --cache "$ROOT/.tools/cache/npm" >/dev/null)
  touch "$STAMP"
fi

if [[ $BUILD == 1 ]]; then
  log "building examples/chat"
  timeout 1800 cargo build --example chat
fi
CHAT="${CARGO_TARGET_DIR:-$ROOT/target}/debug/examples/chat"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CHAT_LOG="$TOOLS/chat.log"
"$CHAT" "127.0.0.1:$PORT" >"$CHAT_LOG" 2>&1 &
CHAT_PID=$!
trap 'kill "$CHAT_PID" 2>/dev/null || true; wait "$CHAT_PID" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 100); do
  grep -q "listening on" "$CHAT_LOG" && break
  kill -0 "$CHAT_PID" 2>/dev/null || { cat "$CHAT_LOG"; echo "chat exited" >&2; exit 1; }
  sleep 0.1
done
grep -q "listening on" "$CHAT_LOG" || { echo "chat did not start" >&2; exit 1; }

log "browser test against http://127.0.0.1:$PORT/"
CHROMIUM="$CHROMIUM_BIN" timeout 120 node "$TOOLS/chat_test.mjs" "http://127.0.0.1:$PORT/" "$TOOLS/chat.png"
log "PASS (screenshot: .tools/browser/chat.png)"
