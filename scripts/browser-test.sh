#!/usr/bin/env bash
# The chat example in a real browser: headless Chromium driven by playwright-core.
#
#   scripts/browser-test.sh [--no-build]
#
# Installs Debian's `chromium` if missing (apt) and the pinned `playwright-core` from
# scripts/browser/package.json into .tools/browser/ (npm, cache inside .tools/). Builds
# `examples/chat` and hands it to scripts/browser/chat_test.mjs, which runs it on a free
# loopback port (and kills and restarts it there), opens three pages as three users, and
# checks: pages connect on open, a page that never sent shows the others' messages, a late
# page gets the history, presence lists, reconnecting after a server restart, a clean leave.
# Saves a screenshot to .tools/browser/chat.png and the server's output to
# .tools/browser/chat.log. Exit status 0 only if every check passed.
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
PIDFILE="$TOOLS/chat.pid"
: >"$CHAT_LOG"
rm -f "$PIDFILE"
# The test stops its server itself; this is for a test killed halfway.
trap '[[ -f "$PIDFILE" ]] && kill "$(cat "$PIDFILE")" 2>/dev/null; rm -f "$PIDFILE"' EXIT INT TERM

log "browser test against http://127.0.0.1:$PORT/"
if ! CHROMIUM="$CHROMIUM_BIN" CHAT_LOG="$CHAT_LOG" CHAT_PIDFILE="$PIDFILE" \
    timeout 120 node "$TOOLS/chat_test.mjs" "$CHAT" "127.0.0.1:$PORT" "$TOOLS/chat.png"; then
  echo "--- chat server output (.tools/browser/chat.log, last 40 lines)" >&2
  tail -n 40 "$CHAT_LOG" >&2
  log "FAIL"
  exit 1
fi
log "PASS (screenshot: .tools/browser/chat.png)"
