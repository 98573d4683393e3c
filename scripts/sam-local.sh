#!/usr/bin/env bash
# make sam-local: every route of every service through `sam local start-api` on
# http://127.0.0.1:${PORT:-3000} until Ctrl-C: installs docker.io and debootstrap if missing,
# starts dockerd if none runs, builds the stand-in base image once (.tools/sam-base), builds
# the functions (x86_64, the dev build), starts DynamoDB Local and redis-server on Docker's
# bridge, creates the tables, and stops everything it started when it ends.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
port=${PORT:-3000}
ensure_deps
log "building"
cargo build --workspace --bins
stop_all
trap 'stop_sam_containers; stop_all; log "stopped"' EXIT
trap 'exit 130' INT TERM
reason=$(docker_unavailable)
[ -z "$reason" ] || die "sam local needs Docker: $reason"
stand_in_image
sam_local_build
log "starting sam local start-api (a warm container per function)"
start_sam_local "" "$port"
cat <<TXT

Every route through sam local on $SAM_API_URL, ready after $SECONDS s  (Ctrl-C or 'make stop' stops everything)

  curl -s -X POST $SAM_API_URL/accounts -H 'x-api-key: local-dev-key' -d '{"cash": 1000}'

Logs: .run/sam-local.log, .run/dynamodb.log, .run/redis.log
TXT
wait "$(cat "$RUN/sam-local.pid")"
