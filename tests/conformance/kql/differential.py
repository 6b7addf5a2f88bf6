"""Differential check of the kql target with duckdb-kql.

Runs each matrix rule's query (exported by the ignored integration test
`kql::export_conformance_cases`) over that rule's test events, loaded as an
ASIM-shaped table, and compares the result with each test's expectation,
which is the evaluator's verdict (`expect match` / `nomatch` / `alert`).

duckdb-kql runs KQL on DuckDB, which is not Kusto. What it cannot run is
reported as a gap, never as a pass:
  - `ipv4_is_in_any_range` / `ipv6_is_in_any_range` (KqlUnsupportedError):
    `in cidr` rules are checked by the language service only;
  - `bin_at`: rewritten to `bin()`, which DuckDB aligns on 2000-01-03, a
    whole number of days after the epoch, so only windows dividing a day
    are run;
  - `(?-u:\\b)` (Rust's ASCII word boundary) is RE2's plain `\\b`, which is
    ASCII already: rewritten;
  - `translate()` (the integer-text test): rewritten to an anchored regex
    that is provably the same test (`integer_text_as_regex`);
  - `coalesce()` over the range functions: gaps with them;
  - events the table cannot hold the way Sentinel would (arrays: ASIM
    columns hold one value; `url.original` given apart from
    `url.path`/`url.query`, which the query derives from `Url`).
Usage: differential.py CASES.json SCHEMA.txt  (exit 1 on any disagreement)
"""

import datetime as dt
import json
import re
import sys

import duckdb_kql

GENERATED_START = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
INTEGER = re.compile(r"-?[0-9]+")
I64 = (-(2**63), 2**63 - 1)


