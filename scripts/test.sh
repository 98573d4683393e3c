#!/usr/bin/env bash
# make test: install what is missing, lint, build, start DynamoDB Local, redis-server and the
# API (cargo lambda watch) on free loopback ports, run every test and the Postman collection
# (newman), stop what it started, then check that `sam build` builds every function.
# Arguments go to the test binaries (a name filter); with them, only cargo test runs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_deps
[ $# -gt 0 ] || bash scripts/lint.sh
log "building"
cargo build --workspace --all-targets
trap 'stop_all' EXIT
trap 'exit 130' INT TERM
stop_all
export API_CONCURRENCY=4
unlimited_api
start_local_api http-tests
log "API on $API_URL; running the tests"
out=$RUN/test-output.log
set +e
cargo test --workspace --lib --bins --tests -- "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
newman_status=0
st_status=0
if [ $# -eq 0 ]; then
  log "the Postman collection against the local API (newman)"
  newman run postman/brokerage.postman_collection.json -e postman/local.postman_environment.json \
    --env-var "baseUrl=$API_URL" --reporters cli --color off --disable-unicode | tee "$RUN/newman.log"
  newman_status=${PIPESTATUS[0]}
  log "schemathesis: requests generated from openapi.yaml against the local API"
  # Excluded checks: positive_data_acceptance and negative_data_rejection expect the schema
  # to decide acceptance, but the contract answers invalid orders 200 (INVALID_OPERATION) and
  # refuses schema-valid cursors it never issued; unsupported_method expects 405, where API
  # Gateway answers undeclared methods itself. The hooks skip bytes the emulator refuses.
  (cd scripts && SCHEMATHESIS_HOOKS=schemathesis_hooks st --no-color run ../openapi.yaml --url "$API_URL" \
    -H "x-api-key: local-dev-key" --checks all \
    --exclude-checks positive_data_acceptance,negative_data_rejection,unsupported_method \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-200}" --seed 20261122) | tee "$RUN/schemathesis.log"
  st_status=${PIPESTATUS[0]}
fi
set -e
stop_all
# One closing line for the whole run: the sum of every test binary's result line.
summary=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "tests: %d passed, %d failed", p, f }' "$out")
if [ $# -eq 0 ]; then
  summary+=$(awk -F'|' '/assertions/ { gsub(/ /, ""); printf "; newman: %s assertions, %s failed", $3, $4 }' "$RUN/newman.log")
  summary+="; schemathesis: $(grep -Eo '[0-9]+ generated[^=]*' "$RUN/schemathesis.log" | tail -n 1 | sed 's/ *$//')"
fi
[ "$status" -eq 0 ] && [ "$newman_status" -eq 0 ] && [ "$st_status" -eq 0 ] || { echo "$summary"; exit 1; }
[ $# -gt 0 ] || bash scripts/sam-build.sh
echo "$summary"
