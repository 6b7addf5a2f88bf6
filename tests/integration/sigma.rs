//! The Sigma target end to end: the file of every rule of the pack
//! (`rules/`, whatever it holds) and of the construct matrix, one snapshot
//! per rule (a refused rule's snapshot holds its refusals); the constructs
//! Sigma cannot express, refused at their place; and, for
//! `.ci/conformance-sigma.sh`, the matrix's and pack's test events as JSON.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure is the test's verdict"
)]

use std::path::{Path, PathBuf};

use tripline::cli::pipeline;
use tripline::emit::{self, TargetName};
use tripline::ir::{self, Expect, TestInput};
use tripline::source::SourceMap;

use crate::support::{checked, positions};

const MATRIX: &str = "tests/fixtures/matrix/matrix.trip";
const PACK: &str = "rules";

/// The checked pack at `path`, or `None` when the path does not exist.
fn load(path: &str) -> Option<pipeline::Loaded> {
    if !Path::new(path).exists() {
        return None;
    }
    let loaded = pipeline::load(&[PathBuf::from(path)]).unwrap();
    let errors: Vec<_> = loaded
        .diagnostics()
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{path} has errors: {errors:#?}");
    Some(loaded)
}

/// The Sigma file of one rule, or its refusals as `CODE line:col message`.
fn sigma_of(map: &SourceMap, rule: &ir::Rule, targets_dir: Option<&Path>) -> String {
    let pack = ir::Pack {
        rules: vec![rule.clone()],
        settings: ir::PackSettings::default(),
    };
    let emitted = emit::emit(TargetName::Sigma, &pack, targets_dir, "default").unwrap();
    if emitted.diagnostics.is_empty() {
        let [document] = emitted.documents.as_slice() else {
            panic!("one document per rule, got {:?}", emitted.documents);
        };
        assert_eq!(document.path, format!("{}.yml", rule.name));
        return document.text.clone();
    }
    emitted
        .diagnostics
        .iter()
        .map(|d| {
            let at = map.get(d.primary.file).position(d.primary.span.start);
            format!("{} {}:{} {}\n", d.code.id, at.line, at.column, d.message)
        })
        .collect()
}

fn snapshot_all(prefix: &str, path: &str) {
    let Some(loaded) = load(path) else { return };
    for rule in &loaded.checked.pack.rules {
        let text = sigma_of(&loaded.map, rule, None);
        if !text.starts_with('E') {
            well_formed(&rule.name, &text);
        }
        insta::assert_snapshot!(format!("{prefix}__{}", rule.name), text);
    }
}

/// Every document parses as YAML and its condition names only selections
/// it defines.
fn well_formed(name: &str, text: &str) {
    let documents: Vec<serde_yaml::Value> = tripline::yaml::documents(text).unwrap();
    for document in &documents {
        let Some(detection) = document.get("detection") else {
            continue;
        };
        let condition = detection["condition"].as_str().unwrap_or_default();
        for word in condition.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if !word.is_empty() && !["and", "or", "not"].contains(&word) {
                assert!(detection.get(word).is_some(), "{name}: `{word}` undefined");
            }
        }
    }
}

#[test]
fn matrix_rules_in_sigma() {
    snapshot_all("matrix", MATRIX);
}

#[test]
fn pack_rules_in_sigma() {
    snapshot_all("pack", PACK);
}

/// The refusals of one rule `r` whose `where` (and optional extra
/// statements) are given, as `CODE line:col`.
fn refusals(extra: &str, targets_dir: Option<&Path>) -> Vec<String> {
    let text = format!(
        "rule r {{\n  title \"t\"\n  id \"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11\"\n  level low\n  attack T1590\n  description \"d\"\n{extra}}}\n"
    );
    refusals_in(&text, targets_dir)
}

/// The refusals of the rules of one file, as `CODE line:col`.
fn refusals_in(text: &str, targets_dir: Option<&Path>) -> Vec<String> {
    let (map, pack) = checked("r.trip", text);
    let emitted = emit::emit(TargetName::Sigma, &pack, targets_dir, "default").unwrap();
    assert_eq!(
        emitted.documents.is_empty(),
        !emitted.diagnostics.is_empty()
    );
    positions(&map, &emitted.diagnostics)
}

