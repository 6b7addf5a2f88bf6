//! The Splunk target end to end: snapshots of the app and the searches for
//! the bundled pack and the construct matrix, searches parsed back to prove
//! that awkward values stay inside their literals and still match what the
//! evaluator matches, and refusals with their positions.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers: a failure fails the test"
)]

use std::path::{Path, PathBuf};

use tripline::emit::{self, Emitted, TargetName};
use tripline::source::SourceMap;

use crate::support::{checked, document, positions};

/// Checks `text` as the file `path` and builds the Splunk target.
fn build(path: &str, text: &str) -> (SourceMap, Emitted) {
    let (map, pack) = checked(path, text);
    let emitted = emit::emit(TargetName::Splunk, &pack, None, "default").unwrap();
    (map, emitted)
}

/// `CODE line:col` of every refusal.
fn refusals(map: &SourceMap, emitted: &Emitted) -> Vec<String> {
    positions(map, &emitted.diagnostics)
}

/// The queries, then the two `.conf` files, then the refusals: one
/// snapshot per rule file.
fn snapshot_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (map, emitted) = build(&path.display().to_string(), &text);
    let mut out = String::new();
    for d in emitted
        .documents
        .iter()
        .filter(|d| d.path.starts_with("queries/"))
    {
        out.push_str(&format!("==> {} <==\n{}\n", d.path, d.text));
    }
    for path in [
        "tripline/default/savedsearches.conf",
        "tripline/default/macros.conf",
    ] {
        out.push_str(&format!("==> {path} <==\n{}\n", document(&emitted, path)));
    }
    for refusal in refusals(&map, &emitted) {
        out.push_str(&format!("refused: {refusal}\n"));
    }
    out
}

#[test]
fn the_construct_matrix() {
    let path = Path::new("tests/fixtures/matrix/matrix.trip");
    insta::assert_snapshot!("splunk__tests__fixtures__matrix__matrix", snapshot_of(path));
}

/// The bundled pack (its rules share lists, so it is built as one): each
/// rule's search alone, then the app's `.conf` files.
#[test]
fn every_pack_rule() {
    let loaded = tripline::cli::pipeline::load(&[PathBuf::from("rules")]).unwrap();
    assert!(!loaded.has_errors(), "{:#?}", loaded.diagnostics());
    assert!(loaded.checked.pack.rules.len() > 20, "the pack is missing");
    let emitted = emit::emit(TargetName::Splunk, &loaded.checked.pack, None, "default").unwrap();
    assert!(emitted.diagnostics.is_empty(), "{:#?}", emitted.diagnostics);
    for rule in &loaded.checked.pack.rules {
        let query = document(&emitted, &format!("queries/{}.spl", rule.name));
        insta::assert_snapshot!(format!("splunk__pack__{}", rule.name), query);
    }
    for path in [
        "tripline/default/savedsearches.conf",
        "tripline/default/macros.conf",
    ] {
        insta::assert_snapshot!(
            format!("splunk__pack__{}", path.replace('/', "__")),
            document(&emitted, path)
        );
    }
}

#[test]
fn the_app_files_name_the_app_and_its_version() {
    let (_, emitted) = build(
        "r.trip",
        &rule("from dns\n  where exists(dns.question.name)"),
    );
    let app = document(&emitted, "tripline/default/app.conf");
    let version = env!("CARGO_PKG_VERSION");
    assert!(app.contains(&format!("[id]\nname = tripline\nversion = {version}\n")));
    assert!(app.contains("[package]\nid = tripline\n"));
    let meta = document(&emitted, "tripline/metadata/default.meta");
    assert!(meta.contains("export = system"));
    assert!(document(&emitted, "tripline/README.md").contains("tripline_dns"));
    let macros = document(&emitted, "tripline/default/macros.conf");
    for (name, definition) in [
        ("tripline_dns", "tag=network tag=resolution tag=dns"),
        ("tripline_network", "tag=network tag=communicate"),
        ("tripline_web", "tag=web NOT tag=proxy"),
        ("tripline_proxy", "tag=web tag=proxy"),
        ("tripline_authentication", "tag=authentication"),
        ("tripline_process", "tag=process tag=report"),
    ] {
        assert!(
            macros.contains(&format!("[{name}]\ndefinition = {definition}\n")),
            "{name}"
        );
    }
    let package = tripline::emit::splunk::package(&emitted.documents, "tripline").unwrap();
    assert_eq!(&package[..2], &[0x1f, 0x8b], "a gzip stream");
}

