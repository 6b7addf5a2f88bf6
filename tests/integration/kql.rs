//! The kql target end to end: snapshots of every document for every rule of
//! the pack (`rules/`) and of the construct matrix, refusals with their
//! positions, and escaping. `export_conformance_cases` (ignored; run by
//! `.ci/conformance-kql.sh`) writes each matrix rule's query and test
//! events as ASIM rows for the differential check.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly on a broken fixture"
)]

use std::path::{Path, PathBuf};

use tripline::check::check;
use tripline::cli::pipeline;
use tripline::emit::{self, Document, Emitted, TargetName};
use tripline::ir;
use tripline::source::{FileId, SourceFile, SourceMap};
use tripline::syntax::parse;

const MATRIX: &str = "tests/fixtures/matrix/matrix.trip";

fn build(paths: &[PathBuf], mapping: &str) -> (ir::Pack, Emitted) {
    let loaded = pipeline::load(paths).unwrap();
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics());
    let pack = loaded.checked.pack;
    let emitted = emit::emit(TargetName::Kql, &pack, None, mapping).unwrap();
    (pack, emitted)
}

fn document<'a>(emitted: &'a Emitted, path: &str) -> &'a str {
    emitted
        .documents
        .iter()
        .find(|d| d.path == path)
        .map(|d| d.text.as_str())
        .unwrap_or_else(|| panic!("no document {path}"))
}

/// One snapshot per rule (its YAML, then its query alone), and the ARM
/// template, named after `prefix`.
fn snapshot_pack(prefix: &str, paths: &[PathBuf], mapping: &str) {
    let (pack, emitted) = build(paths, mapping);
    assert!(emitted.refusals.is_empty(), "{:#?}", emitted.refusals);
    for rule in &pack.rules {
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
    snapshot_pack("matrix", &[PathBuf::from(MATRIX)], "default");
}

#[test]
fn pack_rules_become_sentinel_rules() {
    let mut files = Vec::new();
    collect_trip_files(Path::new("rules"), &mut files);
    if files.is_empty() {
        return;
    }
    files.sort();
    snapshot_pack("pack", &files, "default");
}

fn collect_trip_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            collect_trip_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "trip") {
            files.push(path);
        }
    }
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
    let mut map = SourceMap::default();
    let id: FileId = map.add(SourceFile::new("tests/fixtures/check/kql.trip", text));
    let (file, syntax) = parse(id, &map.get(id).text);
    assert!(syntax.is_empty(), "{syntax:#?}");
    let checked = check(&map, &[(id, &file)]);
    assert!(
        !checked.diagnostics.iter().any(|d| d.is_error()),
        "{:#?}",
        checked.diagnostics
    );
    let emitted = emit::emit(TargetName::Kql, &checked.pack, None, mapping).unwrap();
    let found = emitted
        .refusals
        .iter()
        .map(|d| {
            let at = map.get(id).position(d.primary.span.start);
            format!("{} {}:{}", d.code.id, at.line, at.column)
        })
        .collect();
    (found, emitted.documents)
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
        ("dns", r#"host.name == "x""#, "every 1m", "E0700 1:6"),
        ("dns", r#"host.name == "x""#, "every 15d", "E0700 1:6"),
        (
            "dns",
            r#"host.name == "x""#,
            "every 5m\n  lookback 330s",
            "E0700 1:6",
        ),
        ("dns", r#"host.name == "x""#, "lookback 3d", "E0700 1:6"),
    ] {
        let (found, _) = refusals(&rule(source, condition, extra), "default");
        assert_eq!(found, vec![expected], "{source}: {condition} {extra}");
    }
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
