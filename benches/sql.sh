#!/usr/bin/env bash
# The bundled pack (rules/) on N ECS events, three ways, on the same file:
# `tripline eval --rules rules/` (release build), DuckDB running the pack's
# generated run.sql, and Spark local mode (spark-submit --master local[*])
# running its generated job.py. Reports wall time, CPU time, events/s and
# peak RSS (/usr/bin/time) of each, and the matches and alerts of each per
# rule against `tripline eval`'s (exit 1 if any count differs).
#
#   bash benches/sql.sh [N]       (default 1000000; `nice -n 19` on a shared machine)
#
# Events: N JSON Lines written by the generator of
# tests/conformance/sql/bench.py (seed 1: the six sources of the pack mixed,
# routed by event.dataset, a quarter of the addresses IPv6 or IPv4-mapped,
# 50 events a second in time order), kept as target/bench-sql/events-N.jsonl.
# Installs the pinned duckdb and pyspark of tests/conformance/sql/requirements.txt
# in the venv .ci/conformance-sql.sh uses (target/conformance/sql-venv);
# Spark needs a Java 17+ runtime. SQL_BENCH_ENGINES=duckdb skips Spark.
# Not part of .ci/run: a benchmark, with no timing assertion.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
n=${1:-1000000}
engines=${SQL_BENCH_ENGINES:-duckdb,spark}
venv=target/conformance/sql-venv
work=$root/target/bench-sql
step() { printf '\n== %s\n' "$*"; }

step "install duckdb and pyspark (pinned)"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/conformance/sql/requirements.txt
py=$root/$venv/bin/python

step "build tripline (release) and the pack for --target sql"
cargo build --release --quiet
bin=$root/target/release/tripline
mkdir -p "$work"
rm -rf "$work/out" "$work/duckdb" "$work/spark" "$work/eval.jsonl"
"$bin" build rules --target sql --out "$work/out" > "$work/build.log" 2>&1 \
  || { cat "$work/build.log"; exit 1; }
echo "$(jq -r length "$work/out/sql/spark/rules.json" 2>/dev/null || grep -c '"name"' "$work/out/sql/spark/rules.json") rules"

events=$work/events-$n.jsonl
step "events: $n in $events"
if [ ! -f "$events" ] || [ "$(wc -l < "$events")" -ne "$n" ]; then
  "$py" benches/sql_bench.py events "$n" "$events.tmp" && mv "$events.tmp" "$events"
fi
echo "$(du -m "$events" | cut -f1) MB"

# One run of a command: wall, CPU (user + system), events/s and peak RSS
# (the largest of the process and its children, as /usr/bin/time reports it).
measure() {
  local name=$1 log=$2
  shift 2
  /usr/bin/time -f '%e %U %S %M' -o "$work/time-$name.txt" "$@" > "$log" 2>&1 \
    || { echo "FAIL: $name (see $log)" >&2; tail -n 20 "$log" >&2; exit 1; }
  local wall user sys kb
  read -r wall user sys kb < <(tail -n 1 "$work/time-$name.txt")
  awk -v name="$name" -v n="$n" -v wall="$wall" -v user="$user" -v sys="$sys" -v kb="$kb" 'BEGIN {
    printf "%-14s wall %8.2f s  CPU %8.2f s  %10.0f events/s  peak RSS %6.0f MB\n",
      name, wall, user + sys, n / wall, kb / 1024 }' | tee -a "$work/summary.txt"
}

step "timing ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
: > "$work/summary.txt"
measure "tripline-eval" "$work/eval.log" \
  sh -c '"$1" eval --rules rules "$2" > "$3"' sh "$bin" "$events" "$work/eval.jsonl"

if [[ $engines == *duckdb* ]]; then
  mkdir -p "$work/duckdb"
  "$py" benches/sql_bench.py view duckdb "$work/out/sql/duckdb/events.sql" "$events" "$work/duckdb/events.sql"
  measure "duckdb" "$work/duckdb.log" \
    "$py" benches/sql_bench.py duckdb "$work/duckdb/events.sql" "$work/out/sql/duckdb/run.sql" "$work/duckdb"
fi

if [[ $engines == *spark* ]]; then
  mkdir -p "$work/spark"
  "$py" benches/sql_bench.py view spark "$work/out/sql/spark/events.sql" "$events" "$work/spark/events.sql"
  measure "spark-local" "$work/spark.log" \
    env TZ=UTC PYSPARK_PYTHON="$py" PYSPARK_DRIVER_PYTHON="$py" "$root/$venv/bin/spark-submit" \
      --master 'local[*]' --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false \
      "$work/out/sql/spark/job.py" "$work/spark/alerts" "$work/spark/events.sql"
fi
echo "   (load after: $(cut -d' ' -f1-3 /proc/loadavg))"

step "matches and alerts per rule"
"$py" benches/sql_bench.py count "$work/eval.jsonl" "$work/duckdb/alerts" "$work/spark/alerts"
