"""Scheduled-runs simulation: every alert exactly once on a real schedule.

A SIEM runs a rule every F over a look-back; events reach it up to D after
they happen (the rule's `delay`); a scheduler starts a run up to 60 s late.
The contract: across the runs of a schedule, every alert `tripline eval`
raises on the whole stream is raised exactly once, and no other.

For each rule (the bundled pack and a generated pack of match, threshold
and first-seen rules with varied `every`, windows, spans, `delay` and
comparisons, `<` and `<=` included) this script

  1. builds the rules for Sentinel and Splunk (`tripline build --target
     splunk,kql`) and reads the schedule from what was built (Sentinel:
     `queryFrequency`, `queryPeriod`, the query, any suppression; Splunk:
     `cron_schedule`, `dispatch.earliest_time` / `latest_time`, `alert.*`,
     the search);
  2. generates a multi-hour ECS stream: bursts of events that hit the rule
     (for pack rules: the events of the rule's own tests that expect a match
     or an alert, re-timed; for generated rules: synthetic DNS queries) and
     background (the rule's tests that expect no match / no alert), placed at
     random, straddling window edges and slot edges, and exactly on them;
     each event gets an ingestion delay uniform in [0, D], a few get more
     than D ("too late": counted apart);
  3. asks `tripline eval` for the reference: the matches and alerts on the
     whole stream (too-late events included);
  4. plays the schedule. Sentinel: a run started at T (a grid time plus 0-60 s
     of seeded jitter) executes the built query with duckdb-kql on the events
     ingested by T whose TimeGenerated lies in [T - queryPeriod, T], with the
     query's clock (`now()`, `ago()`) set to T. Splunk: a run scheduled at S
     (from the cron) and started at T executes the search with the SPL
     reading (tests/conformance/splunk/spl_reading.py) on the events indexed
     by T whose _time lies in [earliest, latest) computed from S; alert
     suppression (`alert.suppress*`) acts as documented;
     (`addinfo`, if the reading has none, adds the documented info_min_time /
     info_max_time / info_search_time / info_sid fields; a tstats row alerts
     on each event it gathers);
  5. scores each target and rule: missed, duplicated and spurious alerts, and
     apart from them the alerts explained by too-late events.

Rewrites applied to the KQL before duckdb-kql runs it (each exact for the
events generated here; anything else is reported as not run, never as a pass):
  - `_Im_X(starttime=A, endtime=B)`: duckdb-kql takes no named arguments, so
    the call becomes `_Im_X(A, B)`, and `_Im_X` is given to duckdb-kql as a
    stored function `(starttime:datetime, endtime:datetime) { Events | where
    TimeGenerated between (starttime .. endtime) }` over the loaded table
    (what the ASIM parser's time parameters do).
  - `now()` / `ago()`: not rewritten; duckdb-kql's `query_now` pins the
    query's clock to T (one value for the whole query, as Kusto does). The
    query is translated once per rule and run with that clock parameter
    rebound; the first run and the first run with results are checked
    against a fresh translation (a difference makes the rule not run).
  - `bin_at(E, S, datetime(1970-01-01))` -> `bin(E, S)`: DuckDB's bin() is
    aligned on 2000-01-03T00:00:00Z, 946857600 s after the epoch, so the two
    agree whenever S divides 946857600 s (every S dividing a day does);
    otherwise the rule is not run.
  - `ipv4_is_in_any_range(C, R)` / `ipv6_is_in_any_range(C, R)` (which
    duckdb-kql does not have) -> `iff(C in (P...), C in (V...), bool(null))`:
    P the values of C in the stream that hold an address of that family (the
    ipv6 functions also read IPv4), V those inside one of the ranges. The
    result is null where the address does not parse, as Kusto's, so the
    emitted `coalesce(ipv4..., ipv6..., false)` keeps its meaning. Python's
    strict parser reads the plain spellings as Kusto does; a value it rejects
    that still looks like an address (leading zeros, a prefix length, a zone)
    makes the rule not run.
  - The other parsers of a union (`_Im_Dns_MicrosoftOMS(..., eventtype=...)`
    for zone transfers from the Windows DNS tables) are stored functions that
    read no events: every generated event is read by the source's parser.
  - `(?-u:\\b)` -> `\\b` (RE2's `\\b` is ASCII already), as differential.py.
  - First seen's baseline `lookup`, `sort` and `prev()` stages (duckdb-kql
    runs neither `prev()` nor `sort`'s serialized rows) -> their join form
    with the named events and the slot filter kept
    (`first_seen_kql_as_joins`): the same alerts.
  - `mv-expand tl_window = range(tl_slot - A, tl_slot, H) to typeof(datetime)`
    (hopping windows; duckdb-kql has no `range()`) -> `mv-expand tl_hop =
    dynamic([0, 1, ..., A / H]) to typeof(long)` then `extend tl_window =
    tl_slot - tl_hop * H`: the same windows (differential.py `hops_as_list`).

Too-late events: the slot design never alerts on an event later than D (the
run that reports its slot cannot see it). A reference alert that is missed,
or a run alert that is spurious, and that involves a too-late event (the
event itself for a match rule; an event of the alert's group in its window
for a threshold rule) is reported as "late", not as missed / spurious.

Usage: simulate.py [--tripline BIN] [--hours H] [--seed N] [--targets kql,splunk]
                   [--only NAME] [--no-pack] [--no-generated] [--oracle] [--max-start-delay S]
                   [--report-only] [--fail-on-not-run] [--json FILE] [--work DIR] [--jobs N] [-v]
Exit 1 when missed + duplicated + spurious > 0 (unless --report-only), and
with --fail-on-not-run also when a rule could not be run on a target.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import inspect
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time as clock

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def load_module(name, *path):
    """A helper module of another conformance folder, loaded by its path (the
    folders hold modules of the same name, e.g. differential.py)."""
    import importlib.util
    full = os.path.join(ROOT, *path)
    if name in sys.modules:
        return sys.modules[name]
    if not os.path.exists(full):
        raise ImportError(full)
    spec = importlib.util.spec_from_file_location(name, full)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def kql_differential():
    return load_module("kql_differential", "tests", "conformance", "kql", "differential.py")

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
TEST_BASE = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc).timestamp()
#: The stream starts on a day boundary (the grid of every F divides a day).
STREAM_START = int(dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc).timestamp())
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
JITTER = 60
DUCKDB_BIN_ORIGIN = 946857600  # 2000-01-03T00:00:00Z


def duration(text):
    m = re.fullmatch(r"([0-9]+)([smhd])", text.strip())
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return int(m.group(1)) * UNIT[m.group(2)]


def iso(seconds):
    t = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    if t.microsecond:
        return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value):
    """Epoch seconds of an @timestamp as the evaluator reads it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", value):
        seconds = float(value)
    else:
        text = value.strip().replace("z", "Z").replace("t", "T")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        return dt.datetime.fromisoformat(text).timestamp()
    if abs(seconds) >= 100_000_000_000:
        seconds /= 1000
    return seconds


# ----------------------------------------------------------------- .trip files

TOKEN = re.compile(r"""
  (?P<ws>[ \t\r\n]+) | (?P<comment>\#[^\n]*)
| (?P<raw>r(?P<h>\#*)"(?s:.*?)"(?P=h))
| (?P<str>"(?:[^"\\]|\\.)*")
| (?P<dur>[0-9]+[smhd](?![A-Za-z0-9_]))
| (?P<int>-?[0-9]+)
| (?P<word>[@A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
| (?P<punct>==|!=|<=|>=|[{}\[\](),:<>])
| (?P<other>.)
""", re.X | re.S)


