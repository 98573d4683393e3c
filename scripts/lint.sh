#!/usr/bin/env bash
# make lint: formatting, clippy with warnings as errors, the SAM template (cfn-lint and
# sam validate --lint, offline with a placeholder region), samconfig.toml against it, and no
# tracked file that .gitignore names (build output belongs to no commit).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_deps
ignored=$(git ls-files -ci --exclude-standard)
[ -z "$ignored" ] || die "tracked files that .gitignore ignores (git rm --cached them):
$ignored"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cfn-lint template.yaml
sam validate --lint --region us-east-1
python scripts/check_samconfig.py
log "lint clean"