#[test]
fn constructs_sigma_cannot_express_are_refused_at_their_place() {
    for (lines, expected) in [
        (
            "  from dns\n  where dns.question.name matches r\"\\.example\\.com$\"\n",
            vec!["E0700 8:9"],
        ),
        (
            "  from process\n  where process.name == \"x\" and process.command_line matches r\"(?i)\\bnet\\b\"\n",
            vec!["E0700 8:33"],
        ),
        (
            "  from network\n  where destination.port == 9007199254740993 or source.port < -9007199254740993\n",
            vec!["E0700 8:9", "E0700 8:49"],
        ),
        (
            "  from web\n  where url.path startswith all [\"/a\", \"/b\"]\n",
            vec!["E0700 8:9"],
        ),
        (
            "  from web\n  where url.path like all [\"/a*\", \"*b\"]\n",
            vec!["E0700 8:9"],
        ),
        (
            "  from network\n  where destination.port == 43\n  threshold count() over 5m > 9007199254740993\n",
            vec!["E0700 1:6"],
        ),
        // Backends put values into query text, where NUL cannot stand
        // (SQLite's API rejects it, C strings end at it).
        (
            "  from dns\n  where dns.question.type == \"A\" or dns.question.name contains \"a\\u{0}\"\n",
            vec!["E0700 8:37"],
        ),
        (
            "  from dns\n  where dns.question.name like \"*\\u{0}\" or dns.question.name matches \"x\\u{0}\"\n",
            vec!["E0700 8:9", "E0700 8:44"],
        ),
        // What Sigma can say exactly is not refused.
        (
            "  from web\n  where url.path startswith all [\"/ecp\", \"/ECP/\"] and url.path like all [\"*a*\", \"*b*\"]\n",
            vec![],
        ),
        (
            "  from dns\n  where dns.question.name matches r\"^(?:[a-z]{2,}\\d+?)\\.x\" and exists(@timestamp)\n",
            vec![],
        ),
    ] {
        assert_eq!(refusals(lines, None), expected, "{lines}");
    }
}

/// A rule file with a header, lists `prelude` before it and `body` inside.
fn rule_text(prelude: &str, name: &str, title: &str, body: &str) -> String {
    format!(
        "{prelude}rule {name} {{\n  title \"{title}\"\n  id \"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11\"\n  level low\n  attack T1590\n  description \"d\"\n{body}}}\n"
    )
}

#[test]
fn predicates_over_an_empty_list_are_refused() {
    // Sigma has no empty value list: `f:` with nothing is `f: null`, which
    // pySigma reads as "f is null" (or rejects under a modifier), while an
    // empty `in` holds for no event and an empty `all` for every value.
    let prelude = "list empty = []\nlist none: cidr = []\nlist nums: int = []\n";
    for (body, expected) in [
        (
            "  from dns\n  where dns.question.name in @empty\n",
            vec!["E0700 11:9"],
        ),
        (
            "  from dns\n  where not dns.question.name contains @empty\n",
            vec!["E0700 11:13"],
        ),
        (
            "  from dns\n  where dns.question.name endswith all @empty\n",
            vec!["E0700 11:9"],
        ),
        (
            "  from dns\n  where source.ip not in cidr @none\n",
            vec!["E0700 11:9"],
        ),
        (
            "  from network\n  where destination.port in @nums\n",
            vec!["E0700 11:9"],
        ),
    ] {
        let text = rule_text(prelude, "r", "t", body);
        assert_eq!(refusals_in(&text, None), expected, "{body}");
    }
}

/// The Sigma file of the one rule in `text`.
fn sigma_text(text: &str) -> String {
    let (map, pack) = checked("r.trip", text);
    sigma_of(&map, pack.rules.first().unwrap(), None)
}

#[test]
fn rule_names_that_yaml_reads_as_booleans_are_quoted() {
    // PyYAML (YAML 1.1) reads a plain `yes`, `On`, `NULL` as a boolean or
    // null, and pySigma then rejects the name.
    for name in ["yes", "On", "NULL", "n"] {
        let body =
            "  from network\n  where destination.port == 43\n  threshold count() over 5m > 3\n";
        let sigma = sigma_text(&rule_text("", name, "t", body));
        assert!(sigma.contains(&format!("\nname: '{name}'\n")), "{sigma}");
        assert!(
            sigma.contains(&format!("\n        - '{name}'\n")),
            "{sigma}"
        );
    }
}

#[test]
fn titles_fit_sigmas_limit() {
    // pySigma rejects a title longer than 256 characters.
    let body = "  from network\n  where destination.port == 43\n";
    let long = "é".repeat(257);
    let text = rule_text("", "r", &long, body);
    assert_eq!(refusals_in(&text, None), vec!["E0700 1:6"]);
    // The detection document of a threshold rule adds ` (events)`: it is
    // shortened to fit, and still differs from the rule's title.
    let title = "é".repeat(256);
    let threshold = format!("{body}  threshold count() over 5m > 3\n");
    let sigma = sigma_text(&rule_text("", "r", &title, &threshold));
    let documents: Vec<serde_yaml::Value> = tripline::yaml::documents(&sigma).unwrap();
    let titles: Vec<&str> = documents
        .iter()
        .map(|d| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles[1], title);
    assert!(
        titles[0].chars().count() <= 256 && titles[0] != title,
        "{}",
        titles[0]
    );
    assert!(titles[0].ends_with(" (events)"), "{}", titles[0]);
}

