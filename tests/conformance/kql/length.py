"""Length of tripline's KQL against what sigma-cli's Kusto backend writes.

For each rule, the query tripline writes (`kql/queries/NAME.kql`) is
compared, without whitespace, with `sigma convert -t kusto` of tripline's
own Sigma file for the rule (`sigma/NAME.yml`). Kusto converts only a
threshold rule's detection (the first document), so two ratios are given:
the full query, and its filter only (the lines before the threshold's
stages, which start at the first `| where` after the condition, `| extend
tl_window`...).

Usage: length.py KQL_DIR SIGMA_DIR SIGMA_BIN
Prints one line per rule and the median and largest ratios; exits 1 when
the filters' median passes 1.5 or one passes 3 times Kusto's. The full
queries' ratios are reported, not checked: Kusto's is the threshold rules'
base rule alone, and a threshold rule's row carries the alert's context
columns, which sigma-cli has no equivalent of. Columns only the alert
shows (entity and context `extend`s no `where` reads) are left out of both.
"""

import pathlib
import re
import statistics
import subprocess
import sys
import tempfile


def squeeze(text):
    return "".join(text.split())


def detection_only(query):
    """The query without the `| extend` lines of columns no `where` reads:
    the alert's entity and context columns (Sentinel's entity mappings and
    custom details), which sigma-cli, writing only the condition, has no
    equivalent of."""
    lines = query.splitlines()
    wheres = "\n".join(line for line in lines if line.lstrip().startswith(("| where", "and ", "or ")))
    kept = []
    for line in lines:
        m = re.match(r"\| extend (\w+) = ", line)
        if m and not re.search(r"\b" + m.group(1) + r"\b", wheres):
            continue
        kept.append(line)
    return "\n".join(kept)


def filter_only(query):
    """The query up to the threshold stages (which begin after the condition)."""
    lines = query.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("| extend tl_window") or (
            i > 0 and line.startswith("| where isnotempty") and "| where " in "\n".join(lines[:i])
        ):
            return "\n".join(lines[:i])
    return query


def sigma_kusto(sigma_bin, path):
    text = path.read_text(encoding="utf-8").split("\n---\n")[0]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        f.write(text)
    out = subprocess.run([sigma_bin, "convert", "-t", "kusto", "--without-pipeline", f.name],
                         capture_output=True, text=True, check=True)
    return out.stdout


def main(kql_dir, sigma_dir, sigma_bin):
    full, filters = [], []
    for query_path in sorted(pathlib.Path(kql_dir, "queries").glob("*.kql")):
        name = query_path.stem
        query = detection_only(query_path.read_text(encoding="utf-8"))
        sigma = squeeze(sigma_kusto(sigma_bin, pathlib.Path(sigma_dir, f"{name}.yml")))
        ratio = len(squeeze(query)) / len(sigma)
        ratio_filter = len(squeeze(filter_only(query))) / len(sigma)
        full.append(ratio)
        filters.append(ratio_filter)
        print(f"{name:50} sigma {len(sigma):5}  kql {len(squeeze(query)):5}  "
              f"full {ratio:4.2f}  filter {ratio_filter:4.2f}")
    for label, ratios in (("full", full), ("filter only", filters)):
        print(f"{label}: median {statistics.median(ratios):.2f}, largest {max(ratios):.2f}")
    return 1 if statistics.median(filters) > 1.5 or max(filters) > 3 else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
