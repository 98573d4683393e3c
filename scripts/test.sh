#!/usr/bin/env bash
# make test: install what is missing, build, start DynamoDB Local, redis-server and the API
# (cargo lambda watch) on free loopback ports, run every test, stop what it started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_deps
log "building"
cargo build --workspace --all-targets
trap 'stop_all' EXIT
trap 'exit 130' INT TERM
stop_all
start_stack
port=$(free_port)
export TABLE_NAME=http-tests API_CONCURRENCY=4
cargo run -q -p shared --bin create-table
start_api "$port"
export API_URL=http://127.0.0.1:$port
log "API on $API_URL; running the tests"
out=$RUN/test-output.log
set +e
cargo test --workspace --lib --bins --tests -- "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run: the sum of every test binary's result line.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$out"
exit "$status"
