#!/usr/bin/env bash
# Autobahn|Testsuite conformance run for wsmachine, both roles, judged strictly.
#
#   scripts/autobahn.sh [--only server|client] [--deflate] [--cases LIST] [--exclude LIST]
#                       [--shards N] [--driver core|tokio] [--no-build] [--install-only]
#
# server role: `wstest -m fuzzingclient` against examples/echo_server (ws://127.0.0.1:PORT).
# client role: `wstest -m fuzzingserver` (ws://127.0.0.1:PORT, web UI off) against
#              examples/autobahn_client, which runs every case and then asks for the report.
# With --driver tokio the testees are the tokio driver's examples instead
# (wsmachine-tokio/examples/tokio_autobahn_server.rs and tokio_autobahn_client.rs).
#
# Each role passes only if every case's `behavior` and `behaviorClose` is OK or INFORMATIONAL
# (scripts/autobahn/judge.py; NON-STRICT and UNIMPLEMENTED fail) and every case has a result.
# Exit status 0 only if every role run passed.
#
# Autobahn|Testsuite (Python 2.7) is installed on first use into .tools/autobahn/, pinned by
# scripts/pins/autobahn-*.txt; a change of pins reinstalls. Specs, logs and reports go to
# .tools/autobahn-run/{server,client}/shard-K/ (open reports/index.html in a browser).
#
# Flags, and the environment variables they override:
#   --only server|client   AUTOBAHN_ONLY      run one role (default: both)
#   --deflate              AUTOBAHN_DEFLATE=1 include sections 12 and 13 (permessage-deflate):
#                                             echo_server and autobahn_client get --deflate,
#                                             the default exclude list becomes empty, and 2
#                                             shards are the default (about 6.5 min per role)
#   --cases LIST           AUTOBAHN_CASES     comma-separated case patterns (default '*');
#                                             '1.*' is section 1, '9.1.*' a subsection, '5.13' one case
#   --exclude LIST         AUTOBAHN_EXCLUDE   patterns to leave out (default '12.*,13.*', or none
#                                             with --deflate)
#   --shards N             AUTOBAHN_SHARDS    split the cases over N wstest processes (each with
#                                             its own echo_server / fuzzingserver and outdir)
#   --driver core|tokio    AUTOBAHN_DRIVER    which testees: the blocking examples of the core
#                                             (default) or the tokio driver's
#   --no-build                                do not run `cargo build --release --examples
#                                             --features deflate`
#   --install-only                            install Autobahn|Testsuite and stop
# Other environment variables:
#   AUTOBAHN_AGENT         agent name in the reports (default wsmachine)
#   AUTOBAHN_TIMEOUT       seconds allowed per role run (default 600, 1800 with deflate)
#   AUTOBAHN_OUT           folder for specs, logs and reports (default .tools/autobahn-run)
#   AUTOBAHN_PYTHON27      the CPython 2.7 to build the virtualenv from
#                          (default $(pyenv root)/versions/2.7.18/bin/python2.7, else python2.7)
#   ECHO_SERVER_CMD        command instead of target/release/examples/echo_server; 127.0.0.1:PORT
#                          is appended; it must print a line starting `listening on`
#   AUTOBAHN_CLIENT_CMD    command instead of target/release/examples/autobahn_client; the base
#                          URL ws://127.0.0.1:PORT and the agent name are appended
#                          (both commands are split on whitespace, no quoting)
#   BUILD_TIMEOUT          seconds allowed for the cargo build (default 1800)
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

AB_SCRIPTS="$ROOT/scripts/autobahn"
PINS_DIR="$ROOT/scripts/pins"
AB_DIR="$TOOLS/autobahn"
VENV_PY3="$AB_DIR/venv-py3"   # holds virtualenv==20.21.1, which can still make 2.7 envs
VENV_PY27="$AB_DIR/venv-py27" # holds autobahntestsuite
PY27="$VENV_PY27/bin/python"

# Extra arguments for our examples when sections 12/13 run: echo_server accepts
# permessage-deflate, autobahn_client offers it on every case connection.
ECHO_DEFLATE_ARGS=(--deflate)
CLIENT_DEFLATE_ARGS=(--deflate)

