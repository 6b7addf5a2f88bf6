"""Generated differential cases for the sql target (DuckDB and Spark vs `tripline eval`).

Random rules (one or two predicates under `not` / `and` / `or`, and
threshold rules with `count()` or `distinct()` by one or two fields) over
random events whose values come from an adversarial alphabet (quotes,
backslash, `*` `%` `_` `?`, newline, tab, non-ASCII, leading zeros, signs,
numbers held as text, booleans, null, `""`) and, for `ip` fields, many
spellings of addresses (IPv4-mapped IPv6 in every form, leading zeros,
zones, brackets). For each seed it writes a pack and a JSON Lines stream,
asks `tripline eval` for the matches and alerts (the reference), builds the
pack for the sql target (`--skip-refused`: a refused rule is counted, not
a disagreement), creates the `events` view from each engine's generated
`events.sql` over the same stream and runs every query of that engine
(DuckDB in process; Spark in local mode, one session for all cases).
Matches are compared by event, alerts by window start, group (first
spelling) and aggregate.

Version 2 rules (a third pass over web and proxy events, `from web,
proxy` or `from web`): `cased` comparisons, `len(f)`, `having` over
`count()`, `distinct(f)` (also `cased`), `sum`, `min`, `max` with `and`,
`or`, `not`, `by cased f` and hopping windows (`over W step H`); alerts
are compared with every aggregate they report. That pass leaves out
integers whose sum leaves the 64-bit range (the evaluator saturates in
event order; the docs say so).

Sequences and first-seen baselines (a fourth pass over web events):
`sequence [by F, ...] within W { [N] where P then ... }` with two or
three steps whose conditions overlap (an event may match several steps,
or none), and `first seen F, ... in D`, `by`/`first seen` fields plain or
`cased`, over events from a small alphabet (so groups collide: `a`, `A`,
`é`, `""`, null, integers as text with leading zeros, booleans) with
several events per second. A table has no input order: the queries take
events at the same time in the order of their columns (the docs say so),
so the pass writes the stream in that order (asked of the engine) before
`tripline eval` reads it.

Outside the comparison, as the docs say: arrays, objects and numbers with
a fraction (columns hold one text value), and letters whose folding
differs between `lower()` and simple case folding (`ſ`, the Kelvin sign,
`ς`, `İ`, ...), which the alphabet leaves out.

Usage: generated.py TRIPLINE_BIN ENGINE [SEEDS] [RULES_PER_SEED]   (ENGINE: duckdb or spark)
TRIPLINE_SQL_FIRST_SEED (default 0) starts the seeds elsewhere.
Exit 1 on any disagreement (each printed with its rule and event).
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import time

# The generator shared with kql/generated.py lives one folder up.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from generate import (Vocabulary, build, built_queries, combine, disagreements, evaluate, rule, rule_id,  # noqa: E402
                      rule_text, tally, write_case)

ALPHABET = ["a", "b", "A", "B", "é", "É", "ß", '"', "\\", "'", "*", "%", "_", "?",
            "\n", "\t", "\r", " ", ".", "-", "0", "4", "3", "x", "X", "|", "ü", "Ü"]
INT_VALUES = [443, "443", "0443", " 443", "abc", "-0", "-1", -1, 0, "0", "-", "4-4",
              "9223372036854775808", "-9223372036854775808", 9223372036854775807,
              "", None, True, "4e2", "+443", "22", 22, "３"]
INT_LITERALS = [0, 1, 22, 443, -1, 65535, 9223372036854775807, -9223372036854775808]
REGEXES = [r"a", r"^a", r"b$", r"\d", r"\w+", r"\s", r"(?i)é", r"a.b", r"^.$", r"\bA",
           r"[%_]", r"\\", r'"', r"a|b", r"\.", r"[^a-z]", r"^-?[0-9]+$", r"(?i)^A",
           r"\*", r"^\W", r"x\b", r"\B4", r"(a|b)+$", r"\S\s\S", r"^$|a", r"(?i)ü",
           r"a.*?b", r"[\d.]{2,}", r"\D", r"a$"]
ADDRESSES = ["10.1.2.3", "10.255.255.255", "11.0.0.0", "192.168.1.1", "192.168.2.1",
             "::ffff:10.1.2.3", "::FFFF:10.1.2.3", "0:0:0:0:0:ffff:10.1.2.3",
             "::ffff:a01:203", "0::ffff:0a01:0203", "::ffff:192.168.1.9",
             "010.1.2.3", "10.1.2", "10.1.2.3.4", "fe80::1%eth0", "[::1]", "::1",
             "fd00::1", "fc00::", "fe00::", "2001:db8::1", "2001:0DB8:0:0:0:0:0:1",
             "2001:db9::", "::", "1::", "10.1.2.3 ", " 10.1.2.3", "10.1.2.3\n",
             "::10.1.2.3", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::ffff:0:0",
             "::ffff:10.1.2.03", "127.0.0.1", "0.0.0.0", "255.255.255.255"]
BLOCKS = ["10.0.0.0/8", "192.168.1.0/24", "10.1.2.3", "0.0.0.0/0", "fc00::/7",
          "2001:db8::/32", "::1", "::ffff:0:0/96", "::/0", "127.0.0.0/8", "10.1.2.128/25"]
#: `ip` fields get `in cidr` tests and address literals (`blocks`).
VOCABULARY = Vocabulary(ALPHABET, INT_LITERALS, REGEXES, addresses=ADDRESSES,
                        v2_odds=(0.35, 0.6), value_odds=(0.12, 0.2, 0.75, 0.25, 0.75), blocks=BLOCKS)

SOURCES = {
    "dns": {
        "dns.question.name": "string",
        "dns.question.type": "string",
        "host.name": "string",
        "source.ip": "ip",
        "source.port": "int",
        "destination.ip": "ip",
    },
    "web": {
        "http.response.status_code": "int",
        "url.domain": "string",
        "user_agent.original": "string",
        "source.ip": "ip",
    },
}

#: The version 2 pass: its sources clause, fields, and integer values
#: (no sum of them leaves 64 bits).
V2 = ("web, proxy", SOURCES["web"])
V2_INT_VALUES = [v for v in INT_VALUES if v not in (
    "9223372036854775808", "-9223372036854775808", 9223372036854775807)]
HAVING_LITERALS = [0, 1, 2, 3, 22, 443, 500, 1000]

#: Each rule's `by` fields (the result columns that are not aggregates).
BY = {}
#: (rule, `distinct(f)`) -> `distinct(cased f)` where the rule counts exact
#: text: `tripline eval` labels both `distinct(f)`, the query tells them apart.
CASED = {}

def threshold(rng, fields):
    keys = sorted(f for f in fields)
    by = rng.sample(keys, rng.randint(0, 2))
    aggregate = "count()" if rng.random() < 0.5 else f"distinct({rng.choice(keys)})"
    op = rng.choice([">", ">=", "==", "<", "<="])
    value = rng.randint(1, 3)
    window = rng.choice(["5s", "10s", "1m"])
    by_text = f" by {', '.join(by)}" if by else ""
    return f"  threshold {aggregate}{by_text} over {window} {op} {value}\n"


def threshold_v2(rng, fields, name):
    """`threshold by ... over W [step H] having ...` with any aggregates."""
    keys = sorted(fields)
    ints = sorted(f for f, kind in fields.items() if kind == "int")
    by = rng.sample(keys, rng.randint(0, 2))
    BY[name] = by
    written_by = [f"cased {f}" if fields[f] != "int" and rng.random() < 0.4 else f for f in by]

    # One spelling per distinct field (`tripline eval` labels `distinct(f)`
    # and `distinct(cased f)` alike).
    cased = {f: "cased " if fields[f] != "int" and rng.random() < 0.4 else "" for f in keys}

    def aggregate():
        kind = rng.choice(["count", "distinct", "sum", "min", "max"])
        if kind == "count":
            return "count()"
        if kind == "distinct":
            f = rng.choice(keys)
            if cased[f]:
                CASED[(name, f"distinct({f})")] = f"distinct(cased {f})"
            return f"distinct({cased[f]}{f})"
        return f"{kind}({rng.choice(ints)})"

    def compare():
        agg = aggregate()
        value = rng.choice(HAVING_LITERALS) if agg[0] in "sm" else rng.randint(0, 3)
        return f"{agg} {rng.choice(['>', '>=', '==', '<', '<='])} {value}"

    shape = rng.randint(0, 4)
    a, b = compare(), compare()
    having = combine(a, b, shape)
    window, step = rng.choice([("5s", None), ("10s", None), ("10s", "5s"), ("20s", "5s"), ("1m", "10s"), ("6s", "2s")])
    over = f"over {window}" + (f" step {step}" if step else "")
    by_text = f"by {', '.join(written_by)} " if by else ""
    return f"  threshold {by_text}{over}\n    having {having}\n"


#: The fourth pass (sequences, first seen): few values, so groups collide.
V3_FIELDS = SOURCES["web"]
V3_VALUES = {
    "string": ["a", "A", "b", "é", "É", "", None, "a ", True, 1],
    "int": [443, "443", "0443", 22, "22", "abc", "", None, "-0", 0],
    "ip": ["10.1.2.3", "::1", "::FFFF:10.1.2.3", "", None, "10.1.2.3 "],
}


def v3_predicate(rng):
    field = rng.choice(sorted(V3_FIELDS))
    kind = V3_FIELDS[field]
    if kind == "int":
        return rng.choice([f"{field} == 443", f"{field} >= 100", f"{field} in [22, 443]",
                           f"not {field} == 22", f"exists({field})"])
    value = rng.choice(["a", "A", "b", "é", "É"])
    if kind == "ip":
        return rng.choice([f"{field} in cidr [\"10.0.0.0/8\"]", f'{field} == "10.1.2.3"',
                           f"exists({field})", f'not {field} == "::1"'])
    return rng.choice([f'{field} == "{value}"', f'{field} cased == "{value}"',
                       f'{field} in ["a", "b"]', f'{field} startswith "a"', f"exists({field})",
                       f'not {field} == "{value}"'])


def v3_rule(rng, name):
    fields = sorted(V3_FIELDS)
    by = rng.sample(fields, rng.randint(0 if rng.random() < 0.5 else 1, 2))
    BY[name] = by
    written = ", ".join(f"cased {f}" if V3_FIELDS[f] != "int" and rng.random() < 0.3 else f for f in by)
    if rng.random() < 0.5 and by:
        horizon = rng.choice(["1s", "2s", "5s", "20s"])
        return f"  first seen {written} in {horizon}\n"
    steps = []
    for _ in range(rng.randint(2, 3)):
        count = rng.choice(["", "", "2 ", "3 "])
        condition = v3_predicate(rng)
        if rng.random() < 0.3:
            condition = f"{condition} or {v3_predicate(rng)}"
        steps.append(f"{count}where {condition}")
    within = rng.choice(["1s", "3s", "5s", "10s"])
    by_text = f"by {written} " if by else ""
    return f"  sequence {by_text}within {within} {{\n    " + "\n    then ".join(steps) + "\n  }\n"


def v3_events(rng, count):
    out = []
    for k in range(count):
        second = k // 3 + rng.choice([0, 0, 1])
        event = {"tl_row": k, "@timestamp": spelled_time(rng, second)}
        for field, kind in V3_FIELDS.items():
            value = rng.choice(V3_VALUES[kind])
            if value is not None or rng.random() < 0.5:
                event[field] = value
        out.append(event)
    return out


def pack(rng, source, count):
    if source == "v3":
        rules = []
        for n in range(count):
            name = f"g_{source}_{n}"
            where = 'source.ip == "x" or not source.ip == "x"' if n % 2 else v3_predicate(rng)
            ident = rule_id(rng, n)
            rules.append(rule(name, ident, "web", where, v3_rule(rng, name)))
        return "\n".join(rules)
    v2 = source == "v2"
    fields = V2[1] if v2 else SOURCES[source]
    rules = []
    for n in range(count):
        name = f"g_{source}_{n}"
        every = 'source.ip == "x" or not source.ip == "x"'
        where = VOCABULARY.condition(rng, fields, v2) if rng.random() < 0.8 or n % 3 else every
        if n % 3 != 2:
            tail = ""
        elif v2:
            tail = threshold_v2(rng, fields, name)
        else:
            tail = threshold(rng, fields)
            BY[name] = tail.split(" by ")[1].split(" over ")[0].split(", ") if " by " in tail else []
        sources = (V2[0] if rng.random() < 0.6 else "web") if v2 else source
        rules.append(rule(name, rule_id(rng, n), sources, where, tail))
    return "\n".join(rules)


def spelled_time(rng, k):
    """Second k after 2026-01-01T00:00:00Z, in one of the spellings the
    evaluator reads (RFC 3339 in any case and offset, epoch seconds or
    milliseconds as numbers or text, with a fraction)."""
    epoch = 1767225600 + k
    minute, second = divmod(k, 60)
    return rng.choice([
        f"2026-01-01T00:{minute:02d}:{second:02d}Z",
        f"2026-01-01t00:{minute:02d}:{second:02d}.250z",
        f"2026-01-01 02:{minute:02d}:{second:02d}+02:00",
        f"2025-12-31T18:{minute + 30:02d}:{second:02d}.999999-05:30",
        epoch, str(epoch), epoch * 1000 + 7, str(epoch * 1000), epoch + 0.5, f"{epoch}.75",
    ])


def events(rng, source, count):
    v2 = source == "v2"
    out = []
    for k in range(count):
        event = {"tl_row": k, "@timestamp": spelled_time(rng, k)}
        roll = rng.random()
        if v2 and roll < 0.6:
            event["event.dataset"] = rng.choice(["", "web", "proxy", "PROXY", "Web", "dns", None])
        elif roll < 0.1:
            event["event.dataset"] = rng.choice(["", source.upper(), "other", None])
        elif roll < 0.2:
            event["event"] = {"dataset": "proxy" if v2 else source}
        for field, kind in (V2[1] if v2 else SOURCES[source]).items():
            value = VOCABULARY.event_value(rng, kind, V2_INT_VALUES if v2 else INT_VALUES)
            if value is not None or rng.random() < 0.5:
                if rng.random() < 0.5:
                    event[field] = value
                else:
                    head, _, last = field.rpartition(".")
                    node = event
                    for part in head.split("."):
                        node = node.setdefault(part, {})
                        if not isinstance(node, dict):
                            break
                    else:
                        node[last] = value
                        continue
                    event[field] = value
        out.append(event)
    return out


class DuckDb:
    name = "duckdb"

    def __init__(self):
        import duckdb
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET enable_progress_bar = false")

    def view(self, path, events_path):
        """The generated view over `events_path`, with each event's row."""
        sql = open(path, encoding="utf-8").read()
        sql = sql.replace("'events/*.jsonl'", "'" + events_path.replace("'", "''") + "'")
        sql = sql.replace("SELECT\n  CASE", "SELECT\n  tl_row,\n  CASE", 1)
        sql = sql.replace("  SELECT\n    json_extract_string(json, '$.\"@timestamp\"') AS tl_ts,",
                          "  SELECT\n    CAST(json_extract_string(json, '$.tl_row') AS BIGINT) AS tl_row,\n"
                          "    json_extract_string(json, '$.\"@timestamp\"') AS tl_ts,", 1)
        self.con.execute(sql)

    def rows(self, query):
        result = self.con.execute(query)
        columns = [d[0] for d in result.description]
        return columns, [dict(zip(columns, r)) for r in result.fetchall()]

    def explain(self, query):
        self.con.execute("EXPLAIN " + query.rstrip().rstrip(";"))


