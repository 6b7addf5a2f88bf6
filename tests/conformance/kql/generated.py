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
import subprocess
import sys
import tempfile

import duckdb_kql

from differential import INTEGER, I64, SLOT_FILTERS, SQL_TYPES, integer_text_as_regex, read_schema, stages

ALPHABET = ["a", "b", "A", "B", "é", "É", "ß", '"', "\\", "'", "*", "%", "_", "?",
            "\n", "\t", " ", ".", "-", "0", "4", "3", "x", "X", "|"]
INT_VALUES = [443, "443", "0443", " 443", "443.0", "abc", "-0", "-1", -1, 0, "0",
              "9223372036854775808", "-9223372036854775808", 9223372036854775807,
              "", None, True, "4e2", "+443"]
INT_LITERALS = [0, 1, 443, -1, 65535, 9223372036854775807, -9223372036854775808]
REGEXES = [r"a", r"^a", r"b$", r"\d", r"\w+", r"\s", r"(?i)é", r"a.b", r"^.$", r"\bA",
           r"[%_]", r"\\", r'"', r"a|b", r"\.", r"[^a-z]", r"^-?[0-9]+$", r"(?i)^A",
           r"\*", r"^\W", r"x\b", r"\B4", r"(a|b)+$", r"\S\s\S", r"^$|a"]

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


#: The rules' literals, which events reuse (mutated) so that predicates hold.
POOL = []


def text(rng, low=1, high=4):
    value = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(low, high)))
    POOL.append(value)
    return value


def near(rng):
    """A value close to one of the rules' literals: as is, case swapped, or
    with characters around it."""
    value = rng.choice(POOL)
    roll = rng.random()
    if roll < 0.3:
        return value.swapcase()
    if roll < 0.6:
        return rng.choice(ALPHABET) + value + rng.choice(["", rng.choice(ALPHABET)])
    return value


