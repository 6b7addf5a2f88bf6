"""Runs tripline's Sigma output on the test events of its rules, in SQLite.

Each rule file without a correlation is converted with pySigma's SQLite
backend; each `expect match` / `expect nomatch` test of the rule (exported by
`cargo test sigma::conformance_cases`) becomes a one-row table per event, and
the query must select every event of a `match` test and none of a `nomatch`
test. The expectation is the evaluator's verdict on those events.

How SQLite is made to read Sigma the way docs/targets/sigma.md says:

- String columns use the collation `fold` (Unicode simple case folding,
  approximated per character) so `=` ignores case beyond ASCII, and `like()`
  is replaced by a folding implementation (SQLite's ignores only ASCII case).
- `GLOB` (the backend's `|cased`) is replaced by an implementation on whole
  Python strings: SQLite's stops at a NUL, which event values may hold.
  Case-sensitive; `*`, `?` and `[...]` classes (`[^...]` negated) as
  SQLite's documentation says.
- `REGEXP` is Python's `re.search` (pySigma validates `|re` with `re`).
- `|cidr`: the backend writes IPv4 blocks as `LIKE '10.%'` prefixes, which are
  wrong for IPv6 and mapped addresses; this harness writes a containment test
  with Python's `ipaddress` instead, as a backend with CIDR support does.
- `int` fields hold the number when the value reads as an integer, else NULL:
  numeric comparison on `int` fields, where non-numeric text compares false.

Tests whose events hold arrays, objects or fractions are skipped (Sigma has
no array semantics) and counted.
"""

import argparse
import ipaddress
import json
import re
import sqlite3
import sys
from pathlib import Path

import yaml
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection

INT_TEXT = re.compile(r"-?[0-9]+\Z")


class CidrBackend(sqliteBackend):
    """The SQLite backend with an exact `|cidr` test."""

    def convert_condition_field_eq_val_cidr(self, cond, state):
        field = self.escape_and_quote_field(cond.field)
        network = str(cond.value.network)
        return f"tripline_cidr({field}, '{network}')"


def simple_fold(text):
    out = []
    for c in text:
        upper = c.upper()
        if len(upper) == 1 and len(upper.lower()) == 1:
            out.append(upper.lower())
        elif len(c.lower()) == 1:
            out.append(c.lower())
        else:
            out.append(c)
    return "".join(out)


def fold_collation(a, b):
    a, b = simple_fold(a), simple_fold(b)
    return (a > b) - (a < b)


def like(pattern, value, escape=None):
    """SQLite's LIKE, ignoring case by simple folding."""
    if pattern is None or value is None:
        return None
    regex, chars = [], iter(simple_fold(pattern))
    for c in chars:
        if escape is not None and c == escape:
            regex.append(re.escape(next(chars, "")))
        elif c == "%":
            regex.append(".*")
        elif c == "_":
            regex.append(".")
        else:
            regex.append(re.escape(c))
    compiled = re.compile("".join(regex), re.DOTALL)
    return compiled.fullmatch(simple_fold(str(value))) is not None


def regexp(pattern, value):
    if value is None:
        return None
    return re.search(pattern, str(value)) is not None


def cidr(value, network):
    if value is None:
        return None
    if "%" in str(value):
        # Python reads a zone (`fe80::1%eth0`); tripline's reading does not.
        return False
    try:
        address = ipaddress.ip_address(str(value))
    except ValueError:
        return False
    block = ipaddress.ip_network(network)
    return address.version == block.version and address in block


def flatten(event, prefix=""):
    flat = {}
    for key, value in event.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


def cell(value, ty):
    """The SQLite value of an event's field, or raise ValueError to skip."""
    if value is None:
        return None
    if isinstance(value, (list, dict, float)):
        raise ValueError("array, object or fraction")
    if ty == "int":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        return int(value) if INT_TEXT.match(value) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def glob(pattern, value):
    """SQLite's GLOB (`value GLOB pattern` calls glob(pattern, value)):
    case-sensitive, `*` any run, `?` one character, `[...]` a class."""
    if pattern is None or value is None:
        return None
    regex, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        start = i + 1 + (pattern[i + 1:i + 2] == "^")
        end = pattern.find("]", start + 1) if c == "[" else -1
        if c == "*":
            regex.append(".*")
        elif c == "?":
            regex.append(".")
        elif end > 0:
            # A `]` right after `[` or `[^` is a member.
            body = "".join("\\" + m if m in "\\^[]" else m for m in pattern[start:end])
            regex.append(f"[{'^' if start > i + 1 else ''}{body}]")
            i = end
        else:
            regex.append(re.escape(c))
        i += 1
    return re.fullmatch("(?s:" + "".join(regex) + ")", str(value)) is not None


def connect():
    con = sqlite3.connect(":memory:")
    con.create_collation("fold", fold_collation)
    con.create_function("like", 2, like, deterministic=True)
    con.create_function("like", 3, like, deterministic=True)
    con.create_function("glob", 2, glob, deterministic=True)
    con.create_function("regexp", 2, regexp, deterministic=True)
    con.create_function("tripline_cidr", 2, cidr, deterministic=True)
    return con


def run_rule(query, fields, types, events):
    """Whether the query selects each event (one table per event)."""
    verdicts = []
    for event in events:
        con = connect()
        columns = ", ".join(
            f'"{name}" ' + ("INTEGER" if types.get(ecs) == "int" else "TEXT COLLATE fold")
            for ecs, name in fields.items()
        )
        con.execute(f"CREATE TABLE logs ({columns})")
        flat = flatten(event)
        row = [cell(flat.get(ecs), types.get(ecs)) for ecs in fields]
        con.execute(f"INSERT INTO logs VALUES ({', '.join('?' * len(row))})", row)
        verdicts.append(len(con.execute(query).fetchall()) == 1)
        con.close()
    return verdicts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", required=True)
    parser.add_argument("--mapping", required=True)
    parser.add_argument("--taxonomy", required=True)
    parser.add_argument("set", nargs="+", help="NAME=DIR: a case set and its Sigma folder")
    args = parser.parse_args()
    cases = json.loads(Path(args.cases).read_text())
    mapping = yaml.safe_load(Path(args.mapping).read_text())["sources"]
    taxonomy = yaml.safe_load(Path(args.taxonomy).read_text())["sources"]
    backend = CidrBackend()
    passed = failed = skipped = refused = 0
    for spec in args.set:
        name, folder = spec.split("=", 1)
        for rule in cases.get(name, []):
            path = Path(folder) / f"{rule['rule']}.yml"
            if not path.exists():
                refused += 1
                continue
            source = rule["source"]
            fields = {e: n for e, n in mapping[source]["fields"].items() if n and e != "@timestamp"}
            # A field is `name: type` or `name: {type: T, description: ...}`.
            types = {
                f: spec["type"] if isinstance(spec, dict) else spec
                for f, spec in taxonomy[source]["fields"].items()
            }
            [query] = backend.convert(SigmaCollection.from_yaml(path.read_text()))
            for test in rule["tests"]:
                label = f"{name}/{rule['rule']} \"{test['name']}\""
                try:
                    verdicts = run_rule(query, fields, types, test["events"])
                except ValueError as err:
                    skipped += 1
                    print(f"skip {label}: {err}")
                    continue
                want = test["expect"] == "match"
                if all(v == want for v in verdicts):
                    passed += 1
                else:
                    failed += 1
                    print(f"FAIL {label}: expect {test['expect']}, query gave {verdicts}\n  {query}")
    print(f"sqlite: {passed} passed, {failed} failed, {skipped} skipped, {refused} rules refused")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