class Spark:
    name = "spark"

    def __init__(self):
        os.environ["TZ"] = "UTC"
        time.tzset()
        from pyspark.sql import SparkSession
        self.session = (SparkSession.builder.master("local[1]").appName("tripline-sql")
                        .config("spark.sql.session.timeZone", "UTC")
                        .config("spark.sql.ansi.enabled", "true")
                        .config("spark.ui.enabled", "false")
                        .config("spark.ui.showConsoleProgress", "false")
                        .config("spark.sql.shuffle.partitions", "1")
                        .getOrCreate())
        self.session.sparkContext.setLogLevel("ERROR")

    def view(self, path, events_path):
        sql = open(path, encoding="utf-8").read()
        sql = sql.replace("text.`events/*.jsonl`", "text.`" + events_path.replace("`", "``") + "`")
        sql = sql.replace("SELECT\n  CASE", "SELECT\n  CAST(get_json_object(value, '$.tl_row') AS BIGINT) AS tl_row,\n  CASE", 1)
        self.session.sql(strip_comments(sql).rstrip().rstrip(";"))

    def rows(self, query):
        frame = self.session.sql(strip_comments(query).rstrip().rstrip(";"))
        columns = frame.columns
        return columns, [r.asDict() for r in frame.collect()]

    def explain(self, query):
        # Spark reports an analysis error inside EXPLAIN's output row.
        plan = self.session.sql("EXPLAIN " + strip_comments(query).rstrip().rstrip(";")).collect()[0][0]
        if "Error occurred" in plan or "Exception" in plan:
            raise RuntimeError(plan.strip())


