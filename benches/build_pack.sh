#!/usr/bin/env bash
# Build time of a 3,000-rule pack: copies the bundled pack (rules/, 24 rules
# and lists.trip) 125 times into target/bench-pack/pack/cNNN/, renamed and
# varied (benches/make_pack.sh). Then times the release binary: `tripline
# check`, `tripline build --target all --out` (then each target alone) and
# `tripline test`, RUNS times each, and prints min and median wall time,
# min CPU time (user + system) and max RSS.
#
# Run: bash benches/build_pack.sh [COPIES] [RUNS]   (defaults 125 and 5;
# `BENCH_SKIP_TEST=1` skips `tripline test`). Builds the release binary
# first unless TRIPLINE points at one.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
copies="${1:-125}"
runs="${2:-5}"
work=target/bench-pack
if [ -z "${TRIPLINE:-}" ]; then
    cargo build --release --quiet
    TRIPLINE=target/release/tripline
fi

echo "== generating $copies copies of rules/ in $work/pack"
bash benches/make_pack.sh "$work/pack" "$copies"

# One command, RUNS times: min and median wall seconds, min CPU seconds
# (user + system: steadier than wall time on a shared machine), max RSS.
measure() {
    local name="$1"
    shift
    local walls=() cpus=() rss=0 wall user sys kb
    for ((r = 1; r <= runs; r++)); do
        /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" > "$work/${name// /_}.log" 2>&1 \
            || { echo "FAIL: $name (see $work/$name.log)" >&2; tail -n 5 "$work/${name// /_}.log" >&2; exit 1; }
        read -r wall user sys kb < <(tail -n 1 "$work/time.txt")
        walls+=("$wall")
        cpus+=("$(awk "BEGIN { print $user + $sys }")")
        rss=$(( kb > rss ? kb : rss ))
    done
    mapfile -t walls < <(printf '%s\n' "${walls[@]}" | sort -g)
    mapfile -t cpus < <(printf '%s\n' "${cpus[@]}" | sort -g)
    printf '%-24s wall min %5.2f s, median %5.2f s; CPU min %5.2f s; max RSS %4d MB (%d runs)\n' \
        "$name" "${walls[0]}" "${walls[$(( runs / 2 ))]}" "${cpus[0]}" $(( rss / 1024 )) "$runs"
}

echo "== timing $TRIPLINE ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
measure "check" "$TRIPLINE" check "$work/pack"
measure "build --target all" "$TRIPLINE" build "$work/pack" --target all --out "$work/out"
echo "   output: $(find "$work/out" -type f | wc -l) files, $(du -sh "$work/out" | cut -f1)"
for target in sigma splunk kql runbook; do
    measure "build --target $target" "$TRIPLINE" build "$work/pack" --target "$target" --out "$work/out-$target"
done
if [ -z "${BENCH_SKIP_TEST:-}" ]; then
    measure "test" "$TRIPLINE" test "$work/pack"
fi
