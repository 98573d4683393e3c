#!/usr/bin/env bash
# make bench: release builds, the local stack with the API in release mode and, beside it,
# the dev build that make run serves, then the benchmark driver (tests/brokerage-bench): API
# orders (8 clients and 1) beside the bare DynamoDB work at the same concurrency, DynamoDB
# calls per order, cold start and RSS of each function, zipped sizes of the arm64
# functions; then the events, factories and catalog benchmarks (the catalog's cold starts of the
# host release graphql binary). ORDERS (default 2000) and CLIENTS (8)
# tune the order runs; BENCHES (default all four: brokerage events factories catalog) picks
# which of them run.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_deps
benches=" ${BENCHES:-brokerage events factories catalog} "
runs() { [[ $benches == *" $1 "* ]]; }
functions=(create-account place-order get-account list-orders)
events_functions=(create-event get-event delete-event report aggregate-events)
log "release build (host) of the functions and the drivers"
cargo build --release --bins $(printf -- '-p %s ' "${functions[@]}" "${events_functions[@]}") -p graphql -p api-tests
log "dev build (make run's) of the functions"
cargo build --profile local --bins $(printf -- '-p %s ' "${functions[@]}")
zips=$RUN/zips.txt
: >"$zips"
if ! runs brokerage && ! runs catalog; then
  :
elif arm64_target; then
  log "arm64 zips (cargo lambda build --release --arm64 --output-format zip)"
  if runs brokerage; then
    cargo lambda build --release --arm64 --output-format zip $(printf -- '--bin %s ' "${functions[@]}") >/dev/null
    for f in "${functions[@]}"; do
      echo "$f $(stat -c %s "target/lambda/$f/bootstrap.zip")" >>"$zips"
    done
  fi
  if runs catalog; then
    cargo lambda build --release --arm64 --output-format zip --bin graphql >/dev/null
  fi
else
  log "SKIPPED the zipped sizes: the aarch64-unknown-linux-gnu standard library cannot be installed here"
fi
trap 'stop_all' EXIT
trap 'exit 130' INT TERM
stop_all
export API_RELEASE=1 API_CONCURRENCY=${CLIENTS:-8} NO_POLLER=1
unlimited_api
start_local_api bench
# make run's API, the dev build, on the same stack: measured beside the release one.
dev_port=$(free_port)
API_RELEASE= PROFILE=local start_api "$dev_port" dev-api
export DEV_API_URL=http://127.0.0.1:$dev_port
if runs brokerage; then
  log "benchmark against $API_URL (release) and $DEV_API_URL (dev)"
  "$ROOT/target/release/brokerage-bench" "${ORDERS:-2000}" "${CLIENTS:-8}" "$ROOT/target/release" "$zips"
fi
if runs events; then
  log "events benchmark against $API_URL (release)"
  "$ROOT/target/release/events-bench" "${EVENTS:-100000}" "${CLIENTS:-8}"
fi
if runs factories; then
  log "factories benchmark (its handlers in process, release) on the same stack"
  "$ROOT/target/release/factories-bench" "${FACTORIES_RUNS:-500}"
fi
if runs catalog; then
  log "catalog benchmark (its handler in process, release, the fake upstreams) on the same stack"
  "$ROOT/target/release/catalog-bench" "${CATALOG_QUERIES:-500}" "${CLIENTS:-8}"
fi
