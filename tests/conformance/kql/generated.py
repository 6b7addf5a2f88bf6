"""Generated differential cases for the kql target (duckdb-kql vs `tripline eval`).

Random rules (one or two predicates, under `not` / `and` / `or`) over random
events, with values drawn from an adversarial alphabet (quotes, backslash,
`*` `%` `_` `?`, newline, tab, space, non-ASCII, leading zeros, signs,
numbers held as text). For each seed it writes a pack and a JSON Lines
stream, asks `tripline eval` which events each rule matches (the reference),
builds the pack for kql (`--skip-refused`: a refused rule is not a
disagreement), runs every query with duckdb-kql over the events loaded as
the ASIM table (as differential.py loads them) and compares the matched rows.

Every other rule is a version 2 one: `cased` comparisons of every kind
(`==`/`in` exact, `contains_cs`, `startswith_cs`, `endswith_cs`, globs)
and `len(f)` (`strlen`; comparisons that hold for length 0 are refused by
the target and counted as such).

`first seen` rules (one or two string fields, spans of 1 to 3 minutes)
run over events 0 to 90 s apart with ties, compared as (instant,
combination) with the evaluator's alerts; their stages after the named
events (baseline `lookup`, `sort`, `prev()`) run in their join form
(`first_seen_as_joins`).

Only what duckdb-kql runs the way Kusto does is generated: no `in cidr`
(no range functions), no threshold (bin_at), no control characters other
than tab and newline (duckdb-kql does not decode Kusto's `\\uXXXX`), and no
letters whose folding differs between Kusto, DuckDB and simple case folding
(an accepted limit: `ſ`, the Kelvin sign, `ς`, ...).

Usage: generated.py TRIPLINE_BIN SCHEMA.txt [SEEDS] [RULES_PER_SEED]
Exit 1 on any disagreement (each printed with its rule and event).
"""

import json
import os
import random
import re
import sys
import tempfile

# The generator shared with sql/generated.py lives one folder up.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import duckdb_kql  # noqa: E402

from differential import INTEGER, I64, SLOT_FILTERS, SQL_TYPES, integer_text_as_regex, read_schema, stages  # noqa: E402
from generate import (Vocabulary, build, built_queries, disagreements, evaluate, rule, rule_id,  # noqa: E402
                      rule_text, tally, write_case)

# No "\r" and no control characters but tab and newline (duckdb-kql does
# not decode Kusto's `\uXXXX`).
ALPHABET = ["a", "b", "A", "B", "é", "É", "ß", '"', "\\", "'", "*", "%", "_", "?",
            "\n", "\t", " ", ".", "-", "0", "4", "3", "x", "X", "|"]
INT_VALUES = [443, "443", "0443", " 443", "443.0", "abc", "-0", "-1", -1, 0, "0",
              "9223372036854775808", "-9223372036854775808", 9223372036854775807,
              "", None, True, "4e2", "+443"]
INT_LITERALS = [0, 1, 443, -1, 65535, 9223372036854775807, -9223372036854775808]
REGEXES = [r"a", r"^a", r"b$", r"\d", r"\w+", r"\s", r"(?i)é", r"a.b", r"^.$", r"\bA",
           r"[%_]", r"\\", r'"', r"a|b", r"\.", r"[^a-z]", r"^-?[0-9]+$", r"(?i)^A",
           r"\*", r"^\W", r"x\b", r"\B4", r"(a|b)+$", r"\S\s\S", r"^$|a"]
#: No `blocks`: no `in cidr` (duckdb-kql has no range functions), so `ip`
#: fields are tested as text.
VOCABULARY = Vocabulary(
    ALPHABET, INT_LITERALS, REGEXES,
    addresses=["10.1.2.3", "::ffff:10.1.2.3", "010.1.2.3", "fe80::1%eth0", "::1"],
    v2_odds=(0.4, 0.65), value_odds=(0.15, 0.25, 0.4, 0.3, 0.75))

