#!/usr/bin/env bash
# make run: install what is missing, start DynamoDB Local and redis-server, create the table,
# build, and serve every route on http://127.0.0.1:${PORT:-9000} until Ctrl-C.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
port=${PORT:-9000}
ensure_deps
log "building"
cargo build --workspace --bins
stop_all
trap 'stop_all; log "stopped"' EXIT
trap 'exit 130' INT TERM
start_stack
create_tables
start_api "$port"
start_poller
cat <<TXT

Brokerage and events APIs on http://127.0.0.1:$port  (Ctrl-C or 'make stop' stops everything)

  curl -s -X POST http://127.0.0.1:$port/accounts -H 'x-api-key: local-dev-key' -d '{"cash": 1000}'
  curl -s -X POST http://127.0.0.1:$port/accounts/1/orders -H 'x-api-key: local-dev-key' \\
       -d '{"timestamp": 1571325625, "operation": "BUY", "issuer_name": "AAPL", "total_shares": 2, "share_price": 50}'
  curl -s http://127.0.0.1:$port/accounts/1 -H 'x-api-key: local-dev-key'
  curl -s http://127.0.0.1:$port/accounts/1/orders -H 'x-api-key: local-dev-key'
  curl -s -X POST http://127.0.0.1:$port/event -H 'x-api-key: local-dev-key' \\
       -d '{"client": 731, "client_group": 14, "timestamp": "2026-03-10T08:15:00Z", "valid": true, "value": 42.17}'
  curl -s 'http://127.0.0.1:$port/report?group_by=date+device_type' -H 'x-api-key: local-dev-key'
  make seed-events    # a realistic sample of 2,000 events, for a non-empty report

Logs: .run/api.log, .run/poller.log, .run/dynamodb.log, .run/redis.log
TXT
wait "$(cat "$RUN/api.pid")"
