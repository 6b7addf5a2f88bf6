#!/usr/bin/env bash
# CI: runs each emitter fuzz target (tests/fuzz/fuzz_targets/emit_*.rs) for
# a bounded time, starting from the seed corpus of the hostile-input
# findings (tests/fuzz/corpus/emitters/*.seed). A target that finds an
# output that does not keep rule text as data fails the step; libFuzzer
# leaves the input in tests/fuzz/artifacts/TARGET/.
#   bash .ci/fuzz.sh [SECONDS]   (each target; default 25, FUZZ_SECONDS too)
# Installs cargo-fuzz (pinned) when missing; the stable toolchain builds the
# targets with RUSTC_BOOTSTRAP=1 and no sanitizer, so the run needs no
# nightly toolchain. New inputs go to a scratch folder, never the repo.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-25}}"
cargo_fuzz_version=0.13.1

if ! cargo fuzz --version 2>/dev/null | grep -q " $cargo_fuzz_version"; then
    cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi

export RUSTC_BOOTSTRAP=1
targets=(emit_sigma emit_splunk emit_kql emit_sql emit_runbook)
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
if ! cargo fuzz build --fuzz-dir tests/fuzz -O -s none > "$scratch/build.log" 2>&1; then
    tail -n 30 "$scratch/build.log" >&2
    echo "FAIL: cargo fuzz build" >&2
    exit 1
fi

for target in "${targets[@]}"; do
    mkdir -p "$scratch/$target"
    echo "== $target: ${seconds}s"
    # -max_len: ten texts of a rule; -timeout: one input's build, seconds.
    status=0
    cargo fuzz run --fuzz-dir tests/fuzz -O -s none "$target" \
        "$scratch/$target" tests/fuzz/corpus/emitters -- \
        -max_total_time="$seconds" -max_len=2048 -timeout=20 -print_final_stats=1 \
        > "$scratch/$target.log" 2>&1 || status=$?
    grep -E '^stat::(number_of_executed_units|new_units_added)' "$scratch/$target.log" || true
    if [ "$status" -ne 0 ]; then
        grep -E -A 20 'panicked|SUMMARY|ERROR' "$scratch/$target.log" | head -n 60 >&2 || tail -n 40 "$scratch/$target.log" >&2
        echo "FAIL: $target found an input that breaks the emitters' property (exit $status)" >&2
        exit 1
    fi
done
