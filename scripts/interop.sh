#!/usr/bin/env bash
# Interop with real peers: Python `websockets` and Node `ws`.
#
#   scripts/interop.sh [--only server|client] [--no-build]
#
# (a) server: our examples/echo_server, with py_client.py and node_client.mjs as clients;
# (b) client: our examples/client.rs, with py_echo_server.py and node_echo_server.mjs as servers.
#
# Compression is on everywhere: our examples run with --deflate (built with feature `deflate`),
# the peers offer and accept permessage-deflate (Node `ws` compressing every message), and each
# run checks that the handshake really agreed to it: the peer clients with
# --require-extension permessage-deflate, the peer servers by the extensions they report.
#
# The message set is scripts/interop/messages.py (texts: "hello", empty, multi-byte UTF-8,
# 64 KiB; binaries: empty, all 256 byte values, 1 MiB pseudo-random; then ping/pong and a
# close with 1000), checked byte for byte. examples/client.rs sends stdin lines as text, so (b)
# uses the single-line texts only, and checks its stdout against them and the close code the
# peer server saw (1000).
#
# The peers are installed, pinned, into .tools/py-interop/ (scripts/pins/interop-requirements.txt)
# and .tools/node-interop/ (scripts/interop/package.json + package-lock.json, `npm ci`).
#
# Environment:
#   ECHO_SERVER_CMD   command for (a) instead of target/release/examples/echo_server; the address
#                     127.0.0.1:PORT is appended (no --deflate); it must print a line starting
#                     `listening on` and agree to permessage-deflate.
#                     Split on whitespace (no quoting). E.g. a stand-in:
#                     ECHO_SERVER_CMD=".tools/py-interop/bin/python scripts/interop/py_echo_server.py"
#   CLIENT_CMD        command for (b) instead of target/release/examples/client; the URL
#                     ws://127.0.0.1:PORT is appended (no --deflate); it must offer
#                     permessage-deflate.
#   INTEROP_TIMEOUT   seconds allowed for each peer run (default 120).
#   INTEROP_OUT       folder for logs (default .tools/interop-run).
#   BUILD_TIMEOUT     seconds allowed for `cargo build --release --examples --features deflate`
#                     (default 1800).
#
# Exit status 0 only if every check passed. Binds and connects to 127.0.0.1 only.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

INTEROP_DIR="$ROOT/scripts/interop"
PY_ENV="$TOOLS/py-interop"
NODE_DIR="$TOOLS/node-interop"
RUN_DIR="${INTEROP_OUT:-$TOOLS/interop-run}"
STEP_TIMEOUT="${INTEROP_TIMEOUT:-120}"
INSTALL_TIMEOUT=600
ONLY=""
BUILD=1

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case "$1" in
        --only) ONLY="${2:?--only needs server or client}"; shift 2 ;;
        --only=*) ONLY="${1#--only=}"; shift ;;
        --no-build) BUILD=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done
case "$ONLY" in "" | server | client) ;; *) die "--only takes server or client, not '$ONLY'" ;; esac

install_traps
# Nothing here reads the terminal (our client reads a file); a tool that tried would stop
# (SIGTTIN) in its background process group and hang until its time limit.
exec </dev/null

# ---------------------------------------------------------------------------------------------
# Installs (idempotent: a stamp holds the hash of the pin files; a change reinstalls).

install_python_peers() {
    local pins="$ROOT/scripts/pins/interop-requirements.txt" stamp hash started=$SECONDS
    stamp="$PY_ENV/.installed"
    hash="$(files_hash "$pins") $(python3 --version 2>&1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" && -x "$PY_ENV/bin/python" ]]; then
        return 0
    fi
    log "installing Python peers into ${PY_ENV#"$ROOT"/} ($(python3 --version 2>&1))"
    rm -rf "$PY_ENV"
    run_bounded 120 python3 -m venv "$PY_ENV"
    run_bounded "$INSTALL_TIMEOUT" "$PY_ENV/bin/pip" install --quiet --require-virtualenv \
        -r "$pins" || die "pip install -r ${pins#"$ROOT"/} failed"
    printf '%s' "$hash" >"$stamp"
    log "Python peers installed in $((SECONDS - started))s"
}

