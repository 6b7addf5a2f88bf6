#!/usr/bin/env python3
"""Length and shape of the pack's Splunk and KQL queries.

Compares each rule's query with what sigma-cli writes from tripline's own
Sigma file, whitespace removed on both sides:

- SPL: DIR/splunk/queries/NAME.spl against `sigma convert -t splunk` of the
  whole Sigma file; for a threshold rule both are the full search with the
  aggregation (sigma-cli converts the correlation, base search included).
- KQL: the query of the rule built without its `threshold` line (BASE, the
  base detection) against `sigma convert -t kusto` of the file's first
  document (the Kusto backend has no correlations, so it only converts the
  base rule). For rules without a threshold this is the rule's own query;
  the full query's length is shown beside it. A query is read from
  kql/queries/NAME.kql when present, else from the `query` of kql/NAME.yaml.

Limits: ratio median <= 1.5 and max <= 3 (KQL), <= 2 and <= 4 (SPL); no
regex (SPL `match(`, `regex`, `rex`; KQL `matches regex`, `extract(`,
`replace_regex`) in a query whose rule has no `matches` and no glob with
`?`; at least 80 % of the Splunk searches `| tstats` on a data model, the
others index-bounded (`index=`, `index IN` or a CIM `cim_*_indexes` macro,
directly or in a macro's definition in the app's default/macros.conf); no
`streamstats`/`mvexpand`.

Whether a rule uses `matches` or a `?` glob is read from its Sigma file,
not the .trip source: there lists are already expanded (a `?` glob can come
from a list in another file), and tripline writes `matches` as a `|re`
modifier and escapes every literal `*`, `?`, `\\` in a value, so an
unescaped `?` is a glob's. No parsing of descriptions, comments or strings.

Run through .ci/query-length.sh. Stdlib only. Exit 1 when a limit is
broken, unless --report-only.
"""

import argparse
import glob
import os
import re
import statistics
import sys

LIMITS = {"kql": (1.5, 3.0), "spl": (2.0, 4.0)}
TSTATS_SHARE = 0.8
SPL_REGEX = re.compile(r"\bmatch\(|\bregex\s|\brex\s")
KQL_REGEX = re.compile(r"\bmatches\s+regex\b|\bextract(?:_all)?\(|\breplace_regex\(")
SPL_BANNED = re.compile(r"\b(streamstats|mvexpand)\b")
# `index=`, `index IN (...)`, or the CIM add-on's index macro of a data
# model (`cim_Network_Resolution_indexes`), which its setup page defines as
# the indexes that hold that model's data.
INDEX_BOUND = re.compile(r"\bindex\s*(=|in\s*\()|`cim_\w+_indexes`", re.IGNORECASE)
QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"")


def squeeze(text):
    return re.sub(r"\s+", "", text)


def spl_detection_only(spl):
    """The search without what only the alert shows (sigma-cli, writing the
    condition and the count, has no equivalent): the context columns
    (`values(...)`, first and last time, their `mvindex` samples and table
    columns) and the site's filter macro."""
    out = []
    for line in spl.splitlines():
        if re.fullmatch(r"\| `\w+_filter`", line.strip()):
            continue
        line = re.sub(r" values\([^()]*\) AS \w+", "", line)
        line = re.sub(r" (min|max)\((_time|tl_t|tl_l)\) AS (firstTime|lastTime|tl_l)", "", line)
        line = re.sub(r", \w+=mvindex\(mvfilter\(\w+!=\"\"\), 0, 9\)", "", line)
        if line.startswith("| table "):
            line = re.sub(r" (firstTime|lastTime)\b", "", line)
        out.append(line)
    return "\n".join(out)


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


def unquote(token):
    """A YAML quoted scalar as written by tripline (single or double quotes)."""
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    escapes = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v",
               "f": "\f", "r": "\r", "e": "\x1b", "N": "\x85", "_": "\xa0",
               "L": "\u2028", "P": "\u2029"}
    out, body, i = [], token[1:-1], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        width = {"x": 2, "u": 4, "U": 8}.get(e)
        if width:
            out.append(chr(int(body[i + 2:i + 2 + width], 16)))
            i += 2 + width
        else:
            out.append(escapes.get(e, e))
            i += 2
    return "".join(out)


