#!/usr/bin/env bash
# Hostile-input costs that once grew faster than their input (issue: check
# of 100,000 rules never finished; the Sigma writer took 4.8 s on an `and`
# of 40,000 terms on one field). Generates, under target/bench-hostile/:
#   many/      100,000 rules without tests in 100 files (a W0007 warning
#              each, rendered for people: the path that cloned the file
#              per diagnostic), and
#   wide.trip  one rule whose `where` is an `and` of 40,000 `contains` on
#              one field (40,000 Sigma selections),
# then times the release binary RUNS times each: `check` of the 100,000
# rules (human and JSON output), `build --target all` and `--target sigma`
# of the wide rule. Prints min and median wall time, min CPU time and max
# RSS, as benches/build_pack.sh does.
#
# Run: bash benches/hostile.sh [RUNS]   (default 3; RULES=N and TERMS=N
# change the sizes; TRIPLINE=path times another binary).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
runs="${1:-3}"
rules="${RULES:-100000}"
terms="${TERMS:-40000}"
work=target/bench-hostile
if [ -z "${TRIPLINE:-}" ]; then
    cargo build --release --quiet
    TRIPLINE=target/release/tripline
fi

echo "== generating $rules rules and an and of $terms terms in $work"
rm -rf "$work"
mkdir -p "$work/many"
python3 - "$work" "$rules" "$terms" <<'EOF'
import sys
work, rules, terms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
per_file = 1000
for start in range(0, rules, per_file):
    with open(f"{work}/many/rules_{start // per_file:03d}.trip", "w") as out:
        for n in range(start, min(start + per_file, rules)):
            out.write(
                f'rule many_{n:06d} {{\n'
                f'  title "Generated rule {n}"\n'
                f'  id "00000000-0000-4000-8000-{n:012d}"\n'
                f'  level low\n  attack T1590\n'
                f'  description "One of many rules without tests."\n'
                f'  from dns\n'
                f'  where dns.question.name == "host{n}.example" and dns.question.type in ["AXFR", "IXFR"]\n'
                f'}}\n\n'
            )
where = " and ".join(f'dns.question.name contains "part{i}"' for i in range(terms))
with open(f"{work}/wide.trip", "w") as out:
    out.write(
        'rule wide_and {\n  title "An and of many predicates on one field"\n'
        '  id "00000000-0000-4000-8000-0000000000aa"\n  level low\n  attack T1590\n'
        '  description "One Sigma selection per predicate."\n  from dns\n'
        f'  where {where}\n}}\n'
    )
EOF
echo "$(find "$work/many" -name '*.trip' | wc -l) files, $(du -sh "$work/many" | cut -f1);" \
    "wide.trip $(du -h "$work/wide.trip" | cut -f1)"

# One command, RUNS times; exit status 0 or 1 (warnings or refusals) is a
# run, anything else a failure.
measure() {
    local name="$1"
    shift
    local walls=() cpus=() rss=0 wall user sys kb status
    for ((r = 1; r <= runs; r++)); do
        status=0
        /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" > "$work/${name// /_}.log" 2>&1 || status=$?
        if [ "$status" -gt 1 ]; then
            echo "FAIL: $name (exit $status, see $work/${name// /_}.log)" >&2
            tail -n 5 "$work/${name// /_}.log" >&2
            exit 1
        fi
        read -r wall user sys kb < <(tail -n 1 "$work/time.txt")
        walls+=("$wall")
        cpus+=("$(awk "BEGIN { print $user + $sys }")")
        rss=$(( kb > rss ? kb : rss ))
    done
    mapfile -t walls < <(printf '%s\n' "${walls[@]}" | sort -g)
    mapfile -t cpus < <(printf '%s\n' "${cpus[@]}" | sort -g)
    printf '%-34s wall min %6.2f s, median %6.2f s; CPU min %6.2f s; max RSS %5d MB (%d runs)\n' \
        "$name" "${walls[0]}" "${walls[$(( runs / 2 ))]}" "${cpus[0]}" $(( rss / 1024 )) "$runs"
}

echo "== timing $TRIPLINE ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
measure "check $rules rules" "$TRIPLINE" check "$work/many"
grep -E '^[0-9]+ errors?, [0-9]+ warnings?' "$work/check_${rules}_rules.log" || true
measure "check $rules rules --format json" "$TRIPLINE" check --format json "$work/many"
measure "build $terms terms --target all" "$TRIPLINE" build "$work/wide.trip" --target all --out "$work/out"
measure "build $terms terms --target sigma" "$TRIPLINE" build "$work/wide.trip" --target sigma --out "$work/out-sigma"