ONLY="${AUTOBAHN_ONLY:-}"
DEFLATE="${AUTOBAHN_DEFLATE:-0}"
CASES="${AUTOBAHN_CASES:-*}"
EXCLUDE="${AUTOBAHN_EXCLUDE-__default__}"
SHARDS="${AUTOBAHN_SHARDS:-}"
AGENT="${AUTOBAHN_AGENT:-wsmachine}"
RUN_TIMEOUT="${AUTOBAHN_TIMEOUT:-}"
RUN_DIR="${AUTOBAHN_OUT:-$TOOLS/autobahn-run}"
DRIVER="${AUTOBAHN_DRIVER:-core}"
BUILD=1
INSTALL_ONLY=0

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

while (($#)); do
    case "$1" in
        --only) ONLY="${2:?--only needs server or client}"; shift 2 ;;
        --only=*) ONLY="${1#*=}"; shift ;;
        --deflate) DEFLATE=1; shift ;;
        --cases) CASES="${2:?--cases needs a list}"; shift 2 ;;
        --cases=*) CASES="${1#*=}"; shift ;;
        --exclude) EXCLUDE="${2?--exclude needs a list}"; shift 2 ;;
        --exclude=*) EXCLUDE="${1#*=}"; shift ;;
        --shards) SHARDS="${2:?--shards needs a number}"; shift 2 ;;
        --shards=*) SHARDS="${1#*=}"; shift ;;
        --driver) DRIVER="${2:?--driver needs core or tokio}"; shift 2 ;;
        --driver=*) DRIVER="${1#*=}"; shift ;;
        --no-build) BUILD=0; shift ;;
        --install-only) INSTALL_ONLY=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

case "$ONLY" in "" | server | client) ;; *) die "--only takes server or client, not '$ONLY'" ;; esac
case "$DRIVER" in
    core) BUILD_ARGS=(--features deflate); SERVER_EXAMPLE=echo_server; CLIENT_EXAMPLE=autobahn_client ;;
    tokio)
        BUILD_ARGS=(-p wsmachine-tokio --features deflate)
        SERVER_EXAMPLE=tokio_autobahn_server
        CLIENT_EXAMPLE=tokio_autobahn_client
        ;;
    *) die "--driver takes core or tokio, not '$DRIVER'" ;;
esac
case "$DEFLATE" in 0 | "") DEFLATE=0 ;; *) DEFLATE=1 ;; esac
if [[ "$EXCLUDE" == __default__ ]]; then
    if ((DEFLATE)); then EXCLUDE=""; else EXCLUDE="12.*,13.*"; fi
fi
# Sections 12/13 take ~9 min in one CPython 2.7 wstest (wstest is the bottleneck); two
# processes on halves of the case list roughly halve that on 2 cores.
[[ -n "$SHARDS" ]] || SHARDS=$((DEFLATE ? 2 : 1))
[[ "$SHARDS" =~ ^[1-9][0-9]*$ ]] || die "--shards takes a positive number, not '$SHARDS'"
[[ -n "$RUN_TIMEOUT" ]] || RUN_TIMEOUT=$((DEFLATE ? 1800 : 600))

install_traps
# Nothing here reads the terminal; a tool that tried would stop (SIGTTIN) in its background
# process group and hang until its time limit.
exec </dev/null

# ---------------------------------------------------------------------------------------------
# Install (idempotent: .tools/autobahn/.installed holds a hash of the pins and the interpreter;
# anything different, or a half-finished install, starts again from scratch).

find_python27() {
    local py="${AUTOBAHN_PYTHON27:-}"
    if [[ -z "$py" ]] && command -v pyenv >/dev/null; then
        py="$(pyenv root)/versions/2.7.18/bin/python2.7"
    fi
    [[ -n "$py" && -x "$py" ]] || py="$(command -v python2.7 || true)"
    [[ -n "$py" && -x "$py" ]] ||
        die "no CPython 2.7 found (looked for \$(pyenv root)/versions/2.7.18 and python2.7); set AUTOBAHN_PYTHON27"
    printf '%s\n' "$py"
}

