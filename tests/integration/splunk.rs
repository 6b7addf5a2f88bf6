//! The Splunk target end to end: snapshots of the app and the searches for
//! the bundled pack and the construct matrix (under both mappings), the
//! shapes the pack must keep (tstats share, no regex, no streamstats),
//! searches parsed back to prove that awkward values stay inside their
//! literals, and refusals with their positions.
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
    build_with(path, text, "default")
}

fn build_with(path: &str, text: &str, mapping: &str) -> (SourceMap, Emitted) {
    let (map, pack) = checked(path, text);
    let emitted = emit::emit(TargetName::Splunk, &pack, None, mapping).unwrap();
    (map, emitted)
}

/// `CODE line:col` of every refusal.
fn refusals(map: &SourceMap, emitted: &Emitted) -> Vec<String> {
    positions(map, &emitted.diagnostics)
}

/// The queries, then the `.conf` files, then the refusals: one snapshot
/// per rule file and mapping.
fn snapshot_of(path: &Path, mapping: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let (map, emitted) = build_with(&path.display().to_string(), &text, mapping);
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
        "tripline/default/fields.conf",
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
    insta::assert_snapshot!(
        "splunk__tests__fixtures__matrix__matrix",
        snapshot_of(path, "default")
    );
}

/// `--mapping raw`: the same constructs on raw events, no data model.
#[test]
fn the_construct_matrix_on_raw_events() {
    let path = Path::new("tests/fixtures/matrix/matrix.trip");
    let snapshot = snapshot_of(path, "raw");
    assert!(!snapshot.contains("| tstats"));
    insta::assert_snapshot!("splunk__tests__fixtures__matrix__matrix_raw", snapshot);
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
        "tripline/default/fields.conf",
    ] {
        insta::assert_snapshot!(
            format!("splunk__pack__{}", path.replace('/', "__")),
            document(&emitted, path)
        );
    }
}

/// What a SIEM team deploys: most pack rules (two thirds: integer
/// comparisons and `exists()` are never search terms) are `| tstats`
/// searches, the rest start from an index-bounded macro; no regex where the rule has no
/// `matches` (the pack has none), no `streamstats` or `mvexpand`; each
/// command on its own line in `.spl`, one line in the `.conf`.
#[test]
fn the_pack_is_mostly_tstats_and_needs_no_regex() {
    let loaded = tripline::cli::pipeline::load(&[PathBuf::from("rules")]).unwrap();
    for mapping in ["default", "raw"] {
        let emitted = emit::emit(TargetName::Splunk, &loaded.checked.pack, None, mapping).unwrap();
        assert!(emitted.diagnostics.is_empty(), "{:#?}", emitted.diagnostics);
        let conf = document(&emitted, "tripline/default/savedsearches.conf");
        let mut tstats = 0;
        let rules = &loaded.checked.pack.rules;
        for rule in rules {
            let query = document(&emitted, &format!("queries/{}.spl", rule.name));
            assert!(
                !query.contains("match(") && !query.contains("regex"),
                "{query}"
            );
            assert!(!query.contains("streamstats") && !query.contains("mvexpand"));
            assert!(
                query.lines().skip(1).all(|l| l.starts_with("| ")),
                "{query}"
            );
            let one_line = query.trim_end().replace('\n', " ");
            assert!(
                conf.contains(&format!("search = {one_line}\n")),
                "{}",
                rule.name
            );
            if query.starts_with("| tstats `tripline_summariesonly` ") {
                tstats += 1;
            } else {
                assert!(query.starts_with("(`tripline_"), "{query}");
            }
        }
        match mapping {
            "raw" => assert_eq!(tstats, 0),
            _ => assert!(tstats * 3 >= rules.len() * 2, "{tstats} of {}", rules.len()),
        }
    }
}