install_node_peers() {
    local stamp hash started=$SECONDS
    stamp="$NODE_DIR/.installed"
    hash="$(files_hash "$INTEROP_DIR/package.json" "$INTEROP_DIR/package-lock.json") $(node --version)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" && -d "$NODE_DIR/node_modules/ws" ]]; then
        return 0
    fi
    log "installing Node peers into ${NODE_DIR#"$ROOT"/} (node $(node --version))"
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    cp "$INTEROP_DIR/package.json" "$INTEROP_DIR/package-lock.json" "$NODE_DIR/"
    # `npm ci` installs exactly the lock file, and fails if it disagrees with package.json.
    run_bounded "$INSTALL_TIMEOUT" npm --prefix "$NODE_DIR" ci --ignore-scripts --no-audit \
        --no-fund --no-update-notifier --loglevel=error </dev/null ||
        die "npm ci in ${NODE_DIR#"$ROOT"/} failed"
    printf '%s' "$hash" >"$stamp"
    log "Node peers installed in $((SECONDS - started))s"
}

install_python_peers
install_node_peers
export NODE_INTEROP_DIR="$NODE_DIR"

PY="$PY_ENV/bin/python"
# Logs of this run: RUN_DIR/server/ for (a), RUN_DIR/client/ for (b).
rm -rf "$RUN_DIR/server" "$RUN_DIR/client"
mkdir -p "$RUN_DIR/server" "$RUN_DIR/client"

# ---------------------------------------------------------------------------------------------
# What runs as "ours": the examples, unless overridden.