install_autobahn() {
    local python27 hash stamp="$AB_DIR/.installed" started=$SECONDS
    python27="$(find_python27)"
    hash="$(files_hash "$PINS_DIR/autobahn-bootstrap-py3.txt" \
        "$PINS_DIR/autobahn-requirements27.txt" "$PINS_DIR/autobahn-constraints27.txt")"
    hash+=" $python27 $("$python27" --version 2>&1) $(python3 --version 2>&1)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" && -x "$PY27" ]]; then
        log "Autobahn|Testsuite already installed (${AB_DIR#"$ROOT"/}, pins unchanged)"
        return 0
    fi
    log "installing Autobahn|Testsuite into ${AB_DIR#"$ROOT"/} (about 30 s; some packages build with gcc)"
    rm -rf "$AB_DIR"
    mkdir -p "$AB_DIR"
    run_bounded 120 python3 -m venv "$VENV_PY3" || die "python3 -m venv failed"
    run_bounded 300 "$VENV_PY3/bin/pip" install --quiet --require-virtualenv \
        -r "$PINS_DIR/autobahn-bootstrap-py3.txt" </dev/null ||
        die "installing virtualenv (scripts/pins/autobahn-bootstrap-py3.txt) failed"
    # --app-data keeps virtualenv's seed-wheel cache inside .tools; no periodic update
    # means no download: pip 20.3.4 / setuptools 44 come from virtualenv's bundled wheels.
    run_bounded 120 "$VENV_PY3/bin/virtualenv" --quiet --no-periodic-update \
        --app-data "$TOOLS/cache/virtualenv" -p "$python27" "$VENV_PY27" </dev/null ||
        die "virtualenv -p $python27 failed"
    run_bounded 600 "$VENV_PY27/bin/pip" install --quiet --no-python-version-warning \
        -c "$PINS_DIR/autobahn-constraints27.txt" \
        -r "$PINS_DIR/autobahn-requirements27.txt" </dev/null ||
        die "pip install autobahntestsuite (scripts/pins/autobahn-*27.txt) failed"
    run_bounded 60 "$PY27" -c 'import autobahntestsuite.wstest' </dev/null >/dev/null ||
        die "autobahntestsuite installed but does not import"
    printf '%s' "$hash" >"$stamp"
    log "Autobahn|Testsuite installed in $((SECONDS - started))s"
}

install_autobahn
if ((INSTALL_ONLY)); then exit 0; fi


# ---------------------------------------------------------------------------------------------
# The testees: our examples, unless overridden.

