#!/usr/bin/env bash
# Packages the VS Code extension as target/vscode/tripline-VERSION.vsix.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
stage="$("$here/stage.sh")"
cd "$stage"
version="$(node -p 'require("./package.json").version')"
npx --no-install vsce package --skip-license --allow-missing-repository \
    --out "$root/target/vscode/tripline-$version.vsix"