/// A rule `r` with the given `from`/`where` (and other) lines.
fn rule(body: &str) -> String {
    format!(
        "rule r {{\n  title \"t\"\n  id \"8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11\"\n  level high\n  \
         attack T1590.002\n  description \"d\"\n  {body}\n}}\n"
    )
}

/// A tripline string literal holding `value`.
fn trip_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Splits a search into the text outside string literals (each literal
/// replaced by `""`) and the decoded literals.
fn parse_back(search: &str) -> (String, Vec<String>) {
    let mut outside = String::new();
    let mut literals = Vec::new();
    let mut chars = search.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            outside.push(c);
            continue;
        }
        let mut literal = String::new();
        loop {
            match chars.next() {
                Some('\\') => literal.extend(chars.next()),
                Some('"') => break,
                Some(c) => literal.push(c),
                None => panic!("unterminated literal in {search}"),
            }
        }
        outside.push_str("\"\"");
        literals.push(literal);
    }
    (outside, literals)
}

const AWKWARD: &[&str] = &[
    "a\"b",
    "C:\\Program Files\\",
    "x|y",
    "]",
    "[0]",
    "`whoami`",
    "line1\nline2",
    "tab\there",
    "*",
    "$x$",
    "a;b",
    "'quoted'",
    "\\",
    "\" | delete",
    "% _ ^ $ . ? + ( ) { }",
    "\r\u{7}\u{1b}",
    "straße",
];

#[test]
fn awkward_values_stay_inside_their_literals_and_match_themselves() {
    for value in AWKWARD {
        for (operator, wrap) in [
            ("==", ("", "")),
            ("contains", ("prefix ", " suffix")),
            ("startswith", ("", " tail")),
            ("endswith", ("head ", "")),
        ] {
            let source = rule(&format!(
                "from process\n  where process.command_line {operator} {}",
                trip_string(value)
            ));
            let (_, emitted) = build("r.trip", &source);
            let search = document(&emitted, "queries/r.spl").trim_end_matches('\n');
            assert!(!search.contains(['\n', '\r']), "{search}");
            let (outside, literals) = parse_back(search);
            assert_eq!(
                outside, "(`tripline_process`) | where isnotnull(mvfilter(match('process', \"\")))",
                "{value:?} {operator}"
            );
            let regex = regex::Regex::new(&literals[0]).unwrap();
            let text = format!("{}{}{}", wrap.0, simple_upper(value), wrap.1);
            assert!(regex.is_match(&text), "{value:?} {operator} on {text:?}");
            assert!(!regex.is_match("unrelated"), "{value:?} {operator}");
            let stanza = document(&emitted, "tripline/default/savedsearches.conf");
            assert!(stanza.contains(&format!("search = {search}\n")));
        }
    }
}

/// Upper case where it maps one character to one (as simple folding does).
fn simple_upper(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => c,
            }
        })
        .collect()
}

#[test]
fn like_globs_keep_escaped_wildcards_literal() {
    let source = rule("from web\n  where url.query like \"q=\\\\*\\\\?\\\\\\\\*\"");
    let (_, emitted) = build("r.trip", &source);
    let search = document(&emitted, "queries/r.spl");
    let (_, literals) = parse_back(search.trim_end());
    let regex = regex::Regex::new(&literals[0]).unwrap();
    assert!(regex.is_match("Q=*?\\tail\nmore"));
    assert!(!regex.is_match("q=ab\\tail"));
}