def read_schema(path):
    sections, current = {}, None
    for raw in open(path, encoding="utf-8"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = re.fullmatch(r"\[(.+)\]", line)
        if header:
            current = sections.setdefault(header.group(1), {})
            continue
        for item in filter(None, (i.strip() for i in line.split(","))):
            name, ty = item.split(":")
            current[name.strip()] = ty.strip()
    return sections


SQL_TYPES = {"string": "VARCHAR", "int": "BIGINT", "long": "BIGINT", "real": "DOUBLE",
             "datetime": "TIMESTAMP", "bool": "BOOLEAN", "dynamic": "VARCHAR"}


def timestamp(time):
    base = time["base"]
    if base is None:
        start = GENERATED_START + dt.timedelta(seconds=time["generated"])
    elif isinstance(base, (int, float)) or (isinstance(base, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", base)):
        seconds = float(base)
        if abs(seconds) >= 100_000_000_000:
            seconds /= 1000
        start = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    else:
        start = dt.datetime.fromisoformat(base.replace("t", "T").replace(" ", "T"))
    start = start + dt.timedelta(seconds=time["offset"])
    return start.astimezone(dt.timezone.utc).replace(tzinfo=None)


def cell(value, ty):
    """The value as the ASIM column holds it, or raises ValueError (a gap)."""
    if value is None:
        return None
    if isinstance(value, (list, dict)):
        raise ValueError("array or object values: ASIM columns hold one value")
    if isinstance(value, float):
        raise ValueError("a fractional number")
    if ty in ("int", "long"):
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if INTEGER.fullmatch(value) and I64[0] <= int(value) <= I64[1]:
            return int(value)
        return None  # what a parser's toint() makes of text that is no number
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load(con, columns, events):
    names = sorted(columns)
    con.execute("DROP TABLE IF EXISTS Events")
    ddl = ", ".join(f'"{n}" {SQL_TYPES.get(columns[n], "VARCHAR")}' for n in names)
    con.execute(f"CREATE TABLE Events ({ddl}, TlRow BIGINT)")
    for row, event in enumerate(events):
        values = []
        for name in names:
            if name == "TimeGenerated":
                values.append(timestamp(event["time"]))
                continue
            value = cell(event["columns"].get(name), columns[name])
            if value is None and columns[name] == "string":
                value = ""  # Kusto strings have no null: a missing value reads as ""
            values.append(value)
        marks = ", ".join("?" for _ in range(len(names) + 1))
        con.execute(f"INSERT INTO Events VALUES ({marks})", values + [row])


WINDOW = re.compile(r"bin_at\(TimeGenerated, ([0-9]+)([smhd]), datetime\(1970-01-01\)\)")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def runnable(query):
    """The query as duckdb-kql can run it, or raises ValueError (a gap)."""
    if "let tl_windows" in query:
        # One run over every event has no slot; hopping windows are about
        # the slots (which run reports which window): the schedule
        # simulation (tests/conformance/schedule/) runs them.
        raise ValueError("hopping windows: run by the schedule simulation")
    for size, unit in WINDOW.findall(query):
        if 86400 % (int(size) * UNIT[unit]):
            raise ValueError("a window that does not divide a day (bin() origin)")
    query = WINDOW.sub(r"bin(TimeGenerated, \1\2)", query)
    query = query.replace(r"(?-u:\b)", r"\b").replace(r"(?-u:\B)", r"\B")
    query = integer_text_as_regex(query)
    query = set_if_as_set(query)
    query = decimal_sum_as_sum(query)
    return "Events\n" + stages(query)


HOPS = re.compile(r"\| mv-expand tl_window = range\(tl_slot - ([0-9]+)([smhd]), tl_slot, ([0-9]+)([smhd])\) to typeof\(datetime\)")


def hops_as_list(query):
    """`mv-expand tl_window = range(tl_slot - A, tl_slot, H)` (duckdb-kql has
    no `range()`) as the same windows from a literal list of hop counts:
    `mv-expand tl_hop = dynamic([0, 1, ..., A / H])` and `tl_slot - tl_hop * H`."""
    def hops(m):
        back, step = int(m.group(1)) * UNIT[m.group(2)], int(m.group(3)) * UNIT[m.group(4)]
        counts = ", ".join(str(k) for k in range(back // step + 1))
        return (f"| mv-expand tl_hop = dynamic([{counts}]) to typeof(long)\n"
                f"| extend tl_window = tl_slot - tl_hop * {m.group(3)}{m.group(4)}")
    return HOPS.sub(hops, query)


SLOT_FILTERS = re.compile(r"^\| where (TimeGenerated >= slot_end|tl_window \+ \S+ > slot_end)")


def stages(query):
    """The query after its source: the ASIM parser calls (a union of them
    for dns, over several lines) stand for every event of the rule's
    source, which the loaded table holds. This differential judges one run
    over all the given events, so the lines that select one scheduled run's
    slot (`let slot_end`, the `TimeGenerated` range and the windows ending
    in the slot) are left out; the schedule simulation
    (tests/conformance/schedule/) runs them."""
    lines = query.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("|"))
    return "\n".join(line for line in lines[first:] if not SLOT_FILTERS.match(line))


SET_IF = re.compile(r'make_set_if\((tostring\([A-Za-z_][A-Za-z0-9_]*\)), (isnotempty\([A-Za-z_][A-Za-z0-9_]*\))\)')


def decimal_sum_as_sum(query):
    """`sum(todecimal(x))` as `sum(x)`: duckdb-kql has no `todecimal`, and
    DuckDB's sum of BIGINT is already exact (HUGEINT), as Kusto's decimal
    sum is for any sum the rule can meet."""
    return query.replace("sum(todecimal(", "sum((")


def set_if_as_set(query):
    """`make_set_if(X, P)` (an alert's context sample) as `make_set(iff(P,
    pack_array(X), dynamic([])))`, which duckdb-kql runs (it has no
    `make_set_if`). The two are equal: `make_set` of arrays is the union of
    their elements, and the empty array adds none."""
    return SET_IF.sub(r'make_set(iff(\2, pack_array(\1), dynamic([])))', query)


TRANSLATE = re.compile(r'isempty\(translate\("-0123456789", "", ([A-Za-z_][A-Za-z0-9_]*)\)\)')


def integer_text_as_regex(query):
    """`isempty(translate("-0123456789", "", X))` as `X matches regex
    @"^[-0-9]*$"`, which duckdb-kql runs (it has no `translate`). The two are
    equal: `translate` with an empty replacement deletes the listed
    characters, so the result is empty exactly when every character of X is
    a digit or `-` ("" included), which is what the anchored class says (RE2,
    DuckDB's engine, reads `$` as the end of the text without `(?m)`)."""
    return TRANSLATE.sub(r'\1 matches regex @"^[-0-9]*$"', query)


def same_group(value, expected, is_int):
    if is_int:
        try:
            return int(value) == int(expected)
        except (TypeError, ValueError):
            return False
    return str(value).casefold() == str(expected).casefold()


def verdict(test, result):
    """Disagreements between the query's result and the test's expectations."""
    columns = [d[0] for d in result.description]
    rows = [dict(zip(columns, r)) for r in result.fetchall()]
    matched = {r["TlRow"] for r in rows if "TlRow" in r}
    problems = []
    for expect in test["expects"]:
        kind = expect["kind"]
        if kind == "match" and len(matched) != len(test["events"]):
            problems.append(f"expected every event to match, {len(matched)} of {len(test['events'])} did")
        elif kind == "nomatch" and matched:
            problems.append(f"expected no match, rows {sorted(matched)} matched")
        elif kind == "alert_count" and len(rows) != expect["count"]:
            problems.append(f"expected {expect['count']} alerts, got {len(rows)}: {rows}")
        elif kind == "alert" and not any(
            all(same_group(r.get(g["column"]), g["value"], g["int"]) for g in expect["group"])
            for r in rows
        ):
            problems.append(f"expected an alert {expect['group']}, got {rows}")
    return problems


def main(cases_path, schema_path):
    schema = read_schema(schema_path)
    cases = json.load(open(cases_path, encoding="utf-8"))
    con = duckdb_kql.connect()
    counts = {"agree": 0, "disagree": 0, "gap": 0}
    for rule in cases["rules"]:
        columns = dict(schema[rule["schema"]])
        for test in rule["tests"]:
            label = f'{rule["name"]} / "{test["name"]}"'
            try:
                if test["skip"]:
                    raise ValueError(test["skip"])
                query = runnable(rule["query"])
                load(con, columns, test["events"])
                result = duckdb_kql.kql(con, query)
            except (ValueError, duckdb_kql.KqlUnsupportedError) as gap:
                counts["gap"] += 1
                print(f"gap       {label}: {str(gap).splitlines()[0]}")
                continue
            except duckdb_kql.KqlError as error:
                counts["disagree"] += 1
                print(f"DISAGREE  {label}: the query failed: {str(error).splitlines()[0]}")
                continue
            problems = verdict(test, result)
            if problems:
                counts["disagree"] += 1
                print(f"DISAGREE  {label}: " + "; ".join(problems))
            else:
                counts["agree"] += 1
                print(f"agree     {label}")
    print(f'{counts["agree"]} agree, {counts["disagree"]} disagree, {counts["gap"]} not runnable (gaps)')
    return 1 if counts["disagree"] else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