def unescaped_question_mark(value):
    backslashes = 0
    for c in value:
        if c == "?" and backslashes % 2 == 0:
            return True
        backslashes = backslashes + 1 if c == "\\" else 0
    return False


def needs_regex(sigma_file):
    """Whether the rule has `matches` (`|re`) or a `?` glob (plain value)."""
    with open(sigma_file, encoding="utf-8") as f:
        lines = f.read().split("\n---\n")[0].splitlines()
    inside, plain = False, False
    for line in lines:
        if not line.startswith(" "):
            inside = line.startswith("detection:")
            continue
        if not inside:
            continue
        rest = line.strip()
        if rest.startswith("- "):
            rest = rest[2:].strip()
        key = re.match(r"('(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"|[^'\"\s:][^:]*):(\s|$)", rest)
        if key:
            name = unquote(key.group(1)) if key.group(1)[0] in "'\"" else key.group(1)
            modifiers = name.split("|")[1:]
            if "re" in modifiers:
                return True
            plain = not modifiers
            rest = rest[key.end():]
        if plain and any(unescaped_question_mark(unquote(t)) for t in QUOTED.findall(rest)):
            return True
    return False


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def kql_query(kql_dir, name):
    """The query of a rule: queries/NAME.kql, else `query` of NAME.yaml."""
    plain = os.path.join(kql_dir, "queries", name + ".kql")
    if os.path.exists(plain):
        return read(plain)
    yaml = os.path.join(kql_dir, name + ".yaml")
    if not os.path.exists(yaml):
        return None
    lines = read(yaml).splitlines()
    for i, line in enumerate(lines):
        if line.startswith("query:"):
            value = line[len("query:"):].strip()
            if value[:1] in "'\"":
                return unquote(value)
            if value[:1] not in "|>":
                return value
            body = []
            for more in lines[i + 1:]:
                if more.strip() and not more.startswith(" "):
                    break
                body.append(more)
            return "\n".join(body)
    return None


def macros(splunk_dir):
    """Default macro definitions of the app(s): name -> definition."""
    found = {}
    for conf in glob.glob(os.path.join(splunk_dir, "*", "default", "macros.conf")):
        stanza, text = None, read(conf).replace("\\\n", " ")
        for line in text.splitlines():
            head = re.match(r"\s*\[([^\]]+)\]", line)
            if head:
                stanza = re.sub(r"\(\d+\)$", "", head.group(1).strip())
            elif stanza and re.match(r"\s*definition\s*=", line):
                found[stanza] = line.split("=", 1)[1].strip()
    return found


def expand(spl, defs, depth=5):
    """The search with every macro call replaced by its definition."""
    for _ in range(depth):
        spl = re.sub(r"`([A-Za-z0-9_.:-]+)(\([^`]*\))?`",
                     lambda m: defs.get(m.group(1), m.group(0)), spl)
    return spl


def ratio_summary(label, ratios, limits):
    if not ratios:
        return [f"{label}: nothing compared"], True
    median, top = statistics.median(ratios), max(ratios)
    ok = median <= limits[0] and top <= limits[1]
    return [f"{label}: median ratio {median:.2f} (limit {limits[0]}), "
            f"max {top:.2f} (limit {limits[1]}): {'ok' if ok else 'OVER'}"], ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pack", required=True, help="tripline build --out DIR (sigma, splunk, kql)")
    ap.add_argument("--base", required=True, help="KQL build of the rules without threshold")
    ap.add_argument("--sigma-cli", required=True, help="sigma-cli output: splunk/NAME.spl, kusto/NAME.kql")
    ap.add_argument("--report-only", action="store_true", help="print, never fail")
    ap.add_argument("--min-tstats", type=float, default=TSTATS_SHARE,
                    help="least share of Splunk searches that are tstats (default 0.8)")
    args = ap.parse_args()

    defs = macros(os.path.join(args.pack, "splunk"))
    rows, problems = [], []
    ratios = {"spl": [], "kql": []}
    regex_needless = {"spl": [], "kql": []}
    spl_count, tstats, unbounded, banned = 0, 0, [], []
    names = sorted(os.path.basename(p)[:-4] for p in glob.glob(os.path.join(args.pack, "sigma", "*.yml")))
    spl_names = glob.glob(os.path.join(args.pack, "splunk", "queries", "*.spl"))
    for extra in sorted({os.path.basename(p)[:-4] for p in spl_names} - set(names)):
        problems.append(f"{extra}: no Sigma file (refused by the Sigma target?)")
    for name in names:
        regex_ok = needs_regex(os.path.join(args.pack, "sigma", name + ".yml"))
        row = [name]
        spl_file = os.path.join(args.pack, "splunk", "queries", name + ".spl")
        spl = read(spl_file) if os.path.exists(spl_file) else None
        measured_spl = spl_detection_only(spl) if spl is not None else None
        kql = kql_query(os.path.join(args.pack, "kql"), name)
        base = kql_query(os.path.join(args.base, "kql"), name)
        base = detection_only(base) if base is not None else None
        for target, ours, theirs_file in (
            ("spl", measured_spl, os.path.join(args.sigma_cli, "splunk", name + ".spl")),
            ("kql", base, os.path.join(args.sigma_cli, "kusto", name + ".kql")),
        ):
            theirs = read(theirs_file) if os.path.exists(theirs_file) else ""
            if ours is None or not theirs.strip():
                problems.append(f"{name}: no {target.upper()} from " + ("tripline" if ours is None
                                else f"sigma-cli (see {theirs_file[:-4]}.err)"))
                row += ["-", "-", "-"]
                continue
            a, b = len(squeeze(ours)), len(squeeze(theirs))
            ratios[target].append(a / b)
            row += [str(a), str(b), f"{a / b:.2f}"]
        row.append(str(len(squeeze(kql))) if kql is not None else "-")
        if spl is not None:
            spl_count += 1
            if not regex_ok and SPL_REGEX.search(spl):
                regex_needless["spl"].append(name)
            full = expand(spl, defs)
            if re.match(r"\s*\|\s*tstats\b", full) and re.search(r"\bdatamodel\s*=|\bfrom\s+datamodel\b", full):
                tstats += 1
            elif not INDEX_BOUND.search(full):
                unbounded.append(name)
            words = sorted(set(SPL_BANNED.findall(spl)))
            if words:
                banned.append(f"{name} ({', '.join(words)})")
        if kql is not None and not regex_ok and KQL_REGEX.search(kql):
            regex_needless["kql"].append(name)
        rows.append(row)

    head = ["rule", "SPL", "sigma-cli", "ratio", "KQL (base)", "sigma-cli", "ratio", "KQL (full)"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    ok = not problems
    for target, label in (("kql", "KQL"), ("spl", "SPL")):
        lines, fine = ratio_summary(label, ratios[target], LIMITS[target])
        print(*lines, sep="\n")
        ok &= fine
    for target, label in (("spl", "SPL"), ("kql", "KQL")):
        hits = regex_needless[target]
        print(f"{label} queries with a regex whose rule has no `matches` or `?` glob: "
              f"{len(hits)}" + (f" ({', '.join(hits)})" if hits else ""))
        ok &= not hits
    share = tstats / spl_count if spl_count else 0.0
    print(f"SPL searches that are `| tstats` on a data model: {tstats} of {spl_count} "
          f"({share:.0%}, limit {args.min_tstats:.0%})")
    print(f"SPL searches neither tstats nor index-bounded: {len(unbounded)}")
    print(f"SPL searches with streamstats or mvexpand: {len(banned)}"
          + (f" ({', '.join(banned)})" if banned else ""))
    ok &= share >= args.min_tstats and not unbounded and not banned
    for problem in problems:
        print("not compared:", problem)
    print("query length: ok" if ok else "query length: limits broken"
          + (" (report only)" if args.report_only else ""))
    return 0 if ok or args.report_only else 1


if __name__ == "__main__":
    sys.exit(main())
