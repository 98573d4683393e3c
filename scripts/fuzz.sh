#!/usr/bin/env bash
# make fuzz: cargo fuzz over request parsing and validation (each service's domain crate), each
# target for FUZZ_SECONDS (default 120). Needs the nightly toolchain; cargo-fuzz is installed into
# .tools/ if missing. The corpora grow in crates/*/fuzz/corpus/ (git-ignored).
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
seconds=${FUZZ_SECONDS:-120}
status=0
# service:target, each for $seconds: the brokerage's requests, the events' bodies and queries,
# the factories' chart bodies and queries and import bodies.
for t in brokerage:request events:event events:report factories:chart factories:import; do
  service=${t%%:*} target=${t#*:}
  log "fuzzing $service's $target parsing for $seconds s"
  set +e
  (cd "crates/$service/fuzz" && cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=4096) \
    >"$RUN/fuzz-$service-$target.log" 2>&1
  s=$?
  set -e
  # The crash report (if any) and libFuzzer's closing count of runs.
  grep -E "ERROR|panicked|SUMMARY|^Done [0-9]+ runs" "$RUN/fuzz-$service-$target.log" \
    || tail -n 20 "$RUN/fuzz-$service-$target.log"
  [ "$s" -eq 0 ] || status=$s
done
exit "$status"
