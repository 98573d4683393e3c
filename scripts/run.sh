#!/usr/bin/env bash
# make run: install what is missing, start DynamoDB Local and redis-server, create the table,
# build, and serve every route on http://127.0.0.1:${PORT:-9000} until Ctrl-C.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
port=${PORT:-9000}
ensure_deps
log "building"
export PROFILE=local
cargo build --workspace --bins --profile "$PROFILE"
stop_all
trap 'stop_all; log "stopped"' EXIT
trap 'exit 130' INT TERM
start_stack
create_tables
start_upstreams
start_api "$port"
start_poller
# The factories fixtures, so that the sprockets and charts answer right away (a re-run
# of `make seed` reports every entry unchanged).
python3 scripts/seed-factories.py --url "http://127.0.0.1:$port" >"$RUN/seed.log" 2>&1 \
  || log "the factories fixtures were not loaded; see $RUN/seed.log"
cat <<TXT

Brokerage, events, factories and catalog APIs on http://127.0.0.1:$port  (Ctrl-C or 'make stop' stops everything)

  curl -s -X POST http://127.0.0.1:$port/accounts -H 'x-api-key: local-dev-key' -d '{"cash": 1000}'
  curl -s -X POST http://127.0.0.1:$port/accounts/1/orders -H 'x-api-key: local-dev-key' \\
       -d '{"timestamp": 1571325625, "operation": "BUY", "issuer_name": "AAPL", "total_shares": 2, "share_price": 50}'
  curl -s http://127.0.0.1:$port/accounts/1 -H 'x-api-key: local-dev-key'
  curl -s http://127.0.0.1:$port/accounts/1/orders -H 'x-api-key: local-dev-key'
  curl -s -X POST http://127.0.0.1:$port/event -H 'x-api-key: local-dev-key' \\
       -d '{"client": 731, "client_group": 14, "timestamp": "2026-03-10T08:15:00Z", "valid": true, "value": 42.17}'
  curl -s 'http://127.0.0.1:$port/report?group_by=date+device_type' -H 'x-api-key: local-dev-key'
  make seed-events    # a realistic sample of 2,000 events, for a non-empty report
  curl -s http://127.0.0.1:$port/sprockets -H 'x-api-key: local-dev-key'
  curl -s 'http://127.0.0.1:$port/factories/1/chart-data?bucket=300' -H 'x-api-key: local-dev-key'
  curl -s http://127.0.0.1:$port/api/factory/1/ -H 'x-api-key: local-dev-key'
  make seed           # the factories fixtures again: every entry unchanged
  curl -s http://127.0.0.1:$port/graphql -H 'x-api-key: local-dev-key' -H 'content-type: application/json' \\
       -d '{"query": "{ user(id: 1) { name carts { id total } } products(category: \\"jewelry\\") { totalCount } }"}'

Logs: .run/api.log, .run/poller.log, .run/upstreams.log, .run/dynamodb.log, .run/redis.log
TXT
wait "$(cat "$RUN/api.pid")"
