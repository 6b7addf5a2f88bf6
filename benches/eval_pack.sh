#!/usr/bin/env bash
# `tripline eval` with a 3,000-rule pack (benches/make_pack.sh: the bundled
# pack copied 125 times, renamed and varied) on N ECS events (default
# 100,000; the generator of benches/sql.sh: the six sources mixed and routed
# by `event.dataset`, 50 events a second in time order), pinned to one core
# (`taskset -c 0`) unless EVAL_ARGS asks for threads. Prints wall and CPU
# time, events/s, peak RSS and the number of output lines; then the same
# without the pack's loading (a run on no events, subtracted), which is
# the rate a long stream sees.
#
# Run: bash benches/eval_pack.sh [N] [COPIES]
#   TRIPLINE=path   time another binary (before/after on the same files)
#   EVAL_ARGS=...   extra `eval` arguments, e.g. "--threads 2"
#   CORES=0,1       the cores to pin to (default 0)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
n="${1:-100000}"
copies="${2:-125}"
work=target/bench-eval-pack
mkdir -p "$work"
if [ -z "${TRIPLINE:-}" ]; then
    cargo build --release --quiet
    TRIPLINE=target/release/tripline
fi
if [ ! -f "$work/pack-$copies.done" ]; then
    bash benches/make_pack.sh "$work/pack-$copies" "$copies"
    touch "$work/pack-$copies.done"
fi
events="$work/events-$n.jsonl"
if [ ! -f "$events" ] || [ "$(wc -l < "$events")" -ne "$n" ]; then
    python3 benches/sql_bench.py events "$n" "$events.tmp" && mv "$events.tmp" "$events"
fi
echo "== $TRIPLINE eval ${EVAL_ARGS:-}: $copies copies, $n events ($(du -m "$events" | cut -f1) MB);" \
    "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
/usr/bin/time -f '%e %U %S %M' -o "$work/time-load.txt" \
    taskset -c "${CORES:-0}" "$TRIPLINE" eval --rules "$work/pack-$copies" ${EVAL_ARGS:-} /dev/null \
    > /dev/null 2> "$work/err.txt" || { tail -n 5 "$work/err.txt" >&2; exit 1; }
read -r load_wall load_user load_sys _ < <(tail -n 1 "$work/time-load.txt")
# shellcheck disable=SC2086
/usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" \
    taskset -c "${CORES:-0}" "$TRIPLINE" eval --rules "$work/pack-$copies" ${EVAL_ARGS:-} "$events" \
    > "$work/out.jsonl" 2> "$work/err.txt" || { tail -n 5 "$work/err.txt" >&2; exit 1; }
read -r wall user sys kb < <(tail -n 1 "$work/time.txt")
awk -v n="$n" -v w="$wall" -v u="$user" -v s="$sys" -v kb="$kb" -v lines="$(wc -l < "$work/out.jsonl")" \
    -v lw="$load_wall" -v lc="$(awk -v u="$load_user" -v s="$load_sys" 'BEGIN { print u + s }')" \
    'BEGIN { printf "wall %.2f s, CPU %.2f s, %.0f events/s (wall), peak RSS %d MB, %d output lines\n", w, u + s, n / w, kb / 1024, lines;
             c = u + s - lc; if (c < 0.001) c = 0.001;
             printf "loading the pack: wall %.2f s, CPU %.2f s; events alone: CPU %.2f s, %.0f events/s (CPU)\n", lw, lc, c, n / c }'
sha256sum "$work/out.jsonl" | cut -c1-16
