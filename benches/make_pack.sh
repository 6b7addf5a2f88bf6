#!/usr/bin/env bash
# Makes a large pack from the bundled one (rules/, 24 rules and lists.trip):
# COPIES copies in DEST/cNNN/, each with renamed rules (NAME_cNNN), fresh ids
# (the first 8 hex digits of each id replaced by the copy number: unique and
# deterministic), its own lists (LIST_cNNN, referenced as @LIST_cNNN) and its
# fixtures (test blocks read them relative to the rule file). Each copy's
# lists are varied: one entry of the copy's own is put first in every list
# (an address of 198.18.0.0/15 in CIDR lists, `tN-cNNN.invalid` in the
# others), so that copies are not identical and no shared matcher can fold
# them into one, while the fixtures' verdicts stay the same.
#
# Run: bash benches/make_pack.sh DEST [COPIES]   (default 125: 3,000 rules)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest_root="$1"
copies="${2:-125}"
rm -rf "$dest_root"
mkdir -p "$dest_root"
lists="$(grep -oE '^list [a-z0-9_]+' "$root/rules/lists.trip" | cut -d' ' -f2 | paste -sd'|')"
for ((c = 1; c <= copies; c++)); do
    tag="$(printf 'c%03d' "$c")"
    hex="$(printf '%08x' "$c")"
    dest="$dest_root/$tag"
    mkdir -p "$dest"
    cp -r "$root/rules/." "$dest/"
    rm -f "$dest/README.md" "$dest/tripline.toml" "$dest/tripline.lock"
    find "$dest" -name '*.trip' -exec sed -i -E \
        -e "s/^(rule|list) ([a-z0-9_]+)/\1 \2_$tag/" \
        -e "s/^(  id \")[0-9a-f]{8}/\1$hex/" \
        -e "s/@($lists)\b/@\1_$tag/g" {} +
    sed -i -E \
        -e "s/^(list [a-z0-9_]+: cidr = \[)/\1\"198.$((18 + c / 256)).$((c % 256)).7\/32\", /" \
        -e "s/^(list [a-z0-9_]+ = \[)/\1\"t$c-$tag.invalid\", /" \
        "$dest/lists.trip"
done
echo "$(find "$dest_root" -name '*.trip' -exec grep -h '^rule ' {} + | wc -l) rules," \
    "$(find "$dest_root" -name '*.trip' | wc -l) files, $(du -sh "$dest_root" | cut -f1)"
