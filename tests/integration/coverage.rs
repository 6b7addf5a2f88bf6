//! `tripline coverage`, end to end: the text table, the Navigator layer, the
//! SVG matrix and `--min-coverage`, on a small fixture pack and on `rules/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tripline::check::Catalogue;

const SMALL: &str = "tests/fixtures/coverage/small";
const BROKEN: &str = "tests/fixtures/coverage/broken";

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

fn run(args: &[&str]) -> Run {
    let output = Command::cargo_bin("tripline")
        .unwrap()
        .env("NO_COLOR", "1")
        .arg("coverage")
        .args(args)
        .output()
        .unwrap();
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code().unwrap_or(-1),
    }
}

/// A path in the temporary folder, unique to this test process and `name`.
fn temporary(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tripline-coverage-{}-{name}", std::process::id()))
}

/// Runs coverage writing one file and returns its text.
fn written(pack: &str, flag: &str, name: &str) -> String {
    let path = temporary(name);
    let result = run(&[pack, flag, path.to_str().unwrap()]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    assert!(result.stdout.is_empty(), "a file output prints no table");
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    text
}

/// The current techniques and sub-techniques of Reconnaissance.
fn recon_ids() -> Vec<String> {
    Catalogue::bundled()
        .techniques()
        .iter()
        .filter(|t| t.tactics.iter().any(|s| s == "reconnaissance"))
        .filter(|t| !t.revoked && !t.deprecated)
        .map(|t| t.id.clone())
        .collect()
}

#[test]
fn text_table_counts_rules_per_exact_technique_and_marks_gaps() {
    let result = run(&[SMALL]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    insta::assert_snapshot!(result.stdout);
}

#[test]
fn layer_of_the_small_pack() {
    let text = written(SMALL, "--layer", "small.json");
    insta::assert_snapshot!(text);
    let layer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(layer["versions"]["layer"], "4.5");
    assert_eq!(layer["versions"]["attack"], "18");
    assert_eq!(layer["domain"], "enterprise-attack");
    let scores = scores(&layer);
    let expected = [
        ("T1046", 1),
        ("T1110.003", 1),
        ("T1590", 0),
        ("T1590.002", 2),
        ("T1595", 1),
        ("T1596", 1),
    ];
    for (id, score) in expected {
        assert_eq!(scores.get(id), Some(&score), "{id}");
    }
    for id in recon_ids() {
        assert!(scores.contains_key(&id), "{id} missing from the layer");
    }
}

#[test]
fn layer_scores_of_the_bundled_pack_equal_rule_counts() {
    let layer: Value = serde_json::from_str(&written("rules", "--layer", "rules.json")).unwrap();
    let scores = scores(&layer);
    let counted = attack_counts(Path::new("rules"));
    assert!(!counted.is_empty());
    for (id, count) in &counted {
        assert_eq!(scores.get(id), Some(count), "{id}");
    }
    for (id, score) in &scores {
        assert_eq!(counted.get(id).copied().unwrap_or(0), *score, "{id}");
    }
}

#[test]
fn svg_is_well_formed_and_shows_every_recon_technique() {
    for pack in [SMALL, "rules"] {
        let svg = written(pack, "--svg", "picture.svg");
        assert_well_formed(&svg);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        for id in recon_ids() {
            assert!(svg.contains(&format!(">{id}</text>")), "{id} not drawn");
        }
    }
    let svg = written(SMALL, "--svg", "small.svg");
    assert!(svg.contains("Zone transfer (AXFR &amp; IXFR) from &lt;outside&gt;"));
    assert!(svg.contains("Port scan&apos;s service probes"));
    assert!(svg.contains(">Credential Access <tspan"));
    assert!(svg.contains(">Discovery <tspan"));
}

#[test]
fn min_coverage_is_met_by_the_technique_or_a_sub_technique() {
    let cases: [(&str, &str, i32, &[&str]); 6] = [
        (SMALL, "T1590,T1595,T1110", 0, &[]),
        (SMALL, "t1590.002", 0, &[]),
        (SMALL, "T1589,T1590,T1596.002", 1, &["T1589 ", "T1596.002 "]),
        (
            SMALL,
            "T1590,T9999",
            2,
            &["unknown ATT&CK technique `T9999`"],
        ),
        (SMALL, ",", 2, &["names no technique"]),
        ("rules", "T1590,T1589", 0, &[]),
    ];
    for (pack, required, code, messages) in cases {
        let result = run(&[pack, "--min-coverage", required]);
        assert_eq!(result.code, code, "{required}: {}", result.stderr);
        for message in messages {
            assert!(
                result.stderr.contains(message),
                "{required}: {}",
                result.stderr
            );
        }
        if code == 1 {
            assert!(!result.stderr.contains("T1590 "), "T1590 is covered");
        }
    }
}

#[test]
fn a_pack_with_errors_reports_them_and_writes_nothing() {
    let path = temporary("broken.svg");
    let result = run(&[BROKEN, "--svg", path.to_str().unwrap()]);
    assert_eq!(result.code, 1);
    assert!(result.stderr.contains("unknown ATT&CK technique `T9999`"));
    assert!(!path.exists());
}

#[test]
fn unwritable_output_and_missing_pack_are_exit_2() {
    let result = run(&[SMALL, "--layer", "/nonexistent-dir/layer.json"]);
    assert_eq!(result.code, 2);
    assert!(result.stderr.contains("cannot write"));
    assert_eq!(run(&["tests/fixtures/coverage/nonexistent"]).code, 2);
}

#[test]
#[should_panic(expected = "closing a")]
fn the_well_formedness_check_rejects_crossed_tags() {
    assert_well_formed("<a><b></a></b>");
}

#[test]
#[should_panic(expected = "bad entity")]
fn the_well_formedness_check_rejects_a_bare_ampersand() {
    assert_well_formed("<a>AXFR & IXFR</a>");
}

fn scores(layer: &Value) -> BTreeMap<String, u64> {
    layer["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["techniqueID"].as_str().unwrap().to_string(),
                t["score"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Rules per technique, read from the `attack` lines of the sources
/// (independently of the compiler).
fn attack_counts(folder: &Path) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "trip") {
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().map(str::trim) {
                if let Some(ids) = line.strip_prefix("attack ") {
                    let ids = ids.trim_matches(|c| c == '[' || c == ']');
                    for id in ids.split(',').map(str::trim) {
                        *counts.entry(id.to_string()).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    counts
}

/// Checks that every tag is closed in order, attribute values are quoted
/// and every `&` starts an entity: enough to catch broken escaping.
fn assert_well_formed(xml: &str) {
    let mut open: Vec<&str> = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find('<') {
        assert_entities(&rest[..start]);
        let end = start + rest[start..].find('>').unwrap();
        let tag = &rest[start + 1..end];
        assert!(!tag.contains('<'), "`<` inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(open.pop(), Some(name.trim()), "closing {name}");
        } else {
            let name = tag.split_whitespace().next().unwrap().trim_end_matches('/');
            assert_attributes(tag);
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(rest.trim().is_empty(), "text after the root: {rest}");
    assert!(open.is_empty(), "unclosed: {open:?}");
}

fn assert_attributes(tag: &str) {
    let mut quotes = tag.match_indices('"').map(|(i, _)| i);
    while let (Some(open), Some(close)) = (quotes.next(), quotes.next()) {
        assert_eq!(&tag[open - 1..open], "=", "unquoted attribute in {tag}");
        assert_entities(&tag[open + 1..close]);
    }
    assert_eq!(
        tag.matches('"').count() % 2,
        0,
        "unbalanced quotes in {tag}"
    );
}

fn assert_entities(text: &str) {
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..text[i..].find(';').map_or(text.len(), |e| i + e + 1)];
        let known = ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#10;", "&#9;"];
        assert!(known.contains(&entity), "bad entity {entity} in {text}");
    }
}

/// T1590 has no rule of its own in the small pack but T1590.002 has two:
/// it is covered, as `--min-coverage` says, in the table, the picture and
/// the layer alike; T1589 (nothing below it covered) stays a gap.
#[test]
fn a_technique_covered_through_sub_techniques_is_no_gap() {
    let table = run(&[SMALL]).stdout;
    let line = |id: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{id} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("T1590").ends_with("0  covered by sub-techniques"),
        "{table}"
    );
    assert!(line("T1589").ends_with("0  gap"), "{table}");
    assert_eq!(run(&[SMALL, "--min-coverage", "T1590"]).code, 0);
    assert_eq!(run(&[SMALL, "--min-coverage", "T1589"]).code, 1);

    let svg = written(SMALL, "--svg", "subs.svg");
    let cell = |id: &str| {
        let at = svg.find(&format!(">{id}</text>")).unwrap();
        let start = svg[..at].rfind("<rect").unwrap();
        svg[start..at].to_string()
    };
    assert!(
        !cell("T1590").contains("stroke-dasharray"),
        "T1590 drawn as a gap"
    );
    assert!(cell("T1590").contains("#e5f5e0"));
    assert!(cell("T1589").contains("stroke-dasharray"), "T1589 is a gap");

    let layer: Value = serde_json::from_str(&written(SMALL, "--layer", "subs.json")).unwrap();
    let entry = |id: &str| {
        layer["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["techniqueID"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(entry("T1590")["color"], "#e5f5e0");
    assert_eq!(entry("T1589")["color"], "#f9c0bb");
}

#[test]
fn tactic_picks_the_tactics_drawn_whole() {
    let result = run(&[SMALL, "--tactic", "discovery, TA0006"]);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let headings: Vec<&str> = result
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains("(TA"))
        .collect();
    assert_eq!(
        headings,
        [
            "Credential Access (TA0006): 2 of 67 techniques and sub-techniques are covered",
            "Discovery (TA0007): 1 of 49 techniques and sub-techniques are covered"
        ]
    );
    assert!(result.stdout.contains("T1110      Brute Force"));
    assert!(
        !result.stdout.contains("T1590"),
        "Reconnaissance is not drawn"
    );

    let svg = written_with(SMALL, &["--tactic", "TA0007"], "--svg", "tactic.svg");
    assert!(svg.contains(">Discovery <tspan"));
    assert!(svg.contains(">T1007</text>"), "a Discovery gap is drawn");
    assert!(!svg.contains(">Reconnaissance <tspan"));

    let layer: Value = serde_json::from_str(&written_with(
        SMALL,
        &["--tactic", "discovery"],
        "--layer",
        "tactic.json",
    ))
    .unwrap();
    let scores = scores(&layer);
    assert_eq!(scores.get("T1046"), Some(&1));
    assert_eq!(scores.get("T1007"), Some(&0), "a Discovery gap is listed");
    assert!(
        !scores.contains_key("T1590.002"),
        "Reconnaissance is not listed"
    );
    assert!(
        !scores.contains_key("T1110.003"),
        "Credential Access is not listed"
    );

    let bad = run(&[SMALL, "--tactic", "discovry"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("unknown ATT&CK tactic `discovry`"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("did you mean `discovery`?"),
        "{}",
        bad.stderr
    );
}

/// Like `written`, with more arguments before the output flag.
fn written_with(pack: &str, extra: &[&str], flag: &str, name: &str) -> String {
    let path = temporary(name);
    let mut args = vec![pack];
    args.extend_from_slice(extra);
    args.extend([flag, path.to_str().unwrap()]);
    let result = run(&args);
    assert_eq!(result.code, 0, "{}", result.stderr);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    text
}
