# shellcheck shell=bash
# Shared helpers for scripts/autobahn.sh and scripts/interop.sh. Source it; do not run it.
#
# What it gives:
#   - ROOT (the project folder), TOOLS (its ignored .tools folder), log/die;
#   - caches pinned inside .tools (pip, npm, XDG), so nothing lands in $HOME;
#   - background processes in their own process group, all killed on any exit
#     (start_bg, stop_bg, cleanup_all, install_traps);
#   - bounded waits: run_bounded (a foreground command under `timeout`, still interruptible
#     by Ctrl-C), wait_for_line, wait_for_port, wait_for_file;
#   - pick_port, build_examples, files_hash.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools"

# Keep every cache of every installer inside .tools: nothing of ours lands in $HOME.
export PIP_CACHE_DIR="$TOOLS/cache/pip"
export XDG_DATA_HOME="$TOOLS/cache/xdg-data"
export XDG_CACHE_HOME="$TOOLS/cache/xdg-cache"
export npm_config_cache="$TOOLS/cache/npm"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_NO_INPUT=1
export PYTHONDONTWRITEBYTECODE=1

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$(date +%H:%M:%S)" "$*" >&2; exit 1; }

# sha256 over the given files' names and contents (for install stamps).
files_hash() {
    local f
    for f in "$@"; do
        printf '%s\n' "${f#"$ROOT"/}"
        cat "$f"
    done | sha256sum | cut -d' ' -f1
}

# A free TCP port on 127.0.0.1 (the kernel picks it; a tiny race with other programs remains).
pick_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# ---------------------------------------------------------------------------------------------
# Background processes. Each runs under `setsid`, so it leads its own process group and
# `kill -- -PID` also reaches its children (a wrapper, a node/python interpreter, ...).
# A non-interactive bash does not put background jobs in their own group, so `setsid` does not
# need to fork and $! is the group id.

BG_PIDS=()

# is_running PID: the process exists and is not a zombie (`kill -0` succeeds on zombies too).
is_running() {
    local state
    state="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != Z ]]
}

# forget_pid PID: drop PID from the cleanup list (once reaped, the number may be reused).
forget_pid() {
    local kept=() p
    for p in "${BG_PIDS[@]}"; do [[ "$p" == "$1" ]] || kept+=("$p"); done
    BG_PIDS=("${kept[@]}")
}

# start_bg LOGFILE CMD [ARGS...]: start CMD in the background, stdout+stderr to LOGFILE,
# stdin from /dev/null. Sets BG_PID.
start_bg() {
    local logfile="$1"
    shift
    setsid "$@" </dev/null >"$logfile" 2>&1 &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}

# wait_bg PID: wait for a process started by start_bg; returns its exit status.
wait_bg() {
    local rc=0
    wait "$1" || rc=$?
    forget_pid "$1"
    return "$rc"
}

# stop_bg PID: TERM its process group, KILL it if still there after 5 s. Never fails.
stop_bg() {
    local pid="$1"
    if is_running "$pid"; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            is_running "$pid" || break
            sleep 0.1
        done
    fi
    # KILL whatever is left of the group (also children that outlived their leader). The
    # leader is not reaped yet, so its number still names this group.
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget_pid "$pid"
}

cleanup_all() {
    local pid
    for pid in "${BG_PIDS[@]}"; do
        stop_bg "$pid"
    done
}

# EXIT runs the cleanup; INT/TERM/HUP turn into an exit (which then runs the EXIT trap).
install_traps() {
    trap 'cleanup_all' EXIT
    trap 'log "interrupted"; exit 130' INT
    trap 'log "terminated"; exit 143' TERM HUP
}

# run_bounded SECONDS CMD [ARGS...]: run CMD under `timeout` with this shell's stdin, stdout
# and stderr, and return its exit status (124 on timeout). It runs in the background and is
# waited for, so that a signal to this script runs its trap at once (bash runs traps only
# between commands, but `wait` is interruptible); `timeout` leads its own process group,
# which cleanup_all kills.
run_bounded() {
    local secs="$1" pid rc=0
    shift
    # `<&0`: an asynchronous command would otherwise get /dev/null as stdin.
    timeout --kill-after=10 "$secs" "$@" <&0 &
    pid=$!
    BG_PIDS+=("$pid")
    wait "$pid" || rc=$?
    forget_pid "$pid"
    if [[ $rc -eq 124 ]]; then
        log "timed out after ${secs}s: $*"
    fi
    return "$rc"
}

# wait_for_line LOGFILE REGEX SECONDS PID: wait until LOGFILE has a line matching the extended
# REGEX. Fails if PID exits first or the time runs out. Prints the matching line.
wait_for_line() {
    local logfile="$1" regex="$2" secs="$3" pid="$4" deadline line
    deadline=$((SECONDS + secs))
    while ((SECONDS < deadline)); do
        if line="$(grep -E -m1 -- "$regex" "$logfile" 2>/dev/null)"; then
            printf '%s\n' "$line"
            return 0
        fi
        if ! is_running "$pid"; then
            log "process $pid exited before printing /$regex/; its log ($logfile):"
            tail -n 30 "$logfile" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    log "no line matching /$regex/ in $logfile after ${secs}s; its log:"
    tail -n 30 "$logfile" >&2 || true
    return 1
}

# wait_for_port PORT SECONDS PID: wait until 127.0.0.1:PORT accepts TCP connections.
wait_for_port() {
    local port="$1" secs="$2" pid="$3" deadline
    deadline=$((SECONDS + secs))
    while ((SECONDS < deadline)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        if ! is_running "$pid"; then
            log "process $pid exited before listening on port $port"
            return 1
        fi
        sleep 0.2
    done
    log "nothing listens on 127.0.0.1:$port after ${secs}s"
    return 1
}

# wait_for_file PATH SECONDS: wait until PATH exists.
wait_for_file() {
    local path="$1" secs="$2" deadline
    deadline=$((SECONDS + secs))
    while ((SECONDS < deadline)); do
        [[ -e "$path" ]] && return 0
        sleep 0.2
    done
    return 1
}

# ---------------------------------------------------------------------------------------------
# The crate's example programs.

# The cargo target directory (honours CARGO_TARGET_DIR and .cargo/config), e.g. /work/main/target.
cargo_target_dir() {
    if [[ -n "${CARGO_TARGET_DIR:-}" ]]; then
        printf '%s\n' "$CARGO_TARGET_DIR"
        return
    fi
    cargo metadata --manifest-path "$ROOT/Cargo.toml" --format-version 1 --no-deps |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}

# build_examples [CARGO_ARGS...]: `cargo build --release --examples` plus the given arguments
# (e.g. `--features deflate`), bounded; waits for the target-dir lock if someone else is
# building. Sets EXAMPLES_DIR.
build_examples() {
    local secs="${BUILD_TIMEOUT:-1800}" started=$SECONDS
    log "building examples: cargo build --release --examples $* (limit ${secs}s)"
    run_bounded "$secs" cargo build --manifest-path "$ROOT/Cargo.toml" --release --examples "$@" ||
        die "cargo build --release --examples $* failed"
    EXAMPLES_DIR="$(cargo_target_dir)/release/examples"
    log "built in $((SECONDS - started))s: $EXAMPLES_DIR"
}

# require_example NAME: the path of a built example, or die.
require_example() {
    local exe="$EXAMPLES_DIR/$1"
    [[ -x "$exe" ]] || die "example '$1' not found at $exe (is examples/$1.rs written yet?)"
    printf '%s\n' "$exe"
}