ECHO_CMD=()
CLIENT=()
ECHO_ARGS=()
CLIENT_ARGS=()
[[ -n "${ECHO_SERVER_CMD:-}" ]] && read -r -a ECHO_CMD <<<"$ECHO_SERVER_CMD"
[[ -n "${CLIENT_CMD:-}" ]] && read -r -a CLIENT <<<"$CLIENT_CMD"
if { [[ "$ONLY" != client && ${#ECHO_CMD[@]} -eq 0 ]] ||
    [[ "$ONLY" != server && ${#CLIENT[@]} -eq 0 ]]; }; then
    if ((BUILD)); then
        # With feature `deflate` (a superset: without --deflate the examples behave as
        # plain builds), so one build serves every kind of run.
        build_examples --features deflate
    else
        EXAMPLES_DIR="$(cargo_target_dir)/release/examples"
    fi
    if [[ "$ONLY" != client && ${#ECHO_CMD[@]} -eq 0 ]]; then
        ECHO_CMD=("$(require_example echo_server)")
        ECHO_ARGS=(--deflate)
    fi
    if [[ "$ONLY" != server && ${#CLIENT[@]} -eq 0 ]]; then
        CLIENT=("$(require_example client)")
        CLIENT_ARGS=(--deflate)
    fi
fi
REQUIRED_EXTENSION=permessage-deflate

RESULTS=()
FAILED=0
record() { # record NAME ok|FAIL [DETAIL]
    RESULTS+=("$(printf '%-4s  %s%s' "$2" "$1" "${3:+  ($3)}")")
    [[ "$2" == ok ]] || FAILED=1
}

# ---------------------------------------------------------------------------------------------
# (a) Our echo server, real clients.

test_our_server() {
    local port log pid peer rc started
    port="$(pick_port)"
    log="$RUN_DIR/server/echo_server.log"
    log "(a) our echo server: ${ECHO_CMD[*]} 127.0.0.1:$port ${ECHO_ARGS[*]}"
    start_bg "$log" "${ECHO_CMD[@]}" "127.0.0.1:$port" "${ECHO_ARGS[@]}"
    pid=$BG_PID
    if ! wait_for_line "$log" '^listening on' 60 "$pid" >/dev/null; then
        record "server: echo_server started" FAIL "see $log"
        stop_bg "$pid"
        return
    fi
    for peer in py_client node_client; do
        local cmd=()
        case "$peer" in
            py_client) cmd=("$PY" "$INTEROP_DIR/py_client.py") ;;
            node_client) cmd=(node "$INTEROP_DIR/node_client.mjs") ;;
        esac
        started=$SECONDS
        rc=0
        run_bounded "$STEP_TIMEOUT" "${cmd[@]}" "ws://127.0.0.1:$port" \
            --require-extension "$REQUIRED_EXTENSION" \
            >"$RUN_DIR/server/$peer.log" 2>&1 </dev/null || rc=$?
        sed 's/^/    /' "$RUN_DIR/server/$peer.log" >&2
        if ((rc == 0)); then
            record "server: $peer -> echo_server" ok \
                "$((SECONDS - started))s, $(sed -n 's/^.*connected to .* (extensions: \(.*\))$/\1/p' \
                    "$RUN_DIR/server/$peer.log" | head -n1)"
        else
            record "server: $peer -> echo_server" FAIL \
                "$(grep -E -m1 'MISMATCH|FAILED' "$RUN_DIR/server/$peer.log" || echo "exit $rc")"
        fi
    done
    if ! is_running "$pid"; then
        record "server: echo_server still running after the peers" FAIL "it exited; see $log"
    fi
    stop_bg "$pid"
}

# ---------------------------------------------------------------------------------------------
# (b) Our client, real echo servers.

test_our_client() {
    local lines="$RUN_DIR/client/client-input.txt" peer log pid port out rc started closed detail
    "$PY" "$INTEROP_DIR/messages.py" --text-lines "$lines"
    for peer in py_echo_server node_echo_server; do
        local cmd=()
        case "$peer" in
            py_echo_server) cmd=("$PY" "$INTEROP_DIR/py_echo_server.py") ;;
            node_echo_server) cmd=(node "$INTEROP_DIR/node_echo_server.mjs") ;;
        esac
        log="$RUN_DIR/client/$peer.log"
        # The peer picks its own free port and prints it.
        start_bg "$log" "${cmd[@]}" 127.0.0.1:0
        pid=$BG_PID
        if ! port="$(wait_for_line "$log" '^listening on ' 60 "$pid")"; then
            record "client: client -> $peer" FAIL "$peer did not start; see $log"
            stop_bg "$pid"
            continue
        fi
        port="${port##*:}"
        log "(b) our client against $peer: ${CLIENT[*]} ws://127.0.0.1:$port ${CLIENT_ARGS[*]}"
        out="$RUN_DIR/client/client-vs-$peer.out"
        started=$SECONDS
        rc=0
        run_bounded "$STEP_TIMEOUT" "${CLIENT[@]}" "ws://127.0.0.1:$port" "${CLIENT_ARGS[@]}" \
            <"$lines" >"$out" 2>"$RUN_DIR/client/client-vs-$peer.err" || rc=$?
        detail=""
        if ((rc != 0)); then
            detail="client exited with status $rc; stderr: $(tail -n 3 "$RUN_DIR/client/client-vs-$peer.err" | tr '\n' ' ')"
        elif ! detail="$("$PY" "$INTEROP_DIR/messages.py" --check-lines "$out")"; then
            detail="stdout differs from stdin: $detail (see $out)"
        elif ! closed="$(wait_for_line "$log" '^closed: ' 10 "$pid")"; then
            detail="$peer saw no end of the connection"
        elif [[ "$closed" != "closed: code=1000 "* ]]; then
            detail="$peer saw: $closed (expected a close with code 1000)"
        elif [[ "$closed" != *"extensions='$REQUIRED_EXTENSION"* ]]; then
            detail="$peer did not agree to $REQUIRED_EXTENSION: $closed"
        fi
        if [[ -z "$detail" ]]; then
            record "client: client -> $peer" ok "$((SECONDS - started))s, $closed"
        else
            record "client: client -> $peer" FAIL "$detail"
        fi
        stop_bg "$pid"
    done
}

[[ "$ONLY" == client ]] || test_our_server
[[ "$ONLY" == server ]] || test_our_client

echo
echo "== interop (logs in ${RUN_DIR#"$ROOT"/}/)"
printf '%s\n' "${RESULTS[@]}"
if ((FAILED)); then
    echo "FAIL"
    exit 1
fi
echo "PASS"
