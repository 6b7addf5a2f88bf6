#!/usr/bin/env bash
# Scheduled-runs simulation (docs/schedule.md): every alert exactly once on a
# real schedule, late events included. Builds the release binary, installs
# duckdb-kql (pinned) under target/conformance/, and runs
# tests/conformance/schedule/simulate.py over the bundled pack and a
# generated pack: Sentinel runs on duckdb-kql, Splunk runs on the SPL reading
# (tests/conformance/splunk/spl_reading.py). Exits non-zero when any alert is
# missed, duplicated or spurious. Extra arguments go to simulate.py
# (e.g. --report-only, --hours 2, --only RULE -v).
set -euo pipefail
cd "$(dirname "$0")/.."

conformance=target/conformance
venv=$conformance/schedule-venv
here=tests/conformance/schedule
step() { printf '\n== %s\n' "$*"; }

step "install duckdb-kql and PyYAML"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

step "build tripline"
cargo build --release --locked --quiet

step "scheduled-runs simulation"
"$venv/bin/python" "$here/simulate.py" --tripline target/release/tripline \
  --json "$conformance/schedule-report.json" "$@"
