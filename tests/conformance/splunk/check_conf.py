"""Checks a built Splunk app (tripline's splunk target) with Splunk's own
conf parser (addonfactory-splunk-conf-parser-lib): every stanza of
savedsearches.conf has every key the target promises, each search sits on
one line and equals its queries/NAME.spl file with the file's lines (one
command each) joined by spaces, every search installs disabled and ends with
its own `<rule>_filter` macro, its risk objects and drill-down searches are
JSON as Enterprise Security reads them, macros.conf defines exactly the six
base-search macros, the tstats options macro and one empty (`search *`)
filter macro per rule, fields.conf parses, and app.conf names the app. Under
the raw mapping no search is a tstats search.
Usage: check_conf.py SPLUNK_OUT_DIR APP_ID [MAPPING]
"""

import json
import re
import pathlib
import sys

import addonfactory_splunk_conf_parser_lib as conf_parser

EXPECTED_KEYS = [
    "search", "description", "disabled", "enableSched", "cron_schedule",
    "realtime_schedule", "schedule_window", "dispatch.earliest_time", "dispatch.latest_time",
    "counttype", "relation", "quantity", "alert.digest_mode", "alert.severity",
    "alert.track", "alert.suppress", "action.correlationsearch.enabled",
    "action.correlationsearch.label", "action.correlationsearch.annotations",
    "action.notable", "action.notable.param.rule_title",
    "action.notable.param.rule_description",
    "action.notable.param.security_domain", "action.notable.param.severity",
    "action.notable.param.drilldown_searches", "action.risk",
]
FIXED = {
    "enableSched": "1", "disabled": "1", "realtime_schedule": "0",
    "counttype": "number of events", "relation": "greater than",
    "quantity": "0", "alert.digest_mode": "0", "alert.suppress": "0",
}
MACROS = {
    "tripline_dns": "(`cim_Network_Resolution_indexes`) tag=network tag=resolution tag=dns",
    "tripline_network": "(`cim_Network_Traffic_indexes`) tag=network tag=communicate",
    "tripline_web": "(`cim_Web_indexes`) tag=web NOT tag=proxy",
    "tripline_proxy": "(`cim_Web_indexes`) tag=web tag=proxy",
    "tripline_authentication": "(`cim_Authentication_indexes`) tag=authentication NOT (action=success user=*$)",
    "tripline_process": "(`cim_Endpoint_indexes`) tag=process tag=report",
    "tripline_email": "(`cim_Email_indexes`) tag=email",
    "tripline_file": "(`cim_Endpoint_indexes`) tag=endpoint tag=filesystem",
    "tripline_registry": "(`cim_Endpoint_indexes`) tag=endpoint tag=registry",
    "tripline_summariesonly": "summariesonly=false allow_old_summaries=true",
}


def parse(path):
    parser = conf_parser.TABConfigParser()
    parser.read(str(path))
    return {name: dict(parser.items(name)) for name in parser.sections()}


def alert_problems(name, stanza):
    """Risk objects and drill-downs as ES reads them: `_risk` a JSON list
    of risk objects (field, type, score 1..100) and threat objects, a risk
    message beside it, one or two drill-down searches each with name,
    search and offsets, and at least one of risk or notable."""
    problems = []
    risk = stanza.get("action.risk") == "1"
    if risk:
        objects = json.loads(stanza.get("action.risk.param._risk", "[]"))
        for o in objects:
            if "risk_object_field" in o:
                if o.get("risk_object_type") not in ("system", "user", "other") or not 1 <= o.get("risk_score", 0) <= 100:
                    problems.append(f"[{name}] bad risk object {o}")
            elif not o.get("threat_object_field") or not o.get("threat_object_type"):
                problems.append(f"[{name}] bad threat object {o}")
        if not any("risk_object_field" in o for o in objects):
            problems.append(f"[{name}] action.risk without a risk object")
        if not stanza.get("action.risk.param._risk_message"):
            problems.append(f"[{name}] action.risk without a risk message")
    if not risk and stanza.get("action.notable") != "1":
        problems.append(f"[{name}] raises neither risk nor a notable")
    drilldowns = json.loads(stanza.get("action.notable.param.drilldown_searches", "[]"))
    if not 1 <= len(drilldowns) <= 2 or any(
        set(d) != {"name", "search", "earliest_offset", "latest_offset"} for d in drilldowns
    ):
        problems.append(f"[{name}] drill-down searches {drilldowns}")
    return problems


