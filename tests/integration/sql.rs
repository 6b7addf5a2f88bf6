//! The sql target end to end: one snapshot per rule of the pack (`rules/`)
//! and of the construct matrix, each holding the DuckDB query and then the
//! Spark one; the `events` view of each engine; and the two refusals.

#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on a broken fixture"
)]

use std::path::PathBuf;

use tripline::cli::pipeline;
use tripline::emit::{self, Emitted, TargetName};
use tripline::ir;

use crate::support::{checked, document, positions};

const MATRIX: &str = "tests/fixtures/matrix/matrix.trip";

fn build(paths: &[PathBuf]) -> (ir::Pack, Emitted) {
    let loaded = pipeline::load(paths).unwrap();
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics());
    let pack = loaded.checked.pack;
    let emitted = emit::emit(TargetName::Sql, &pack, None, "default").unwrap();
    (pack, emitted)
}

/// Snapshots each rule's queries; `refused` are the rules the target
/// refuses (by name, in the diagnostics), in pack order.
fn snapshot_pack(prefix: &str, paths: &[PathBuf], refused: &[&str]) {
    let (pack, emitted) = build(paths);
    let refusals: Vec<&str> = emitted
        .diagnostics
        .iter()
        .filter_map(|d| {
            pack.rules
                .iter()
                .find(|r| d.message.contains(&format!("rule `{}` is refused", r.name)))
                .map(|r| r.name.as_str())
        })
        .collect();
    assert_eq!(
        refusals.len(),
        emitted.diagnostics.len(),
        "{:#?}",
        emitted.diagnostics
    );
    assert_eq!(refusals, refused, "{:#?}", emitted.diagnostics);
    for rule in pack
        .rules
        .iter()
        .filter(|r| !refused.contains(&r.name.as_str()))
    {
        let duckdb = document(&emitted, &format!("duckdb/{}.sql", rule.name));
        let spark = document(&emitted, &format!("spark/{}.sql", rule.name));
        insta::assert_snapshot!(
            format!("{prefix}__{}", rule.name),
            format!(
                "----- duckdb/{0}.sql\n{duckdb}\n----- spark/{0}.sql\n{spark}",
                rule.name
            )
        );
    }
}

#[test]
fn matrix_rules_become_duckdb_and_spark_queries() {
    snapshot_pack("matrix", &[PathBuf::from(MATRIX)], &[]);
}

#[test]
fn matrix_v2_rules_become_duckdb_and_spark_queries() {
    snapshot_pack(
        "matrix_v2",
        &[PathBuf::from("tests/fixtures/matrix/matrix_v2.trip")],
        &[],
    );
}

#[test]
fn version2_alerts_carry_every_aggregate_in_the_runners() {
    let (_, emitted) = build(&[PathBuf::from("tests/fixtures/matrix/matrix_v2.trip")]);
    let run = document(&emitted, "duckdb/run.sql");
    assert!(
        run.contains(
            r#"q."min(http.response.status_code)", q."count()", q."sum(http.response.status_code)""#
        ),
        "{run}"
    );
    let rules = document(&emitted, "spark/rules.json");
    assert!(rules.contains(r#""readings": ["#), "{rules}");
    let job = document(&emitted, "spark/job.py");
    assert!(
        job.contains(r#"values = [column(r) for r in rule.get("readings", [])]"#),
        "{job}"
    );
    // A version 1 pack's runners are as before: no readings anywhere.
    let (_, v1) = build(&[PathBuf::from(MATRIX)]);
    assert!(!document(&v1, "spark/rules.json").contains("readings"));
    assert!(!document(&v1, "spark/job.py").contains("readings"));
}

#[test]
fn pack_rules_become_duckdb_and_spark_queries() {
    let files = tripline::source::discover(&[PathBuf::from("rules")]).unwrap();
    assert!(files.len() > 20, "the pack is missing");
    snapshot_pack("pack", &files, &[]);
}

#[test]
fn each_engine_gets_an_events_view_and_the_target_a_readme() {
    let (_, emitted) = build(&[PathBuf::from(MATRIX)]);
    insta::assert_snapshot!("view__duckdb", document(&emitted, "duckdb/events.sql"));
    insta::assert_snapshot!("view__spark", document(&emitted, "spark/events.sql"));
    assert!(document(&emitted, "README.md").contains("spark-sql"));
}

#[test]
fn nul_values_and_exists_of_the_timestamp_are_refused_where_written() {
    let rule = |condition: &str| {
        format!(
            "rule r {{\n  title \"t\"\n  id \"11111111-2222-3333-4444-555555555555\"\n  level high\n  attack T1590\n  description \"d\"\n  from dns\n  where {condition}\n}}\n"
        )
    };
    for (condition, expected) in [
        (r#"host.name == "a\u{0}b""#, vec!["E0700 8:9"]),
        (r#"not host.name contains "\u{0}""#, vec!["E0700 8:13"]),
        (r#"host.name == "a\r\n'\\b""#, vec![]),
        ("exists(@timestamp)", vec!["E0700 8:16"]),
    ] {
        let (map, pack) = checked("tests/fixtures/check/sql.trip", &rule(condition));
        let emitted = emit::emit(TargetName::Sql, &pack, None, "default").unwrap();
        assert_eq!(
            positions(&map, &emitted.diagnostics),
            expected,
            "{condition}"
        );
    }
}
