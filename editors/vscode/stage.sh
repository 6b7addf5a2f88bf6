#!/usr/bin/env bash
# Copies the extension to target/vscode/extension and installs its pinned
# npm packages there (package-lock.json), never in the source folder.
# Prints the staging folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
stage="$root/target/vscode/extension"
rm -rf "$stage"
mkdir -p "$stage"
cp -R "$here/package.json" "$here/package-lock.json" "$here/extension.js" \
    "$here/language-configuration.json" "$here/README.md" "$here/.vscodeignore" \
    "$here/syntaxes" "$stage/"
cp "$root/LICENSE-MIT" "$root/LICENSE-APACHE" "$stage/"
(cd "$stage" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
echo "$stage"