ECHO_CMD=()
CLIENT=()
[[ -n "${ECHO_SERVER_CMD:-}" ]] && read -r -a ECHO_CMD <<<"$ECHO_SERVER_CMD"
[[ -n "${AUTOBAHN_CLIENT_CMD:-}" ]] && read -r -a CLIENT <<<"$AUTOBAHN_CLIENT_CMD"
if { [[ "$ONLY" != client && ${#ECHO_CMD[@]} -eq 0 ]] ||
    [[ "$ONLY" != server && ${#CLIENT[@]} -eq 0 ]]; }; then
    if ((BUILD)); then
        # With feature `deflate` (a superset: without --deflate the examples behave as
        # plain builds), so one build serves every kind of run.
        build_examples "${BUILD_ARGS[@]}"
    else
        EXAMPLES_DIR="$(cargo_target_dir)/release/examples"
    fi
    [[ "$ONLY" == client || ${#ECHO_CMD[@]} -gt 0 ]] || ECHO_CMD=("$(require_example "$SERVER_EXAMPLE")")
    [[ "$ONLY" == server || ${#CLIENT[@]} -gt 0 ]] || CLIENT=("$(require_example "$CLIENT_EXAMPLE")")
fi
if ((DEFLATE)); then
    ECHO_DEFLATE=("${ECHO_DEFLATE_ARGS[@]}")
    CLIENT_DEFLATE=("${CLIENT_DEFLATE_ARGS[@]}")
else
    ECHO_DEFLATE=()
    CLIENT_DEFLATE=()
fi

# ---------------------------------------------------------------------------------------------
# Specs: make_specs.py expands the case patterns with wstest's own rules and deals them out
# round-robin over the shards. Sets PORTS (one per shard) and NSHARDS.

make_specs() { # make_specs MODE DIR
    local mode="$1" dir="$2" k port
    PORTS=()
    for ((k = 0; k < SHARDS; k++)); do
        # pick_port asks the kernel; retry on the rare repeat within this run.
        for _ in 1 2 3 4 5; do
            port="$(pick_port)"
            [[ " ${PORTS[*]} " == *" $port "* ]] || break
        done
        PORTS+=("$port")
    done
    NSHARDS="$("$PY27" "$AB_SCRIPTS/make_specs.py" --mode "$mode" --outdir "$dir" \
        --agent "$AGENT" --cases "$CASES" --exclude "$EXCLUDE" \
        --ports "$(IFS=,; echo "${PORTS[*]}")")" || die "cannot make the $mode spec"
}

count_cases() { cat "$1"/shard-*/cases.txt | wc -l; }

# judge DIR TITLE: run judge.py over every shard's report; prints, returns its status.
judge() {
    local dir="$1" title="$2" k expect=() reports=()
    for ((k = 1; k <= NSHARDS; k++)); do
        expect+=(--expect "$dir/shard-$k/cases.txt")
        reports+=("$dir/shard-$k/reports/index.json")
    done
    python3 "$AB_SCRIPTS/judge.py" --title "$title" --agent "$AGENT" "${expect[@]}" "${reports[@]}"
}

SUMMARY=()
FAILED=0
summarize() { # summarize ROLE-TEXT PASS|FAIL DETAIL
    SUMMARY+=("$(printf '%-4s  %s  (%s)' "$2" "$1" "$3")")
    [[ "$2" == PASS ]] || FAILED=1
}

# ---------------------------------------------------------------------------------------------
# Server role: wstest fuzzingclient -> echo_server.

run_server_role() {
    local dir="$RUN_DIR/server" started=$SECONDS k rc problems=() servers=() clients=()
    rm -rf "$dir"
    mkdir -p "$dir"
    make_specs fuzzingclient "$dir"
    log "server role: $(count_cases "$dir") cases, $NSHARDS shard(s), exclude '${EXCLUDE}'"

    for ((k = 1; k <= NSHARDS; k++)); do
        local sdir="$dir/shard-$k" port="${PORTS[k - 1]}"
        log "  shard $k: ${ECHO_CMD[*]} 127.0.0.1:$port ${ECHO_DEFLATE[*]}"
        start_bg "$sdir/echo_server.log" "${ECHO_CMD[@]}" "127.0.0.1:$port" "${ECHO_DEFLATE[@]}"
        servers+=("$BG_PID")
        wait_for_line "$sdir/echo_server.log" '^listening on' 60 "$BG_PID" >/dev/null ||
            die "echo_server for shard $k did not start (see $sdir/echo_server.log)"
    done
    for ((k = 1; k <= NSHARDS; k++)); do
        local sdir="$dir/shard-$k"
        start_bg "$sdir/wstest.log" timeout --kill-after=10 "$RUN_TIMEOUT" \
            "$PY27" "$AB_SCRIPTS/wstest_local.py" -m fuzzingclient -s "$sdir/spec.json"
        clients+=("$BG_PID")
    done
    for ((k = 1; k <= NSHARDS; k++)); do
        rc=0
        wait_bg "${clients[k - 1]}" || rc=$?
        if ((rc == 124 || rc == 137)); then
            problems+=("shard $k: wstest timed out after ${RUN_TIMEOUT}s")
        elif ((rc != 0)); then
            problems+=("shard $k: wstest exited with status $rc (see $dir/shard-$k/wstest.log)")
        fi
    done
    for ((k = 1; k <= NSHARDS; k++)); do
        if ! is_running "${servers[k - 1]}"; then
            problems+=("shard $k: echo_server exited during the run (see $dir/shard-$k/echo_server.log)")
            tail -n 20 "$dir/shard-$k/echo_server.log" >&2 || true
        fi
        stop_bg "${servers[k - 1]}"
    done

    echo
    rc=0
    judge "$dir" "server role: wstest fuzzingclient -> ${ECHO_CMD[*]##*/}" || rc=$?
    local p
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    if ((rc == 0 && ${#problems[@]} == 0)); then
        summarize "server role (fuzzingclient -> ${ECHO_CMD[0]##*/})" PASS \
            "$(count_cases "$dir") cases, $((SECONDS - started))s"
    else
        summarize "server role (fuzzingclient -> ${ECHO_CMD[0]##*/})" FAIL \
            "$((SECONDS - started))s; reports in ${dir#"$ROOT"/}/shard-*/reports/"
    fi
}

# ---------------------------------------------------------------------------------------------
# Client role: wstest fuzzingserver <- autobahn_client.

run_client_role() {
    local dir="$RUN_DIR/client" started=$SECONDS k rc problems=() servers=() clients=()
    rm -rf "$dir"
    mkdir -p "$dir"
    make_specs fuzzingserver "$dir"
    log "client role: $(count_cases "$dir") cases, $NSHARDS shard(s), exclude '${EXCLUDE}'"

    for ((k = 1; k <= NSHARDS; k++)); do
        local sdir="$dir/shard-$k" port="${PORTS[k - 1]}"
        # wstest's fuzzingserver never exits by itself; it is stopped below. -u 0: no web UI.
        start_bg "$sdir/wstest.log" "$PY27" "$AB_SCRIPTS/wstest_local.py" \
            -m fuzzingserver -s "$sdir/spec.json" -u 0
        servers+=("$BG_PID")
        wait_for_port "$port" 60 "$BG_PID" ||
            die "wstest fuzzingserver for shard $k did not start (see $sdir/wstest.log)"
    done
    for ((k = 1; k <= NSHARDS; k++)); do
        local sdir="$dir/shard-$k" port="${PORTS[k - 1]}"
        log "  shard $k: ${CLIENT[*]} ws://127.0.0.1:$port $AGENT ${CLIENT_DEFLATE[*]}"
        start_bg "$sdir/autobahn_client.log" timeout --kill-after=10 "$RUN_TIMEOUT" \
            "${CLIENT[@]}" "ws://127.0.0.1:$port" "$AGENT" "${CLIENT_DEFLATE[@]}"
        clients+=("$BG_PID")
    done
    for ((k = 1; k <= NSHARDS; k++)); do
        local sdir="$dir/shard-$k"
        rc=0
        wait_bg "${clients[k - 1]}" || rc=$?
        if ((rc == 124 || rc == 137)); then
            problems+=("shard $k: autobahn_client timed out after ${RUN_TIMEOUT}s (see $sdir/autobahn_client.log)")
        elif ((rc != 0)); then
            problems+=("shard $k: autobahn_client exited with status $rc (see $sdir/autobahn_client.log)")
            tail -n 20 "$sdir/autobahn_client.log" >&2 || true
        fi
        # /updateReports writes the report before it closes; allow a moment all the same.
        wait_for_file "$sdir/reports/index.json" 15 || true
    done
    # Stopping wstest (TERM: the reactor stops cleanly) also lets a report being written finish.
    for ((k = 1; k <= NSHARDS; k++)); do
        if ! is_running "${servers[k - 1]}"; then
            problems+=("shard $k: wstest fuzzingserver exited during the run (see $dir/shard-$k/wstest.log)")
        fi
        stop_bg "${servers[k - 1]}"
    done

    echo
    rc=0
    judge "$dir" "client role: wstest fuzzingserver <- ${CLIENT[*]##*/}" || rc=$?
    local p
    for p in "${problems[@]}"; do echo "FAIL: $p"; done
    if ((rc == 0 && ${#problems[@]} == 0)); then
        summarize "client role (fuzzingserver <- ${CLIENT[0]##*/})" PASS \
            "$(count_cases "$dir") cases, $((SECONDS - started))s"
    else
        summarize "client role (fuzzingserver <- ${CLIENT[0]##*/})" FAIL \
            "$((SECONDS - started))s; reports in ${dir#"$ROOT"/}/shard-*/reports/"
    fi
}

mkdir -p "$RUN_DIR"
[[ "$ONLY" == client ]] || run_server_role
[[ "$ONLY" == server ]] || run_client_role

echo
echo "== Autobahn|Testsuite summary (deflate: $( ((DEFLATE)) && echo on || echo off), cases '$CASES', exclude '$EXCLUDE')"
printf '%s\n' "${SUMMARY[@]}"
if ((FAILED)); then
    echo "FAIL"
    exit 1
fi
echo "PASS"