/// A test no search term expresses exactly moves after the pipe (and the
/// rule to a raw search); the others stay terms before it.
#[test]
fn inexpressible_terms_move_after_the_pipe() {
    for (condition, terms, after) in [
        (
            "process.command_line contains \"a*b\" and process.name == \"x.exe\"",
            "process_name=\"x.exe\"",
            "like(lower(process), \"%a*b%\")",
        ),
        (
            "process.name == \"10.0.0.0/8\"",
            "",
            "lower(process_name)==\"10.0.0.0/8\"",
        ),
        (
            "process.command_line contains all [\"a\", \"b\"]",
            "",
            "like(lower(process), \"%a%\") AND like(lower(process), \"%b%\")",
        ),
        (
            "process.name like \"nmap*\" and process.command_line matches r\"-s[SU]\"",
            "process_name=\"nmap*\"",
            "match(process, \"-s[SU]\")",
        ),
    ] {
        let (_, emitted) = build(
            "r.trip",
            &rule(&format!("from process\n  where {condition}")),
        );
        let query = document(&emitted, "queries/r.spl");
        let mut lines = query.lines();
        assert_eq!(
            lines.next(),
            Some(format!("(`tripline_process`) {terms}").trim_end()),
            "{query}"
        );
        assert!(lines.next().unwrap().contains(after), "{query}");
    }
}

/// A count with `by` is a raw search: tstats would count an event once per
/// spelling of its `by` value (`Bob`, `bob`), the evaluator once per
/// lowered value, which `mvdedup()` gives. Each group reports a spelling of
/// its own key from its earliest event (`tl_s0`: `#2KEY#3SPELLING` pairs).
#[test]
fn count_by_thresholds_key_each_event_once_per_lowered_value() {
    let source = rule(
        "from authentication\n  where event.outcome == \"failure\"\n  threshold count() by user.name over 10m >= 5",
    );
    let (_, emitted) = build("r.trip", &source);
    let query = document(&emitted, "queries/r.spl");
    assert_eq!(
        query.trim_end(),
        "(`tripline_authentication`) action=\"failure\"\n\
         | eval tl_t=_time, tl_w=floor(_time/600)*600, tl_k0=mvfilter(user!=\"\"), tl_k0=mvdedup(mvmap(tl_k0, lower(tl_k0))), \
         tl_s0=mvfilter(user!=\"\"), tl_s0=mvjoin(mvmap(tl_s0, \"#2\" . replace(lower(tl_s0), \"#\", \"#1\") . \"#3\" . replace(tl_s0, \"#\", \"#1\")), \"\") . \"#2\"\n\
         | stats count min(tl_t) AS firstTime max(tl_t) AS lastTime values(src) AS src values(app) AS app values(action) AS action values(signature_id) AS signature_id earliest(tl_s0) AS tl_s0 BY tl_w tl_k0\n\
         | eval user=replace(mvindex(split(mvindex(split(\"_\" . tl_s0, \"#2\" . replace(tl_k0, \"#\", \"#1\") . \"#3\"), 1), \"#2\"), 0), \"#1\", \"#\")\n\
         | addinfo\n\
         | where tl_w+600>info_max_time-300 AND tl_w+600<=info_max_time AND count>=5\n\
         | eval _time=tl_w, src=mvindex(mvfilter(src!=\"\"), 0, 9), app=mvindex(mvfilter(app!=\"\"), 0, 9), action=mvindex(mvfilter(action!=\"\"), 0, 9), signature_id=mvindex(mvfilter(signature_id!=\"\"), 0, 9)\n\
         | table _time user count firstTime lastTime src app action signature_id\n\
         | `r_filter`"
    );
    let fields = document(&emitted, "tripline/default/fields.conf");
    assert!(
        fields.contains("[action]\nINDEXED_VALUE = false\n"),
        "{fields}"
    );
}

