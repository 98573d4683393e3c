#!/usr/bin/env bash
# make fuzz: cargo fuzz over request parsing and validation (the brokerage's domain crate) for
# FUZZ_SECONDS (default 120). Needs the nightly toolchain; cargo-fuzz is installed into
# .tools/ if missing. The corpus grows in crates/brokerage/fuzz/corpus/ (git-ignored).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  die "make fuzz needs the nightly toolchain (rustup toolchain install nightly)"
fi
export PATH=$TOOLS/cargo/bin:$PATH
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz (crates.io) into .tools/cargo"
  cargo install -q --locked --root "$TOOLS/cargo" cargo-fuzz
fi
mkdir -p "$RUN"
cd crates/brokerage/fuzz
seconds=${FUZZ_SECONDS:-120}
log "fuzzing request parsing for $seconds s"
set +e
cargo +nightly fuzz run request -- -max_total_time="$seconds" -max_len=4096 >"$RUN/fuzz.log" 2>&1
status=$?
set -e
# The crash report (if any) and libFuzzer's closing count of runs.
grep -E "ERROR|panicked|SUMMARY|^Done [0-9]+ runs" "$RUN/fuzz.log" || tail -n 20 "$RUN/fuzz.log"
exit "$status"
