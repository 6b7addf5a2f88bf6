#!/usr/bin/env bash
# Conformance of the splunk target with Splunk's own tools: builds the app
# from the bundled pack (rules/), from the rules on taxonomy 1.1's sources
# (tests/fixtures/sources) and from the construct matrix with the
# release binary, under both mappings (default: tstats on CIM data models;
# raw: raw searches only), parses every generated .conf with Splunk's conf
# parser (every expected key, search = queries/NAME.spl joined on one line,
# the macros, fields.conf), packages each app as .tgz and runs
# `splunk-appinspect inspect --mode test`, which must report no failures and
# no errors; then the SPL reading's unit tests and the differential of
# generated rules and events, run by the reading, against `tripline eval`
# (tests/conformance/splunk/differential.py). Runs from the repo root on a fresh
# machine (Python 3 and PyPI needed); exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

work=target/conformance/splunk
venv=target/conformance/splunk-venv
app_id=tripline

step() { printf '\n== %s\n' "$*"; }

step "python tools in $venv"
if [ ! -x "$venv/bin/splunk-appinspect" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    'splunk-appinspect==4.3.1' 'addonfactory-splunk-conf-parser-lib==1.0.0'
fi

step "release build"
cargo build --release --locked
bin=target/release/tripline

rm -rf "$work"
mkdir -p "$work"
inputs=("matrix:tests/fixtures/matrix/matrix.trip" "matrix_v2:tests/fixtures/matrix/matrix_v2.trip"
        "sources:tests/fixtures/sources")
if [ -d rules ] && [ -n "$(find rules -name '*.trip' -print -quit)" ]; then
  inputs+=("pack:rules")
fi

status=0
for mapping in default raw; do
for input in "${inputs[@]}"; do
  name=${input%%:*}-$mapping
  path=${input#*:}
  out="$work/$name"
  step "$name: tripline build $path --target splunk --mapping $mapping"
  # Refused rules (reported as warnings) are left out of the app.
  "$bin" build "$path" --target splunk --mapping "$mapping" --out "$out" --skip-refused

  step "$name: conf parser"
  "$venv/bin/python" tests/conformance/splunk/check_conf.py "$out/splunk" "$app_id" "$mapping" || status=1

  step "$name: splunk-appinspect"
  tar -C "$out/splunk" -czf "$out/$app_id.tgz" "$app_id"
  "$venv/bin/splunk-appinspect" inspect "$out/$app_id.tgz" --mode test \
    --output-file "$out/appinspect.json" --data-format json > "$out/appinspect.log" 2>&1 || true
  if [ ! -s "$out/appinspect.json" ]; then
    cat "$out/appinspect.log"
    status=1
  else
    "$venv/bin/python" tests/conformance/splunk/check_appinspect.py "$out/appinspect.json" || status=1
  fi
done
done

step "SPL reading: unit tests"
python3 -m unittest discover -s tests/conformance/splunk -p 'test_spl_reading.py' || status=1

# Generated adversarial rules and events: every query run by the SPL reading
# (docs/targets/splunk-reading.md) and compared with `tripline eval`. Fixed
# seeds; stdlib only; well under two minutes for both mappings.
for mapping in default raw; do
  step "differential ($mapping): SPL reading vs tripline eval"
  python3 tests/conformance/splunk/differential.py --tripline "$bin" --mapping "$mapping" \
    --seed 0 --seeds 2 --rules 30 --events 60 || status=1
done

if [ "$status" -ne 0 ]; then
  step "splunk conformance FAILED"
else
  step "splunk conformance passed"
fi
exit "$status"
