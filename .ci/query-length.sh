#!/usr/bin/env bash
# Length of tripline's Splunk and KQL queries against what sigma-cli writes
# from tripline's own Sigma file, plus the shape checks of the pack's
# queries (no needless regex, tstats or index-bounded searches, no
# streamstats or mvexpand): see tests/conformance/query_length.py.
# Builds the pack (rules/) to target/query-length/pack, and a copy with the
# `threshold` lines removed to target/query-length/base (KQL of the base
# detection, which is what sigma-cli's Kusto backend converts), then runs
# `sigma convert` on each rule's Sigma file (Splunk: the whole file, so the
# correlation; Kusto: its first document, the base rule).
# Run: bash .ci/query-length.sh [--report-only]   (exits non-zero when a
# limit is broken, unless --report-only). Needs what conformance-sigma.sh
# needs (python3 with venv, PyPI access the first time).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=target/query-length
# shellcheck source=.ci/sigma-venv.sh
source .ci/sigma-venv.sh

echo "== building the pack"
cargo build --release --quiet
rm -rf "$out"
mkdir -p "$out/sigma-cli/splunk" "$out/sigma-cli/kusto"
target/release/tripline build rules --target sigma,splunk,kql --skip-refused --out "$out/pack"

echo "== building the base detections (threshold removed) for KQL"
cp -r rules "$out/base-rules"
# Without its threshold a rule may not `expect alert`: those become matches.
find "$out/base-rules" -name '*.trip' -exec sed -i -E \
    -e '/^\s*threshold\s/d' -e 's/^(\s*)expect alert\b.*/\1expect match/' {} +
target/release/tripline build "$out/base-rules" --target kql --skip-refused --no-test --out "$out/base"

echo "== sigma convert, one rule at a time"
for file in "$out/pack/sigma"/*.yml; do
    name="$(basename "$file" .yml)"
    "$venv/bin/sigma" convert -t splunk --without-pipeline "$file" \
        > "$out/sigma-cli/splunk/$name.spl" 2> "$out/sigma-cli/splunk/$name.err" || true
    # A threshold rule's file: the detection is the first document.
    awk '/^---$/ { exit } { print }' "$file" > "$out/sigma-cli/kusto/$name.yml"
    "$venv/bin/sigma" convert -t kusto --without-pipeline "$out/sigma-cli/kusto/$name.yml" \
        > "$out/sigma-cli/kusto/$name.kql" 2> "$out/sigma-cli/kusto/$name.err" || true
done

"$venv/bin/python" tests/conformance/query_length.py --pack "$out/pack" --base "$out/base" \
    --sigma-cli "$out/sigma-cli" "$@"