def strip_comments(sql):
    """The statement without its leading `--` lines (spark.sql takes one statement)."""
    return "\n".join(l for l in sql.splitlines() if not l.startswith("--"))


def engine(name):
    return {"duckdb": DuckDb, "spark": Spark}[name]()


def spelled(value):
    return value if isinstance(value, str) else json.dumps(value)


#: The keys of an evaluator alert that are not aggregates.
ALERT_META = {"kind", "rule", "id", "title", "group", "window", "first_time", "last_time", "context"}


def number(value):
    """An aggregate as a Python int (DuckDB and Spark return sums as decimals)."""
    return None if value is None else int(value)


def alert_key(window_start, group, aggregates):
    return (window_start, tuple(sorted((k, spelled(v)) for k, v in group.items())),
            tuple(sorted((k, number(v)) for k, v in aggregates.items())))


def tie_ordered(tripline, rules_path, events_path, stream, db, tmp):
    """Rewrites the stream in the queries' order of events at the same
    time (time, then every column, nulls first), asked of the engine over
    the generated view, so that `tripline eval`'s input order agrees."""
    out = os.path.join(tmp, "out-order")
    subprocess.run([tripline, "build", rules_path, "--target", "sql", "--skip-refused", "--out", out],
                   capture_output=True, text=True, check=True)
    db.view(os.path.join(out, "sql", db.name, "events.sql"), events_path)
    columns, _ = db.rows("SELECT * FROM events LIMIT 0")
    quote = (lambda c: '"' + c + '"') if db.name == "duckdb" else (lambda c: "`" + c + "`")
    order = ", ".join(f"{quote(c)} NULLS FIRST" for c in columns if c != "tl_row")
    _, rows = db.rows(f"SELECT tl_row FROM events ORDER BY {order}, tl_row")
    with open(events_path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(stream[r["tl_row"]], ensure_ascii=False) + "\n" for r in rows)