def quote(s):
    """A tripline string literal holding `s`."""
    out = ['"']
    for c in s:
        out.append({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(c, c))
    out.append('"')
    return "".join(out)


def glob(rng):
    pieces = []
    for _ in range(rng.randint(1, 4)):
        pieces.append(rng.choice(["*", "?", "\\*", "\\?", "\\\\", text(rng, 1, 2).replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?")]))
    return "".join(pieces)


def predicate(rng, fields):
    field = rng.choice(sorted(fields))
    kind = fields[field][1]
    if kind == "int":
        op = rng.choice(["==", "!=", "<", "<=", ">", ">=", "in", "not in", "exists"])
        if op == "exists":
            return f"exists({field})"
        if op in ("in", "not in"):
            values = rng.sample(INT_LITERALS, rng.randint(1, 3))
            return f"{field} {op} [{', '.join(map(str, values))}]"
        return f"{field} {op} {rng.choice(INT_LITERALS)}"
    op = rng.choice(["==", "!=", "in", "not in", "contains", "startswith", "endswith",
                     "like", "matches", "exists"])
    if op == "exists":
        return f"exists({field})"
    if op == "matches":
        return f'{field} matches r#"{rng.choice(REGEXES)}"#'
    if op == "like":
        values = [glob(rng) for _ in range(rng.randint(1, 2))]
    else:
        values = [text(rng) for _ in range(rng.randint(1, 3))]
    if op in ("in", "not in"):
        return f"{field} {op} [{', '.join(map(quote, values))}]"
    if op in ("==", "!="):
        return f"{field} {op} {quote(values[0])}"
    if len(values) == 1:
        return f"{field} {op} {quote(values[0])}"
    every = "all " if rng.random() < 0.5 else ""
    return f"{field} {op} {every}[{', '.join(map(quote, values))}]"


def predicate_v2(rng, fields):
    """A version 2 predicate: a `cased` string test or `len(f)`, else any."""
    field = rng.choice(sorted(f for f, (_, kind) in fields.items() if kind != "int"))
    roll = rng.random()
    if roll < 0.4:
        op = rng.choice(["==", "!=", "in", "not in", "contains", "startswith", "endswith", "like"])
        if op == "like":
            values = [glob(rng) for _ in range(rng.randint(1, 2))]
        else:
            values = [text(rng) for _ in range(rng.randint(1, 3))]
        if op in ("in", "not in"):
            return f"{field} cased {op} [{', '.join(map(quote, values))}]"
        if op in ("==", "!=") or len(values) == 1:
            return f"{field} cased {op} {quote(values[0])}"
        every = "all " if rng.random() < 0.5 else ""
        return f"{field} cased {op} {every}[{', '.join(map(quote, values))}]"
    if roll < 0.65:
        # Comparisons that hold for length 0 are refused (a missing value
        # reads as ""): generated too, and counted as refusals.
        op = rng.choice(["==", "!=", "<", "<=", ">", ">=", "in", "not in"])
        if op in ("in", "not in"):
            return f"len({field}) {op} [{', '.join(map(str, rng.sample(range(6), 2)))}]"
        return f"len({field}) {op} {rng.randint(0, 5)}"
    return predicate(rng, fields)


def condition(rng, fields, v2=False):
    shape = rng.randint(0, 4)
    make = predicate_v2 if v2 else predicate
    a, b = make(rng, fields), make(rng, fields)
    return [a, f"not {a}", f"{a} and {b}", f"{a} or not {b}", f"not ({a} or {b})"][shape]


def event_value(rng, kind):
    if kind == "int":
        return rng.choice(INT_VALUES)
    roll = rng.random()
    if roll < 0.15:
        return None
    if roll < 0.25:
        return ""
    if kind == "ip" and roll < 0.4:
        return rng.choice(["10.1.2.3", "::ffff:10.1.2.3", "010.1.2.3", "fe80::1%eth0", "::1"])
    if roll < 0.3:
        return rng.choice([0, 1, True, False])
    if POOL and roll < 0.75:
        return near(rng)
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 5)))


def pack(rng, source, count):
    fields = SOURCES[source]
    rules = []
    for n in range(count):
        rules.append(
            f"rule g_{source}_{n} {{\n  title \"g\"\n  id \"{rng.getrandbits(32):08x}-0000-4000-8000-{n:012x}\"\n"
            f"  level low\n  attack T1590\n  description \"generated\"\n  from {source}\n"
            f"  where {condition(rng, fields, v2=n % 2 == 1)}\n}}\n"
        )
    return "\n".join(rules)


def events(rng, source, count):
    out = []
    for k in range(count):
        event = {"@timestamp": f"2026-01-01T00:{k // 60:02d}:{k % 60:02d}Z"}
        for field, (_, kind) in SOURCES[source].items():
            value = event_value(rng, kind)
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


def load(con, columns, source, stream):
    names = sorted(columns)
    con.execute("DROP TABLE IF EXISTS Events")
    ddl = ", ".join(f'"{n}" {SQL_TYPES.get(columns[n], "VARCHAR")}' for n in names)
    con.execute(f"CREATE TABLE Events ({ddl}, TlRow BIGINT)")
    by_column = {column: field for field, (column, _) in SOURCES[source].items()}
    for row, event in enumerate(stream):
        values = []
        for name in names:
            if name == "TimeGenerated":
                values.append(f"2026-01-01 00:{row // 60:02d}:{row % 60:02d}")
            else:
                values.append(cell(event.get(by_column.get(name)), columns[name]))
        marks = ", ".join("?" for _ in range(len(names) + 1))
        con.execute(f"INSERT INTO Events VALUES ({marks})", values + [row])


def run(tripline, schema, seed, per_seed, con):
    rng = random.Random(seed)
    POOL.clear()
    problems, counts = [], {"agree": 0, "refused": 0, "gap": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for source in SOURCES:
            rules_path = os.path.join(tmp, f"{source}.trip")
            events_path = os.path.join(tmp, f"{source}.jsonl")
            with open(rules_path, "w", encoding="utf-8") as f:
                f.write(pack(rng, source, per_seed))
            stream = events(rng, source, 40)
            with open(events_path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(e, ensure_ascii=False) + "\n" for e in stream)
            evaluated = subprocess.run([tripline, "eval", "--rules", rules_path, "--source", source, events_path],
                                       capture_output=True, text=True)
            if evaluated.returncode != 0:
                raise SystemExit(f"seed {seed}: tripline eval failed:\n{evaluated.stderr}\n{open(rules_path).read()}")
            expected = {}
            for line in evaluated.stdout.splitlines():
                match = json.loads(line)
                expected.setdefault(match["rule"], set()).add(match["line"] - 1)
            out = os.path.join(tmp, f"out-{source}")
            built = subprocess.run([tripline, "build", rules_path, "--target", "kql", "--skip-refused", "--out", out],
                                   capture_output=True, text=True)
            if built.returncode != 0:
                raise SystemExit(f"seed {seed}: tripline build failed:\n{built.stderr}")
            load(con, dict(schema[SCHEMA_OF[source]]), source, stream)
            for n in range(per_seed):
                name = f"g_{source}_{n}"
                path = os.path.join(out, "kql", "queries", f"{name}.kql")
                if not os.path.exists(path):
                    counts["refused"] += 1
                    continue
                query = open(path, encoding="utf-8").read()
                query = query.replace(r"(?-u:\b)", r"\b").replace(r"(?-u:\B)", r"\B")
                query = integer_text_as_regex(query)
                query = "Events\n" + stages(query)
                try:
                    result = duckdb_kql.kql(con, query)
                except duckdb_kql.KqlUnsupportedError as gap:
                    counts["gap"] += 1
                    print(f"gap       {name}: {str(gap).splitlines()[0]}")
                    continue
                columns = [d[0] for d in result.description]
                got = {dict(zip(columns, r))["TlRow"] for r in result.fetchall()}
                want = expected.get(name, set())
                if got == want:
                    counts["agree"] += 1
                    continue
                rule_text = [b for b in open(rules_path, encoding="utf-8").read().split("\n\n") if f"rule {name} " in b][0]
                where = [l for l in rule_text.splitlines() if l.strip().startswith("where")][0].strip()
                for row in sorted(got ^ want):
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
STRING_FIELDS = {source: sorted(f for f, (_, kind) in fields.items() if kind == "string")
                 for source, fields in SOURCES.items()}


def first_seen_pack(rng, source, count):
    rules = []
    for n in range(count):
        keys = rng.sample(STRING_FIELDS[source], rng.randint(1, 2))
        where = condition(rng, SOURCES[source]) if rng.random() < 0.5 else f"exists({keys[0]})"
        rules.append(
            f"rule f_{source}_{n} {{\n  title \"f\"\n  id \"{rng.getrandbits(32):08x}-0000-4000-8000-{n:012x}\"\n"
            f"  level low\n  attack T1590\n  description \"generated\"\n  from {source}\n"
            f"  where {where}\n  first seen {', '.join(keys)} in {rng.choice(FIRST_SEEN_SPANS)}\n}}\n"
        )
    return "\n".join(rules)


def first_seen_events(rng, source, count):
    """Events in time order, 0 to 90 s apart (0: a tie), whose key fields
    repeat a few values in either case."""
    out, second = [], 0
    values = ["a", "b", "é", "x y"]
    for _ in range(count):
        second += rng.choice([0, 0, 1, 20, 40, 60, 61, 90])
        event = {"@timestamp": f"2026-01-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"}
        for field, (_, kind) in SOURCES[source].items():
            if kind == "string" and rng.random() < 0.85:
                value = rng.choice(values)
                event[field] = value.upper() if rng.random() < 0.3 else value
            else:
                value = event_value(rng, kind)
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


def load_timed(con, columns, source, timed):
    names = sorted(columns)
    con.execute("DROP TABLE IF EXISTS Events")
    ddl = ", ".join(f'"{n}" {SQL_TYPES.get(columns[n], "VARCHAR")}' for n in names)
    con.execute(f"CREATE TABLE Events ({ddl}, TlRow BIGINT)")
    by_column = {column: field for field, (column, _) in SOURCES[source].items()}
    for row, (second, event) in enumerate(timed):
        values = []
        for name in names:
            if name == "TimeGenerated":
                values.append(f"2026-01-01 {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}")
            else:
                values.append(cell(event.get(by_column.get(name)), columns[name]))
        marks = ", ".join("?" for _ in range(len(names) + 1))
        con.execute(f"INSERT INTO Events VALUES ({marks})", values + [row])


def first_seen_run(tripline, schema, seed, per_seed, con):
    rng = random.Random(10_000 + seed)
    POOL.clear()
    problems, counts = [], {"agree": 0, "refused": 0, "gap": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for source in SOURCES:
            rules_path = os.path.join(tmp, f"{source}.trip")
            events_path = os.path.join(tmp, f"{source}.jsonl")
            with open(rules_path, "w", encoding="utf-8") as f:
                f.write(first_seen_pack(rng, source, per_seed))
            timed = first_seen_events(rng, source, 60)
            with open(events_path, "w", encoding="utf-8") as f:
                f.writelines(json.dumps(e, ensure_ascii=False) + "\n" for _, e in timed)
            evaluated = subprocess.run([tripline, "eval", "--rules", rules_path, "--source", source, events_path],
                                       capture_output=True, text=True)
            if evaluated.returncode != 0:
                raise SystemExit(f"seed {seed}: tripline eval failed:\n{evaluated.stderr}\n{open(rules_path).read()}")
            expected = {}
            for line in evaluated.stdout.splitlines():
                alert = json.loads(line)
                if alert.get("kind") != "alert":
                    continue
                group = tuple(str(v).lower() for v in alert["group"].values())
                expected.setdefault(alert["rule"], set()).add((alert["first_time"], group))
            out = os.path.join(tmp, f"out-{source}")
            built = subprocess.run([tripline, "build", rules_path, "--target", "kql", "--skip-refused", "--out", out],
                                   capture_output=True, text=True)
            if built.returncode != 0:
                raise SystemExit(f"seed {seed}: tripline build failed:\n{built.stderr}")
            load_timed(con, dict(schema[SCHEMA_OF[source]]), source, timed)
            for n in range(per_seed):
                name = f"f_{source}_{n}"
                path = os.path.join(out, "kql", "queries", f"{name}.kql")
                if not os.path.exists(path):
                    counts["refused"] += 1
                    continue
                rule_text = [b for b in open(rules_path, encoding="utf-8").read().split("\n\n") if f"rule {name} " in b][0]
                keys = re.search(r"first seen (.*) in ", rule_text).group(1).split(", ")
                query = open(path, encoding="utf-8").read()
                query = query.replace(r"(?-u:\b)", r"\b").replace(r"(?-u:\B)", r"\B")
                query = first_seen_as_joins(integer_text_as_regex(query))
                try:
                    result = duckdb_kql.kql(con, query)
                except duckdb_kql.KqlUnsupportedError as gap:
                    counts["gap"] += 1
                    print(f"gap       {name}: {str(gap).splitlines()[0]}")
                    continue
                columns = [d[0] for d in result.description]
                got = set()
                for r in result.fetchall():
                    second, event = timed[dict(zip(columns, r))["TlRow"]]
                    group = tuple(str(event[k]).lower() for k in keys)
                    got.add((f"2026-01-01T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z", group))
                want = expected.get(name, set())
                if got == want:
                    counts["agree"] += 1
                    continue
                for alert in sorted(got ^ want):
                    problems.append(
                        f"seed {seed} {name}: {rule_text.splitlines()[-3].strip()!r} {rule_text.splitlines()[-2].strip()!r}\n"
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
            problems += found
            total["disagree"] += len({p.split(":")[0] for p in found})
            for k, v in counts.items():
                total[k] += v
    for problem in problems:
        print("DISAGREE  " + problem)
    print(f'generated: {total["agree"]} agree, {total["disagree"]} disagree, '
          f'{total["refused"]} refused, {total["gap"]} not runnable (gaps)')
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
