#!/usr/bin/env bash
# make lint: formatting, clippy with warnings as errors, and the SAM template.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
if ! command -v cfn-lint >/dev/null || ! cfn-lint --version >/dev/null 2>&1; then
  log "installing cfn-lint (PyPI) into .tools/venv"
  [ -x "$TOOLS/venv/bin/pip" ] || python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q cfn-lint
fi
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cfn-lint template.yaml
log "lint clean"