def run(tripline, seed, per_seed, db):
    rng = random.Random(seed)
    VOCABULARY.pool.clear()
    CASED.clear()
    counts = {"agree": 0, "refused": 0, "events": 0, "alerts": 0, "v2 rules": 0, "v2 alerts": 0,
                "v3 rules": 0, "v3 alerts": 0}
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in [*SOURCES, "v2", "v3"]:
            rules = pack(rng, source, per_seed)
            stream = v3_events(rng, 60) if source == "v3" else events(rng, source, 60)
            rules_path, events_path = write_case(tmp, source, rules, stream)
            if source == "v3":
                tie_ordered(tripline, rules_path, events_path, stream, db, tmp)
            expected = {}
            for reported in evaluate(tripline, seed, rules_path, events_path):
                if reported["kind"] == "match":
                    expected.setdefault(reported["rule"], set()).add(reported["line"] - 1)
                else:
                    start = reported["window"]["start"].replace("Z", "")
                    aggregates = {k: v for k, v in reported.items() if k not in ALERT_META}
                    aggregates = {CASED.get((reported["rule"], k), k): v for k, v in aggregates.items()}
                    expected.setdefault(reported["rule"], set()).add(alert_key(start, reported["group"], aggregates))
            out = os.path.join(tmp, f"out-{source}")
            build(tripline, seed, rules_path, "sql", out)
            db.view(os.path.join(out, "sql", db.name, "events.sql"), events_path)
            names = [f"g_{source}_{n}" for n in range(per_seed)]
            for name, query in built_queries(os.path.join(out, "sql", db.name), names, ".sql", counts):
                columns, rows = db.rows(query)
                if "window_start" in columns:
                    got = set()
                    for row in rows:
                        start = row.pop("window_start").isoformat()
                        group = {f: row.pop(f) for f in BY.get(name, [])}
                        got.add(alert_key(start, group, row))
                    counts["alerts"] += len(got)
                    if source in ("v2", "v3"):
                        counts[f"{source} alerts"] += len(got)
                else:
                    got = {row["tl_row"] for row in rows}
                    counts["events"] += len(stream)
                want = expected.get(name, set())
                if source in ("v2", "v3"):
                    counts[f"{source} rules"] += 1
                differing = disagreements(got, want, counts, key=str)
                if not differing:
                    continue
                where = "; ".join(l.strip() for l in rule_text(rules_path, name).splitlines()
                                  if l.strip().startswith(("where", "threshold", "sequence", "then", "first")))
                for item in differing:
                    shown = json.dumps(stream[item], ensure_ascii=False) if isinstance(item, int) else item
                    problems.append(
                        f"seed {seed} {name}: {where!r}\n    {shown}\n"
                        f"    evaluator {'yes' if item in want else 'no'}, {db.name} {'yes' if item in got else 'no'}"
                    )
    return problems, counts


def main(tripline, engine_name, seeds="10", per_seed="40"):
    db = engine(engine_name)
    total = {"agree": 0, "refused": 0, "events": 0, "alerts": 0, "disagree": 0, "v2 rules": 0, "v2 alerts": 0,
             "v3 rules": 0, "v3 alerts": 0}
    problems = []
    first = int(os.environ.get("TRIPLINE_SQL_FIRST_SEED", "0"))
    for seed in range(first, first + int(seeds)):
        found, counts = run(tripline, seed, int(per_seed), db)
        tally(total, problems, found, counts)
    for problem in problems:
        print("DISAGREE  " + problem)
    print(f'generated ({db.name}): {total["agree"]} rules agree, {total["disagree"]} disagree, '
          f'{total["refused"]} refused; {total["events"]} event verdicts and {total["alerts"]} alerts compared '
          f'(version 2: {total["v2 rules"]} rules run, {total["v2 alerts"]} alerts; '
          f'sequences and first seen: {total["v3 rules"]} rules run, {total["v3 alerts"]} alerts)')
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