/// tstats counts in buckets of a span dividing both the window and 15
/// minutes, so that every bucket lies in one epoch-aligned window whatever
/// the searching user's time zone.
#[test]
fn tstats_buckets_divide_the_window_and_a_quarter_hour() {
    for (window, span) in [
        ("10m", "span=5m"),
        ("1h", "span=15m"),
        ("1d", "span=15m"),
        ("45s", "span=45s"),
    ] {
        let source = rule(&format!(
            "from dns\n  where dns.response_code == \"NXDOMAIN\"\n  lookback 2d\n  threshold distinct(dns.question.name) by source.ip over {window} > 10"
        ));
        let (_, emitted) = build("r.trip", &source);
        let query = document(&emitted, "queries/r.spl");
        assert!(
            query.contains(&format!("BY _time {span} DNS.src DNS.query")),
            "{query}"
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
        (
            "tripline_dns",
            "(`cim_Network_Resolution_indexes`) tag=network tag=resolution tag=dns",
        ),
        (
            "tripline_network",
            "(`cim_Network_Traffic_indexes`) tag=network tag=communicate",
        ),
        ("tripline_web", "(`cim_Web_indexes`) tag=web NOT tag=proxy"),
        ("tripline_proxy", "(`cim_Web_indexes`) tag=web tag=proxy"),
        (
            "tripline_authentication",
            "(`cim_Authentication_indexes`) tag=authentication NOT (action=success user=*$)",
        ),
        (
            "tripline_process",
            "(`cim_Endpoint_indexes`) tag=process tag=report",
        ),
        (
            "tripline_summariesonly",
            "summariesonly=false allow_old_summaries=true",
        ),
    ] {
        assert!(
            macros.contains(&format!("[{name}]\ndefinition = {definition}\n")),
            "{name}"
        );
    }
    let package = tripline::emit::splunk::package(&emitted.documents, "tripline").unwrap();
    assert_eq!(&package[..2], &[0x1f, 0x8b], "a gzip stream");
}

/// ES substitutes `$field$` in the title, the risk message and the
/// description and documents no escape for a literal `$`: a rule with one
/// there is refused (at its name) instead of shipped with a guess, and the
/// other targets keep it.
#[test]
fn a_literal_dollar_in_a_token_substituted_setting_is_refused() {
    let alert_title = "from dns\n  where dns.question.type == \"AXFR\"\n  alert {\n    title \"AXFR from {source.ip} costs $5\"\n  }";
    let cases = [
        (rule(alert_title), "the alert title"),
        (
            rule("from dns\n  where dns.question.type == \"AXFR\"")
                .replace("title \"t\"", "title \"ADMIN$ share\""),
            "the alert title",
        ),
        (
            rule("from dns\n  where dns.question.type == \"AXFR\"")
                .replace("description \"d\"", "description \"C$ and ADMIN$\""),
            "the description",
        ),
    ];
    for (text, what) in cases {
        let (map, emitted) = build("r.trip", &text);
        assert_eq!(refusals(&map, &emitted), ["E0700 1:6"], "{text}");
        let message = &emitted.diagnostics[0].message;
        assert!(
            message.contains(&format!("a literal `$` in {what}")),
            "{message}"
        );
        assert!(
            emitted
                .documents
                .iter()
                .all(|d| !d.text.contains("[tripline - r]")),
            "the rule is not in the app"
        );
        let (_, pack) = checked("r.trip", &text);
        let kql = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
        assert!(kql.diagnostics.is_empty(), "{:?}", kql.diagnostics);
    }
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

/// Whatever a value holds, it stays inside a literal: outside them a
/// search holds only the macro call's backticks and no line break, and a
/// value that needed `match()` is a regex matching the value itself.
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
            let query = document(&emitted, "queries/r.spl").trim_end();
            let search = query.replace('\n', " ");
            assert!(!search.contains('\r'), "{search}");
            let (outside, literals) = parse_back(&search);
            assert!(
                !outside.contains(['$', ';']),
                "{value:?} {operator}: {outside}"
            );
            // The base macro's and the filter macro's backticks.
            assert_eq!(
                outside.matches('`').count(),
                4,
                "{value:?} {operator}: {outside}"
            );
            if let Some(at) = outside.find("match(lower(process), \"\")") {
                let index = outside[..at].matches("\"\"").count();
                let regex = regex::Regex::new(&literals[index]).unwrap();
                let text = format!("{}{}{}", wrap.0, value.to_lowercase(), wrap.1);
                assert!(regex.is_match(&text), "{value:?} {operator} on {text:?}");
                assert!(!regex.is_match("unrelated"), "{value:?} {operator}");
            }
            let stanza = document(&emitted, "tripline/default/savedsearches.conf");
            assert!(stanza.contains(&format!("search = {search}\n")));
        }
    }
}

