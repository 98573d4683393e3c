#!/usr/bin/env bash
# make fuzz: cargo fuzz over request parsing and validation (the domain crate) for
# FUZZ_SECONDS (default 120). Needs the nightly toolchain; cargo-fuzz is installed into
# .tools/ if missing. The corpus grows in fuzz/corpus/ (git-ignored).
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
cd fuzz
seconds=${FUZZ_SECONDS:-120}
log "fuzzing request parsing for $seconds s"
cargo +nightly fuzz run request -- -max_total_time="$seconds" -max_len=4096 2>&1 | tee "$RUN/fuzz.log" | grep -E "^#[0-9]+ *(DONE|pulse)|ERROR|panicked|SUMMARY" || true
status=${PIPESTATUS[0]}
grep -E "^Done [0-9]+ runs" "$RUN/fuzz.log" | tail -n 1 || true
exit "$status"
