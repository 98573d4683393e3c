#!/usr/bin/env bash
# make sam-build: `sam build` of every function (cargo lambda, arm64, release), then the
# zipped size of each, as Lambda would receive it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_deps
mkdir -p "$RUN"
if ! arm64_target; then
  log "SKIPPED sam build: the aarch64-unknown-linux-gnu standard library cannot be installed here"
  exit 0
fi
sam build --region us-east-1
for dir in .aws-sam/build/*Function; do
  (cd "$dir" && rm -f "$RUN/bootstrap.zip" && zip -q -9 "$RUN/bootstrap.zip" bootstrap)
  printf '%-24s %9d bytes zipped\n' "$(basename "$dir")" "$(stat -c %s "$RUN/bootstrap.zip")"
done
rm -f "$RUN/bootstrap.zip"
