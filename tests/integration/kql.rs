//! The kql target end to end: snapshots of every document for every rule of
//! the pack (`rules/`) and of the construct matrix, refusals with their
//! positions, and escaping. `export_conformance_cases` (read by
//! `.ci/conformance-kql.sh`) writes each matrix rule's query and test
//! events as ASIM rows for the differential check.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly on a broken fixture"
)]

use std::path::{Path, PathBuf};

use tripline::cli::pipeline;
use tripline::emit::{self, Document, Emitted, TargetName};
use tripline::ir;

use crate::support::{checked, document, positions};

const MATRIX: &str = "tests/fixtures/matrix/matrix.trip";

fn build(paths: &[PathBuf], mapping: &str) -> (ir::Pack, Emitted) {
    let loaded = pipeline::load(paths).unwrap();
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics());
    let pack = loaded.checked.pack;
    let emitted = emit::emit(TargetName::Kql, &pack, None, mapping).unwrap();
    (pack, emitted)
}

/// One snapshot per rule (its YAML, then its query alone), and the ARM
/// template, named after `prefix`.
fn snapshot_pack(prefix: &str, paths: &[PathBuf], mapping: &str, refused: &[&str]) {
    let (pack, emitted) = build(paths, mapping);
    let mut found: Vec<&str> = emitted
        .diagnostics
        .iter()
        .map(|d| {
            assert_eq!(d.code.id, "E0700", "{d:#?}");
            pack.rules
                .iter()
                .find(|r| d.message.contains(&format!("rule `{}`", r.name)))
                .map(|r| r.name.as_str())
                .unwrap_or_else(|| panic!("{d:#?}"))
        })
        .collect();
    found.sort_unstable();
    assert_eq!(found, refused, "{:#?}", emitted.diagnostics);
    for rule in pack
        .rules
        .iter()
        .filter(|r| !refused.contains(&r.name.as_str()))
    {
        let yaml = document(&emitted, &format!("{}.yaml", rule.name));
        let query = document(&emitted, &format!("queries/{}.kql", rule.name));
        insta::assert_snapshot!(
            format!("{prefix}__{}", rule.name),
            format!("{yaml}\n----- queries/{}.kql\n{query}", rule.name)
        );
    }
    insta::assert_snapshot!(
        format!("{prefix}__azuredeploy"),
        document(&emitted, "azuredeploy.json")
    );
}

#[test]
fn matrix_rules_become_sentinel_rules() {
    snapshot_pack("matrix", &[PathBuf::from(MATRIX)], "default", &[]);
}

#[test]
fn pack_rules_become_sentinel_rules() {
    let files = tripline::source::discover(&[PathBuf::from("rules")]).unwrap();
    assert!(files.len() > 20, "the pack is missing");
    // Its `distinct(destination.port)` rules compare the port with a
    // number at the top of `where`, so the int column is exact for them.
    snapshot_pack("pack", &files, "default", &[]);
}

/// The pack has no `matches` and no glob with `?`: its queries need no
/// regex and no `let`, and put each `|` stage and each top-level condition
/// on its own line.
#[test]
fn pack_queries_use_kusto_operators_without_prelude_or_regex() {
    let files = tripline::source::discover(&[PathBuf::from("rules")]).unwrap();
    let (pack, emitted) = build(&files, "default");
    for rule in &pack.rules {
        let query = document(&emitted, &format!("queries/{}.kql", rule.name));
        let (slot, body) = query.split_once('\n').unwrap();
        assert!(slot.starts_with("let slot_end = bin_at(now(), "), "{slot}");
        let query = body;
        for forbidden in ["let ", "matches regex", "extract(", "tl_is_ip"] {
            assert!(
                !query.contains(forbidden),
                "{}: {forbidden}\n{query}",
                rule.name
            );
        }
        for line in query.lines() {
            assert_eq!(line.matches(" | ").count(), 0, "{}: {line}", rule.name);
        }
    }
    let zone = document(&emitted, "queries/dns_zone_transfer_from_outside.kql");
    assert!(
        zone.contains(r#"endtime=slot_end, eventtype="XFR")"#),
        "{zone}"
    );
    assert!(zone.contains("ipv4_is_in_any_range(SrcIpAddr, dynamic(["));
}

#[test]
fn documents_are_laid_out_per_rule_and_for_the_pack() {
    let (pack, emitted) = build(&[PathBuf::from(MATRIX)], "default");
    let paths: Vec<&str> = emitted.documents.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths.len(), 2 * pack.rules.len() + 1);
    assert_eq!(paths.last(), Some(&"azuredeploy.json"));
    let again = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
    assert_eq!(
        emitted.documents, again.documents,
        "output is deterministic"
    );
}

