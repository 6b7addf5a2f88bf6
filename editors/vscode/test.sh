#!/usr/bin/env bash
# Checks the TextMate grammar against `tripline lsp`'s semantic tokens on
# the pack (rules/) and the construct matrix. Needs the npm registry (for
# the pinned packages) and a built tripline (cargo build).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
stage="$("$here/stage.sh")"
export TRIPLINE="${TRIPLINE:-$root/target/debug/tripline}"
NODE_PATH="$stage/node_modules" node "$here/test/grammar.test.js" \
    "$root/rules" "$root/tests/fixtures/matrix"
