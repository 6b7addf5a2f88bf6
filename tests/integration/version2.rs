//! Version 2 constructs end to end on `tests/fixtures/matrix/matrix_v2.trip`
//! (the version 2 construct matrix): its tests pass under the evaluator, it
//! is formatted, the evaluator's alerts on its events file (snapshot), and
//! what each target writes or refuses for each rule (snapshots).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tripline::cli::pipeline;
use tripline::emit::{self, TargetName};
use tripline::ir;

const MATRIX_V2: &str = "tests/fixtures/matrix/matrix_v2.trip";
const EVENTS_V2: &str = "tests/fixtures/matrix/matrix_v2.jsonl";

fn tripline() -> Command {
    let mut cmd = Command::cargo_bin("tripline").unwrap_or_else(|_| Command::new("tripline"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn load() -> pipeline::Loaded {
    let loaded = pipeline::load(&[PathBuf::from(MATRIX_V2)]).unwrap();
    let errors: Vec<_> = loaded
        .diagnostics()
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.clone())
        .collect();
    assert!(errors.is_empty(), "{MATRIX_V2} has errors: {errors:#?}");
    loaded
}

#[test]
fn matrix_v2_tests_pass_with_tripline_test() {
    let output = tripline().args(["test", MATRIX_V2]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("28 passed, 0 failed"), "{stdout}");
}

#[test]
fn matrix_v2_is_formatted() {
    let text = std::fs::read_to_string(MATRIX_V2).unwrap();
    let (file, errors) = tripline::syntax::parse(tripline::source::FileId(0), &text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(tripline::fmt::format(&text, &file), text);
}

#[test]
fn matrix_v2_eval_alerts() {
    let output = tripline()
        .args(["eval", "--rules", MATRIX_V2, EVENTS_V2])
        .output()
        .unwrap();
    assert!(output.status.success());
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stdout));
}

/// Each rule as `target` writes it, or its refusals with their help.
fn written(target: TargetName) -> String {
    let loaded = load();
    let mut out = String::new();
    for rule in &loaded.checked.pack.rules {
        let pack = ir::Pack {
            rules: vec![rule.clone()],
            settings: ir::PackSettings::default(),
        };
        let emitted = emit::emit(target, &pack, None::<&Path>, "default").unwrap();
        out.push_str(&format!("== {}\n", rule.name));
        if emitted.diagnostics.is_empty() {
            out.push_str("written\n");
            // The query itself, where the target writes one file of it.
            for document in emitted.documents.iter().filter(|d| {
                d.path.ends_with(".kql")
                    || d.path.ends_with(".spl")
                    || (matches!(target, TargetName::Sigma) && d.path.ends_with(".yml"))
            }) {
                out.push_str(&document.text);
            }
        }
        for d in &emitted.diagnostics {
            let at = loaded
                .map
                .get(d.primary.file)
                .position(d.primary.span.start);
            out.push_str(&format!(
                "{} {}:{} {}\n  help: {}\n",
                d.code.id,
                at.line,
                at.column,
                d.message,
                d.help.as_deref().unwrap_or("")
            ));
        }
    }
    out
}

#[test]
fn matrix_v2_sigma_writes_or_refuses_each_construct_by_name() {
    insta::assert_snapshot!(written(TargetName::Sigma));
}

#[test]
fn matrix_v2_splunk_writes_or_refuses_each_construct_by_name() {
    insta::assert_snapshot!(written(TargetName::Splunk));
}

#[test]
fn matrix_v2_kql_writes_or_refuses_each_construct_by_name() {
    insta::assert_snapshot!(written(TargetName::Kql));
}

#[test]
fn matrix_v2_runbook_words_each_threshold() {
    let loaded = load();
    let emitted = emit::emit(TargetName::Runbook, &loaded.checked.pack, None, "default").unwrap();
    assert!(
        emitted.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        emitted.diagnostics
    );
    let words: String = emitted
        .documents
        .iter()
        .flat_map(|d| d.text.lines().filter(|l| l.contains("Alert when")))
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(words);
}

#[test]
fn kql_refuses_a_len_comparison_that_holds_for_length_zero() {
    let text = "rule r {\n  title \"t\"\n  id \"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11\"\n  level low\n  \
                attack T1590\n  description \"d\"\n  from dns\n  where len(dns.question.name) < 5\n}\n";
    let (map, pack) = crate::support::checked("r.trip", text);
    let emitted = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
    let found = crate::support::positions(&map, &emitted.diagnostics);
    assert_eq!(found, ["E0700 8:9"]);
    assert!(
        emitted.diagnostics[0]
            .message
            .contains("holds for length 0")
    );
}

#[test]
fn a_failed_sequence_expectation_lists_the_alerts_raised() {
    let text = std::fs::read_to_string(MATRIX_V2).unwrap();
    let wrong = text.replace(
        r#"expect alert { source.ip: "203.0.113.5", user.name: "bob" }"#,
        r#"expect alert { source.ip: "198.51.100.1" }"#,
    );
    assert_ne!(wrong, text);
    let dir = std::env::temp_dir().join(format!("tripline-seq-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("wrong.trip");
    std::fs::write(&path, wrong).unwrap();
    let output = tripline().arg("test").arg(&path).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let failure: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.contains("three failures then a success fire"))
        .take(3)
        .map(|l| l.split(" (").next().unwrap_or(l))
        .collect();
    assert_eq!(
        failure,
        [
            "test sequence_failures_then_success \"three failures then a success fire\" ... FAILED",
            "    expect alert { source.ip: \"198.51.100.1\" }",
            "      alert {source.ip: \"203.0.113.5\", user.name: \"bob\"} window 2026-11-22T10:00:00Z..2026-11-22T10:05:00Z events 4",
        ],
        "{stdout}"
    );
}