def unescape(body):
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n == "u":
            end = body.index("}", i)
            out.append(chr(int(body[i + 3:end], 16)))
            i = end + 1
            continue
        out.append({"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}[n])
        i += 2
    return "".join(out)


def tokens(text):
    out = []
    for m in TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        if kind == "h":
            kind = "raw"
        value = m.group(0)
        if kind == "raw":
            hashes = len(m.group("h") or "")
            value = value[2 + hashes:-1 - hashes]
            kind = "str"
        elif kind == "str":
            value = unescape(value[1:-1])
        elif kind == "int":
            value = int(value)
        out.append((kind, value, m.start()))
    return out


class Parser:
    def __init__(self, toks):
        self.toks, self.i = toks, 0

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else ("eof", None, -1)

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            raise ValueError(f"expected {value!r}, found {tok[1]!r}")
        self.i += 1
        return tok

    def value(self):
        kind, v, _ = self.take()
        if kind in ("str", "int"):
            return v
        if kind == "word" and v in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[v]
        if v == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.value())
                if self.peek()[1] == ",":
                    self.take()
            self.take("]")
            return items
        if v == "{":
            self.i -= 1
            return self.obj()
        raise ValueError(f"unexpected {v!r} in a value")

    def obj(self):
        self.take("{")
        out = {}
        while self.peek()[1] != "}":
            kind, key, _ = self.take()
            self.take(":")
            value = self.value()
            if isinstance(value, dict):
                for k, v in value.items():
                    out[f"{key}.{k}"] = v
            else:
                out[key] = value
            if self.peek()[1] == ",":
                self.take()
        self.take("}")
        return out


def flatten(obj, prefix=""):
    out = {}
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def parse_test(p, folder):
    """A test block's events (with epoch times) and whether it expects alerts."""
    name = p.take()[1]
    p.take("{")
    events, expects, counter = [], [], 0
    while p.peek()[1] != "}":
        kind, word, _ = p.take()
        if word == "event":
            ev = p.obj()
            if "@timestamp" not in ev:
                ev["@timestamp"] = TEST_BASE + counter
            counter += 1
            events.append(ev)
        elif word == "repeat":
            n = p.take()[1]
            p.take("every")
            step = duration(p.take()[1])
            ev = p.obj()
            start = parse_time(ev["@timestamp"]) if "@timestamp" in ev else TEST_BASE + counter
            counter += 1
            for k in range(n):
                copy = dict(ev)
                copy["@timestamp"] = start + k * step
                events.append(copy)
        elif word == "events":
            path = os.path.join(folder, p.take()[1])
            for line in open(path, encoding="utf-8"):
                if not line.strip():
                    continue
                ev = flatten(json.loads(line))
                if "@timestamp" not in ev:
                    ev["@timestamp"] = TEST_BASE + counter
                counter += 1
                events.append(ev)
        elif word == "expect":
            kind2, what, _ = p.take()
            if what in ("match", "nomatch"):
                expects.append(what)
            elif what == "alert":
                nxt = p.peek()
                if nxt[0] == "int":
                    expects.append("alert" if p.take()[1] > 0 else "noalert")
                else:
                    p.obj()
                    expects.append("alert")
        else:
            raise ValueError(f"unexpected {word!r} in test {name!r}")
    p.take("}")
    for ev in events:
        ev["@timestamp"] = parse_time(ev["@timestamp"])
    positive = any(e in ("match", "alert") for e in expects)
    negative = any(e in ("nomatch", "noalert") for e in expects)
    return {"name": name, "events": events, "positive": positive and not negative, "negative": negative}


THRESHOLD = re.compile(r"^\s*threshold\s+(count|distinct)\(([^)]*)\)\s*(?:by\s+(.*?)\s+)?over\s+([0-9]+[smhd])(?:\s+step\s+([0-9]+[smhd]))?\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+)", re.M)


def read_rules(path):
    """Every rule of a .trip file: name, source, schedule, threshold, tests."""
    text = open(path, encoding="utf-8").read()
    toks = tokens(text)
    rules = []
    i = 0
    while i < len(toks):
        kind, v, pos = toks[i]
        if kind == "word" and v == "rule" and i + 2 < len(toks) and toks[i + 2][1] == "{":
            depth, j = 0, i + 2
            while True:
                if toks[j][1] == "{":
                    depth += 1
                elif toks[j][1] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            body = text[pos:toks[j][2] + 1]
            rule = {"name": toks[i + 1][1], "file": path, "tests": []}
            for stmt in ("every", "delay", "lookback"):
                m = re.search(rf"^\s*{stmt}\s+([0-9]+[smhd])\s*$", body, re.M)
                rule[stmt] = duration(m.group(1)) if m else None
            rule["every"] = rule["every"] or 300
            rule["delay"] = rule["delay"] if rule["delay"] is not None else 300
            rule["source"] = re.search(r"^\s*from\s+(\w+)", body, re.M).group(1)
            m = THRESHOLD.search(body)
            rule["threshold"] = None
            if m:
                rule["threshold"] = {
                    "fn": m.group(1), "arg": m.group(2).strip(),
                    "by": [b.strip() for b in (m.group(3) or "").split(",") if b.strip()],
                    "window": duration(m.group(4)), "op": m.group(6), "value": int(m.group(7)),
                    "step": duration(m.group(5)) if m.group(5) else None,
                }
            rule["first_seen"] = first_seen_of(body)
            # the test blocks, at depth 1 of the rule
            k, depth = i + 3, 1
            while k < j:
                t = toks[k]
                if t[1] == "{":
                    depth += 1
                elif t[1] == "}":
                    depth -= 1
                elif depth == 1 and t[0] == "word" and t[1] == "test" and toks[k + 1][0] == "str":
                    p = Parser(toks[:j])
                    p.i = k + 1
                    rule["tests"].append(parse_test(p, os.path.dirname(path)))
                    k = p.i
                    continue
                k += 1
            rules.append(rule)
            i = j + 1
            continue
        i += 1
    return rules


# ------------------------------------------------------------ generated rules

EVERY = [300, 600, 900, 3600]
WINDOWS = [300, 600, 3600, 1800]
DELAYS = [60, 300, 420, 900]
OPS = [(">=", 3), (">", 2), ("<", 3), ("<=", 2)]
#: Hopping rules: (every, window, step, delay, comparison).
HOPPING = [(300, 600, 120, 300, (">=", 3)), (600, 1800, 300, 420, (">", 2)),
           (300, 300, 60, 60, ("<", 3)), (900, 3600, 600, 900, (">=", 3))]


def fmt_duration(seconds):
    for unit in ("d", "h", "m"):
        if seconds % UNIT[unit] == 0:
            return f"{seconds // UNIT[unit]}{unit}"
    return f"{seconds}s"


def generated_pack(folder):
    """Threshold rules over every (every, window) pair, delays and comparisons
    cycling through the lists, and match rules for each every x delay."""
    os.makedirs(folder, exist_ok=True)
    blocks, n = [], 0

    def rule(name, every, delay, threshold):
        nonlocal n
        n += 1
        lines = [
            f"rule {name} {{",
            '  title "Schedule simulation rule"',
            f'  id "5c4ed01e-0000-4000-8000-{n:012x}"',
            "  level low",
            "  attack T1590",
            '  description "Generated by tests/conformance/schedule/simulate.py"',
            f"  every {fmt_duration(every)}",
            f"  delay {fmt_duration(delay)}",
            "  from dns",
            f'  where dns.question.name endswith ".{name.replace("_", "-")}.test"',
        ]
        if threshold:
            lines.append(f"  {threshold}")
        lines.append("}")
        blocks.append("\n".join(lines) + "\n")

    k = 0
    for every in EVERY:
        for window in WINDOWS:
            delay = DELAYS[k % len(DELAYS)]
            op, value = OPS[(k // 2) % len(OPS)]
            agg = "distinct(dns.question.name)" if k % 3 == 2 else "count()"
            rule(f"sim_t_{fmt_duration(every)}_{fmt_duration(window)}_{fmt_duration(delay)}", every, delay,
                 f"threshold {agg} by source.ip over {fmt_duration(window)} {op} {value}")
            k += 1
    for every in EVERY:
        for delay in DELAYS:
            rule(f"sim_m_{fmt_duration(every)}_{fmt_duration(delay)}", every, delay, None)
    # Hopping windows (`over W step H`): one alert per run of satisfying
    # windows, at its first, whichever run's slot holds each window's end.
    # (Written by the kql target; a target that refuses them reports a gap.)
    for every, window, step, delay, (op, value) in HOPPING:
        agg = "count()"
        rule(f"sim_h_{fmt_duration(every)}_{fmt_duration(window)}_{fmt_duration(step)}_{fmt_duration(delay)}",
             every, delay, f"threshold {agg} by source.ip over {fmt_duration(window)} step {fmt_duration(step)} {op} {value}")
    for every, span, delay in FIRST_SEEN:
        rule(f"sim_f_{fmt_duration(every)}_{fmt_duration(span)}_{fmt_duration(delay)}", every, delay,
             f"first seen source.ip in {fmt_duration(span)}")
    path = os.path.join(folder, "generated.trip")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(blocks))
    return path


def generated_templates(rule, rng):
    """Bursts for a generated rule: positive (hits the filter) and background."""
    suffix = "." + rule["name"].replace("_", "-") + ".test"
    pos, neg = [], []
    th = rule["threshold"]
    for b in range(12):
        ip = f"198.51.100.{b + 1}"
        if th:
            count = rng.randint(1, th["value"] + 3)
            span = rng.randint(0, 2 * th["window"])
        else:
            count = rng.randint(1, 4)
            span = rng.randint(0, 2 * rule["every"])
        events = []
        for c in range(count):
            name = f"h{rng.randint(0, 3) if rng.random() < 0.3 else c}{suffix}"
            events.append({"@timestamp": float(rng.randint(0, span)) if c else 0.0,
                           "dns.question.name": name, "source.ip": ip, "dns.question.type": "A"})
        pos.append({"name": f"burst {b}", "events": events})
    for b in range(4):
        events = [{"@timestamp": float(c * 7), "dns.question.name": f"www{c}.example.com",
                   "source.ip": f"203.0.113.{b + 1}", "dns.question.type": "A"} for c in range(5)]
        neg.append({"name": f"background {b}", "events": events})
    return pos, neg


# ------------------------------------------------------------------- streams

def representable(event):
    """Whether both SIEM tables can hold the event as the evaluator reads it:
    one value per field, and a URL whose parts the query derives back."""
    for k, v in event.items():
        if isinstance(v, (list, dict)):
            return "an array or object value"
        if isinstance(v, float) and k != "@timestamp":
            return "a fractional number"
    if "url.original" in event and ("url.path" in event or "url.query" in event):
        # The KQL query derives UrlPath / UrlQuery from Url (the mapping's
        # `extend`): only events whose parts are those of url.original fit.
        original = str(event["url.original"])
        path = re.match(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?[^/?#]*([^?#]*)", original).group(1)
        query = re.match(r"^[^?#]*\?([^#]*)", original)
        if "url.path" in event and event["url.path"] != path:
            return "url.path not the path of url.original"
        if "url.query" in event and event["url.query"] != (query.group(1) if query else ""):
            return "url.query not the query of url.original"
    for k in ("url.path", "url.query"):
        if isinstance(event.get(k), str) and re.search(r"[?#]", event[k]):
            return f"{k} holding ? or #"
    if isinstance(event.get("url.path"), str) and event["url.path"] and not event["url.path"].startswith("/"):
        return "url.path without a leading /"
    return None


def clusters(templates, gap=6 * 3600):
    """Templates split where their events are more than `gap` apart: a test
    that mixes generated times (2026-01-01) with written ones is several
    bursts, each kept with its own timing."""
    out = []
    for t in templates:
        events = sorted(t["events"], key=lambda e: e["@timestamp"])
        part = []
        for e in events:
            if part and e["@timestamp"] - part[-1]["@timestamp"] > gap:
                out.append({**t, "events": part})
                part = []
            part.append(e)
        if part:
            out.append({**t, "events": part})
    return out


def make_stream(rule, pos, neg, rng, hours):
    """Events (time, ingest, fields), sorted by time; ids are positions."""
    F, D = rule["every"], rule["delay"]
    W = rule["threshold"]["window"] if rule["threshold"] else F
    start, end = STREAM_START, STREAM_START + hours * 3600
    placed = []

    def place(template, how):
        times = [e["@timestamp"] for e in template["events"]]
        t0 = min(times)
        span = max(times) - t0
        edge = rng.choice([W, F]) if how != "random" else None
        if how == "random":
            at = rng.uniform(start, end - span - 1)
        else:
            b = rng.randrange(start // edge + 1, int(end - span) // edge) * edge
            if how == "straddle":
                at = b - rng.uniform(0, span) if span else b - rng.choice([0, 1])
            elif how == "starts-on-edge":
                at = b
            else:  # ends on the edge, or just before it
                at = b - span - rng.choice([0, 1])
        at = round(at)
        for ev in template["events"]:
            e = dict(ev)
            e["@timestamp"] = at + (ev["@timestamp"] - t0)
            placed.append(e)

    for n in range(max(24, hours * 4)):
        if pos:
            place(rng.choice(pos), rng.choice(["random", "straddle", "straddle", "starts-on-edge", "ends-on-edge"]))
    for n in range(max(12, hours * 2)):
        if neg:
            place(rng.choice(neg), rng.choice(["random", "straddle"]))
    placed = [e for e in placed if start <= e["@timestamp"] < end]
    placed.sort(key=lambda e: e["@timestamp"])
    stream = []
    for n, e in enumerate(placed):
        if rng.random() < 0.02:
            delay = rng.randint(D + 1, D + 2 * F)
        else:
            delay = rng.choice([0, D]) if rng.random() < 0.1 else rng.randint(0, D)
        t = e.pop("@timestamp")
        stream.append({"id": n, "time": t, "ingest": t + delay, "late": delay > D, "fields": e})
    return stream


def write_ecs(stream, path):
    with open(path, "w", encoding="utf-8") as f:
        for ev in stream:
            f.write(json.dumps({"@timestamp": iso(ev["time"]), **ev["fields"]}, ensure_ascii=False) + "\n")


def reference(tripline, rules_path, source, events_path, name):
    out = subprocess.run([tripline, "eval", "--rules", rules_path, "--source", source, events_path],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"tripline eval failed for {name}:\n{out.stderr}")
    matches, alerts = set(), []
    for line in out.stdout.splitlines():
        rec = json.loads(line)
        if rec.get("rule") != name:
            continue
        if rec.get("kind") == "alert":
            alerts.append(rec)
        else:
            matches.add(rec["line"] - 1)
    return matches, alerts


def fold(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).casefold()


# ------------------------------------------------------------------ Sentinel

class Gap(Exception):
    """A case that could not be executed faithfully (reported, never a pass)."""


def split_args(text, start):
    """The arguments of the call whose '(' is at text[start]; and the index
    after its ')'."""
    depth, i, args, cur = 0, start, [], []
    while i < len(text):
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while text[j] != c:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c == "@" and i + 1 < len(text) and text[i + 1] in "\"'":
            q = text[i + 1]
            j = text.index(q, i + 2)
            while j + 1 < len(text) and text[j + 1] == q:
                j = text.index(q, j + 2)
            cur.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i + 1
        elif c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    raise ValueError("unbalanced call")


def rewrite_calls(query, name, fn):
    out, pos = [], 0
    pattern = re.compile(rf"\b{name}\s*\(")
    while True:
        m = pattern.search(query, pos)
        if not m:
            out.append(query[pos:])
            return "".join(out)
        args, end = split_args(query, m.end() - 1)
        out.append(query[pos:m.start()])
        out.append(fn(args))
        pos = end


def read_address(value):
    """The address Kusto's ipv4_/ipv6_ functions read in a value, or None when
    they read none. Python's strict parser agrees with Kusto on the plain
    forms; a value it rejects that looks like an address in another spelling
    (leading zeros, a prefix length, a zone) is not decided here: a Gap."""
    if not isinstance(value, str):
        return None
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        if value and re.fullmatch(r"[0-9A-Fa-f:.%/]+", value) and re.search(r"[.:]", value):
            raise Gap(f"an address spelling Kusto may read otherwise: {value!r}")
        return None
    if "%" in value:
        raise Gap(f"an address with a zone: {value!r}")
    return addr


class KqlRule:
    def __init__(self, built, name, mapping, schema):
        text = open(os.path.join(built, "kql", f"{name}.yaml"), encoding="utf-8").read()
        doc = yaml.safe_load(text)
        self.frequency = duration(str(doc["queryFrequency"]))
        self.period = duration(str(doc["queryPeriod"]))
        self.query = open(os.path.join(built, "kql", "queries", f"{name}.kql"), encoding="utf-8").read()
        if doc["query"].strip() != self.query.strip():
            raise Gap("the YAML's query differs from queries/NAME.kql")
        self.grouping = (doc.get("eventGroupingSettings") or {}).get("aggregationKind", "SingleAlert")
        self.suppression = duration(str(doc["suppressionDuration"])) if doc.get("suppressionEnabled") else 0
        self.trigger = (doc.get("triggerOperator", "gt"), int(doc.get("triggerThreshold", 0)))
        self.mapping = mapping
        self.schema = schema
        self.parser = None
        self.prepare()

    def prepare(self):
        # An alert's context sample: `make_set_if(X, P)` as
        # `make_set(iff(P, pack_array(X), dynamic([])))`, which duckdb-kql
        # runs; equal, since `make_set` of arrays unions their elements and
        # the empty array adds none (as tests/conformance/kql/differential.py).
        q = re.sub(r'make_set_if\((tostring\([A-Za-z_][A-Za-z0-9_]*\)), (isnotempty\([A-Za-z_][A-Za-z0-9_]*\))\)',
                   r'make_set(iff(\2, pack_array(\1), dynamic([])))', self.query)
        self.functions = []
        main = self.mapping.get("parser")
        for parser in sorted(set(re.findall(r"\b(_Im_[A-Za-z_]+)\(starttime=", q))):
            params = []

            def positional(args, parser=parser, params=params):
                named = dict((k.strip(), v.strip()) for k, v in (a.split("=", 1) for a in args))
                if list(named)[:2] != ["starttime", "endtime"]:
                    raise Gap(f"{parser} called with parameters {list(named)}")
                if params and params != list(named):
                    raise Gap(f"{parser} called with different parameters")
                params[:] = list(named)
                return f"{parser}(" + ", ".join(named.values()) + ")"
            q = rewrite_calls(q, parser, positional)
            extra = "".join(f", {p}:string" for p in params[2:])
            body = "Events | where TimeGenerated between (starttime .. endtime)"
            if parser != main:
                # another parser of a union (zone transfers from the Windows
                # DNS tables): every generated event is read by the source's
                # own parser, this one reads none
                body += " | where false"
            self.functions.append(f"function {parser}(starttime:datetime, endtime:datetime{extra}) {{ {body} }}")
        self.parser = main if self.functions else None
        def bin_at(args):
            if len(args) != 3 or args[2].replace(" ", "") not in ("datetime(1970-01-01)", "datetime(1970-01-01T00:00:00Z)"):
                raise Gap(f"bin_at with a fixed point other than the epoch: {args}")
            size = duration(args[1])
            if DUCKDB_BIN_ORIGIN % size:
                raise Gap(f"bin_at over {args[1]}, which DuckDB's bin() does not align on the epoch")
            return f"bin({args[0]}, {args[1]})"
        q = rewrite_calls(q, "bin_at", bin_at)
        # `mv-expand ... range()` of hopping windows as a literal list of hops
        q = kql_differential().hops_as_list(q)
        q = q.replace(r"(?-u:\b)", r"\b").replace(r"(?-u:\B)", r"\B")
        q = first_seen_kql_as_joins(q)
        self.prepared = q

    def runnable(self, con):
        """The prepared query with the range calls turned into value lists
        for the rows now in Events."""
        cache = {}

        def values(column):
            if column not in cache:
                if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column):
                    raise Gap(f"a range test on an expression: {column}")
                cache[column] = [r[0] for r in con.execute(f'SELECT DISTINCT "{column}" FROM Events').fetchall()]
            return cache[column]

        def ranges(version):
            def fn(args):
                column = args[0]
                nets = [ipaddress.ip_network(r, strict=False) for a in args[1:] for r in re.findall(r'"([^"]*)"', a)]
                valid, inside = [], []
                for v in values(column):
                    addr = read_address(v)
                    if addr is None:
                        continue
                    if version == 4 and addr.version != 4:
                        continue
                    if version == 6 and addr.version == 4:
                        addr = ipaddress.IPv6Address("::ffff:" + str(addr))
                    valid.append(v)
                    if any(addr.version == n.version and addr in n for n in nets):
                        inside.append(v)
                def in_list(vs):
                    return f"{column} in (" + ", ".join(json.dumps(v) for v in sorted(vs)) + ")" if vs else "false"
                # null where the call's address does not parse, as Kusto's
                return f"iff({in_list(valid)}, {in_list(inside)}, bool(null))"
            return fn
        q = rewrite_calls(self.prepared, "ipv4_is_in_any_range", ranges(4))
        q = rewrite_calls(q, "ipv6_is_in_any_range", ranges(6))
        return q


def kql_row(event, fields, columns, cell):
    """The ASIM row of an ECS event."""
    values = {}
    for field, column in fields.items():
        if field == "@timestamp" or column is None or field not in event["fields"]:
            continue
        values[column] = event["fields"][field]
    f = event["fields"]
    if "Url" in columns and "url.original" not in f and ("url.path" in f or "url.query" in f):
        url = str(f.get("url.path", "") or "")
        if f.get("url.query") not in (None, ""):
            url += "?" + str(f["url.query"])
        values["Url"] = url
    row = []
    for name in sorted(columns):
        if name == "TimeGenerated":
            row.append(dt.datetime.fromtimestamp(event["time"], dt.timezone.utc).replace(tzinfo=None))
            continue
        try:
            value = cell(values.get(name), columns[name])
        except ValueError as err:
            raise Gap(f"event {event['id']}: {err}")
        if value is None and columns[name] == "string":
            value = ""
        row.append(value)
    return row


def run_kql(rule, built, stream, rng, hours, context):
    import duckdb_kql
    SQL_TYPES, cell = kql_differential().SQL_TYPES, kql_differential().cell
    name = rule["name"]
    mapping = context["kql_mapping"]["sources"][rule["source"]]
    schema = context["kql_schema"][mapping["schema"]]
    k = KqlRule(built, name, mapping, schema)
    _STREAMS[name] = stream
    con = duckdb_kql.connect()
    names = sorted(schema)
    rows = [kql_row(e, mapping["fields"], schema, cell) for e in stream]
    # Only the columns the stream fills are stored; the others are written as
    # their empty value ("" for strings, null otherwise) when a run's table is made.
    used = [i for i, n in enumerate(names) if n == "TimeGenerated" or any(r[i] not in (None, "") for r in rows)]
    ddl = ", ".join(f'"{names[i]}" {SQL_TYPES.get(schema[names[i]], "VARCHAR")}' for i in used)
    con.execute(f"CREATE TABLE Stream ({ddl}, TlEventId BIGINT, TlIngest DOUBLE, TlTime DOUBLE)")
    if rows:
        # Bulk load through a JSON Lines file (executemany is slow): JSON keeps
        # null apart from "" and the columns are typed explicitly.
        types = {names[i]: SQL_TYPES.get(schema[names[i]], "VARCHAR") for i in used}
        types.update({"TlEventId": "BIGINT", "TlIngest": "DOUBLE", "TlTime": "DOUBLE"})
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
            for r, e in zip(rows, stream):
                rec = {names[i]: (r[i].isoformat() if isinstance(r[i], dt.datetime) else r[i]) for i in used}
                rec.update({"TlEventId": e["id"], "TlIngest": e["ingest"], "TlTime": e["time"]})
                f.write(json.dumps(rec) + "\n")
        spec = "{" + ", ".join(f"'{n}': '{t}'" for n, t in types.items()) + "}"
        con.execute(f"INSERT INTO Stream SELECT * FROM read_json('{f.name}', format='newline_delimited', columns={spec})")
        os.unlink(f.name)
        if con.execute("SELECT count(*) FROM Stream").fetchone()[0] != len(rows):
            raise Gap("the stream did not load whole")
    select = []
    for i, n in enumerate(names):
        ty = SQL_TYPES.get(schema[n], "VARCHAR")
        if i in used:
            select.append(f'"{n}"')
        elif schema[n] == "string":
            select.append(f"CAST('' AS VARCHAR) AS \"{n}\"")
        else:
            select.append(f'CAST(NULL AS {ty}) AS "{n}"')
    select = ", ".join(select)
    functions = k.functions
    # The range calls become value lists over the whole stream: every row of
    # every run comes from it, so the lists answer as the calls would.
    con.execute(f"CREATE OR REPLACE TABLE Events AS SELECT {select}, TlEventId FROM Stream")
    query = k.runnable(con)
    F = k.frequency
    end = STREAM_START + hours * 3600 + k.period + rule["delay"] + 3 * F
    raised = collections.Counter()
    runs, suppressed_until, translated, checked_with_rows = 0, -1, None, False
    for slot in range(STREAM_START // F, end // F + 1):
        T = slot * F + rng.randint(0, context.get("jitter", JITTER))
        if T < suppressed_until:
            continue
        con.execute(f"CREATE OR REPLACE TABLE Events AS SELECT {select}, TlEventId FROM Stream "
                    "WHERE TlIngest <= ? AND TlTime >= ? AND TlTime <= ?", [T, T - k.period, T])
        now = dt.datetime.fromtimestamp(T, dt.timezone.utc).replace(tzinfo=None)
        try:
            if translated is None:
                from duckdb_kql.engine import schema as table_schema
                translated = duckdb_kql.to_sql(query, schema=table_schema(con), query_now=now, functions=functions)
            params = dict(translated.parameters)
            if "kqlnow" in params:
                params["kqlnow"] = now
            result = con.execute(str(translated), params) if params else con.execute(str(translated))
            columns = [d[0] for d in result.description]
            out = [dict(zip(columns, r)) for r in result.fetchall()]
            if runs == 0 or (out and not checked_with_rows):
                checked_with_rows = checked_with_rows or bool(out)
                # the translation reused with the clock rebound answers as a fresh one
                check = duckdb_kql.kql(con, query, query_now=now, functions=functions)
                if sorted(map(repr, check.fetchall())) != sorted(repr(tuple(r.values())) for r in out):
                    raise Gap("a translation reused with another now() does not answer as a fresh one")
        except duckdb_kql.KqlUnsupportedError as err:
            raise Gap(f"duckdb-kql: {str(err).splitlines()[0]}")
        except duckdb_kql.KqlError as err:
            raise Gap(f"the query failed in duckdb-kql: {str(err).splitlines()[0]}")
        runs += 1
        op, threshold = k.trigger
        if not {"gt": len(out) > threshold, "ge": len(out) >= threshold, "lt": len(out) < threshold,
                "eq": len(out) == threshold}.get(op, len(out) > threshold):
            continue
        if k.suppression and out:
            suppressed_until = T + k.suppression
        for row in out:
            identity = kql_identity(rule, row, mapping)
            if context.get("oracle") and not in_slot(rule, identity, slot_end(T, F, rule["delay"]), stream):
                continue
            raised[identity] += 1
    return raised, {"runs": runs, "F": F, "period": k.period, "grouping": k.grouping}


def slot_end(T, F, D):
    """The end S of the slot a run started at T reports (the planned design)."""
    return (int(T) // F) * F - -(-D // F) * F


def in_slot(rule, identity, S, stream):
    """--oracle: whether the identity belongs to the slot [S - F, S) (an event)
    or (S - F, S] (a window's end)."""
    F = rule["every"]
    if identity[0] == "event":
        return S - F <= stream[identity[1]]["time"] < S
    if identity[0] == "first":
        return S - F <= identity[1] < S
    end = identity[1] + rule["threshold"]["window"]
    return S - F < end <= S


def kql_identity(rule, row, mapping):
    if rule.get("first_seen"):
        return first_seen_kql_identity(rule, row)
    if not rule["threshold"]:
        if "TlEventId" not in row:
            raise Gap("the query's rows do not carry the event (no TlEventId column)")
        return ("event", int(row["TlEventId"]))
    start = row.get("TimeGenerated")
    if not isinstance(start, dt.datetime):
        raise Gap("a threshold row without its window start in TimeGenerated")
    start = start.replace(tzinfo=dt.timezone.utc).timestamp()
    group = tuple(fold(row.get(mapping["fields"].get(f))) for f in rule["threshold"]["by"])
    return ("window", int(start), group)


# ------------------------------------------------------ first seen (Sentinel)
#
# `first seen FIELDS in D` rules: an alert is an instant and a combination
# (identity ("first", time, folded values)); the run owning it is the one
# whose slot holds its event.

#: Generated first-seen rules: (every, span D, delay).
FIRST_SEEN = [(300, 1800, 300), (600, 3600, 420), (900, 600, 60)]
FIRST_SEEN_RE = re.compile(r"^\s*first\s+seen\s+(.*?)\s+in\s+([0-9]+[smhd])\s*$", re.M)


def first_seen_of(body):
    """A rule's `first seen`: its fields and span, or None."""
    m = FIRST_SEEN_RE.search(body)
    if not m:
        return None
    return {"by": [f.strip() for f in m.group(1).split(",")], "span": duration(m.group(2))}


def first_seen_expected(rule, alerts):
    return {("first", int(parse_time(a["first_time"])),
             tuple(fold(a["group"].get(f)) for f in rule["first_seen"]["by"])): False for a in alerts}


def first_seen_late(rule, identity, stream_index):
    """Whether a too-late event of the combination lies in [t - D, t]: the
    alert's own event, or one the run could not see before it."""
    _, t, group = identity
    D = rule["first_seen"]["span"]
    return any(t - D <= e["time"] <= t and tuple(fold(e["fields"].get(f)) for f in rule["first_seen"]["by"]) == group
               for e in stream_index["late_events"])


_STREAMS = {}


def first_seen_kql_identity(rule, row):
    time = row.get("TimeGenerated")
    if not isinstance(time, dt.datetime):
        raise Gap("a first-seen row without its TimeGenerated")
    if "TlEventId" not in row:
        raise Gap("a first-seen row without its event (no TlEventId column)")
    event = _STREAMS[rule["name"]][int(row["TlEventId"])]
    group = tuple(fold(event["fields"].get(f)) for f in rule["first_seen"]["by"])
    return ("first", int(time.replace(tzinfo=dt.timezone.utc).timestamp()), group)


def first_seen_kql_as_joins(query):
    """The query's baseline `lookup` and `sort ... prev()` stages (duckdb-kql
    runs neither `prev()` nor `sort`'s serialized rows) as their join form,
    the named events and the slot filter kept: an event of the slot alerts
    when no event of its combination lies in [t - D, t); of tied events
    (one combination, one instant) one row is kept
    (tests/conformance/kql/generated.py, `first_seen_as_joins`, says why the
    two are the same). Other queries are returned as they are."""
    if "let tl_events = " not in query or "prev(" not in query:
        return query
    lines = query.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("| extend tl_key") and line.endswith(";"))
    keys = ", ".join(re.findall(r"tl_key[0-9]+", next(line for line in lines if line.startswith("| sort by"))))
    span = re.search(r"> ([0-9]+[smhd])$", query, re.M).group(1)
    slot = re.search(r"^\| where TimeGenerated >= (slot_end - [0-9]+[smhd])$", query, re.M).group(1)
    return "\n".join(lines[:end + 1]) + "\n" + (
        f"let tl_known = tl_events | project {keys}, tl_t0 = TimeGenerated\n"
        f"| join kind=inner (tl_events | project {keys}, tl_t1 = TimeGenerated) on {keys}\n"
        f"| where tl_t0 < tl_t1 and tl_t1 - tl_t0 <= {span}\n"
        f"| distinct {keys}, TimeGenerated = tl_t1;\n"
        f"tl_events\n| where TimeGenerated >= {slot}\n"
        f"| summarize TlEventId = min(TlEventId) by {keys}, TimeGenerated\n"
        f"| join kind=leftanti tl_known on {keys}, TimeGenerated"
    )


# -------------------------------------------------------------------- Splunk

def parse_conf(text):
    stanzas, current = {}, None
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.fullmatch(r"\[(.*)\]", line.strip())
        if m:
            current = stanzas.setdefault(m.group(1), {})
            continue
        key, _, value = line.partition("=")
        current[key.strip()] = value.strip()
    return stanzas


def cron_field(text, low, high):
    values = set()
    for part in text.split(","):
        m = re.fullmatch(r"(\*|[0-9]+(?:-[0-9]+)?)(?:/([0-9]+))?", part)
        if not m:
            raise Gap(f"cron field {text!r}")
        rng_, step = m.group(1), int(m.group(2) or 1)
        if rng_ == "*":
            a, b = low, high
        elif "-" in rng_:
            a, b = map(int, rng_.split("-"))
        else:
            a = int(rng_)
            b = high if m.group(2) else a
        values.update(range(a, b + 1, step))
    return values


def cron_times(cron, start, end):
    fields = cron.split()
    if len(fields) != 5 or fields[2:] != ["*", "*", "*"]:
        raise Gap(f"cron_schedule {cron!r} (only minute and hour fields are simulated)")
    minutes, hours = cron_field(fields[0], 0, 59), cron_field(fields[1], 0, 23)
    out = []
    for t in range(start - start % 60, end, 60):
        d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
        if d.minute in minutes and d.hour in hours:
            out.append(t)
    return out


SPLUNK_UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
                "minute": 60, "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
                "d": 86400, "day": 86400, "days": 86400}


def relative_time(text, base):
    """A dispatch time modifier applied to the scheduled time (Splunk's time
    modifier syntax: `now`, epoch seconds, `[+-]N unit` offsets, `@unit` snaps
    rounding down in UTC)."""
    text = text.strip()
    if text in ("now", ""):
        return base
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
        return float(text)
    t = base
    for m in re.finditer(r"([+-][0-9]*)([a-z]+)|@([0-9]*)([a-z]+)", text):
        if m.group(2):
            n = m.group(1)
            count = int(n[1:] or "1") * (-1 if n[0] == "-" else 1)
            if m.group(2) not in SPLUNK_UNITS:
                raise Gap(f"time unit {m.group(2)!r} in {text!r}")
            t += count * SPLUNK_UNITS[m.group(2)]
        else:
            if m.group(4) not in SPLUNK_UNITS:
                raise Gap(f"snap unit {m.group(4)!r} in {text!r}")
            size = SPLUNK_UNITS[m.group(4)] * int(m.group(3) or "1")
            t -= t % size
    if re.sub(r"([+-][0-9]*[a-z]+|@[0-9]*[a-z]+)", "", text):
        raise Gap(f"time modifier {text!r}")
    return t


def with_addinfo(base):
    """The SPL reading plus `addinfo`, when the reading has none: Splunk's
    Search Reference (https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Addinfo)
    says it adds to each result info_min_time and info_max_time (the
    search's time range: the dispatch earliest and latest times, in epoch
    seconds), info_search_time (when the search ran) and info_sid; it takes
    no arguments."""
    class Reading(base):
        tl_info = None

        def cmd_addinfo(self, text, rows, events):
            if text.strip():
                raise Gap(f"addinfo with arguments: {text!r}")
            info = {**self.tl_info, "info_sid": "scheduler_tripline"}
            return [{**r, **info} for r in rows]
    return Reading


def splunk_event(event, mapping, tags):
    out = {}
    for field, column in mapping["fields"].items():
        if field == "@timestamp" or column is None or field not in event["fields"]:
            continue
        v = event["fields"][field]
        out[column] = v if not isinstance(v, bool) else ("true" if v else "false")
    out["_time"] = event["time"]
    out["tag"] = list(tags)
    out["index"] = "main"
    out["tl_event_id"] = event["id"]
    return out


def run_splunk(rule, built, stream, rng, hours, context):
    try:
        spl_reading = load_module("spl_reading", "tests", "conformance", "splunk", "spl_reading.py")
    except ImportError:
        raise Gap("the SPL reading (tests/conformance/splunk/spl_reading.py) is not available")
    name = rule["name"]
    conf_dir = os.path.join(built, "splunk", "tripline", "default")
    stanza = parse_conf(open(os.path.join(conf_dir, "savedsearches.conf"), encoding="utf-8").read())[f"tripline - {name}"]
    search = stanza["search"]
    spl_file = os.path.join(built, "splunk", "queries", f"{name}.spl")
    if os.path.exists(spl_file) and " ".join(open(spl_file, encoding="utf-8").read().split("\n")).strip() != search.strip():
        raise Gap("savedsearches.conf's search differs from queries/NAME.spl")
    reading_class = spl_reading.Reading
    if not hasattr(reading_class, "cmd_addinfo"):
        reading_class = with_addinfo(reading_class)
    macros = spl_reading.parse_macros_conf(open(os.path.join(conf_dir, "macros.conf"), encoding="utf-8").read())
    reading = reading_class(macros=macros)
    mapping = context["splunk_mapping"]["sources"][rule["source"]]
    tags = re.findall(r"(?<!NOT )\btag=(\S+)", mapping.get("base_search", ""))
    events = [splunk_event(e, mapping, tags) for e in stream]
    ingest = [e["ingest"] for e in stream]
    suppress = stanza.get("alert.suppress", "0") == "1"
    suppress_fields = [f.strip() for f in stanza.get("alert.suppress.fields", "").split(",") if f.strip()]
    period = stanza.get("alert.suppress.period", "0s")
    m = re.fullmatch(r"([0-9]+)([smhd]?)", period)
    period = int(m.group(1)) * UNIT.get(m.group(2) or "s", 1)
    digest = stanza.get("alert.digest_mode", "1") == "1"
    earliest_spec = stanza.get("dispatch.earliest_time", "")
    latest_spec = stanza.get("dispatch.latest_time", "now")
    run_params = inspect.signature(reading.run).parameters
    reach = STREAM_START - (relative_time(earliest_spec, STREAM_START) if earliest_spec else STREAM_START - 86400)
    end = STREAM_START + hours * 3600 + max(reach, 0) + rule["delay"] + 3 * rule["every"] + 3600
    times = cron_times(stanza["cron_schedule"], STREAM_START, end)
    raised = collections.Counter()
    suppressed = {}
    digest_until = -1
    runs = 0
    for S in times:
        T = S + rng.randint(0, context.get("jitter", JITTER))
        earliest = relative_time(earliest_spec, S) if earliest_spec else 0
        latest = relative_time(latest_spec, S)
        visible = [e for e, i in zip(events, ingest) if i <= T and earliest <= e["_time"] < latest]
        kwargs = {}
        info = {"info_min_time": earliest, "info_max_time": latest, "info_search_time": T}
        if "info" in run_params:
            kwargs["info"] = info
        reading.tl_info = info
        # The reading's own `addinfo` reports the run's dispatch range.
        reading.dispatch = (earliest, latest)
        try:
            rows = reading.run(search, visible, **kwargs)
        except spl_reading.Unsupported as err:
            raise Gap(f"SPL reading: unsupported: {err}")
        except spl_reading.SplError as err:
            raise Gap(f"SPL reading: the search does not parse: {err}")
        runs += 1
        if context.get("oracle"):
            rows = [r for r in rows if all(in_slot(rule, i, slot_end(S, rule["every"], rule["delay"]), stream)
                                           for i in splunk_identities(rule, r, mapping, visible))]
        if not rows:
            continue
        if digest:
            if suppress and T < digest_until:
                continue
            if suppress:
                digest_until = T + period
        for row in rows:
            if suppress and not digest:
                key = tuple(fold(row.get(f)) for f in suppress_fields)
                if suppressed.get(key, -1) > T:
                    continue
                suppressed[key] = T + period
            for identity in splunk_identities(rule, row, mapping, visible):
                raised[identity] += 1
    return raised, {"runs": runs, "cron": stanza["cron_schedule"], "earliest": earliest_spec,
                    "latest": latest_spec, "suppress": f"{suppress_fields} {period}s" if suppress else "off"}


def splunk_identities(rule, row, mapping, visible):
    """What a result row alerts on: a match rule's events (a tstats row may
    gather several events of one second with the same values: each of them is
    reported by it), or a threshold rule's (window start, group)."""
    if rule.get("first_seen"):
        return [first_seen_splunk_identity(rule, row, mapping)]
    if not rule["threshold"]:
        ids = row.get("__rows")
        if ids:
            return [("event", int(visible[i]["tl_event_id"])) for i in sorted(ids)]
        if "tl_event_id" in row:
            return [("event", int(row["tl_event_id"]))]
        raise Gap("a match row that does not name its events")
    return [splunk_identity(rule, row, mapping, visible)]


def first_seen_splunk_identity(rule, row, mapping):
    """A first-seen row: its event's time in `_time`, the combination as the
    row spells it."""
    try:
        time = float(row.get("_time"))
    except (TypeError, ValueError):
        raise Gap("a first-seen row without its event time in _time")
    group = tuple(fold(row.get(mapping["fields"].get(f))) for f in rule["first_seen"]["by"])
    return ("first", int(time), group)


def splunk_identity(rule, row, mapping, visible):
    if rule.get("first_seen") or not rule["threshold"]:
        return splunk_identities(rule, row, mapping, visible)[0]
    start = row.get("_time")
    try:
        start = float(start)
    except (TypeError, ValueError):
        raise Gap("a threshold row without its window start in _time")
    group = tuple(fold(row.get(mapping["fields"].get(f))) for f in rule["threshold"]["by"])
    return ("window", int(start), group)


# ------------------------------------------------------------------- scoring

def expected(rule, stream, matches, alerts):
    """The reference identities and, for each, whether a too-late event is in it."""
    late = {e["id"] for e in stream if e["late"]}
    if rule.get("first_seen"):
        return first_seen_expected(rule, alerts), late
    if not rule["threshold"]:
        return {("event", i): i in late for i in matches}, late
    out = {}
    for a in alerts:
        start = int(parse_time(a["window"]["start"]))
        group = tuple(fold(a["group"].get(f)) for f in rule["threshold"]["by"])
        out[("window", start, group)] = False
    return out, late


def late_in(rule, identity, stream_index):
    """Whether a too-late event lies in the identity's window and group."""
    if identity[0] == "event":
        return stream_index["late"].get(identity[1], False)
    if identity[0] == "first":
        return first_seen_late(rule, identity, stream_index)
    _, start, group = identity
    W = rule["threshold"]["window"]
    for e in stream_index["late_events"]:
        if start <= e["time"] < start + W:
            if tuple(fold(e["fields"].get(f)) for f in rule["threshold"]["by"]) == group:
                return True
    return False


def score(rule, ref, raised, stream):
    index = {"late": {e["id"]: e["late"] for e in stream}, "late_events": [e for e in stream if e["late"]]}
    result = {"missed": [], "duplicated": [], "spurious": [], "late_missed": [], "late_spurious": [], "ok": 0}
    for identity in ref:
        n = raised.get(identity, 0)
        if n == 0:
            (result["late_missed"] if late_in(rule, identity, index) else result["missed"]).append(identity)
        else:
            result["ok"] += 1
            if n > 1:
                result["duplicated"] += [identity] * (n - 1)
    for identity, n in raised.items():
        if identity not in ref:
            bucket = result["late_spurious"] if late_in(rule, identity, index) else result["spurious"]
            bucket += [identity] * n
    return result


def show(identity):
    if identity[0] == "event":
        return f"event {identity[1]}"
    if identity[0] == "first":
        return f"first seen {iso(identity[1])} group {list(identity[2])}"
    return f"window {iso(identity[1])} group {list(identity[2])}"


def load_context():
    read_schema = kql_differential().read_schema
    return {
        "kql_mapping": yaml.safe_load(open(os.path.join(ROOT, "targets/kql/mappings/default.yaml"), encoding="utf-8")),
        "kql_schema": read_schema(os.path.join(ROOT, "targets/kql/schema/asim.txt")),
        "splunk_mapping": yaml.safe_load(open(os.path.join(ROOT, "targets/splunk/mappings/default.yaml"), encoding="utf-8")),
    }


_CONTEXT = {}


def simulate_rule(job):
    """One rule: its stream, the reference, each target's runs and score."""
    rule, targets, seed0, hours, tripline, built, work, verbose, oracle, jitter = job
    if not _CONTEXT:
        _CONTEXT.update(load_context())
    _CONTEXT["oracle"] = oracle
    _CONTEXT["jitter"] = jitter
    context = _CONTEXT
    lines, gaps = [], []
    seed = f"{seed0}/{rule['name']}"
    rng = random.Random(seed)
    if rule["pack"] == "generated":
        pos, neg = generated_templates(rule, rng)
    else:
        pos = [t for t in rule["tests"] if t["positive"]]
        neg = [t for t in rule["tests"] if t["negative"]]
    pos, neg = clusters(pos), clusters(neg)
    dropped = []
    for group in (pos, neg):
        for t in list(group):
            why = next((w for w in map(representable, t["events"]) if w), None)
            times = [e["@timestamp"] for e in t["events"]]
            if not why and times and max(times) - min(times) > hours * 3600 / 2:
                why = f"its events span {fmt_duration(int(max(times) - min(times)))}, more than half the stream"
            if why or not t["events"]:
                dropped.append(f"{t['name']}: {why or 'no events'}")
                group.remove(t)
    if not pos:
        gaps.append((rule["name"], "all", "no test that expects a match or an alert can be replayed: " + "; ".join(dropped)))
        return None, lines, gaps
    for d in dropped:
        lines.append(f"note      {rule['name']}: test not replayed ({d})")
    stream = make_stream(rule, pos, neg, rng, hours)
    events_path = os.path.join(work, f"{rule['name']}.jsonl")
    write_ecs(stream, events_path)
    matches, alerts = reference(tripline, rule["eval_rules"], rule["source"], events_path, rule["name"])
    ref, late = expected(rule, stream, matches, alerts)
    entry = {"rule": rule["name"], "pack": rule["pack"], "every": rule["every"], "delay": rule["delay"],
             "threshold": rule["threshold"], "events": len(stream), "too_late_events": len(late),
             "expected": len(ref), "dropped_tests": dropped, "targets": {}}
    for target in targets:
        run = run_kql if target == "kql" else run_splunk
        trng = random.Random(f"{seed}/{target}/jitter")
        try:
            if target == "kql" and not os.path.exists(os.path.join(built, "kql", f"{rule['name']}.yaml")):
                raise Gap("refused by the kql target")
            if target == "splunk" and not os.path.exists(os.path.join(built, "splunk", "queries", f"{rule['name']}.spl")):
                raise Gap("refused by the splunk target")
            raised, info = run(rule, built, stream, trng, hours, context)
        except Gap as gap:
            gaps.append((rule["name"], target, str(gap)))
            entry["targets"][target] = {"gap": str(gap)}
            continue
        result = score(rule, ref, raised, stream)
        counts = {k: (v if isinstance(v, int) else len(v)) for k, v in result.items()}
        entry["targets"][target] = {**counts, **info}
        bad = counts["missed"] + counts["duplicated"] + counts["spurious"]
        verdict = "FAIL" if bad else "ok  "
        lines.append(f"{verdict} {target:6} {rule['name']:52} expected {len(ref):4}  ok {counts['ok']:4}  "
                     f"missed {counts['missed']:3}  duplicated {counts['duplicated']:3}  spurious {counts['spurious']:3}  "
                     f"| late: missed {counts['late_missed']}, spurious {counts['late_spurious']} "
                     f"({len(late)} too-late events) | {info['runs']} runs")
        if verbose:
            for kind in ("missed", "duplicated", "spurious", "late_missed", "late_spurious"):
                for identity in result[kind][:20]:
                    lines.append(f"       {kind:13} {show(identity)}")
    return entry, lines, gaps


# ---------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tripline", default=os.path.join(ROOT, "target", "release", "tripline"))
    ap.add_argument("--rules", default=os.path.join(ROOT, "rules"))
    ap.add_argument("--hours", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--targets", default="kql,splunk")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--no-pack", action="store_true")
    ap.add_argument("--no-generated", action="store_true")
    ap.add_argument("--report-only", action="store_true")
    ap.add_argument("--fail-on-not-run", action="store_true",
                    help="also exit 1 when a rule could not be run on a target (refused or not runnable)")
    ap.add_argument("--allow-refused", action="append", default=[], metavar="TARGET:TEXT",
                    help="with --fail-on-not-run, a rule TARGET refuses with a message holding TEXT "
                         "(a construct it documents as not written) does not fail the run")
    ap.add_argument("--verbose", "-v", action="store_true", help="list every missed / duplicated / spurious alert")
    ap.add_argument("--json", help="write the per-rule results here")
    ap.add_argument("--work", help="keep the built pack and streams in this folder")
    ap.add_argument("--oracle", action="store_true",
                    help="self-check of the harness: keep from each run only what its slot (the planned design) reports")
    ap.add_argument("--max-start-delay", type=int, default=JITTER,
                    help="how late a run may start, in seconds (default 60; uniform, seeded)")
    ap.add_argument("--jobs", type=int, default=2, help="rules simulated in parallel (default 2)")
    args = ap.parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    started = clock.time()

    work = args.work or tempfile.mkdtemp(prefix="tripline-schedule-")
    os.makedirs(work, exist_ok=True)

    rules, paths = [], []
    if not args.no_pack:
        paths.append(args.rules)
        for root, _, files in os.walk(args.rules):
            for f in sorted(files):
                if f.endswith(".trip"):
                    for r in read_rules(os.path.join(root, f)):
                        r["pack"], r["eval_rules"] = "pack", args.rules
                        rules.append(r)
    if not args.no_generated:
        gen = generated_pack(os.path.join(work, "generated"))
        paths.append(gen)
        for r in read_rules(gen):
            r["pack"], r["eval_rules"] = "generated", gen
            rules.append(r)
    if args.only:
        rules = [r for r in rules if r["name"] in args.only]
    rules.sort(key=lambda r: (r["pack"], r["name"]))

    # One build per pack (the bundled pack has a manifest; the generated
    # rules are a pack of their own), each into its own folder.
    built_root = os.path.join(work, "built")
    refusals = {}  # (rule, target) -> the target's message
    for pack, path in zip(["pack", "generated"] if not args.no_pack else ["generated"], paths):
        out = subprocess.run([args.tripline, "build", path, "--target", "splunk,kql", "--skip-refused",
                              "--out", os.path.join(built_root, pack)], capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"tripline build of {path} failed:\n{out.stderr}")
        for m in re.finditer(r"\]: (.*); rule `(\w+)` is refused for (\w+)", out.stderr):
            refusals[(m.group(2), m.group(3))] = m.group(1)

    totals = {t: collections.Counter() for t in targets}
    report, gaps = [], []
    jobs = [(rule, targets, args.seed, args.hours, args.tripline, os.path.join(built_root, rule["pack"]), work,
             args.verbose, args.oracle, args.max_start_delay)
            for rule in rules]
    if args.jobs > 1:
        import multiprocessing
        pool = multiprocessing.Pool(args.jobs)
        results = pool.imap(simulate_rule, jobs)
    else:
        results = map(simulate_rule, jobs)
    for entry, lines, rule_gaps in results:
        for line in lines:
            print(line, flush=True)
        gaps += rule_gaps
        if entry is None:
            continue
        report.append(entry)
        for target, counts in entry["targets"].items():
            if "gap" in counts:
                totals[target]["not run"] += 1
                continue
            totals[target]["rules"] += 1
            for k in ("ok", "missed", "duplicated", "spurious", "late_missed", "late_spurious"):
                totals[target][k] += counts[k]

    def allowed(name, target):
        message = refusals.get((name, target), "")
        return any(t == target and text in message
                   for t, _, text in (a.partition(":") for a in args.allow_refused))

    print()
    for name, target, why in gaps:
        if target != "all" and (name, target) in refusals:
            why = f"{why}: {refusals[(name, target)]}"
        note = " (allowed)" if allowed(name, target) else ""
        print(f"not run   {target:6} {name}: {why}{note}")
    print()
    failing = 0
    for target in targets:
        t = totals[target]
        bad = t["missed"] + t["duplicated"] + t["spurious"]
        failing += bad
        print(f"{target}: {t['rules']} rules run, {t['not run']} not run; expected alerts {t['ok'] + t['missed'] + t['late_missed']}, "
              f"missed {t['missed']}, duplicated {t['duplicated']}, spurious {t['spurious']}; "
              f"explained by too-late events: missed {t['late_missed']}, spurious {t['late_spurious']}")
    print(f"({len(rules)} rules, {args.hours} h streams, seed {args.seed}, {clock.time() - started:.0f} s; work folder {work})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"rules": report, "gaps": gaps, "totals": {k: dict(v) for k, v in totals.items()}}, f, indent=1)
    if args.report_only:
        return 0
    not_run = sum(1 for name, target, _ in gaps if not allowed(name, target))
    return 1 if failing or (args.fail_on_not_run and not_run) else 0


if __name__ == "__main__":
    sys.exit(main())