/// Checks `text` as the rule file `tests/fixtures/check/kql.trip` and builds
/// it for kql with `mapping`: `CODE line:col` of each refusal, and the documents.
fn refusals(text: &str, mapping: &str) -> (Vec<String>, Vec<Document>) {
    let (map, pack) = checked("tests/fixtures/check/kql.trip", text);
    let emitted = emit::emit(TargetName::Kql, &pack, None, mapping).unwrap();
    (positions(&map, &emitted.diagnostics), emitted.documents)
}

/// A rule reading `source` with `where` on line 9 (from column 9) and
/// `extra` statements after it.
fn rule(source: &str, condition: &str, extra: &str) -> String {
    format!(
        "rule r {{\n  title \"t\"\n  id \"11111111-2222-3333-4444-555555555555\"\n  level high\n  attack T1590\n  description \"d\"\n  from {source}\n  {extra}\n  where {condition}\n}}\n"
    )
}

#[test]
fn constructs_kql_cannot_express_exactly_are_refused_where_written() {
    for (source, condition, extra, expected) in [
        ("web", r#"url.path like "*""#, "", "E0700 9:9"),
        ("web", r#"not url.path like "**""#, "", "E0700 9:13"),
        ("dns", r#"dns.question.name matches r"a*""#, "", "E0700 9:9"),
        ("dns", r#"dns.question.name matches r"^""#, "", "E0700 9:9"),
        // At the `every` statement.
        ("dns", r#"host.name == "x""#, "every 1m", "E0700 8:3"),
        ("dns", r#"host.name == "x""#, "every 15d", "E0700 8:3"),
        (
            "dns",
            r#"host.name == "x""#,
            "every 5m\n  lookback 630s",
            "E0700 1:6",
        ),
        ("dns", r#"host.name == "x""#, "lookback 3d", "E0700 1:6"),
        // An int column holds null for text that is no integer ("abc",
        // " 443", "443.0"), which the evaluator still sees as a value.
        ("network", "exists(destination.port)", "", "E0700 9:16"),
        ("network", "not exists(source.port)", "", "E0700 9:20"),
        (
            "network",
            r#"event.action == "x""#,
            "threshold count() by destination.port over 5m > 1",
            "E0700 8:24",
        ),
        (
            "network",
            r#"event.action == "x""#,
            "threshold distinct(destination.port) by source.ip over 5m > 1",
            "E0700 8:22",
        ),
    ] {
        let (found, _) = refusals(&rule(source, condition, extra), "default");
        assert_eq!(found, vec![expected], "{source}: {condition} {extra}");
    }
}

/// A top-level numeric comparison on the field rules text out in both the
/// evaluator and the query, so the int column is exact for it.
#[test]
fn a_numeric_guard_makes_an_int_column_exact() {
    for (condition, extra) in [
        (
            "destination.port >= 0",
            "threshold distinct(destination.port) by source.ip over 5m > 1",
        ),
        (
            r#"destination.port in [22, 23] and event.action == "x""#,
            "threshold count() by destination.port over 5m > 1",
        ),
        ("source.port > 1024 and exists(source.port)", ""),
    ] {
        let (found, _) = refusals(&rule("network", condition, extra), "default");
        assert!(found.is_empty(), "{condition} {extra}: {found:?}");
    }
    let (found, _) = refusals(
        &rule(
            "network",
            "not destination.port >= 0",
            "threshold distinct(destination.port) by source.ip over 5m > 1",
        ),
        "default",
    );
    assert_eq!(found.len(), 1, "a negated comparison is no guard");
}

#[test]
fn a_query_over_ten_thousand_characters_is_refused() {
    let values: Vec<String> = (0..1200).map(|n| format!("\"host{n:05}\"")).collect();
    let condition = format!("host.name in [{}]", values.join(", "));
    let (found, _) = refusals(&rule("dns", &condition, ""), "default");
    assert_eq!(found, vec!["E0700 1:6"]);
}

#[test]
fn fields_the_native_mapping_leaves_out_are_refused() {
    let (found, _) = refusals(
        &rule("dns", r#"destination.ip == "10.0.0.1""#, ""),
        "native",
    );
    assert_eq!(found, vec!["E0701 9:9"]);
    let (found, documents) = refusals(
        &rule("process", r#"process.command_line contains "x""#, ""),
        "native",
    );
    assert!(found.is_empty());
    let query = &documents
        .iter()
        .find(|d| d.path == "queries/r.kql")
        .unwrap()
        .text;
    insta::assert_snapshot!("native_process_query", query);
}

#[test]
fn no_value_can_end_its_string_literal() {
    let condition = r###"process.command_line contains "\"; drop \\ \n\t `$x' @\"" or process.command_line matches r#"a"b\d"#"###;
    let text = rule("process", condition, "");
    let (found, documents) = refusals(&text, "default");
    assert!(found.is_empty(), "{found:?}");
    let query = &documents
        .iter()
        .find(|d| d.path == "queries/r.kql")
        .unwrap()
        .text;
    insta::assert_snapshot!("escaping_query", query);
    let yaml = &documents.iter().find(|d| d.path == "r.yaml").unwrap().text;
    let parsed: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
    assert_eq!(
        parsed["query"].as_str().map(str::trim_end),
        Some(query.trim_end())
    );
}

#[test]
fn the_smallest_long_is_written_so_that_kusto_parses_it() {
    let text = rule(
        "network",
        "destination.port > -9223372036854775808 or source.port in [-9223372036854775808, 1]",
        "threshold count() over 5m > -9223372036854775808",
    );
    let (found, documents) = refusals(&text, "default");
    assert!(found.is_empty(), "{found:?}");
    let query = &documents
        .iter()
        .find(|d| d.path == "queries/r.kql")
        .unwrap()
        .text;
    assert!(!query.contains("> -9223372036854775808"), "{query}");
    assert!(!query.contains("in (-9223372036854775808"), "{query}");
    assert_eq!(
        query.matches("long(-9223372036854775808)").count(),
        3,
        "{query}"
    );
}

/// Writes the matrix's queries and test events, as ASIM rows, to the JSON
/// file named by `TRIPLINE_KQL_CASES`, for `tests/conformance/kql/differential.py`.
#[test]
fn export_conformance_cases() {
    // Cheap enough to run with every test run; the conformance script reads it.
    let out = std::env::var("TRIPLINE_KQL_CASES")
        .unwrap_or_else(|_| "target/conformance/kql-cases.json".to_string());
    // Version 2's matrix too: the rules the target writes (its refusals
    // have no query and are left out).
    let paths = [
        PathBuf::from(MATRIX),
        PathBuf::from("tests/fixtures/matrix/matrix_v2.trip"),
    ];
    let (pack, emitted) = build(&paths, "default");
    let folder = emit::folder::TargetFolder::load("kql", None).unwrap();
    let mapping = folder.mapping("default").unwrap();
    let mut rules = Vec::new();
    for rule in &pack.rules {
        let Some(query) = emitted
            .documents
            .iter()
            .find(|d| d.path == format!("queries/{}.kql", rule.name))
        else {
            continue;
        };
        let source = &mapping.sources[&rule.source];
        let column = |path: &str| mapping.field(&rule.source, path).map(str::to_string);
        // Derived columns whose derivation does not keep a value the event
        // gives the column itself (DnsQueryTypeName falls back on the number
        // only when empty; UrlPath comes from Url).
        let derived: Vec<String> = source
            .settings
            .get("extend")
            .and_then(|e| e.as_mapping())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        let name = k.as_str()?;
                        let first = v.as_str().or_else(|| v.as_sequence()?.first()?.as_str());
                        let keeps =
                            first.is_some_and(|f| f.contains(&format!("isnotempty({name})")));
                        (!keeps).then(|| name.to_string())
                    })
                    .collect()
            })
            .unwrap_or_default();
        let tests: Vec<serde_json::Value> = rule
            .tests
            .iter()
            .map(|test| export_test(test, &column, &derived))
            .collect();
        rules.push(serde_json::json!({
            "name": rule.name,
            "schema": source.settings.get("schema").and_then(|s| s.as_str()),
            "threshold": rule.threshold().is_some(),
            "query": query.text,
            "tests": tests,
        }));
    }
    assert!(rules.len() > 30, "the matrix should give a query per rule");
    let text = serde_json::to_string_pretty(&serde_json::json!({ "rules": rules })).unwrap();
    if let Some(parent) = Path::new(&out).parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(out, text).unwrap();
}

fn export_test(
    test: &ir::Test,
    column: &dyn Fn(&str) -> Option<String>,
    derived: &[String],
) -> serde_json::Value {
    use serde_json::{Value, json};
    let mut events = Vec::new();
    let mut skip: Option<String> = None;
    let mut generated = 0u64;
    let mut row = |event: &serde_json::Map<String, Value>, count: u64, every: u64| {
        let base = event.get("@timestamp").cloned();
        let k = if base.is_none() {
            generated += 1;
            generated - 1
        } else {
            0
        };
        let mut columns = serde_json::Map::new();
        let mut url_parts = serde_json::Map::new();
        for (path, value) in event {
            if path == "@timestamp" {
                continue;
            }
            match column(path) {
                Some(c) if c == "UrlPath" || c == "UrlQuery" || c == "UrlDomain" => {
                    url_parts.insert(c, value.clone());
                }
                Some(c) if derived.contains(&c) => {
                    return Err(format!("the event gives {c}, which the query derives"));
                }
                Some(c) => {
                    columns.insert(c, value.clone());
                }
                None => {}
            }
        }
        synthesize_url(&mut columns, &url_parts)?;
        for copy in 0..count {
            events.push(json!({
                "time": { "base": base, "generated": k, "offset": copy * every },
                "columns": columns,
            }));
        }
        Ok(())
    };
    for input in &test.inputs {
        let result = match input {
            ir::TestInput::Event { event, .. } => row(event, 1, 0),
            ir::TestInput::Repeat {
                count,
                every,
                event,
                ..
            } => row(event, *count, *every),
            ir::TestInput::File { .. } => Err("events files are not exported".to_string()),
        };
        if let Err(reason) = result {
            skip.get_or_insert(reason);
        }
    }
    let expects: Vec<Value> = test
        .expects
        .iter()
        .map(|e| match &e.node {
            ir::Expect::Match => json!({"kind": "match"}),
            ir::Expect::NoMatch => json!({"kind": "nomatch"}),
            ir::Expect::AlertCount(n) => json!({"kind": "alert_count", "count": n}),
            ir::Expect::Alert(pairs) => json!({
                "kind": "alert",
                "group": pairs
                    .iter()
                    .map(|(f, v)| json!({"column": column(&f.path), "value": v, "int": f.ty == ir::FieldType::Int}))
                    .collect::<Vec<_>>(),
            }),
        })
        .collect();
    json!({ "name": test.name, "events": events, "expects": expects, "skip": skip })
}

/// ASIM has no path, query or (filled) domain column: the query derives them
/// from `Url`, so a test event's `url.domain` / `url.path` / `url.query`
/// become the `Url` that yields them (`https://DOMAIN/PATH?QUERY`).
fn synthesize_url(
    columns: &mut serde_json::Map<String, serde_json::Value>,
    parts: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), String> {
    if parts.is_empty() {
        return Ok(());
    }
    if columns.contains_key("Url") {
        return Err(
            "the event gives url.original and url.domain/url.path/url.query apart".to_string(),
        );
    }
    let text = |name: &str| parts.get(name).and_then(|v| v.as_str()).map(str::to_string);
    let path = text("UrlPath").unwrap_or_default();
    let query = text("UrlQuery");
    let domain = text("UrlDomain");
    if parts.values().any(|v| !v.is_string())
        || path.contains(['?', '#'])
        || query.as_deref().is_some_and(|q| q.contains('#'))
        || domain
            .as_deref()
            .is_some_and(|d| d.is_empty() || d.contains(['/', '?', '#', '@', ':', '[', ']']))
        || (domain.is_some() && !path.is_empty() && !path.starts_with('/'))
    {
        return Err("url.domain/url.path/url.query that no Url can carry".to_string());
    }
    let origin = domain.map(|d| format!("https://{d}")).unwrap_or_default();
    let url = match query {
        Some(q) => format!("{origin}{path}?{q}"),
        None => format!("{origin}{path}"),
    };
    columns.insert("Url".to_string(), serde_json::Value::String(url));
    Ok(())
}

/// The alert parts of every pack and matrix rule (both mappings) keep the
/// limits the Azure-Sentinel template validation and the alert-rule API
/// set: 1 to 5 entity mappings of 1 to 3 distinct identifiers on column
/// names; at most 20 custom details, keys `^[a-zA-Z]\w*$` of at most 20
/// characters, each a column; an alert name of at most 256 characters and a
/// description of at most 5,000, each with at most three `{{Column}}`
/// parameters; incident grouping by entity types the rule maps.
#[test]
fn every_sentinel_rule_keeps_the_alert_limits() {
    let column = regex::Regex::new(r"^[a-zA-Z_]\w*$").unwrap();
    let key = regex::Regex::new(r"^[a-zA-Z]\w*$").unwrap();
    let parameter = regex::Regex::new(r"\{\{([^}]*)\}\}").unwrap();
    let pack = tripline::source::discover(&[PathBuf::from("rules")]).unwrap();
    for (paths, mapping) in [
        (pack.clone(), "default"),
        (vec![PathBuf::from(MATRIX)], "default"),
        (vec![PathBuf::from(MATRIX)], "native"),
    ] {
        let loaded = pipeline::load(&paths).unwrap();
        let emitted = emit::emit(TargetName::Kql, &loaded.checked.pack, None, mapping).unwrap();
        for d in emitted
            .documents
            .iter()
            .filter(|d| d.path.ends_with(".yaml"))
        {
            let rule: serde_yaml::Value = serde_yaml::from_str(&d.text).unwrap();
            let at = &d.path;
            let mut types = Vec::new();
            if let Some(mappings) = rule["entityMappings"].as_sequence() {
                assert!((1..=5).contains(&mappings.len()), "{at}");
                for m in mappings {
                    types.push(m["entityType"].as_str().unwrap().to_string());
                    let fields = m["fieldMappings"].as_sequence().unwrap();
                    assert!((1..=3).contains(&fields.len()), "{at}");
                    let mut ids: Vec<&str> = fields
                        .iter()
                        .map(|f| f["identifier"].as_str().unwrap())
                        .collect();
                    for f in fields {
                        assert!(column.is_match(f["columnName"].as_str().unwrap()), "{at}");
                    }
                    ids.sort_unstable();
                    ids.dedup();
                    assert_eq!(ids.len(), fields.len(), "{at}");
                }
            }
            if let Some(details) = rule["customDetails"].as_mapping() {
                assert!(details.len() <= 20, "{at}");
                for (k, v) in details {
                    let k = k.as_str().unwrap();
                    assert!(key.is_match(k) && k.len() <= 20, "{at}: {k}");
                    assert!(column.is_match(v.as_str().unwrap()), "{at}");
                }
            }
            let name = rule["alertDetailsOverride"]["alertDisplayNameFormat"]
                .as_str()
                .unwrap();
            let description = rule["alertDetailsOverride"]["alertDescriptionFormat"]
                .as_str()
                .unwrap();
            assert!(name.chars().count() <= 256, "{at}");
            assert!(description.chars().count() <= 5000, "{at}");
            assert!(parameter.find_iter(name).count() <= 3, "{at}");
            assert!(parameter.find_iter(description).count() <= 3, "{at}");
            let grouping = &rule["incidentConfiguration"]["groupingConfiguration"];
            for entity in grouping["groupByEntities"].as_sequence().unwrap() {
                assert!(
                    types.contains(&entity.as_str().unwrap().to_string()),
                    "{at}"
                );
            }
            let method = grouping["matchingMethod"].as_str().unwrap();
            assert!(["Selected", "AllEntities"].contains(&method), "{at}");
        }
    }
}

/// A rule over several sources, as `checked` reads it.
fn several_sources(from: &str, field: &str) -> (tripline::source::SourceMap, ir::Pack) {
    let text = format!(
        "rule r {{\n  title \"t\"\n  id \"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11\"\n  level low\n  \
         attack T1590\n  description \"d\"\n  from {from}\n  where {field} == \"x\"\n}}\n"
    );
    checked("r.trip", &text)
}

#[test]
fn several_sources_on_one_parser_read_it_once_with_their_filters_joined() {
    // Default mapping: web and proxy both read _Im_WebSession, no filter.
    let (_, pack) = several_sources("web, proxy", "source.ip");
    let emitted = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
    assert!(emitted.diagnostics.is_empty(), "{:?}", emitted.diagnostics);
    let query = document(&emitted, "queries/r.kql");
    assert_eq!(query.matches("_Im_WebSession(").count(), 1, "{query}");
    assert!(query.contains("| where SrcIpAddr =~ \"x\""), "{query}");
    // A site that tells them apart: each event once, under either filter.
    let dir = std::env::temp_dir().join(format!("tripline-kql-sources-{}", std::process::id()));
    let copy = dir.join("kql");
    for entry in walk(Path::new("targets/kql")) {
        let to = copy.join(entry.strip_prefix("targets/kql").unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    let mapping = copy.join("mappings/default.yaml");
    let mut text = std::fs::read_to_string(&mapping).unwrap();
    for (source, filter) in [("web", "HTTPsession"), ("proxy", "ProxyEvent")] {
        let at = text.find(&format!("\n  {source}:\n")).unwrap();
        let (head, tail) = text.split_at(at);
        let tail = tail.replacen(
            "filter: \"\"",
            &format!("filter: 'EventType == \"{filter}\"'"),
            1,
        );
        text = format!("{head}{tail}");
    }
    std::fs::write(&mapping, text).unwrap();
    let emitted = emit::emit(TargetName::Kql, &pack, Some(&dir), "default").unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let query = document(&emitted, "queries/r.kql");
    assert!(
        query.contains("| where (EventType == \"HTTPsession\") or (EventType == \"ProxyEvent\")\n"),
        "{query}"
    );
}

#[test]
fn several_sources_on_different_parsers_are_refused_by_name() {
    let (map, pack) = several_sources("dns, network", "source.ip");
    let emitted = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
    assert_eq!(positions(&map, &emitted.diagnostics), ["E0700 1:6"]);
    let message = &emitted.diagnostics[0];
    assert!(
        message
            .message
            .contains("several sources (`from dns, network`)")
    );
    assert!(
        message
            .help
            .as_deref()
            .unwrap_or("")
            .contains("different parsers")
    );
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn first_seen_sorts_each_combination_and_alerts_on_events_with_no_previous_one_within_d() {
    let text = rule(
        "authentication",
        r#"event.outcome == "success""#,
        "first seen user.name, source.ip in 7d\n  every 1h",
    );
    let (found, documents) = refusals(&text, "default");
    assert!(found.is_empty(), "{found:?}");
    let text_of = |path: &str| &documents.iter().find(|d| d.path == path).unwrap().text;
    // D before the slot, the slot, and Sentinel's extra `every`, with the
    // 5m delay rounded up to 1h: 7d + 1h + 1h + 1h.
    assert!(text_of("r.yaml").contains("queryPeriod: 171h"));
    insta::assert_snapshot!("first_seen_query", text_of("queries/r.kql"));
}

#[test]
fn first_seen_kql_cannot_write_exactly_is_refused_at_the_statement() {
    for (source, extra, expected, words) in [
        // Sentinel looks back at most 14 days.
        (
            "authentication",
            "first seen user.name in 30d\n  every 1h",
            "E0700 8:3",
            "a first-seen span (`in 30d`) longer than Sentinel's 14-day look-back",
        ),
        // The numeric column holds null for text the evaluator keys.
        (
            "network",
            "first seen destination.port in 1d\n  every 1h",
            "E0700 8:14",
            "a `first seen` field on the numeric column",
        ),
    ] {
        let text = rule(source, r#"source.ip == "10.0.0.1""#, extra);
        let (map, pack) = checked("tests/fixtures/check/kql.trip", &text);
        let emitted = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
        assert_eq!(
            positions(&map, &emitted.diagnostics),
            vec![expected],
            "{extra}"
        );
        assert!(
            emitted.diagnostics[0].message.contains(words),
            "{}",
            emitted.diagnostics[0].message
        );
    }
    let text = rule(
        "authentication",
        r#"event.outcome == "success""#,
        "first seen user.name in 14d\n  every 1h",
    );
    let (map, pack) = checked("tests/fixtures/check/kql.trip", &text);
    let emitted = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
    assert_eq!(positions(&map, &emitted.diagnostics), vec!["E0700 8:3"]);
    let help = emitted.diagnostics[0].help.clone().unwrap_or_default();
    assert!(help.contains("(14d 3h in all)"), "{help}");
    assert!(help.contains("at most 13d 21h"), "{help}");
}

/// The minutes of the alerts `tripline eval` raises for the rule `text` on
/// events one minute apart from 00:`from` to 00:11, `outcome(m)` at 00:m.
fn sequence_alert_minutes(text: &str, from: u32, outcome: fn(u32) -> &'static str) -> Vec<u32> {
    let dir = std::env::temp_dir().join(format!(
        "tripline-kql-seq-{}-{from}-{}",
        std::process::id(),
        outcome(1)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("r.trip"), text).unwrap();
    let events: Vec<String> = (from..12)
        .map(|m| {
            format!(
                r#"{{"@timestamp": "2026-01-01T00:{m:02}:00Z", "user.name": "bob", "event.outcome": "{}"}}"#,
                outcome(m)
            )
        })
        .collect();
    std::fs::write(dir.join("e.jsonl"), events.join("\n")).unwrap();
    let run = crate::support::tripline_in(
        &dir,
        &[
            "eval",
            "--rules",
            "r.trip",
            "--source",
            "authentication",
            "e.jsonl",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .map(|l| {
            let alert: serde_json::Value = serde_json::from_str(l).unwrap();
            let last = alert["last_time"].as_str().unwrap_or_default().to_string();
            last[14..16].parse().unwrap()
        })
        .collect()
}

/// A sequence's alerts in a late slot depend on events before any bounded
/// look-back: the evaluator pairs an unbroken stream of failures as
/// (1st, 2nd), (3rd, 4th), ..., and the same stream without its first
/// event as (2nd, 3rd), ...; with distinct steps (2 failures then a
/// success) over alternating outcomes, the alerts shift too. So kql
/// refuses sequences, at the statement.
#[test]
fn sequences_are_refused_since_their_alerts_depend_on_unbounded_history() {
    let pairs = rule(
        "authentication",
        r#"event.outcome == "failure""#,
        "sequence by user.name within 5m {\n    where event.outcome == \"failure\"\n    then where event.outcome == \"failure\"\n  }",
    );
    let (map, pack) = checked("tests/fixtures/check/kql.trip", &pairs);
    let emitted = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
    assert_eq!(positions(&map, &emitted.diagnostics), vec!["E0700 8:15"]);
    let help = emitted.diagnostics[0].help.clone().unwrap_or_default();
    assert!(
        help.contains("keeps nothing from the runs before it"),
        "{help}"
    );
    let failures = |_| "failure";
    assert_eq!(
        sequence_alert_minutes(&pairs, 0, failures),
        [1, 3, 5, 7, 9, 11]
    );
    assert_eq!(
        sequence_alert_minutes(&pairs, 1, failures),
        [2, 4, 6, 8, 10]
    );

    let then_success = rule(
        "authentication",
        "exists(user.name)",
        "sequence by user.name within 5m {\n    2 where event.outcome == \"failure\"\n    then where event.outcome == \"success\"\n  }",
    );
    let alternating = |m: u32| {
        if m.is_multiple_of(2) {
            "failure"
        } else {
            "success"
        }
    };
    assert_eq!(
        sequence_alert_minutes(&then_success, 0, alternating),
        [3, 7, 11]
    );
    assert_eq!(
        sequence_alert_minutes(&then_success, 2, alternating),
        [5, 9]
    );
}
