#!/usr/bin/env bash
# Interop over HTTP/3 (RFC 9220) with an independent peer: Python aioquic 1.7.2.
#
#   scripts/h3-interop.sh [--only server|client] [--no-build]
#
# (a) server: our wsmachine-tokio/examples/h3_server.rs, with scripts/h3/ws_client.py (aioquic)
#     as the client: three WebSockets on one QUIC connection, each a text, a fragmented text
#     with a Ping between the fragments, a 2 MiB binary message, and a close with 1000,
#     checked byte for byte (the WebSocket framing and masking are the script's own,
#     scripts/h3/wsframe.py);
# (b) client: our wsmachine-tokio/examples/h3_client.rs against scripts/h3/ws_server.py (an
#     aioquic echo server): three WebSockets on one connection, a text, a Ping, a 2 MiB binary
#     message each, checked, then a clean close with 1000.
#
# Both sides verify TLS: the certificate for `localhost` is written by our h3_server example
# (rcgen) into the run folder and given to every peer.
#
# aioquic is installed, pinned (scripts/pins/h3-requirements.txt), into .tools/h3-venv/.
# The build needs cmake and clang (quiche builds BoringSSL): scripts/h3-test.sh installs them.
#
# Environment:
#   H3_TIMEOUT     seconds allowed for each peer run (default 120).
#   H3_OUT         folder for logs and the certificate (default .tools/h3-run).
#
# Exit status 0 only if every check passed. Binds and connects to 127.0.0.1 only.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

H3_DIR="$ROOT/scripts/h3"
PY_ENV="$TOOLS/h3-venv"
PINS="$ROOT/scripts/pins/h3-requirements.txt"
RUN_DIR="${H3_OUT:-$TOOLS/h3-run}"
STEP_TIMEOUT="${H3_TIMEOUT:-120}"
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
[[ -z "$ONLY" || "$ONLY" == server || "$ONLY" == client ]] || die "--only takes server or client"

install_traps
mkdir -p "$RUN_DIR"

# The pinned aioquic venv, reinstalled when the pins change.
stamp="$PY_ENV/.pins-$(files_hash "$PINS")"
if [[ ! -e "$stamp" ]]; then
    log "installing aioquic into $PY_ENV"
    rm -rf "$PY_ENV"
    python3 -m venv "$PY_ENV"
    run_bounded 600 "$PY_ENV/bin/pip" install --quiet -r "$PINS"
    touch "$stamp"
fi
PY="$PY_ENV/bin/python"

if ((BUILD)); then
    log "building the h3 examples"
    run_bounded 1800 cargo build --manifest-path "$ROOT/Cargo.toml" -p wsmachine-tokio \
        --features h3 --example h3_server --example h3_client
fi
EXAMPLES="$(cargo_target_dir)/debug/examples"
CERT="$RUN_DIR/cert.pem"
KEY="$RUN_DIR/key.pem"
rm -f "$CERT" "$KEY"

# A free UDP port on 127.0.0.1.
pick_udp_port() {
    python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

failed=0

# (a) our server, the aioquic client. Our server writes the certificate first.
if [[ "$ONLY" != client ]]; then
    log "(a) our h3_server <- aioquic client"
    start_bg "$RUN_DIR/our-server.log" "$EXAMPLES/h3_server" 127.0.0.1:0 "$CERT" "$KEY"
    server=$BG_PID
    line="$(wait_for_line "$RUN_DIR/our-server.log" '^listening on ' 60 "$server")"
    port="${line##*:}"
    port="${port%% *}"
    if (cd "$H3_DIR" && run_bounded "$STEP_TIMEOUT" "$PY" ws_client.py "$port" "$CERT"); then
        # Our server reports each WebSocket's end once its side is done.
        clean=0
        for _ in $(seq 50); do
            clean="$(grep -c 'closed Some((CloseCode(1000), true))' "$RUN_DIR/our-server.log" || true)"
            [[ "$clean" == 3 ]] && break
            sleep 0.1
        done
        if [[ "$clean" == 3 ]]; then
            log "(a) passed (our server saw 3 clean closes with 1000)"
        else
            log "(a) FAILED: our server saw $clean clean closes with 1000, not 3; its log:"
            tail -n 30 "$RUN_DIR/our-server.log" >&2
            failed=1
        fi
    else
        log "(a) FAILED; our server's log:"
        tail -n 30 "$RUN_DIR/our-server.log" >&2
        failed=1
    fi
    stop_bg "$server"
fi

# (b) the aioquic server, our client.
if [[ "$ONLY" != server ]]; then
    if [[ ! -e "$CERT" ]]; then
        # Only (b): let our server example write the certificate, then stop it.
        start_bg "$RUN_DIR/cert.log" "$EXAMPLES/h3_server" 127.0.0.1:0 "$CERT" "$KEY"
        wait_for_line "$RUN_DIR/cert.log" '^listening on ' 60 "$BG_PID" >/dev/null
        stop_bg "$BG_PID"
    fi
    log "(b) aioquic server <- our h3_client"
    port="$(pick_udp_port)"
    start_bg "$RUN_DIR/aioquic-server.log" "$PY" "$H3_DIR/ws_server.py" "$port" "$CERT" "$KEY"
    server=$BG_PID
    wait_for_line "$RUN_DIR/aioquic-server.log" '^READY' 60 "$server" >/dev/null
    if run_bounded "$STEP_TIMEOUT" "$EXAMPLES/h3_client" "127.0.0.1:$port" "$CERT"; then
        closes="$(grep -c '^close 03e8' "$RUN_DIR/aioquic-server.log" || true)"
        if [[ "$closes" == 3 ]]; then
            log "(b) passed (the aioquic server saw 3 closes with 1000)"
        else
            log "(b) FAILED: the aioquic server saw $closes closes with 1000, not 3"
            failed=1
        fi
    else
        log "(b) FAILED; the aioquic server's log:"
        tail -n 30 "$RUN_DIR/aioquic-server.log" >&2
        failed=1
    fi
    stop_bg "$server"
fi

if ((failed)); then
    die "HTTP/3 interop failed"
fi
log "HTTP/3 interop passed"