SOURCES = {
    # field: (column, kind)
    "dns": {
        "dns.question.name": ("DnsQuery", "string"),
        "dns.question.type": ("DnsQueryTypeName", "string"),
        "host.name": ("DvcHostname", "string"),
        "source.ip": ("SrcIpAddr", "ip"),
        "source.port": ("SrcPortNumber", "int"),
    },
    "web": {
        "http.response.status_code": ("HttpStatusCode", "int"),
        # Not url.domain: the query derives it from `Url` (ASIM's HttpHost
        # is empty for common proxies), which adversarial text holding `/`,
        # `?`, `#` or `:` cannot round-trip; the matrix covers it with URLs.
        "http.request.referrer": ("HttpReferrer", "string"),
        "user_agent.original": ("HttpUserAgent", "string"),
    },
}
SCHEMA_OF = {"dns": "Dns", "web": "WebSession"}
#: field -> kind, as the generator takes fields.
KINDS = {source: {field: kind for field, (_, kind) in fields.items()} for source, fields in SOURCES.items()}


def clock(second):
    """HH:MM:SS of second `second` of 2026-01-01."""
    return f"{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"


def pack(rng, source, count):
    rules = []
    for n in range(count):
        ident = rule_id(rng, n)
        rules.append(rule(f"g_{source}_{n}", ident, source, VOCABULARY.condition(rng, KINDS[source], v2=n % 2 == 1)))
    return "\n".join(rules)


def events(rng, source, count):
    out = []
    for k in range(count):
        event = {"@timestamp": f"2026-01-01T{clock(k)}Z"}
        for field, kind in KINDS[source].items():
            value = VOCABULARY.event_value(rng, kind, INT_VALUES)
            if value is not None or rng.random() < 0.5:
                event[field] = value
        out.append(event)
    return out


def cell(value, ty):
    if value is None:
        return "" if ty == "string" else None
    if ty in ("int", "long"):
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, str) and INTEGER.fullmatch(value) and I64[0] <= int(value) <= I64[1]:
            return int(value)
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load(con, columns, source, timed):
    """Loads (second, event) pairs as the table Events, with each one's row."""
    names = sorted(columns)
    con.execute("DROP TABLE IF EXISTS Events")
    ddl = ", ".join(f'"{n}" {SQL_TYPES.get(columns[n], "VARCHAR")}' for n in names)
    con.execute(f"CREATE TABLE Events ({ddl}, TlRow BIGINT)")
    by_column = {column: field for field, (column, _) in SOURCES[source].items()}
    for row, (second, event) in enumerate(timed):
        values = []
        for name in names:
            if name == "TimeGenerated":
                values.append(f"2026-01-01 {clock(second)}")
            else:
                values.append(cell(event.get(by_column.get(name)), columns[name]))
        marks = ", ".join("?" for _ in range(len(names) + 1))
        con.execute(f"INSERT INTO Events VALUES ({marks})", values + [row])


def kql_queries(out, prefix, count, counts):
    """(name, query) of each built rule `prefix_N`, spelled as duckdb-kql reads it."""
    for name, query in built_queries(os.path.join(out, "kql", "queries"), [f"{prefix}_{n}" for n in range(count)],
                                     ".kql", counts):
        query = query.replace(r"(?-u:\b)", r"\b").replace(r"(?-u:\B)", r"\B")
        yield name, integer_text_as_regex(query)


def kql_rows(con, name, query, counts):
    """The rows (dicts) duckdb-kql returns, or None where it cannot run the
    query (a gap, counted and printed)."""
    try:
        result = duckdb_kql.kql(con, query)
    except duckdb_kql.KqlUnsupportedError as gap:
        counts["gap"] += 1
        print(f"gap       {name}: {str(gap).splitlines()[0]}")
        return None
    columns = [d[0] for d in result.description]
    return [dict(zip(columns, r)) for r in result.fetchall()]