def main(out, app_id, mapping="default"):
    out = pathlib.Path(out)
    app = out / app_id
    problems = []
    searches = parse(app / "default" / "savedsearches.conf")
    queries = sorted((out / "queries").glob("*.spl"))
    if len(searches) != len(queries):
        problems.append(f"{len(searches)} stanzas but {len(queries)} queries")
    for query in queries:
        name = f"tripline - {query.stem}"
        stanza = searches.get(name)
        if stanza is None:
            problems.append(f"no stanza [{name}]")
            continue
        for key in EXPECTED_KEYS:
            if key not in stanza:
                problems.append(f"[{name}] lacks {key}")
        for key, value in FIXED.items():
            if stanza.get(key) != value:
                problems.append(f"[{name}] {key} = {stanza.get(key)!r}, expected {value!r}")
        lines = query.read_text(encoding="utf-8").rstrip("\n").split("\n")
        if any(not line.startswith("| ") for line in lines[1:]):
            problems.append(f"[{name}] {query.name} has a line that is not a command")
        if stanza.get("search") != " ".join(lines):
            problems.append(f"[{name}] search differs from {query.name} or is not one line")
        if mapping == "raw" and "| tstats" in stanza.get("search", ""):
            problems.append(f"[{name}] a tstats search under the raw mapping")
        annotations = json.loads(stanza.get("action.correlationsearch.annotations", "{}"))
        if not annotations.get("mitre_attack") or "kill_chain_phases" not in annotations:
            problems.append(f"[{name}] annotations lack techniques or phases")
        # Each run reports one slot ending at the dispatch's latest time:
        # relative, before the scheduled time; a threshold keeps the
        # windows ending in the slot (addinfo).
        if not re.fullmatch(r"-[0-9]+[smhd]", stanza.get("dispatch.latest_time", "")):
            problems.append(f"[{name}] dispatch.latest_time is not a slot end before the run")
        if "floor(_time/" in stanza.get("search", "") and "| addinfo " not in stanza.get("search", ""):
            problems.append(f"[{name}] threshold without the slot's window filter (addinfo)")
        if not stanza.get("search", "").endswith(f"| `{query.stem}_filter`"):
            problems.append(f"[{name}] search does not end with its filter macro")
        problems += alert_problems(name, stanza)
    macros = parse(app / "default" / "macros.conf")
    got = {name: stanza.get("definition") for name, stanza in macros.items()}
    expected = dict(MACROS)
    expected.update({f"{q.stem}_filter": "search *" for q in queries})
    if got != expected:
        problems.append(f"macros.conf defines {got}")
    fields = parse(app / "default" / "fields.conf")
    for field, stanza in fields.items():
        if stanza.get("INDEXED_VALUE") != "false":
            problems.append(f"fields.conf [{field}] without INDEXED_VALUE = false")
    app_conf = parse(app / "default" / "app.conf")
    if app_conf.get("id", {}).get("name") != app_id or not app_conf["id"].get("version"):
        problems.append("app.conf lacks [id] name/version")
    if app_conf.get("package", {}).get("id") != app_id:
        problems.append("app.conf [package] id differs from the app folder")
    for problem in problems:
        print(f"  {out}: {problem}")
    print(f"  {out}: {len(searches)} saved searches, {len(macros)} macros, "
          f"{len(fields)} fields.conf stanzas parsed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
