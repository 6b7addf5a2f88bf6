"""Differential check of the splunk target: generated adversarial rules and
events, each rule's `queries/NAME.spl` run by the SPL reading
(spl_reading.py) over the events as Splunk would hold them (CIM field names
from the target's mapping, values as text), compared with `tripline eval`.

Plain rules: the set of events selected (an event is selected when it
produced a result row). Threshold rules: the alerts, as (window start, group
keyed as the evaluator keys it, count or distinct_count), and the reported
spelling of each group. First seen: the alerts as (event time,
combination). Hopping windows (`over W step H`): the alerts, one
per run of satisfying windows at its first, with `count` where the rule
counts.

Accepted differences (targets.md, "Exactness limits" and 1.2) are counted
apart, never as agreement: (1) case folding of the few characters where
Splunk's folding and simple case folding differ; (3) which spelling of a
group is reported among several seen at the same earliest time. (6), address
text that Rust does not read as an address, never applies: the reading reads
addresses as Rust does (docs/targets/splunk-reading.md), so a disagreement
on address text is reported like any other. Rules the
target refuses are counted, not compared. SPL the reading does not implement
is a gap, which fails the run like a disagreement (nothing passes unread).

One run over every event: the lines that select a scheduled run's slot
(`| addinfo` and the slot bounds of the `where` after a threshold's
aggregation) are left out (one_run()). The evaluator is given the events of
the source as Splunk defines it (Pack.in_source: Authentication's data
model leaves out successful logons of accounts ending in `$`, and so does
the macro); the reading is given every event.

The reading leaves open what Splunk's docs leave open; the run repeats every
comparison under each reading of it that tripline claims not to depend on:
`""` kept as a value or dropped as no field, and PCRE on characters or on
UTF-8 bytes. Two more readings are reported for information only: search
terms folding only ASCII, and CIM's calculated fields reading "unknown" for
a missing value (an assumption about the models' evals, not verified).

    differential.py --tripline target/release/tripline [--seed N] [--seeds K]
        [--rules N] [--events N] [--mapping default|raw] [--keep DIR]

Exit 1 on any disagreement or gap (each printed with a reproducer).
"""

import argparse
import datetime as dt
import glob
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import spl_reading  # noqa: E402
from generator import SOURCES, Gen, dumps  # noqa: E402

ROOT = HERE.parent.parent.parent
#: The CIM tags of each source's events (targets.md "Splunk": the default
#: macros' tags), which the data model constraints and base searches test.
TAGS = {"dns": ["network", "resolution", "dns"], "network": ["network", "communicate"], "web": ["web"],
        "proxy": ["web", "proxy"], "authentication": ["authentication"], "process": ["process", "report"]}
#: Each source's CIM root constraint beyond its tags (spl_reading.DATAMODELS,
#: the default macros): what Splunk counts as the source's events.
SOURCE_CONSTRAINTS = {"authentication": "NOT (action=success user=*$)"}
#: What a minimal reproducer keeps of an event: its time and its source.
KEPT = ("@timestamp", "event.dataset")
#: Pairs of sources a generated rule reads together (`from web, proxy`).
MIXED = [("web", "proxy"), ("dns", "network")]
VARIANTS = [  # (name, Reading options, whether a disagreement fails the run)
    ("reading", {}, True),
    ("empty-is-absent", {"empty_is_value": False}, True),
    ("pcre-bytes", {"pcre_bytes": True}, True),
    ("ascii-folding", {"fold": "ascii"}, False),
    ("cim-unknown", {"cim_unknown": True}, False),
]
INTEGER = re.compile(r"-?[0-9]+")
I64 = (-(2**63), 2**63 - 1)


# --------------------------------------------------------------------------- mapping (a small YAML subset)

def read_yaml(path):
    """Nested mappings of scalars, as the target's mapping files are written."""
    root, stack = {}, [(-1, None)]
    stack[0] = (-1, root)
    for raw in open(path, encoding="utf-8"):
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        key, _, value = line.strip().partition(":")
        key = key.strip().strip('"').strip("'")
        value = value.strip()
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        if value == "":
            parent[key] = {}
            stack.append((indent, parent[key]))
        else:
            if value[:1] in "\"'":
                value = value[1:-1]
            parent[key] = value
    return root


def mapping(name):
    path = ROOT / "targets" / "splunk" / "mappings" / f"{name}.yaml"
    return read_yaml(path)["sources"]


