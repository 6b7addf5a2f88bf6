//! The runbook target: a page per rule of the pack and of the construct
//! matrix (snapshots), the index by technique, cell escaping, and the
//! warning for a rule without a playbook.

use std::path::PathBuf;

use tripline::cli::pipeline;
use tripline::emit::{self, Emitted, TargetName};

use crate::support::document;

fn build(paths: &[PathBuf]) -> Emitted {
    let loaded = pipeline::load(paths).unwrap();
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics());
    emit::emit(TargetName::Runbook, &loaded.checked.pack, None, "default").unwrap()
}

#[test]
fn every_pack_rule_gets_a_page_and_the_index_lists_them_by_technique() {
    let files = tripline::source::discover(&[PathBuf::from("rules")]).unwrap();
    let emitted = build(&files);
    assert!(
        emitted.diagnostics.is_empty(),
        "every pack rule has a playbook: {:#?}",
        emitted.diagnostics
    );
    for page in emitted.documents.iter().filter(|d| d.path != "index.md") {
        insta::assert_snapshot!(
            format!("runbook__{}", page.path.trim_end_matches(".md")),
            page.text
        );
        for row in [
            "MITRE Tactic",
            "Key Indicators",
            "Questions for Analysis",
            "Containment and Further Analysis",
        ] {
            assert!(
                page.text.contains(&format!("| {row} | ")),
                "{} lacks {row}",
                page.path
            );
        }
    }
    insta::assert_snapshot!("runbook__index", document(&emitted, "index.md"));
}

#[test]
fn matrix_pages_word_every_construct() {
    let emitted = build(&[PathBuf::from("tests/fixtures/matrix/matrix.trip")]);
    let indicators: Vec<String> = emitted
        .documents
        .iter()
        .filter(|d| d.path != "index.md")
        .map(|d| {
            let row = d
                .text
                .lines()
                .find(|l| l.starts_with("| Key Indicators |"))
                .unwrap_or_default();
            format!("{}: {row}", d.path)
        })
        .collect();
    insta::assert_snapshot!(indicators.join("\n"));
}

#[test]
fn a_rule_without_playbook_warns_and_gets_dashes() {
    let dir = std::env::temp_dir().join(format!("tripline-runbook-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bare.trip");
    std::fs::write(
        &path,
        "rule bare {\n  title \"Pipe | and\\nnewline\"\n  id \"00000000-0000-4000-8000-000000000001\"\n  level low\n  attack T1589\n  description \"d\"\n  from web\n  where url.path contains \"a|b\"\n}\n",
    )
    .unwrap();
    let emitted = build(&[path]);
    let codes: Vec<&str> = emitted.diagnostics.iter().map(|d| d.code.id).collect();
    assert_eq!(codes, ["W0009"]);
    assert!(emitted.diagnostics.iter().all(|d| !d.is_error()));
    let page = document(&emitted, "bare.md");
    assert!(page.contains("| Questions for Analysis | - |"), "{page}");
    assert!(
        page.contains(r#"`url.path` contains "a\|b""#),
        "the pipe is escaped in the cell: {page}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Rule text reaches the page as text: no HTML, no link, no heading, no
/// raw control character, whatever a (possibly imported) rule says.
#[test]
fn hostile_rule_text_is_shown_never_rendered() {
    let dir = std::env::temp_dir().join(format!("tripline-runbook-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hostile.trip");
    std::fs::write(
        &path,
        r#"rule hostile {
  title "<script>alert(1)</script>\n# Owned"
  id "00000000-0000-4000-8000-000000000002"
  level low
  attack T1589
  description "- [x](javascript:alert(1)) <img src=x onerror=alert(1)> \u{1b}[31m\u{7}"
  references ["javascript:alert(1)", "https://example.org/a|b", "https://ok.example/"]
  falsepositives ["**bold** `code` ~~gone~~"]
  from web
  where url.path contains "<b>"
  playbook { triage "<iframe>" }
}
"#,
    )
    .unwrap();
    let emitted = build(&[path]);
    let page = document(&emitted, "hostile.md");
    for live in [
        "<script",
        "<img",
        "<iframe",
        "<b>",
        "\n# Owned",
        "\u{1b}",
        "\u{7}",
        "<javascript",
    ] {
        assert!(!page.contains(live), "`{live}` is live markup in: {page}");
    }
    assert!(
        page.contains("# &lt;script&gt;alert(1)&lt;/script&gt; # Owned - T1589"),
        "{page}"
    );
    assert!(
        page.contains("\n\\- \\[x\\](javascript:alert(1))"),
        "{page}"
    );
    assert!(page.contains("- <https://ok.example/>"), "{page}");
    assert!(page.contains("- <https://example.org/a%7Cb>"), "{page}");
    assert!(
        page.contains(r"\*\*bold\*\* \`code\` \~\~gone\~\~"),
        "{page}"
    );
    assert!(page.contains(r#"contains "&lt;b&gt;""#), "{page}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_alert_section_says_how_the_alert_appears_escaped() {
    let dir = std::env::temp_dir().join(format!("tripline-runbook-alert-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("alerting.trip");
    std::fs::write(
        &path,
        r#"rule spray {
  title "Spray"
  id "00000000-0000-4000-8000-000000000003"
  level medium
  attack T1110.003
  description "d"
  from authentication
  where event.outcome == "failure"
  threshold distinct(user.name) by source.ip over 10m >= 5
  alert {
    title "<img src=x> *spray* from {source.ip} [x](javascript:y)"
    threat source.ip ip_address
    fields [user.name, service.name]
  }
}

rule sweep {
  title "Sweep"
  id "00000000-0000-4000-8000-000000000004"
  level high
  attack T1595.001
  description "d"
  from network
  where network.transport == "icmp"
  threshold count() over 5m > 50
}
"#,
    )
    .unwrap();
    let emitted = build(&[path]);
    let spray = document(&emitted, "spray.md");
    let section = |page: &str| {
        let start = page
            .find("## How the alert appears")
            .expect("an alert section");
        let end = page[start..].find("## About").unwrap() + start;
        page[start..end].to_string()
    };
    assert_eq!(
        section(spray),
        "## How the alert appears\n\n\
         - **Title:** &lt;img src=x&gt; \\*spray\\* from `{source.ip}` \\[x\\](javascript:y) (each `{field}` is the alert's value of that field)\n\
         - **Raises:** Risk only: risk on `source.ip` (system, score 40) in Splunk Enterprise Security, no notable; in Sentinel an alert without an incident. A notable comes when the entity's risk adds up (risk-based alerting) or another rule opens one.\n\
         - **Threat objects:** `source.ip` (`ip_address`)\n\
         - **Shown with it:** The group's `source.ip`, the number of events, the first and last event times and up to 10 distinct values (sorted as text) of `user.name` and `service.name`.\n\
         - **Grouping:** One alert per `source.ip` per window.\n\n"
    );
    // No `by`: no risk object, so a notable; grouped by every entity.
    let sweep = section(document(&emitted, "sweep.md"));
    assert!(
        sweep.contains("- **Raises:** A notable in Splunk Enterprise Security and an incident in Sentinel (no risk object).\n"),
        "{sweep}"
    );
    assert!(sweep.contains("- **Shown with it:** The number of events, the first and last event times and up to 10 distinct values"), "{sweep}");
    assert!(sweep.contains("- **Grouping:** One alert per window. In Sentinel, alerts with the same entities within 5 hours join one incident.\n"), "{sweep}");
    std::fs::remove_dir_all(&dir).unwrap();
}