def run(tripline, schema, seed, per_seed, con):
    rng = random.Random(seed)
    VOCABULARY.pool.clear()
    problems, counts = [], {"agree": 0, "refused": 0, "gap": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for source in SOURCES:
            rules = pack(rng, source, per_seed)
            stream = events(rng, source, 40)
            rules_path, events_path = write_case(tmp, source, rules, stream)
            expected = {}
            for match in evaluate(tripline, seed, rules_path, events_path, "--source", source):
                expected.setdefault(match["rule"], set()).add(match["line"] - 1)
            out = os.path.join(tmp, f"out-{source}")
            build(tripline, seed, rules_path, "kql", out)
            load(con, dict(schema[SCHEMA_OF[source]]), source, list(enumerate(stream)))
            for name, query in kql_queries(out, f"g_{source}", per_seed, counts):
                query = "Events\n" + stages(query)
                rows = kql_rows(con, name, query, counts)
                if rows is None:
                    continue
                got = {row["TlRow"] for row in rows}
                want = expected.get(name, set())
                differing = disagreements(got, want, counts)
                if not differing:
                    continue
                where = [l for l in rule_text(rules_path, name).splitlines() if l.strip().startswith("where")][0].strip()
                for row in differing:
                    problems.append(
                        f"seed {seed} {name}: {where!r}\n    event {json.dumps(stream[row], ensure_ascii=False)}\n"
                        f"    evaluator {'match' if row in want else 'no match'}, kql {'match' if row in got else 'no match'}\n"
                        f"    query: {query.splitlines()[1]}"
                    )
    return problems, counts


# First seen: generated `first seen` rules over events with random gaps and
# ties (same instant, same combination in other case), compared with the
# evaluator's alerts as (instant, combination). duckdb-kql runs neither
# `prev()` nor the serialized rows of `sort`, so the query's stages after
# its named events (the baseline `lookup`, `sort`, `prev()`) are replaced by
# their join form, the same test: the query gives each event of the slot
# the event before it of its combination (`prev()` over the sorted slot
# rows, else the latest before the slot), the latest such one or a tied one
# sorted before it, so of the events of one combination at one instant
# exactly one alerts, and only when no event of it lies in [t - D, t).

FIRST_SEEN_SPANS = ["1m", "2m", "3m"]  # whole minutes: Sentinel schedules
STRING_FIELDS = {source: sorted(f for f, kind in kinds.items() if kind == "string")
                 for source, kinds in KINDS.items()}


def first_seen_pack(rng, source, count):
    rules = []
    for n in range(count):
        keys = rng.sample(STRING_FIELDS[source], rng.randint(1, 2))
        where = VOCABULARY.condition(rng, KINDS[source]) if rng.random() < 0.5 else f"exists({keys[0]})"
        ident = rule_id(rng, n)
        tail = f"  first seen {', '.join(keys)} in {rng.choice(FIRST_SEEN_SPANS)}\n"
        rules.append(rule(f"f_{source}_{n}", ident, source, where, tail, title="f"))
    return "\n".join(rules)


def first_seen_events(rng, source, count):
    """Events in time order, 0 to 90 s apart (0: a tie), whose key fields
    repeat a few values in either case."""
    out, second = [], 0
    values = ["a", "b", "é", "x y"]
    for _ in range(count):
        second += rng.choice([0, 0, 1, 20, 40, 60, 61, 90])
        event = {"@timestamp": f"2026-01-01T{clock(second)}Z"}
        for field, kind in KINDS[source].items():
            if kind == "string" and rng.random() < 0.85:
                value = rng.choice(values)
                event[field] = value.upper() if rng.random() < 0.3 else value
            else:
                value = VOCABULARY.event_value(rng, kind, INT_VALUES)
                if value is not None or rng.random() < 0.5:
                    event[field] = value
        out.append((second, event))
    return out


def first_seen_named_events(lines):
    """Where the query's named events (`let tl_events = ...;`) start and end."""
    head = next(i for i, line in enumerate(lines) if line.startswith("let tl_events = "))
    end = next(i for i in range(head, len(lines)) if lines[i].endswith(";"))
    return head, end


def first_seen_as_joins(query):
    """The query with its baseline `lookup` and `sort ... prev()` replaced
    by the join form (module comment above) over every event, the slot
    filters left out as `stages` leaves them out: rows of (keys, instant,
    first row)."""
    lines = query.splitlines()
    head, end = first_seen_named_events(lines)
    # The parser calls (over several lines for dns) stand for every event.
    first = next(i for i in range(head, end + 1) if lines[i].startswith("|"))
    body = [line for line in lines[first:end + 1] if not SLOT_FILTERS.match(line)]
    body[-1] = body[-1][:-1]
    keys = re.findall(r"tl_key[0-9]+", next(line for line in lines if line.startswith("| sort by")))
    span = re.search(r"> ([0-9]+[smhd])$", query, re.M).group(1)
    on = ", ".join(keys)
    return (
        "let tl_events = Events\n" + "\n".join(body) + ";\n"
        f"let tl_known = tl_events | project {on}, tl_t0 = TimeGenerated\n"
        f"| join kind=inner (tl_events | project {on}, tl_t1 = TimeGenerated) on {on}\n"
        f"| where tl_t0 < tl_t1 and tl_t1 - tl_t0 <= {span}\n"
        f"| distinct {on}, TimeGenerated = tl_t1;\n"
        f"tl_events\n| summarize TlRow = min(TlRow) by {on}, TimeGenerated\n"
        f"| join kind=leftanti tl_known on {on}, TimeGenerated"
    )


def first_seen_run(tripline, schema, seed, per_seed, con):
    rng = random.Random(10_000 + seed)
    VOCABULARY.pool.clear()
    problems, counts = [], {"agree": 0, "refused": 0, "gap": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for source in SOURCES:
            rules = first_seen_pack(rng, source, per_seed)
            timed = first_seen_events(rng, source, 60)
            rules_path, events_path = write_case(tmp, source, rules, [e for _, e in timed])
            expected = {}
            for alert in evaluate(tripline, seed, rules_path, events_path, "--source", source):
                if alert.get("kind") != "alert":
                    continue
                group = tuple(str(v).lower() for v in alert["group"].values())
                expected.setdefault(alert["rule"], set()).add((alert["first_time"], group))
            out = os.path.join(tmp, f"out-{source}")
            build(tripline, seed, rules_path, "kql", out)
            load(con, dict(schema[SCHEMA_OF[source]]), source, timed)
            for name, query in kql_queries(out, f"f_{source}", per_seed, counts):
                text = rule_text(rules_path, name)
                keys = re.search(r"first seen (.*) in ", text).group(1).split(", ")
                rows = kql_rows(con, name, first_seen_as_joins(query), counts)
                if rows is None:
                    continue
                got = set()
                for row in rows:
                    second, event = timed[row["TlRow"]]
                    group = tuple(str(event[k]).lower() for k in keys)
                    got.add((f"2026-01-01T{clock(second)}Z", group))
                want = expected.get(name, set())
                for alert in disagreements(got, want, counts):
                    problems.append(
                        f"seed {seed} {name}: {text.splitlines()[-3].strip()!r} {text.splitlines()[-2].strip()!r}\n"
                        f"    alert {alert}: evaluator {'yes' if alert in want else 'no'}, kql {'yes' if alert in got else 'no'}"
                    )
    return problems, counts


def main(tripline, schema_path, seeds="20", per_seed="40"):
    schema = read_schema(schema_path)
    con = duckdb_kql.connect()
    total = {"agree": 0, "refused": 0, "gap": 0, "disagree": 0}
    problems = []
    for seed in range(int(seeds)):
        for each in (run, first_seen_run):
            found, counts = each(tripline, schema, seed, int(per_seed), con)
            tally(total, problems, found, counts)
    for problem in problems:
        print("DISAGREE  " + problem)
    print(f'generated: {total["agree"]} agree, {total["disagree"]} disagree, '
          f'{total["refused"]} refused, {total["gap"]} not runnable (gaps)')
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
