#!/usr/bin/env bash
# Conformance of the Sigma target with the real tools: builds the Sigma of
# the pack (rules/) and of the construct matrix with the release binary,
# then runs pySigma on it: `sigma check` (0 errors, 0 condition errors),
# `sigma convert` to Splunk and Kusto (Kusto: base rules only, it has no
# correlations), and the SQLite backend on the matrix's and pack's test
# events, compared with each test's `expect match` / `expect nomatch`, and
# on generated adversarial rules and events, compared with `tripline eval`.
# Run from anywhere; needs python3 with venv and pip, and PyPI access the
# first time. Exits non-zero on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
out=target/conformance/sigma
status=0
fail() { echo "FAIL: $*" >&2; status=1; }

# shellcheck source=.ci/sigma-venv.sh
source .ci/sigma-venv.sh

echo "== building the Sigma of the matrix and the pack"
cargo build --release --quiet
rm -rf "$out"
mkdir -p "$out"
sets=(matrix)
target/release/tripline build tests/fixtures/matrix/matrix.trip --target sigma \
    --skip-refused --out "$out/matrix" 2> "$out/matrix-refusals.txt" \
    || fail "tripline build of the matrix"
grep -E '^warning\[E07' "$out/matrix-refusals.txt" || true
# The rules on taxonomy 1.1's sources: their log sources and field names
# through `sigma check` and the conversions (no SQLite cases).
sets+=(matrix_v2)
target/release/tripline build tests/fixtures/matrix/matrix_v2.trip --target sigma \
    --skip-refused --out "$out/matrix_v2" 2> "$out/matrix_v2-refusals.txt" \
    || fail "tripline build of the version 2 matrix"
grep -E '^warning\[E07' "$out/matrix_v2-refusals.txt" || true
sets+=(sources)
target/release/tripline build tests/fixtures/sources --target sigma \
    --skip-refused --out "$out/sources" 2> "$out/sources-refusals.txt" \
    || fail "tripline build of tests/fixtures/sources"
if [ -d rules ] && [ -n "$(find rules -name '*.trip' -print -quit)" ]; then
    sets+=(pack)
    target/release/tripline build rules --target sigma --skip-refused \
        --out "$out/pack" 2> "$out/pack-refusals.txt" || fail "tripline build of rules/"
    grep -E '^warning\[E07' "$out/pack-refusals.txt" || true
fi

for set in "${sets[@]}"; do
    dir="$out/$set/sigma"
    if [ -z "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "== $set: no Sigma rules"
        continue
    fi
    echo "== sigma check ($set)"
    "$venv/bin/sigma" check --exclude d3_fendtag "$dir" > "$out/$set-check.txt" 2>&1 || true
    summary="$(grep -E '^Found [0-9]+ errors, [0-9]+ condition errors' "$out/$set-check.txt" || true)"
    echo "${summary:-no summary}"
    case "$summary" in
        "Found 0 errors, 0 condition errors"*) ;;
        *) fail "sigma check ($set), see $out/$set-check.txt"; cat "$out/$set-check.txt" >&2 ;;
    esac

    if [ "$set" = matrix_v2 ]; then
        # Its rules are `|cased`, which pySigma's Splunk and Kusto backends
        # reject with an error ("Case-sensitive string matching is not
        # supported by backend"): converted with the SQLite backend only.
        echo "== sigma convert -t sqlite ($set)"
        "$venv/bin/sigma" convert -t sqlite --without-pipeline "$dir" \
            > "$out/$set.sql" 2> "$out/$set-sqlite.err" \
            || { fail "sqlite conversion ($set)"; cat "$out/$set-sqlite.err" >&2; }
        "$venv/bin/sigma" convert -t splunk --without-pipeline "$dir/cased_equals.yml" \
            > /dev/null 2> "$out/$set-splunk.err" \
            && fail "the splunk backend now converts |cased: update docs/targets/sigma.md"
        continue
    fi
    echo "== sigma convert -t splunk ($set)"
    "$venv/bin/sigma" convert -t splunk --without-pipeline "$dir" \
        > "$out/$set.spl" 2> "$out/$set-splunk.err" \
        || { fail "splunk conversion ($set)"; cat "$out/$set-splunk.err" >&2; }

    echo "== sigma convert -t kusto ($set, base rules)"
    base="$out/$set/kusto-input"
    mkdir -p "$base"
    for file in "$dir"/*.yml; do
        # A threshold rule's file: the detection is the first document.
        awk '/^---$/ { exit } { print }' "$file" > "$base/$(basename "$file")"
    done
    "$venv/bin/sigma" convert -t kusto --without-pipeline "$base" \
        > "$out/$set.kql" 2> "$out/$set-kusto.err" \
        || { fail "kusto conversion ($set)"; cat "$out/$set-kusto.err" >&2; }
done

echo "== SQLite on the test events"
TRIPLINE_SIGMA_CASES="$root/$out/cases.json" cargo test --quiet \
    --test integration sigma::conformance_cases > "$out/cases.log" 2>&1 \
    || { fail "exporting the test cases"; cat "$out/cases.log" >&2; }
args=()
# The version 2 matrix's tests are not exported as cases (checked and
# converted above; its `cased` rules are compared in the adversarial run).
for set in "${sets[@]}"; do
    [ "$set" = matrix_v2 ] || args+=("$set=$out/$set/sigma")
done
"$venv/bin/python" tests/conformance/sigma/sqlite_check.py --cases "$out/cases.json" \
    --mapping targets/sigma/mappings/default.yaml --taxonomy targets/taxonomy.yaml \
    "${args[@]}" || fail "SQLite verdicts differ from the tests' expectations"

echo "== SQLite on generated adversarial rules and events"
for seed in 1 2 3; do
    "$venv/bin/python" tests/conformance/sigma/adversarial.py --tripline target/release/tripline \
        --out "$out/adversarial-$seed" --seed "$seed" \
        || fail "adversarial rules (seed $seed) differ from tripline eval"
done

if [ "$status" -eq 0 ]; then echo "sigma conformance: ok"; else echo "sigma conformance: FAILED" >&2; fi
exit "$status"
