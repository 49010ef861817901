#!/usr/bin/env bash
# Runs the unit tests of the modules that contain `unsafe` (and the masking code, which may
# gain some) under Miri, which checks them for undefined behaviour:
#   src/text.rs       `Text` derefs to `str` with `from_utf8_unchecked`
#   src/frame/mask.rs word-at-a-time masking
#   src/utf8.rs       the incremental validator whose verdict `Text` relies on, and `to_str`
#                     (`from_utf8_unchecked` after its own check)
# Installs the nightly Miri component if it is missing.
#
# The exhaustive masking sweep (every length to 200, every phase, several splits) takes minutes
# under Miri and is skipped; the other masking test covers the same code on a 20,000-byte
# payload in two pieces. If mask.rs gains `unsafe`, give the sweep a smaller range under
# `cfg(miri)` and drop the `--skip`.
#
#   scripts/miri.sh [EXTRA TEST FILTER...]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup toolchain list | grep -q '^nightly'; then
  rustup toolchain install nightly --profile minimal
fi
if ! rustup +nightly component list --installed | grep -q '^miri'; then
  rustup +nightly component add miri rust-src
fi

cargo +nightly miri setup
# `--lib`: the unit tests beside the code; the filters pick the modules above.
cargo +nightly miri test --lib -- text:: frame::mask:: utf8:: \
  --skip fast_path_matches_reference_for_all_lengths_phases_and_splits "$@"
