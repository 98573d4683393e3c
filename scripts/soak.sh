#!/usr/bin/env bash
# make soak: OPERATIONS (default 10000) randomized operations from CLIENTS (32) concurrent
# clients over ACCOUNTS (24) accounts against the local API, then every account reconciled
# against its ledger. Prints the counts and the violations (exit 1 if any).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_deps
cargo build --workspace --bins
trap 'stop_all' EXIT
trap 'exit 130' INT TERM
stop_all
export API_CONCURRENCY=${API_CONCURRENCY:-8}
unlimited_api
start_local_api soak
log "soak against $API_URL"
"$ROOT/target/debug/brokerage-soak" "${OPERATIONS:-10000}" "${CLIENTS:-32}" "${ACCOUNTS:-24}"
