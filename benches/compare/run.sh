#!/usr/bin/env bash
# Compares `tripline eval` with rsigma 0.23 on the same events and the same
# five detections (rules.trip and sigma/*.yml), one core each. Not part of
# CI: it needs `cargo install rsigma@0.23.0 --locked` (about 10 minutes).
#   bash benches/compare/run.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}
here=benches/compare
events=target/compare-events.jsonl
[ -f "$events" ] && [ "$(wc -l < "$events")" -eq "$n" ] || python3 "$here/events.py" "$n" > "$events"
cargo build --release --quiet
size=$(stat -c %s "$events")
measure() { # name, command...
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  taskset -c "${CORES:-0}" "$@" < "$events" > "target/compare-$name.out" 2> /dev/null
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); n=int(sys.argv[3]); b=int(sys.argv[4]); print(f'{sys.argv[5]:10} {s:6.2f} s  {n/s/1e6:5.2f} M events/s  {b/s/1e6:6.0f} MB/s  {sys.argv[6]} output lines')" \
    "$start" "$end" "$n" "$size" "$name" "$(wc -l < "target/compare-$name.out")"
}
measure tripline target/release/tripline eval --threads 1 --rules "$here/rules.trip"
# --threads 2 on two cores against the one-thread run above.
if [ "$(nproc)" -ge 2 ]; then
  CORES=0,1 measure tripline-t2 target/release/tripline eval --threads 2 --rules "$here/rules.trip"
fi
if command -v rsigma > /dev/null; then
  measure rsigma rsigma engine eval -r "$here/sigma" --output-format ndjson
else
  echo "rsigma not installed: cargo install rsigma@0.23.0 --locked"
fi
