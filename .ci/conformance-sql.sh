#!/usr/bin/env bash
# Conformance of the sql target with the engines themselves. Needs python3
# and, for Spark, a Java 17+ runtime (and cargo for tripline itself);
# installs pinned duckdb and pyspark (tests/conformance/sql/requirements.txt)
# under target/conformance/sql-venv.
#  1. explain.py: every query of the construct matrix and of rules/ plans
#     in DuckDB and in Spark (EXPLAIN over the generated `events` view);
#     DuckDB also runs each pack's run.sql.
#  2. generated.py: random rules and events from an adversarial alphabet,
#     each query executed by the engine over the events (loaded through the
#     generated view) and its matches and alerts compared with
#     `tripline eval`: TRIPLINE_SQL_SEEDS seeds of 40 rules per source on
#     DuckDB (default 10), TRIPLINE_SQL_SPARK_SEEDS on Spark local mode
#     (default 2; one Spark application for all cases). Refused rules are
#     counted, not run.
# TRIPLINE_SQL_ENGINES=duckdb skips Spark. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

conformance=target/conformance
venv=$conformance/sql-venv
out=$conformance/sql-out
here=tests/conformance/sql
root=$PWD
engines=${TRIPLINE_SQL_ENGINES:-duckdb,spark}
step() { printf '\n== %s\n' "$*"; }

step "install duckdb and pyspark"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

step "build the queries"
cargo build --quiet
bin=$PWD/target/debug/tripline
rm -rf "$out"
"$bin" build tests/fixtures/matrix/matrix.trip --target sql --out "$out/matrix"
# Every rule of the version 2 matrix is written (tests/integration/sql.rs
# pins that none is refused) and plans on both engines.
"$bin" build tests/fixtures/matrix/matrix_v2.trip --target sql --out "$out/matrix-v2"
outs=("$PWD/$out/matrix" "$PWD/$out/matrix-v2")
if [ -d rules ] && [ -n "$(find rules -name "*.trip" | head -1)" ]; then
  "$bin" build rules --target sql --out "$out/rules"
  outs+=("$PWD/$out/rules")
fi

status=0
for engine in ${engines//,/ }; do
  step "every query plans in $engine"
  (cd "$here" && "$root/$venv/bin/python" explain.py "$engine" "${outs[@]}") || status=1
  seeds=${TRIPLINE_SQL_SEEDS:-10}
  if [ "$engine" = spark ]; then seeds=${TRIPLINE_SQL_SPARK_SEEDS:-2}; fi
  step "generated differential cases ($engine vs tripline eval)"
  (cd "$here" && "$root/$venv/bin/python" generated.py "$bin" "$engine" "$seeds" 40) || status=1
done
exit $status
