"""Generated threshold rules: tripline's alerts against its Sigma correlations.

Each generated `dns` rule has a `threshold` (`count()` or `distinct(f)`, with
and without `by`, every comparison, small values including 0) over events
whose grouped and counted fields hold the values that matter: `""`, null,
missing, case variants, arrays, IPv4-mapped spellings. `tripline eval` gives
the reference alerts. On the Sigma side:

1. the base (detection) document is converted by pySigma's SQLite backend and
   run on the events, as `sqlite_check.py` reads Sigma, giving the events it
   selects;
2. the correlation document (its `type`, `group-by`, `timespan`,
   `condition`) is applied to those events by `sigma_alerts`, the reading of
   a Sigma correlation that docs/targets/sigma.md states. The SQLite
   backend's own correlation queries count sliding windows, not tumbling
   ones, so they are not used.

Both sides' alerts, as (group ignoring case, window start, count), must be
equal for every rule. Rules the target refuses are counted, not compared.
"""

import collections
import itertools
import json
import operator
import subprocess
from datetime import datetime, timezone

import yaml
from sigma.collection import SigmaCollection

import sqlite_check

MISSING = object()
BASE = 1767225600  # 2026-01-01T00:00:00Z
SPAN = 1800  # events fall in the half hour after BASE
FIELDS = {  # ECS name: (Sigma name, type)
    "@timestamp": ("@timestamp", "string"),
    "dns.question.name": ("query", "string"),
    "dns.question.type": ("record_type", "string"),
    "source.ip": ("src_ip", "ip"),
    "source.port": ("src_port", "int"),
}
# Grouped or counted. Arrays only in `dns.question.type` and `source.ip`:
# the generated `where` never reads them (see `array_cell`).
AGGREGATED = ["dns.question.name", "dns.question.type", "source.ip", "source.port"]
POOLS = {
    "dns.question.name": ["a", "A", "b", "B", "ſ", "s", "S", "\u212a", "k", "x y",
                          "", "", None, MISSING],
    "dns.question.type": ["A", "a", "MX", "mx", "", None, MISSING, ["A", "a"],
                          ["A", "MX"], ["mx", "mx"], [], [""], [None], ["", None]],
    "source.ip": ["10.1.2.3", "::ffff:10.1.2.3", "::FFFF:10.1.2.3", "fd00::1",
                  "FD00::1", "-", "", None, MISSING, ["10.1.2.3", "fd00::1"], ["-"], []],
    # Numbers only: the harness stores other text in an `int` column as NULL.
    "source.port": [53, "53", "053", 443, "443", "", None, MISSING],
}
WINDOWS = {60: "1m", 300: "5m", 420: "7m", 600: "10m"}
COMPARISONS = {">": "gt", ">=": "gte", "==": "eq", "<": "lt", "<=": "lte"}
OPERATORS = {"gt": operator.gt, "gte": operator.ge, "eq": operator.eq,
             "lt": operator.lt, "lte": operator.le}
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def where(rng, predicate):
    """A `where` over `dns.question.name`, `source.port` and `@timestamp`."""
    r = rng.random()
    if r < 0.3:
        return "exists(@timestamp)"
    if r < 0.45:
        value = rng.choice(["a", "b", "S", "x y"])
        return f'dns.question.name {rng.choice(["==", "!="])} "{value}"'
    if r < 0.55:
        return 'dns.question.name in ["a", "k", "s"]'
    if r < 0.65:
        return rng.choice(["source.port == 53", "source.port > 100", "not (source.port == 53)",
                           "exists(source.port)", "not exists(dns.question.name)"])
    while True:  # one of the base generator's predicates, off the array fields
        p = predicate(rng)
        if "dns.question.type" not in p and "source.ip" not in p:
            return p


def threshold(rng):
    by = rng.sample(AGGREGATED, rng.choice([0, 1, 1, 2]))
    aggregate = "count()" if rng.random() < 0.4 else f"distinct({rng.choice(AGGREGATED)})"
    clause = f" by {', '.join(by)}" if by else ""
    window = WINDOWS[rng.choice(list(WINDOWS))]
    op = rng.choice(list(COMPARISONS))
    n = rng.choice([0, 1, 1, 2, 2, 3, 4, 6])
    return f"{aggregate}{clause} over {window} {op} {n}"