# --------------------------------------------------------------------------- events as Splunk holds them

def epoch(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def splunk_value(value):
    """A JSON value as an extracted field: text (assumption: JSON numbers and
    Booleans reach Splunk as they are spelled); arrays become multivalue
    fields without their nulls; null, [] and objects are no field."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, list):
        vals = [splunk_value(v) for v in value if not isinstance(v, (list, dict))]
        vals = [v for v in vals if v is not None]
        return vals or None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def splunk_event(event, source, fields):
    out = {"_time": epoch(event["@timestamp"]), "tag": list(TAGS[source]), "index": "main"}
    for ecs, cim in fields.items():
        if ecs == "@timestamp" or ecs not in event:
            continue
        value = splunk_value(event[ecs])
        if value is not None:
            out[cim] = value
    return out


# --------------------------------------------------------------------------- comparison helpers

THRESHOLD = re.compile(r"threshold (count\(\)|distinct\((?:cased )?([\w.]+)\))(?: by ([\w., ]+?))? over ([0-9]+)([smhd])")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


HAVING = re.compile(r"threshold(?: by ([\w., ]+?))? over ([0-9]+)([smhd]) having ")
FIRST_SEEN = re.compile(r"first seen ([\w., ]+?) in [0-9]+[smhd]")
HOPPING = re.compile(r"threshold(?: count\(\)| distinct\((?:cased )?[\w.]+\))?(?: by ([\w., ]+?))? "
                     r"over ([0-9]+)([smhd]) step ")


def threshold_of(rule_text):
    f = FIRST_SEEN.search(rule_text)
    if f:
        # First seen: the alerts as (event time, combination); an event time
        # is a window of one second (generated times are whole seconds).
        fields = [x.strip() for x in f.group(1).split(",")]
        cased = {x.removeprefix("cased ") for x in fields if x.startswith("cased ")}
        return {"agg": None, "eval_agg": None, "by": [x.removeprefix("cased ") for x in fields], "cased": cased,
                "window": 1, "first_seen": True}
    h = HOPPING.search(rule_text)
    if h:
        # Hopping windows: the alerts (first window of each run) are
        # compared, and `count` where the evaluator reports it.
        by = [b.strip() for b in (h.group(1) or "").split(",") if b.strip()]
        cased = {b.removeprefix("cased ") for b in by if b.startswith("cased ")}
        counted = "count()" in rule_text
        return {"agg": "count" if counted else None, "eval_agg": "count()" if counted else None,
                "by": [b.removeprefix("cased ") for b in by], "cased": cased,
                "window": int(h.group(2)) * UNIT[h.group(3)]}
    m = THRESHOLD.search(rule_text)
    if not m:
        h = HAVING.search(rule_text)
        if not h:
            return None
        # `having`: the alerts are compared, and `count` where the
        # evaluator reports it (`count()` in the condition).
        by = [b.strip() for b in (h.group(1) or "").split(",") if b.strip()]
        cased = {b.removeprefix("cased ") for b in by if b.startswith("cased ")}
        counted = "count()" in rule_text
        return {"agg": "count" if counted else None, "eval_agg": "count()" if counted else None,
                "by": [b.removeprefix("cased ") for b in by], "cased": cased,
                "window": int(h.group(2)) * UNIT[h.group(3)]}
    by = [b.strip() for b in (m.group(3) or "").split(",") if b.strip()]
    # `by cased f`: the group's key is f's exact text.
    cased = {b.removeprefix("cased ") for b in by if b.startswith("cased ")}
    by = [b.removeprefix("cased ") for b in by]
    return {"agg": "count" if m.group(1) == "count()" else "distinct_count", "by": by, "cased": cased,
            "window": int(m.group(4)) * UNIT[m.group(5)]}


def group_key(value, kind, cased=False):
    text = spl_reading.as_text(value)
    if kind == "int" and text is not None and INTEGER.fullmatch(text) and I64[0] <= int(text) <= I64[1]:
        return int(text)
    if cased:
        return text
    return None if text is None else text.lower()


def spelling_tie(window, by, want, got):
    """Accepted difference (3): both spellings were first seen at one time."""
    def first_time(spelling):
        times = [epoch(e["@timestamp"]) for e in window
                 if all(spl_reading.as_text(spelling[f]) in texts_of(e.get(f)) for f in by)]
        return min(times) if times else None
    a, b = first_time(want), first_time(got)
    return a is not None and a == b


def texts_of(value):
    if isinstance(value, list):
        return [t for v in value for t in texts_of(v)]
    return [] if value is None or isinstance(value, dict) else [spl_reading.as_text(value)]


# --------------------------------------------------------------------------- one pack

class Pack:
    def __init__(self, tripline, source, rules, events, mapping_name, workdir, mixed=False):
        """`mixed`: rules over several sources (`from web, proxy`), each
        event routed to its own by `event.dataset`, in Splunk as in the
        evaluator (its tags and field names are its source's)."""
        self.tripline, self.source, self.rules, self.events = tripline, source, rules, events
        self.mapping_name, self.workdir, self.mixed = mapping_name, workdir, mixed
        self.fields = mapping(mapping_name)[source]["fields"]
        self.label = f"{source}-mixed" if mixed else source
        self.rules_path = os.path.join(workdir, f"{self.label}.trip")
        self.events_path = os.path.join(workdir, f"{self.label}.jsonl")
        with open(self.rules_path, "w", encoding="utf-8") as f:
            f.write("\n".join(text for _, text in rules))
        with open(self.events_path, "w", encoding="utf-8") as f:
            f.writelines(dumps(e) + "\n" for e in events)

    def in_source(self, event):
        """Whether the event belongs to the rule's source as Splunk defines
        it: the source's CIM data model's root constraint beyond its tags
        (docs/targets/splunk.md, "Sources"). Authentication's leaves out
        successful logons of accounts ending in `$`; the raw macro says the
        same, so such an event is outside the source on both mappings, and
        the evaluator is not given it."""
        source = self.source_of(event)
        constraint = SOURCE_CONSTRAINTS.get(source)
        if constraint is None:
            return True
        row = spl_reading.Reading().event_rows([self.splunk_event(event)])[0]
        return spl_reading.SearchEval("unicode", True).test(spl_reading.parse_search(constraint), row)

    def evaluate(self, rules_path=None, events=None):
        """The evaluator's verdicts: {rule: set(event index)} and {rule: [alert]},
        over the events of the source (in_source)."""
        events = self.events if events is None else events
        keep = [n for n, e in enumerate(events) if self.in_source(e)]
        events_path = os.path.join(self.workdir, "eval.jsonl")
        with open(events_path, "w", encoding="utf-8") as f:
            f.writelines(dumps(events[n]) + "\n" for n in keep)
        routing = [] if self.mixed else ["--source", self.source]
        done = subprocess.run([self.tripline, "eval", "--rules", rules_path or self.rules_path, *routing,
                               events_path], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"tripline eval failed:\n{done.stderr}\n{open(rules_path or self.rules_path).read()}")
        matches, alerts = {}, {}
        for line in done.stdout.splitlines():
            item = json.loads(line)
            if item["kind"] == "match":
                matches.setdefault(item["rule"], set()).add(keep[item["line"] - 1])
            else:
                alerts.setdefault(item["rule"], []).append(item)
        return matches, alerts

    def build(self):
        out = os.path.join(self.workdir, f"out-{self.label}")
        done = subprocess.run([self.tripline, "build", self.rules_path, "--target", "splunk", "--skip-refused",
                               "--mapping", self.mapping_name, "--out", out], capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"tripline build failed:\n{done.stderr}")
        self.refusals = re.findall(r"warning\[(E0\d+)\]", done.stderr)
        confs = glob.glob(os.path.join(out, "splunk", "*", "default", "macros.conf"))
        self.macros = spl_reading.parse_macros_conf(open(confs[0], encoding="utf-8").read()) if confs else {}
        self.queries = {}
        self.scheduled = {}
        conf = glob.glob(os.path.join(out, "splunk", "*", "default", "savedsearches.conf"))
        stanzas = open(conf[0], encoding="utf-8").read() if conf else ""
        for name, _ in self.rules:
            path = os.path.join(out, "splunk", "queries", f"{name}.spl")
            if os.path.exists(path):
                query = open(path, encoding="utf-8").read()
                self.queries[name] = one_run(query)
                stanza = stanzas.split(f"[tripline - {name}]\n")[1].split("\n[")[0]
                self.scheduled[name] = (query, dispatch_offset(stanza, "earliest"), dispatch_offset(stanza, "latest"))

    def slot_runs(self, name, every):
        """The rows of the search run as scheduled, every `every` over the
        events' span, each run with its dispatch range (no late events):
        each of them once, as the one run over all events has them."""
        query, earliest, latest = self.scheduled[name]
        reading = spl_reading.Reading(macros=self.macros)
        stream = [self.splunk_event(e) for e in self.events]
        times = [epoch(e["@timestamp"]) for e in self.events]
        rows = []
        first = int(min(times) // every * every)
        for run in range(first, int(max(times)) + earliest + every, every):
            reading.dispatch = (run - earliest, run - latest)
            rows += reading.run(query, stream)
        return rows

    def run_query(self, query, options, events=None):
        reading = spl_reading.Reading(macros=self.macros, **options)
        stream = [self.splunk_event(e) for e in (events or self.events)]
        return reading.run(query, stream)

    def source_of(self, event):
        return event.get("event.dataset", self.source) if self.mixed else self.source

    def splunk_event(self, event):
        source = self.source_of(event)
        return splunk_event(event, source, mapping(self.mapping_name)[source]["fields"])


#: The slot filter of a threshold search (docs/targets/splunk.md, "The
#: schedule"): `| where S+W>info_max_time-F AND S+W<=info_max_time AND COND`.
SLOT_WHERE = re.compile(r"^\| where ([A-Za-z_]+)\+([0-9]+)>info_max_time-([0-9]+) AND \1\+\2<=info_max_time AND (.*)$")


#: The slot filter of a first-seen search: `| where T>=info_max_time-F AND
#: T<info_max_time AND COND`.
FIRST_SEEN_SLOT = re.compile(r"^\| where ([A-Za-z_]+)>=info_max_time-([0-9]+) AND \1<info_max_time AND (.*)$")


def dispatch_offset(stanza, which):
    """Seconds before its scheduled time a run's range starts or ends."""
    m = re.search(rf"^dispatch\.{which}_time = -([0-9]+)([smhd])$", stanza, re.M)
    return int(m.group(1)) * UNIT[m.group(2)]


def row_identity(row):
    return (spl_reading.text_number(row.get("_time")),
            tuple(sorted((k, repr(v)) for k, v in row.items() if not k.startswith(("__", "info_")))))


def one_run(query):
    """The query as one run over all the given events. This differential
    judges one run over every event (as the KQL differential does), so the
    lines that select one scheduled run's slot are left out: `| addinfo`
    and the slot bounds of the `where` after the aggregation, which keeps
    its condition. A scheduled-runs simulation runs them with real dispatch
    ranges (the reading implements `addinfo`)."""
    out = []
    for line in query.splitlines():
        if line.strip() == "| addinfo":
            continue
        m = SLOT_WHERE.match(line.strip()) or FIRST_SEEN_SLOT.match(line.strip())
        out.append(f"| where {m.group(m.lastindex)}" if m else line)
    return "\n".join(out) + "\n"


def selected(rows):
    out = set()
    for r in rows:
        out |= set(r["__rows"])
    return out


def alert_table(items, kinds, cased=frozenset()):
    """{(start, key): (aggregate, spellings)} from evaluator alerts or reading rows."""
    table = {}
    for start, group, agg in items:
        key = (start, tuple(group_key(group[f], kinds[f], f in cased) for f in sorted(group)))
        table[key] = (agg, {f: group[f] for f in group})
    return table


def evaluator_alerts(alerts, th):
    items = []
    for a in alerts:
        start = epoch(a["first_time"] if th.get("first_seen") else a["window"]["start"])
        agg = th.get("eval_agg", th["agg"])
        # A `having` of one `count()` comparison is version 1's shape,
        # reported as `count`.
        value = None if agg is None else a.get(agg, a.get(th["agg"]))
        items.append((start, a["group"], value))
    return items


def reading_alerts(rows, th, fields):
    items = []
    for r in rows:
        group = {}
        for f in th["by"]:
            v = r.get(fields[f])
            group[f] = v
        agg = None if th["agg"] is None else spl_reading.text_number(r.get(th["agg"]))
        start = spl_reading.text_number(r.get("_time"))
        items.append((start, group, agg))
    return items


def compare_threshold(pack, name, rule_text, th, alerts, rows, events):
    """Differences between alerts: (kind, key, evaluator's, reading's), kind
    'disagree' or 'accepted (3)' (another spelling seen at the same earliest
    time)."""
    kinds = SOURCES[pack.source]
    want = alert_table(evaluator_alerts(alerts, th), kinds, th["cased"])
    got = alert_table(reading_alerts(rows, th, pack.fields), kinds, th["cased"])
    out = []
    for key in sorted(set(want) | set(got), key=repr):
        w, g = want.get(key), got.get(key)
        if w is not None and g is not None and w[0] == g[0]:
            if all(spl_reading.as_text(w[1][f]) == spl_reading.as_text(g[1][f]) for f in th["by"]):
                continue
            window = [e for e in events if key[0] <= epoch(e["@timestamp"]) < key[0] + th["window"]]
            if spelling_tie(window, th["by"], w[1], g[1]):
                out.append(("accepted (3)", key, w, g))
                continue
        out.append(("disagree", key, w, g))
    return out


#: Characters whose case folding differs between Splunk's lower() and simple
#: case folding (accepted difference (1)), and their case partners.
SPECIAL = {chr(c) for c in range(0x80, 0x2200)
           if chr(c).casefold() != chr(c).lower() or len(chr(c).lower()) != 1 or chr(c).upper().lower() != chr(c).lower()}
SPECIAL |= {"\u212a", "\u1e9e"}
ORBIT = SPECIAL | {x for c in SPECIAL for x in c.lower() + c.upper() + c.casefold()}


def neutralize(value, chars):
    if isinstance(value, list):
        return [neutralize(v, chars) for v in value]
    if isinstance(value, str):
        return "".join("x" if c in chars else c for c in value)
    return value


def fold_explains(pack, name, rule_text, th, events, options):
    """Accepted difference (1): the verdicts agree once the characters whose
    folding differs (and, when the rule holds one, their case partners) are
    replaced in the events."""
    chars = ORBIT if any(c in SPECIAL for c in rule_text) else SPECIAL
    changed = [{k: neutralize(v, chars) if k not in KEPT else v for k, v in e.items()} for e in events]
    if changed == events:
        return False
    return not verdicts_differ(pack, name, rule_text, th, changed, options)


def verdicts_differ(pack, name, rule_text, th, events, options=None):
    rules_path = os.path.join(pack.workdir, "one.trip")
    with open(rules_path, "w", encoding="utf-8") as f:
        f.write(rule_text)
    matches, alerts = pack.evaluate(rules_path, events)
    rows = pack.run_query(pack.queries[name], options or {}, events)
    if th is None:
        return selected(rows) != matches.get(name, set())
    return any(k == "disagree" for k, *_ in compare_threshold(pack, name, rule_text, th, alerts.get(name, []), rows, events))


# --------------------------------------------------------------------------- the run

def run_seed(args, seed, totals, problems):
    rng = random.Random(seed)
    gen = Gen(rng)
    workdir = tempfile.mkdtemp(prefix=f"tl-spl-{seed}-")
    try:
        for source in SOURCES:
            rules = [gen.rule(source, n, thresholded=n % 3 == 2) for n in range(args.rules)]
            events = gen.events(source, args.events)
            check_pack(args, seed, Pack(args.tripline, source, rules, events, args.mapping, workdir), totals, problems)
        # Rules over two sources, on the events of both, each routed to its own.
        for first, second in MIXED:
            rules = [gen.rule(first, n, thresholded=n % 3 == 2, also=second) for n in range(args.rules // 2)]
            events = [{**e, "event.dataset": s} for s in (first, second) for e in gen.events(s, args.events // 2)]
            events.sort(key=lambda e: e["@timestamp"])
            pack = Pack(args.tripline, first, rules, events, args.mapping, workdir, mixed=True)
            totals["several sources"] += len(rules)
            check_pack(args, seed, pack, totals, problems)
    finally:
        if args.keep:
            dest = os.path.join(args.keep, f"seed-{seed}")
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(workdir, dest)
        shutil.rmtree(workdir, ignore_errors=True)


def check_pack(args, seed, pack, totals, problems):
    """Each rule of the pack: the reading's rows against the evaluator's verdicts."""
    rules, events = pack.rules, pack.events
    matches, alerts = pack.evaluate()
    pack.build()
    totals["events"] += len(events)
    for code in pack.refusals:
        totals["refusal codes"][code] = totals["refusal codes"].get(code, 0) + 1
    for name, rule_text in rules:
        totals["rules"] += 1
        query = pack.queries.get(name)
        if query is None:
            totals["refused"] += 1
            continue
        if re.search(r"(NOT|OR) \(?nodename=|nodename=\S+\) OR", query):
            totals["nodename"] += 1
        th = threshold_of(rule_text)
        if th and th.get("first_seen"):
            totals["first seen"] += 1
            totals["first seen alerts"] += len(alerts.get(name, []))
        if th and HOPPING.search(rule_text):
            totals["hopping"] += 1
            totals["hopping alerts"] += len(alerts.get(name, []))
        if th and (th.get("first_seen") or HOPPING.search(rule_text)):
            # Scheduled runs (every 5m, the pack's default) report each row
            # of the one run once: the slot bounds partition the alerts.
            one = sorted(map(row_identity, pack.run_query(query, {})), key=repr)
            runs = sorted(map(row_identity, pack.slot_runs(name, 300)), key=repr)
            totals["slot checks"] += 1
            if one != runs:
                totals["disagree"] += 1
                problems.append(f"DISAGREE seed {seed} {name}: scheduled runs report {len(runs)} rows, "
                                f"one run {len(one)}\n    query: {query.strip()}")
        if th:
            m = re.search(r"distinct\(([\w.]+)\)", rule_text)
            th["dfield"] = m.group(1) if m else None
        base = set()
        variants = sorted(VARIANTS, key=lambda v: v[0] != args.base)
        for variant, options, fails in variants:
            try:
                rows = pack.run_query(query, options)
            except spl_reading.Unsupported as gap:
                if variant == args.base:
                    totals["gaps"] += 1
                    problems.append(f"GAP seed {seed} {name}: {gap}\n    query: {query.strip()}")
                break
            except spl_reading.SplError as err:
                totals["disagree"] += 1
                problems.append(f"DISAGREE seed {seed} {name} [{variant}]: the reading rejects the query: "
                                f"{err}\n    query: {query.strip()}")
                break
            found = compare(pack, name, rule_text, th, matches.get(name, set()), alerts.get(name, []), rows,
                            options, base)
            idents = [ident for kind, ident, _ in found if kind == "disagree"]
            verdict = "disagree" if idents else "agree"
            # A variant reports only what the base reading does not.
            new = [(ident, report) for kind, ident, report in found if kind == "disagree" and ident not in base]
            if variant == args.base:
                base = set(idents)
            if new:
                more = f"\n    (+{len(new) - 3} more events or alerts)" if len(new) > 3 else ""
                text = (f"seed {seed} {name} [{variant}]\n" + "\n".join(r() for _, r in new[:3]) + more +
                        f"\n    query: {query.strip()}")
                (problems.append("DISAGREE " + text) if fails else totals["info"].append(text))
            for kind, _, report in found:
                if kind != "disagree" and variant == args.base:
                    totals["accepted"][kind] = totals["accepted"].get(kind, 0) + 1
                    if args.show_accepted:
                        print(f"{kind.upper()} seed {seed} {name}\n{report()}")
            key = "agree" if verdict == "agree" else ("disagree" if fails else f"{variant} differs")
            totals.setdefault(f"{variant}:{key}", 0)
            totals[f"{variant}:{key}"] += 1
            if variant == args.base:
                totals[key] += 1


def minimal_event(pack, name, rule_text, event, options):
    """The event without each field whose removal keeps the verdicts apart."""
    for field in [k for k in event if k not in KEPT]:
        trial = {k: v for k, v in event.items() if k != field}
        if verdicts_differ(pack, name, rule_text, None, [trial], options):
            event = trial
    return event


def compare(pack, name, rule_text, th, matched, alerts, rows, options, known=()):
    """Differences as (kind, ident, report): kind 'disagree' or an accepted
    difference; ident names the event or alert; report() writes a minimal
    reproducer. Idents in `known` (already reported) are neither classified
    again nor reported."""
    where = " ".join(l.strip() for l in rule_text.splitlines() if l.strip().startswith(("where", "threshold")))
    out = []
    if th is None:
        got = selected(rows)
        for n in sorted(got ^ matched):
            ident = ("event", n, n in got)
            event = pack.events[n]
            if ident in known:
                kind = "disagree"
            elif fold_explains(pack, name, rule_text, th, [event], options):
                kind = "accepted (1)"
            else:
                kind = "disagree"

            def report(n=n, event=event):
                event = minimal_event(pack, name, rule_text, event, options)
                return (f"    rule: {where}\n    event: {dumps(event)}\n"
                        f"    evaluator: {'match' if n in matched else 'no match'}, "
                        f"reading: {'match' if n in got else 'no match'}")
            out.append((kind, ident, report))
        return out
    for kind, key, w, g in compare_threshold(pack, name, rule_text, th, alerts, rows, pack.events):
        ident = ("alert", key, repr(w), repr(g))
        window = [e for e in pack.events if key[0] <= epoch(e["@timestamp"]) < key[0] + th["window"]]
        if kind == "disagree" and ident not in known:
            if fold_explains(pack, name, rule_text, th, window, options):
                kind = "accepted (1)"

        def report(key=key, w=w, g=g):
            events = shrink(pack, rule_text, th, key, options)
            return (f"    rule: {where}\n    events ({len(events)}):\n" +
                    "".join(f"      {dumps(e)}\n" for e in events) +
                    f"    window {dt.datetime.fromtimestamp(key[0], dt.timezone.utc).isoformat()} group {key[1]}\n"
                    f"    evaluator: {fmt_alert(w)}, reading: {fmt_alert(g)}")
        out.append((kind, ident, report))
    return out


def fmt_alert(a):
    return "no alert" if a is None else f"{a[0]} {json.dumps(a[1], ensure_ascii=False)}"


def shrink(pack, rule_text, th, key, options):
    """The window's events, reduced greedily while the verdicts still differ
    (a minimal reproducer)."""
    events = [e for e in pack.events if key[0] <= epoch(e["@timestamp"]) < key[0] + th["window"]]
    name = re.search(r"rule (\S+)", rule_text).group(1)
    if not verdicts_differ(pack, name, rule_text, th, events, options):
        return events
    i = 0
    while i < len(events) and len(events) > 1:
        trial = events[:i] + events[i + 1:]
        if verdicts_differ(pack, name, rule_text, th, trial, options):
            events = trial
        else:
            i += 1
    return events


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tripline", default=str(ROOT / "target" / "release" / "tripline"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--rules", type=int, default=30, help="rules per source and seed")
    parser.add_argument("--events", type=int, default=60, help="events per source and seed")
    parser.add_argument("--mapping", default="default")
    parser.add_argument("--keep", help="copy each seed's packs, events and build here")
    parser.add_argument("--info", type=int, default=5, help="how many informational differences to print")
    parser.add_argument("--show-accepted", action="store_true", help="print each accepted difference")
    parser.add_argument("--base", default="reading", choices=[v[0] for v in VARIANTS],
                        help="the reading whose disagreements are reported in full (the others: only what differs)")
    args = parser.parse_args()
    totals = {"rules": 0, "events": 0, "agree": 0, "disagree": 0, "refused": 0, "gaps": 0, "nodename": 0,
              "hopping": 0, "hopping alerts": 0, "several sources": 0, "first seen": 0,
              "first seen alerts": 0, "slot checks": 0, "accepted": {}, "refusal codes": {}, "info": []}
    problems = []
    for seed in range(args.seed, args.seed + args.seeds):
        run_seed(args, seed, totals, problems)
    for p in problems:
        print(p)
    for i in totals["info"][:args.info]:
        print("INFO (does not fail) " + i)
    variants = ", ".join(f"{k} {v}" for k, v in sorted(totals.items()) if ":" in k)
    print(f"\nsplunk differential (mapping {args.mapping}, seeds {args.seed}..{args.seed + args.seeds - 1}): "
          f"{totals['rules']} rules, {totals['events']} events; {totals['agree']} agree, "
          f"{totals['disagree']} disagree, {totals['refused']} refused {totals['refusal codes']}, "
          f"{totals['gaps']} gaps; accepted differences {totals['accepted']}; "
          f"{totals['hopping']} compared rules with hopping windows ({totals['hopping alerts']} alerts); "
          f"{totals['several sources']} rules over two sources; "
          f"{totals['first seen']} compared first-seen rules ({totals['first seen alerts']} alerts); "
          f"{totals['slot checks']} of them run as scheduled too; "
          f"{totals['nodename']} compared rules with `nodename=` under NOT or OR (undocumented; the reading refuses it)\n  per reading: {variants}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
