#!/usr/bin/env bash
# The whole HTTP/3 (RFC 9220) check, one step for CI: installs what quiche's BoringSSL build
# needs if it is missing (cmake, clang), runs the h3 tests of wsmachine-tokio (feature `h3`),
# then the aioquic interop in both roles (scripts/h3-interop.sh).
#
#   scripts/h3-test.sh [--deps-only]
#
# --deps-only installs the build dependencies and stops: run it before any build with
# `--all-features` (clippy, tests, docs), which builds quiche too.
#
# Exit status 0 only if every check passed.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

DEPS_ONLY=0
case "${1:-}" in
    --deps-only) DEPS_ONLY=1 ;;
    "") ;;
    *) die "usage: scripts/h3-test.sh [--deps-only]" ;;
esac

# cmake builds BoringSSL; bindgen (in boring-sys) loads libclang.
missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v clang >/dev/null || missing+=(clang libclang-dev)
if ((${#missing[@]})); then
    log "installing ${missing[*]} (quiche builds BoringSSL from source)"
    if [[ $(id -u) -eq 0 ]]; then SUDO=(); else SUDO=(sudo); fi
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ((DEPS_ONLY)); then
    exit 0
fi

log "cargo test -p wsmachine-tokio --features h3 --test h3"
cargo test --manifest-path "$ROOT/Cargo.toml" -p wsmachine-tokio --features h3 --test h3

"$ROOT/scripts/h3-interop.sh"