#[test]
fn a_distinct_count_that_alerts_on_zero_is_refused_at_the_field() {
    // Sigma's `value_count` counts `""` as a value; tripline's `distinct`
    // does not, and a group whose events lack the field counts 0. The base
    // rule drops events without the field, which changes no alert only when
    // 0 cannot alert.
    let body = |threshold: &str| {
        format!(
            "  from authentication\n  where event.outcome == \"failure\"\n  threshold {threshold}\n"
        )
    };
    for threshold in [
        "distinct(user.name) by source.ip over 10m < 3",
        "distinct(user.name) by source.ip over 10m <= 0",
        "distinct(user.name) by source.ip over 10m == 0",
        "distinct(user.name) by source.ip over 10m >= 0",
        "distinct(user.name) over 10m > -1",
    ] {
        assert_eq!(
            refusals(&body(threshold), None),
            vec!["E0700 9:22"],
            "{threshold}"
        );
    }
    for threshold in [
        "distinct(user.name) by source.ip over 10m == 1",
        "distinct(user.name) by source.ip over 10m >= 1",
        "distinct(user.name) over 10m > 0",
        "count() by source.ip over 10m < 3",
        "count() over 10m == 0",
    ] {
        assert_eq!(
            refusals(&body(threshold), None),
            Vec::<String>::new(),
            "{threshold}"
        );
    }
}

#[test]
fn correlations_count_only_events_with_their_values() {
    // A backend groups `""` and null like any value and `value_count`
    // counts `""`; the evaluator counts neither, so the base rule keeps
    // only events whose `by` and `distinct` fields are present and not
    // empty (once each, however often they are named).
    let body = "  from authentication\n  where event.outcome == \"failure\"\n  threshold distinct(user.name) by source.ip, user.name over 10m > 2\n";
    let sigma = sigma_text(&rule_text("", "r", "t", body));
    let start = sigma.find("detection:").unwrap();
    let end = sigma.find("fields:").unwrap();
    insta::assert_snapshot!(&sigma[start..end], @r"
    detection:
        selection:
            event.outcome: 'failure'
            source.ip|exists: true
            user.name|exists: true
        filter_1:
            source.ip:
                - ''
                - null
        filter_2:
            user.name:
                - ''
                - null
        condition: selection and not filter_1 and not filter_2
    ");
}

#[test]
fn an_unmapped_field_is_refused_at_the_field() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sigma-unmapped");
    let sigma = dir.join("sigma");
    std::fs::create_dir_all(sigma.join("mappings")).unwrap();
    std::fs::copy("targets/sigma/rule.yml.j2", sigma.join("rule.yml.j2")).unwrap();
    let mapping = std::fs::read_to_string("targets/sigma/mappings/default.yaml")
        .unwrap()
        .replace("dns.question.name: query", "dns.question.name: null");
    std::fs::write(sigma.join("mappings/default.yaml"), mapping).unwrap();
    let lines =
        "  from dns\n  where dns.question.type == \"A\" or dns.question.name contains \"x\"\n";
    assert_eq!(refusals(lines, Some(&dir)), vec!["E0701 8:37"]);
}

/// Writes (to `TRIPLINE_SIGMA_CASES`, or `target/conformance/sigma-cases.json`) the `expect match` /
/// `expect nomatch` tests of the matrix and the pack as JSON for the
/// conformance script: per rule, its source and tests, each test's events
/// (one copy of a `repeat`, the lines of an `events` file).
#[test]
fn conformance_cases() {
    let out = std::env::var("TRIPLINE_SIGMA_CASES")
        .unwrap_or_else(|_| "target/conformance/sigma-cases.json".to_string());
    let mut all = serde_json::Map::new();
    for (key, path) in [("matrix", MATRIX), ("pack", PACK)] {
        let rules = load(path).map_or_else(Vec::new, |l| l.checked.pack.rules);
        let cases: Vec<_> = rules
            .iter()
            .filter(|r| r.threshold().is_none())
            .map(cases_of)
            .collect();
        all.insert(key.to_string(), serde_json::Value::from(cases));
    }
    let matrix_cases = all["matrix"].as_array().map_or(0, Vec::len);
    assert!(
        matrix_cases > 20,
        "the matrix should give cases, got {matrix_cases}"
    );
    if let Some(parent) = std::path::Path::new(&out).parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(out, serde_json::to_string_pretty(&all).unwrap()).unwrap();
}

fn cases_of(rule: &ir::Rule) -> serde_json::Value {
    let tests: Vec<_> = rule
        .tests
        .iter()
        .filter_map(|test| {
            let expect = test.expects.iter().find_map(|e| match e.node {
                Expect::Match => Some("match"),
                Expect::NoMatch => Some("nomatch"),
                _ => None,
            })?;
            let events: Vec<serde_json::Value> = test.inputs.iter().flat_map(events_of).collect();
            Some(serde_json::json!({ "name": test.name, "expect": expect, "events": events }))
        })
        .collect();
    serde_json::json!({ "rule": rule.name, "source": rule.source, "tests": tests })
}

fn events_of(input: &TestInput) -> Vec<serde_json::Value> {
    match input {
        TestInput::Event { event, .. } | TestInput::Repeat { event, .. } => {
            vec![serde_json::Value::Object(event.clone())]
        }
        TestInput::File { path, .. } => std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    }
}