#[test]
fn like_globs_keep_escaped_wildcards_literal() {
    let source = rule("from web\n  where url.query like \"q=\\\\*\\\\?\\\\\\\\*\"");
    let (_, emitted) = build("r.trip", &source);
    let search = document(&emitted, "queries/r.spl");
    let (outside, literals) = parse_back(&search.trim_end().replace('\n', " "));
    assert!(
        outside.contains("match(lower(uri_query), \"\")"),
        "{outside}"
    );
    let regex = regex::Regex::new(&literals[0]).unwrap();
    assert!(regex.is_match("q=*?\\tail\nmore"));
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
            "E0700 9:3",
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
            "E0700 9:3",
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

/// The evaluator finds `::ffff:10.1.2.3` inside `10.0.0.0/8`: each IPv4
/// block is followed by its IPv4-mapped IPv6 block.
#[test]
fn ipv4_blocks_carry_their_mapped_ipv6_blocks() {
    let source = rule(
        "from web\n  where source.ip in cidr [\"0.0.0.0/0\", \"10.0.0.0/8\"] and not source.ip in cidr [\"::/0\"]",
    );
    let (_, emitted) = build("r.trip", &source);
    let search = document(&emitted, "queries/r.spl");
    assert!(
        search.contains(
            "WHERE NOT Web.tag=proxy Web.src IN (\"0.0.0.0/0\", \"::ffff:0:0/96\", \"10.0.0.0/8\", \"::ffff:a00:0/104\") NOT Web.src=\"::/0\" BY"
        ),
        "{search}"
    );
}

#[test]
fn a_double_negation_negates_a_parenthesised_operand() {
    let source = rule("from web\n  where not url.path != \"/x\"");
    let (_, emitted) = build("r.trip", &source);
    let (outside, _) = parse_back(document(&emitted, "queries/r.spl"));
    assert!(
        outside.contains("WHERE NOT Web.tag=proxy NOT (NOT Web.uri_path=\"\") BY"),
        "{outside}"
    );
    let (_, emitted) = build_with("r.trip", &source, "raw");
    let (outside, _) = parse_back(document(&emitted, "queries/r.spl"));
    assert!(
        outside.starts_with("(`tripline_web`) NOT (NOT uri_path=\"\")\n"),
        "{outside}"
    );
}

/// `exists()` is never a search term (`f=*` would depend on whether Splunk
/// keeps an extracted `""` as a field): the rule is a raw search testing
/// for a non-empty value after the pipe.
#[test]
fn exists_is_tested_after_the_pipe() {
    let (_, emitted) = build(
        "r.trip",
        &rule("from dns\n  where not exists(dns.question.name)"),
    );
    let query = document(&emitted, "queries/r.spl");
    assert!(query.starts_with("(`tripline_dns`)\n"), "{query}");
    assert!(
        query.contains("| where NOT isnotnull(mvfilter(query!=\"\"))"),
        "{query}"
    );
}

/// Integer bounds of any 64-bit size are compared by digits, never as
/// doubles: no refusal at 2^53, no `tonumber()`.
#[test]
fn integer_bounds_beyond_2_53_are_exact() {
    let (_, emitted) = build(
        "r.trip",
        &rule("from proxy\n  where http.response.status_code > 9007199254740992"),
    );
    assert!(emitted.diagnostics.is_empty(), "{:#?}", emitted.diagnostics);
    let query = document(&emitted, "queries/r.spl");
    assert!(query.contains(">\"9007199254740992\""), "{query}");
    assert!(!query.contains("tonumber("), "{query}");
}

/// A fresh build installs every search disabled; the pack's `enabled`
/// globs turn on the rules they name, never a deprecated one. Sentinel's
/// ARM template follows the same globs.
#[test]
fn rules_install_disabled_unless_the_pack_enables_them() {
    let text = format!(
        "{}{}",
        rule("from dns\n  where dns.question.type == \"AXFR\""),
        rule("from dns\n  status deprecated\n  where dns.question.type == \"IXFR\"")
            .replace("rule r ", "rule r_old ")
            .replace(
                "8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11",
                "8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a12"
            )
    );
    let (_, mut pack) = checked("r.trip", &text);
    let disabled = |pack: &tripline::ir::Pack| -> Vec<String> {
        let emitted = emit::emit(TargetName::Splunk, pack, None, "default").unwrap();
        let conf = document(&emitted, "tripline/default/savedsearches.conf");
        conf.lines()
            .filter(|l| l.starts_with("disabled = "))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(disabled(&pack), ["disabled = 1", "disabled = 1"]);
    pack.settings.enabled = vec!["r*".to_string()];
    assert_eq!(disabled(&pack), ["disabled = 0", "disabled = 1"]);
    let emitted = emit::emit(TargetName::Kql, &pack, None, "default").unwrap();
    let arm = document(&emitted, "azuredeploy.json");
    // The rule's own `enabled` (the incident grouping's lies deeper).
    let enabled: Vec<&str> = arm
        .lines()
        .filter(|l| l.starts_with("        \"enabled\": "))
        .map(str::trim)
        .collect();
    assert_eq!(enabled, ["\"enabled\": true,", "\"enabled\": false,"]);
}

/// A rule's `alert` becomes ES's risk and threat objects, `$field$`
/// titles and a notable only where asked.
#[test]
fn the_alert_block_becomes_risk_objects_and_token_titles() {
    let text = rule(
        "from dns\n  where dns.question.type == \"AXFR\"\n  alert {\n    title \"AXFR of {dns.question.name} for {{5}}\"\n    risk source.ip system 30\n    threat dns.question.name domain\n    notable false\n  }",
    );
    let (_, emitted) = build("r.trip", &text);
    let conf = document(&emitted, "tripline/default/savedsearches.conf");
    for line in [
        "action.risk = 1",
        r#"action.risk.param._risk = [{"risk_object_field":"src","risk_object_type":"system","risk_score":30},{"threat_object_field":"query","threat_object_type":"domain"}]"#,
        "action.risk.param._risk_message = AXFR of $query$ for {5}",
        "action.notable = 0",
        "action.notable.param.rule_title = AXFR of $query$ for {5}",
    ] {
        assert!(conf.lines().any(|l| l == line), "{line}\n{conf}");
    }
    let macros = document(&emitted, "tripline/default/macros.conf");
    assert!(
        macros.contains("[r_filter]\ndefinition = search *\n"),
        "{macros}"
    );
}

/// `having`: `count` and `dc()` columns, `min`/`max` as per-event flags of
/// exact integer tests; the condition follows the slot's bounds, grouped.
#[test]
fn having_several_aggregates_is_one_stats_and_one_where() {
    let source = rule(
        "from web\n  where exists(source.ip)\n  threshold by source.ip over 5m\n    \
         having max(http.response.status_code) >= 500 or distinct(url.path) > 3",
    );
    let (map, emitted) = build("r.trip", &source);
    assert_eq!(refusals(&map, &emitted), Vec::<String>::new());
    let query = document(&emitted, "queries/r.spl");
    let lines: Vec<&str> = query.lines().collect();
    assert!(
        lines[2].contains("tl_d0=mvfilter(uri_path!=\"\"), tl_d0=mvmap(tl_d0, lower(tl_d0)), tl_f0=if(isnotnull(mvfilter(status!=\"\"")
            && !lines[2].contains("tonumber("),
        "{query}"
    );
    assert!(
        lines[3].starts_with("| stats count dc(tl_d0) AS distinct_uri_path max(tl_f0) AS tl_f0 "),
        "{query}"
    );
    assert_eq!(
        lines[6],
        "| where tl_w+300>info_max_time-300 AND tl_w+300<=info_max_time AND (tl_f0=1 OR distinct_uri_path>3)"
    );
    assert!(lines[8].starts_with("| table _time src count distinct_uri_path firstTime"));
}

/// `sum()` adds doubles in Splunk: refused at the aggregate.
#[test]
fn having_sum_is_refused_at_the_aggregate() {
    let source = rule(
        "from web\n  where exists(source.ip)\n  threshold by source.ip over 5m\n    \
         having sum(http.response.status_code) > 5 and count() > 1",
    );
    let (map, emitted) = build("r.trip", &source);
    assert_eq!(refusals(&map, &emitted), ["E0700 10:12"]);
}

/// `cased` tests go after the pipe without `lower()`; the rule is a raw
/// search even where tstats could filter (its terms ignore case), whose
/// base search keeps the tests ignoring case (a superset) where terms are exact.
#[test]
fn cased_tests_compare_exact_text_after_the_pipe() {
    let source = rule(
        "from authentication\n  where user.name cased in [\"Admin\", \"ROOT\"] and user.name cased startswith \"Ad\"",
    );
    let (_, emitted) = build("r.trip", &source);
    let query = document(&emitted, "queries/r.spl");
    assert_eq!(
        query.lines().nth(1),
        Some(
            "| where isnotnull(mvfilter(user==\"Admin\" OR user==\"ROOT\")) AND isnotnull(mvfilter(like(user, \"Ad%\")))"
        ),
        "{query}"
    );
    assert_eq!(
        query.lines().next(),
        Some("(`tripline_authentication`) user IN (\"Admin\", \"ROOT\") user=\"Ad*\""),
        "{query}"
    );
}

/// Hopping windows: each event in the W / H windows of its slot of H, the
/// satisfying windows ending in the slot or H before it, and an alert for
/// the first window of each run; the run reads H more than its look-back.
/// Without `by`, the window start is `tl_w` too and `streamstats` has no
/// `BY`.
#[test]
fn hopping_windows_report_the_first_window_of_each_run() {
    let source = rule(
        "from dns\n  every 10m\n  where exists(source.ip)\n  threshold count() over 30m step 5m >= 3",
    );
    let (map, emitted) = build("r.trip", &source);
    assert_eq!(refusals(&map, &emitted), Vec::<String>::new());
    let query = document(&emitted, "queries/r.spl");
    let lines: Vec<&str> = query.lines().collect();
    assert_eq!(
        lines[2],
        "| eval tl_t=_time, tl_w=mvrange(floor(_time/300)*300-1500, floor(_time/300)*300+300, 300)"
    );
    assert!(lines[3].ends_with(" BY tl_w"), "{query}");
    assert_eq!(
        &lines[4..8],
        [
            "| addinfo",
            "| where tl_w+1800>info_max_time-900 AND tl_w+1800<=info_max_time AND count>=3",
            "| sort 0 tl_w",
            "| streamstats current=f window=1 last(tl_w) AS tl_pw",
        ]
    );
    assert_eq!(
        lines[8],
        "| where tl_w+1800>info_max_time-600 AND tl_w+1800<=info_max_time AND (isnull(tl_pw) OR tl_pw!=tl_w-300)"
    );
    assert!(lines[9].starts_with("| eval _time=tl_w"), "{query}");
    let conf = document(&emitted, "tripline/default/savedsearches.conf");
    // The look-back (30m + 10m + the delay's 10m) and the step 5m.
    assert!(conf.contains("dispatch.earliest_time = -55m\n"), "{conf}");
}

/// `step` equal to the window: tumbling windows, still one alert per run.
#[test]
fn a_step_as_long_as_the_window_still_alerts_once_per_run() {
    let source = rule(
        "from dns\n  where exists(source.ip)\n  threshold count() by source.ip over 5m step 5m >= 3",
    );
    let (map, emitted) = build("r.trip", &source);
    assert_eq!(refusals(&map, &emitted), Vec::<String>::new());
    let query = document(&emitted, "queries/r.spl");
    assert!(
        query.contains("tl_w=mvrange(floor(_time/300)*300, floor(_time/300)*300+300, 300)"),
        "{query}"
    );
    assert!(
        query.contains("| streamstats current=f window=1 global=f last(tl_w) AS tl_pw BY tl_k0\n"),
        "{query}"
    );
}

/// `from web, proxy`: one raw search over both base searches (each event
/// read once), fields named as in both sources; never tstats.
#[test]
fn several_sources_are_one_search_over_their_base_searches() {
    let source = rule("from web, proxy\n  where url.path contains \"/.git/\"");
    let (map, emitted) = build("r.trip", &source);
    assert_eq!(refusals(&map, &emitted), Vec::<String>::new());
    let query = document(&emitted, "queries/r.spl");
    assert_eq!(
        query.lines().next(),
        Some("((`tripline_web`) OR (`tripline_proxy`)) uri_path=\"*/.git/*\"")
    );
    let threshold = rule(
        "from web, proxy\n  where exists(url.path)\n  threshold distinct(url.path) by source.ip over 5m > 3",
    );
    let (map, emitted) = build("r.trip", &threshold);
    assert_eq!(refusals(&map, &emitted), Vec::<String>::new());
    let query = document(&emitted, "queries/r.spl");
    assert!(
        query.starts_with("((`tripline_web`) OR (`tripline_proxy`))") && !query.contains("tstats"),
        "{query}"
    );
}

/// A field the sources name differently (`host.name`: `dvc` in DNS, `dest`
/// in Endpoint) is refused at the rule, naming the field and both names.
#[test]
fn several_sources_naming_a_field_differently_are_refused() {
    let source = rule("from dns, process\n  where host.name == \"ws1\"");
    let (map, emitted) = build("r.trip", &source);
    assert_eq!(refusals(&map, &emitted), ["E0700 1:6"]);
    let message = &emitted.diagnostics[0].message;
    assert!(
        message
            .contains("field `host.name` is `dvc` in source `dns` and `dest` in source `process`"),
        "{message}"
    );
}

/// `first seen`: one row per event time and combination (keyed as `by`
/// fields), in time order; a row of the run's slot alerts when its
/// combination's previous row is none or more than D before. The run reads
/// D + `every` + the delay before its end.
#[test]
fn first_seen_alerts_on_a_combination_not_seen_for_d() {
    let source = rule(
        "from authentication\n  where event.outcome == \"success\"\n  first seen user.name, source.ip in 30d",
    );
    let (map, emitted) = build("r.trip", &source);
    assert_eq!(refusals(&map, &emitted), Vec::<String>::new());
    let query = document(&emitted, "queries/r.spl");
    let lines: Vec<&str> = query.lines().collect();
    assert!(
        lines[1].starts_with("| eval tl_t=_time, tl_w=_time, tl_k0=mvfilter(user!=\"\")"),
        "{query}"
    );
    assert!(lines[2].ends_with(" BY tl_w tl_k0 tl_k1"), "{query}");
    assert_eq!(
        &lines[4..8],
        [
            "| sort 0 tl_w",
            "| streamstats current=f window=1 global=f last(tl_w) AS tl_pw BY tl_k0 tl_k1",
            "| addinfo",
            "| where tl_w>=info_max_time-300 AND tl_w<info_max_time AND (isnull(tl_pw) OR tl_w-tl_pw>2592000)",
        ]
    );
    assert!(
        lines[9].starts_with("| table _time user src firstTime lastTime"),
        "{query}"
    );
    let conf = document(&emitted, "tripline/default/savedsearches.conf");
    assert!(
        conf.contains("dispatch.earliest_time = -43210m\n"),
        "{conf}"
    );
}
