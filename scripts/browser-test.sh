#!/usr/bin/env bash
# The chat example in a real browser: headless Chromium driven by playwright-core.
#
#   scripts/browser-test.sh [--no-build] [--tls]
#
# Installs Debian's `chromium` if missing (apt) and the pinned `playwright-core` from
# scripts/browser/package.json into .tools/browser/ (npm, cache inside .tools/). Builds
# `examples/chat` and hands it to a test script, which runs it on a free loopback port.
#
# Default: scripts/browser/chat_test.mjs over plain HTTP/1.1 (and kills and restarts the server
# there); it opens three pages as three users, and checks: pages connect on open, a page that
# never sent shows the others' messages, a late page gets the history, presence lists,
# reconnecting after a server restart, a clean leave. Screenshot .tools/browser/chat.png,
# server output .tools/browser/chat.log.
#
# --tls: scripts/browser/chat_tls_test.mjs against `chat ADDR --tls` (HTTPS, ALPN h2 and
# http/1.1, a certificate made at start-up; Chromium with --ignore-certificate-errors): two
# pages over HTTP/2 chat, and the server's log must say their WebSockets were accepted over
# `h2` (RFC 8441 extended CONNECT on the page's connection); a second Chromium with
# --disable-http2 joins over HTTP/1.1 with TLS, logged `http/1.1`. Screenshot
# .tools/browser/chat-tls.png, server output .tools/browser/chat-tls.log.
#
# Exit status 0 only if every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS="$ROOT/.tools/browser"
BUILD=1
TLS=0
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    --tls) TLS=1 ;;
    *) echo "usage: scripts/browser-test.sh [--no-build] [--tls]" >&2; exit 2 ;;
  esac
done
if [[ $TLS == 1 ]]; then
  TEST=chat_tls_test.mjs NAME=chat-tls SCHEME=https
else
  TEST=chat_test.mjs NAME=chat SCHEME=http
fi

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
cp scripts/browser/package.json scripts/browser/chat_test.mjs scripts/browser/chat_tls_test.mjs "$TOOLS/"
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
CHAT_LOG="$TOOLS/$NAME.log"
PIDFILE="$TOOLS/$NAME.pid"
: >"$CHAT_LOG"
rm -f "$PIDFILE"
# The test stops its server itself; this is for a test killed halfway.
trap '[[ -f "$PIDFILE" ]] && kill "$(cat "$PIDFILE")" 2>/dev/null; rm -f "$PIDFILE"' EXIT INT TERM

log "browser test ($TEST) against $SCHEME://127.0.0.1:$PORT/"
if ! CHROMIUM="$CHROMIUM_BIN" CHAT_LOG="$CHAT_LOG" CHAT_PIDFILE="$PIDFILE" \
    timeout 120 node "$TOOLS/$TEST" "$CHAT" "127.0.0.1:$PORT" "$TOOLS/$NAME.png"; then
  echo "--- chat server output (.tools/browser/$NAME.log, last 40 lines)" >&2
  tail -n 40 "$CHAT_LOG" >&2
  log "FAIL"
  exit 1
fi
log "PASS (screenshot: .tools/browser/$NAME.png)"
