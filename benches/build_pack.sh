#!/usr/bin/env bash
# Build time of a 3,000-rule pack: copies the bundled pack (rules/, 24 rules
# and lists.trip) 125 times into target/bench-pack/pack/cNNN/, each copy
# with renamed rules (NAME_cNNN), fresh ids (the first 8 hex digits of each
# id replaced by the copy number: unique and deterministic), its own lists
# (LIST_cNNN, referenced as @LIST_cNNN) and its fixtures (test blocks read
# them relative to the rule file). Then times the release binary: `tripline
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
rm -rf "$work"
mkdir -p "$work/pack"
lists="$(grep -oE '^list [a-z0-9_]+' rules/lists.trip | cut -d' ' -f2 | paste -sd'|')"
for ((c = 1; c <= copies; c++)); do
    tag="$(printf 'c%03d' "$c")"
    hex="$(printf '%08x' "$c")"
    dest="$work/pack/$tag"
    mkdir -p "$dest"
    cp -r rules/. "$dest/"
    rm -f "$dest/README.md" "$dest/tripline.toml" "$dest/tripline.lock"
    find "$dest" -name '*.trip' -exec sed -i -E \
        -e "s/^(rule|list) ([a-z0-9_]+)/\1 \2_$tag/" \
        -e "s/^(  id \")[0-9a-f]{8}/\1$hex/" \
        -e "s/@($lists)\b/@\1_$tag/g" {} +
done
echo "$(find "$work/pack" -name '*.trip' -exec grep -h '^rule ' {} + | wc -l) rules," \
    "$(find "$work/pack" -name '*.trip' | wc -l) files, $(du -sh "$work/pack" | cut -f1)"

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
