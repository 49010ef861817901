#!/usr/bin/env bash
# Builds and runs every cargo-fuzz target in fuzz/ for SECONDS each (default 60), one after the
# other on one core, and prints each target's executions. Fails if any target crashes (the
# reproducer is in fuzz/artifacts/<target>/) or cannot run.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Each target starts from its committed seeds (fuzz/seeds/<target>/), copied into a scratch
# corpus fuzz/corpus/<target>/ (ignored by git) that keeps growing across local runs.
#
# Targets are built without a sanitizer (FUZZ_SANITIZER=address to change that): the crate is
# safe Rust but for one `from_utf8_unchecked`, which Miri checks (scripts/miri.sh), and
# AddressSanitizer would cost 3-5x the executions. Debug assertions and overflow checks stay on.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

cd fuzz
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

sanitizer="${FUZZ_SANITIZER:-none}"
echo "==> building ${#targets[@]} fuzz targets (sanitizer: $sanitizer)"
cargo +nightly fuzz build -s "$sanitizer"

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
failed=()
summary=()
for target in "${targets[@]}"; do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  if [ -d "seeds/$target" ]; then
    cp -n "seeds/$target"/* "$corpus"/ 2>/dev/null || true
  fi
  log="$logs/$target.log"
  echo "==> $target for ${seconds}s"
  status=0
  cargo +nightly fuzz run -s "$sanitizer" "$target" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  if [ -z "$execs" ]; then
    execs="$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$log" | tail -n1)"
  fi
  if [ "$status" -ne 0 ]; then
    echo "!! $target failed (exit $status); the end of its log:"
    tail -n 60 "$log"
    failed+=("$target")
    summary+=("$(printf '%-20s FAILED after %s executions' "$target" "${execs:-?}")")
  else
    summary+=("$(printf '%-20s %12s executions in %ss' "$target" "${execs:-?}" "$seconds")")
  fi
done

echo
echo "==> fuzzing summary"
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "crashed: ${failed[*]} (reproducers in fuzz/artifacts/)" >&2
  exit 1
fi
