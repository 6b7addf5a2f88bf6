#!/usr/bin/env bash
# Conformance of the kql target with real tools. Needs only node/npm and
# python3 (and cargo for tripline itself); installs pinned tools under
# target/conformance/.
#  1. Microsoft's Kusto language service (@kusto/language-service-next,
#     pinned by tests/conformance/kql/package-lock.json) analyzes every
#     generated query (matrix, rules/, the rules on taxonomy 1.1's sources
#     in tests/fixtures/sources, and the native mapping) against the
#     ASIM schema: no syntax errors, unknown columns or unknown functions.
#  2. duckdb-kql runs each matrix rule's query over its test events loaded as
#     an ASIM table and compares the result with the tests' expectations
#     (the evaluator's verdict). Constructs it cannot run are reported as
#     gaps (docs/targets/kql.md).
#  3. generated.py: random rules and events from an adversarial alphabet,
#     each query's rows compared with `tripline eval` (TRIPLINE_KQL_SEEDS
#     seeds of 40 rules per source; refused rules are counted, not run),
#     and generated `first seen` rules over events with ties, compared as
#     (instant, combination) with the evaluator's alerts.
# (Length against sigma-cli's Kusto backend: .ci/query-length.sh.)
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

conformance=target/conformance
kusto=$conformance/kusto
venv=$conformance/kql-venv
out=$conformance/kql-out
here=tests/conformance/kql
step() { printf '\n== %s\n' "$*"; }

step "install the Kusto language service"
mkdir -p "$kusto"
cp "$here/package.json" "$here/package-lock.json" "$kusto/"
(cd "$kusto" && npm ci --silent --no-audit --no-fund)

step "install duckdb-kql"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

step "build the queries"
cargo build --quiet
bin=target/debug/tripline
rm -rf "$out"
# Version 1's matrix builds whole (no refusal); version 2's writes what
# KQL has (`cased ==`, `len()`) and refuses the rest by name.
"$bin" build tests/fixtures/matrix/matrix.trip --target kql --out "$out/matrix"
"$bin" build tests/fixtures/matrix/matrix_v2.trip --target kql --skip-refused --out "$out/matrix-v2" 2>/dev/null
"$bin" build tests/fixtures/matrix --target kql --mapping native --skip-refused --out "$out/native" 2>/dev/null
"$bin" build tests/fixtures/sources --target kql --skip-refused --out "$out/sources" 2>/dev/null
"$bin" build "$here/first_seen.trip" --target kql --out "$out/first-seen"
"$bin" build tests/fixtures/sources --target kql --mapping native --skip-refused --out "$out/sources-native" 2>/dev/null
queries=("$out"/matrix/kql/queries/*.kql "$out"/matrix-v2/kql/queries/*.kql "$out"/native/kql/queries/*.kql
  "$out"/sources/kql/queries/*.kql "$out"/sources-native/kql/queries/*.kql "$out"/first-seen/kql/queries/*.kql)
if [ -d rules ] && [ -n "$(find rules -name "*.trip" | head -1)" ]; then
  "$bin" build rules --target kql --skip-refused --out "$out/rules"
  if compgen -G "$out/rules/kql/queries/*.kql" > /dev/null; then
    queries+=("$out"/rules/kql/queries/*.kql)
  fi
fi

step "analyze with the Kusto language service"
KUSTO_MODULES="$kusto/node_modules" node "$here/analyze.js" \
  targets/kql/schema/asim.txt,targets/kql/schema/native.txt "${queries[@]}"

step "differential run with duckdb-kql"
cases=$conformance/kql-cases.json
TRIPLINE_KQL_CASES="$PWD/$cases" cargo test --quiet --test integration \
  kql::export_conformance_cases -- --exact > /dev/null
"$venv/bin/python" "$here/differential.py" "$cases" targets/kql/schema/asim.txt

step "generated differential cases (duckdb-kql vs tripline eval)"
"$venv/bin/python" "$here/generated.py" "$bin" targets/kql/schema/asim.txt "${TRIPLINE_KQL_SEEDS:-10}" 40