def rule(i, where_, threshold_):
    return (
        f"rule thr_{i:04d} {{\n  title \"threshold {i}\"\n"
        f"  id \"00000000-0000-4000-9000-{i:012d}\"\n  level low\n  attack T1590\n"
        f"  description \"generated\"\n  from dns\n  where {where_}\n"
        f"  threshold {threshold_}\n}}\n"
    )


def event(rng):
    """An event at a random second of the half hour, with values from the pools."""
    time = BASE + rng.randrange(SPAN)
    ev = {"@timestamp": datetime.fromtimestamp(time, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    for field, pool in POOLS.items():
        value = rng.choice(pool)
        if value is not MISSING:
            ev[field] = value
    return time, ev


def epoch(text):
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


def array_cell(values):
    """The SQLite cell of an array in a field the `where` does not read.

    Only the base rule's `exists()` items (`f|exists: true`, and `not` of
    `f: ['', null]`) read such a field. As docs/targets/sigma.md reads Sigma
    on arrays (an item holds when one value satisfies it), `f: ['', null]`
    holds when one element is `""` or null and `f|exists` when there is an
    element: NULL for `[]`, `""` when an element is empty, else the first.
    """
    if not values:
        return None
    if any(v is None or v == "" for v in values):
        return ""
    return values[0]


def cell(value, ty):
    if isinstance(value, list):
        return array_cell(value)
    return sqlite_check.cell(value, ty)


def text_of(value, ty="string"):
    """A value as a Sigma backend compares it: ignoring case, a number on an
    `int` field; None for null."""
    if value is None:
        return None
    if ty == "int":
        return sqlite_check.cell(value, ty)
    if isinstance(value, bool):
        return "true" if value else "false"
    return sqlite_check.simple_fold(str(value))


def values_of(event, field):
    """The values a backend sees in a field: each element of an array
    (none for `[]`), a scalar itself; a missing field is null."""
    value = event.get(field)
    items = value if isinstance(value, list) else [value]
    return [text_of(v, FIELDS[field][1]) for v in items]


def sigma_alerts(selected, kind, group_by, field, window, op, n):
    """The alerts of a Sigma correlation, as docs/targets/sigma.md reads it.

    `selected`: (epoch seconds, event) of the events the base rule selects.
    Windows are tumbling, aligned on the epoch: `floor(t / window) * window`.
    An event counts in the group of each combination of its `group-by`
    values, each value ignoring case; `""` is a group, and so is null (a
    missing field or `[]`), as in SQL's GROUP BY: dropping such events is
    the base rule's job. `event_count` counts the events of a group;
    `value_count` its distinct `field` values ignoring case, every value a
    backend sees, `""` included, null not (SQL's COUNT(DISTINCT)). An alert
    is (group, window start, count) for each group whose count satisfies
    the condition.
    """
    groups = {}
    for time, event in selected:
        start = time // window * window
        keys = [sorted(set(values_of(event, f)), key=str) or [None] for f in group_by]
        for key in itertools.product(*keys):
            group = groups.setdefault((key, start), [0, set()])
            group[0] += 1
            if field is not None:
                group[1].update(v for v in values_of(event, field) if v is not None)
    alerts = set()
    for (key, start), (events, values) in groups.items():
        count = events if kind == "event_count" else len(values)
        if OPERATORS[op](count, n):
            alerts.add((key, start, count))
    return alerts


def tripline_alerts(alerts, group_by):
    """`tripline eval`'s alerts of one rule as (group, window start, count)."""
    return {
        (tuple(text_of(a["group"][f], FIELDS[f][1]) for f in group_by),
         epoch(a["window"]["start"]),
         a.get("count", a.get("distinct_count")))
        for a in alerts
    }


def seconds(timespan):
    return int(timespan[:-1]) * UNITS[timespan[-1]]


def run(tripline, out, rng, predicate, rules, events_n):
    """Generates, builds, evaluates and compares; returns the failure count."""
    out.mkdir(parents=True, exist_ok=True)
    pack = out / "thresholds.trip"
    pack.write_text("".join(rule(i, where(rng, predicate), threshold(rng)) for i in range(rules)))
    timed = sorted((event(rng) for _ in range(events_n)), key=lambda e: e[0])
    events_path = out / "threshold-events.jsonl"
    events_path.write_text("".join(json.dumps(e) + "\n" for _, e in timed))

    build = subprocess.run(
        [tripline, "build", str(pack), "--target", "sigma", "--skip-refused",
         "--out", str(out / "threshold-build")], capture_output=True, text=True)
    (out / "threshold-refusals.txt").write_text(build.stderr)
    if build.returncode != 0:
        print(build.stderr[-4000:])
        return 1
    evaluated = subprocess.run(
        [tripline, "eval", "--rules", str(pack), "--source", "dns", str(events_path)],
        capture_output=True, text=True)
    if evaluated.returncode != 0:
        print(evaluated.stderr[-4000:])
        return 1
    expected = {}
    for line in evaluated.stdout.splitlines():
        alert = json.loads(line)
        expected.setdefault(alert["rule"], []).append(alert)

    backend = sqlite_check.CidrBackend()
    sigma_names = {name: ecs for ecs, (name, _) in FIELDS.items()}
    rows = [[cell(e.get(ecs, None), ty) for ecs, (_, ty) in FIELDS.items()] for _, e in timed]
    compared = refused = failed = alerts_n = 0
    kinds = collections.Counter()
    for i in range(rules):
        name = f"thr_{i:04d}"
        path = out / "threshold-build" / "sigma" / f"{name}.yml"
        if not path.exists():
            refused += 1
            continue
        compared += 1
        text = path.read_text()
        try:
            SigmaCollection.from_yaml(text)  # the whole file loads
            base_doc, correlation_doc = text.split("\n---\n")
            [query] = backend.convert(SigmaCollection.from_yaml(base_doc))
            selected_rows = select(query, rows)
        except Exception as err:  # noqa: BLE001 - any pySigma failure is a defect
            failed += 1
            print(f"FAIL {name}: pySigma: {err}")
            continue
        correlation = yaml.safe_load(correlation_doc)["correlation"]
        [(op, n)] = [(k, v) for k, v in correlation["condition"].items() if k != "field"]
        group_by = [sigma_names[g] for g in correlation["group-by"]]
        field = correlation["condition"].get("field")
        kinds[f"{correlation['type']}{' by' if group_by else ''} {op}"] += 1
        got = sigma_alerts(
            [timed[r] for r in sorted(selected_rows)], correlation["type"], group_by,
            sigma_names[field] if field else None, seconds(correlation["timespan"]), op, n)
        want = tripline_alerts(expected.get(name, []), group_by)
        alerts_n += len(want)
        if got != want:
            failed += 1
            rule_text = pack.read_text().split(f"rule {name} ")[1].split("}\n")[0]
            print(f"FAIL {name}:{rule_text.split('from dns')[1].rstrip()}\n  {query}")
            for alert in sorted(got - want, key=str)[:3]:
                print(f"  only in Sigma:    {alert}")
            for alert in sorted(want - got, key=str)[:3]:
                print(f"  only in tripline: {alert}")
    print(f"correlations: {compared} threshold rules compared ({alerts_n} tripline alerts), "
          f"{failed} failed, {refused} refused, {len(timed)} events")
    print("  compared: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    zero = build.stderr.count("holds for a group whose events lack the field")
    print(f"  refused: {zero} distinct counts that alert on 0, {refused - zero} for other constructs")
    return failed


def select(query, rows):
    """The indexes of the rows the base rule's query selects."""
    con = sqlite_check.connect()
    columns = ", ".join(
        f'"{name}" ' + ("INTEGER" if ty == "int" else "TEXT COLLATE fold")
        for name, ty in FIELDS.values()
    )
    con.execute(f"CREATE TABLE logs ({columns})")
    con.executemany(f"INSERT INTO logs VALUES ({', '.join('?' * len(FIELDS))})", rows)
    selected = {r[0] - 1 for r in con.execute(query.replace("SELECT *", "SELECT rowid", 1))}
    con.close()
    return selected