#[test]
fn refusals_point_at_the_construct() {
    for (body, expected) in [
        ("from web\n  where url.path like \"/v?/x\"", "E0700 8:9"),
        ("from web\n  where url.path matches r\"a.b\"", "E0700 8:9"),
        (
            "from web\n  where url.path matches r\"(?i)café\"",
            "E0700 8:9",
        ),
        (
            "from web\n  where url.path contains \"a\\u{0}b\"",
            "E0700 8:9",
        ),
        (
            "from web\n  where exists(url.path)\n  every 7m",
            "E0700 1:6",
        ),
        // `""` and a missing field may look alike in Splunk.
        ("from web\n  where url.path like \"*\"", "E0700 8:9"),
        (
            "from web\n  where not url.path like [\"a*\", \"**\"]",
            "E0700 8:13",
        ),
        ("from web\n  where url.path matches r\"x*\"", "E0700 8:9"),
        ("from web\n  where url.path matches r\"^$\"", "E0700 8:9"),
        // Line breaks and controls that cannot be escaped in both PCRE modes.
        (
            "from web\n  where url.path contains \"a\\u{85}b\"",
            "E0700 8:9",
        ),
        ("from web\n  where url.path == \"a\\u{2028}\"", "E0700 8:9"),
        (
            "from web\n  where url.path matches \"[\\u{84}-\\u{86}]\"",
            "E0700 8:9",
        ),
        // Two `by` fields under one column name.
        (
            "from web\n  where exists(source.ip)\n  threshold count() by source.ip, source.ip over 5m > 1",
            "E0700 9:35",
        ),
        (
            "from web\n  where exists(url.path)\n  every 90m",
            "E0700 1:6",
        ),
    ] {
        let (map, emitted) = build("r.trip", &rule(body));
        assert_eq!(refusals(&map, &emitted), [expected], "{body}");
        assert!(
            !emitted.documents.iter().any(|d| d.path == "queries/r.spl"),
            "{body}"
        );
    }
}

#[test]
fn only_patterns_that_hold_on_the_empty_string_are_refused() {
    for body in [
        "from web\n  where url.path like all [\"*\", \"a*\"]",
        "from web\n  where url.path matches r\"x+\"",
        "from web\n  where url.path like \"*a*\"",
    ] {
        let (map, emitted) = build("r.trip", &rule(body));
        assert!(refusals(&map, &emitted).is_empty(), "{body}");
    }
}

#[test]
fn zero_prefix_blocks_need_no_cidrmatch() {
    let source = rule(
        "from web\n  where source.ip in cidr [\"0.0.0.0/0\", \"10.0.0.0/8\"] and not source.ip in cidr [\"::/0\"]",
    );
    let (_, emitted) = build("r.trip", &source);
    let search = document(&emitted, "queries/r.spl");
    assert!(!search.contains("/0\""), "{search}");
    assert!(
        search.contains("cidrmatch(\"0:0:0:0:0:ffff:0:0/96\", 'src')"),
        "{search}"
    );
    let (outside, _) = parse_back(search.trim_end());
    assert_eq!(
        outside,
        "(`tripline_web`) | where (isnotnull(mvfilter(match('src', \"\") OR (match('src', \"\") AND (cidrmatch(\"\", 'src') OR cidrmatch(\"\", 'src'))))) AND NOT isnotnull(mvfilter(match('src', \"\"))))"
    );
}

#[test]
fn a_double_negation_negates_a_parenthesised_operand() {
    let source = rule("from web\n  where not url.path != \"/x\"");
    let (_, emitted) = build("r.trip", &source);
    let (outside, _) = parse_back(document(&emitted, "queries/r.spl").trim_end());
    assert_eq!(
        outside,
        "(`tripline_web`) | where NOT (NOT isnotnull(mvfilter(match('uri_path', \"\"))))"
    );
}
