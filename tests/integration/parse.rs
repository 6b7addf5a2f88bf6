//! The parser: syntax trees of every construct (snapshots), and bad inputs
//! with the code, line and column of each diagnostic (plus a snapshot of
//! the messages), including recovery, nesting limits and size.

use tripline::diag::Diagnostic;
use tripline::source::{FileId, SourceFile};
use tripline::syntax::ast::{Expr, Item, StatementValue};
use tripline::syntax::parse;

const FULL_RULE: &str = r#"# DNS zone transfers
list internal_ranges: cidr = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]
list recon_services = ["dnsdumpster.com", "viewdns.info", "securitytrails.com"]

rule dns_zone_transfer_from_outside {
  title "DNS zone transfer requested from outside the organisation"
  id "8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11"
  status stable
  level high
  attack T1590.002
  author "Detection Engineering"
  date "2026-11-22"
  modified "2026-11-23"
  description "A full (AXFR) or incremental (IXFR) zone transfer."
  references ["https://attack.mitre.org/techniques/T1590/002/"]
  falsepositives ["Secondary name servers of a partner that pull the zone"]
  tags ["dns"]
  every 5m
  lookback 1h

  from dns
  where dns.question.type in ["AXFR", "IXFR"]
    and not source.ip in cidr @internal_ranges # outside only

  playbook {
    questions "Is the source a documented secondary name server?"
    contain "Restrict zone transfers."
  }

  test "external AXFR fires" {
    event { source.ip: "203.0.113.7", dns.question.type: "axfr" }
    expect match
  }
}
"#;

/// Inputs that parse without a diagnostic; each tree is snapshotted.
const GOOD: &[(&str, &str)] = &[
    ("empty_file", ""),
    ("only_comments", "# one\n  # two\r\n#three"),
    ("full_rule", FULL_RULE),
    (
        "lists_typed_trailing_comma_and_leading_zeros",
        "list ports: int = [22, 0443, -1,]\nlist words = []\nlist odd: anything = [\"a\"]",
    ),
    (
        "precedence_or_and_not_left_associative",
        "rule r { where a == 1 or b == 2 and not c == 3 or d == 4 and e == 5 and f == 6 }",
    ),
    (
        "groups_and_repeated_not",
        "rule r { where not not (a == 1 or (b == 2)) and exists(c.d) }",
    ),
    (
        "comparison_operators",
        "rule r { where a == \"x\" and b != -3 and c < 1 and d <= 2 and e > 3 and f >= 4 }",
    ),
    (
        "membership_operators",
        "rule r { where a in [\"x\", 1,] and b not in @l and c in cidr [\"10.0.0.0/8\"] \
         and d not in cidr @nets and e in [] }",
    ),
    (
        "string_operators",
        "rule r { where a contains \"x\" and b startswith [\"y\"] and c endswith @z \
         and d like \"*.exe\" and e contains all [\"p\", \"q\"] and f like all @g \
         and g startswith all @h and h endswith all [\"i\"] and i matches r\"^a|b$\" \
         and j matches \"(?i)x\" }",
    ),
    (
        "keyword_started_field_paths_and_timestamp",
        "rule r { where event.action == \"deny\" and event.outcome != \"success\" \
         and exists(@timestamp) and not.x == 1 }",
    ),
    (
        "status_test_and_quoted_status",
        "rule r { status test level \"high\" from dns }",
    ),
    (
        "technique_lookalike_rule_name",
        "rule T1590 { attack [T1590, T1589.001,] }",
    ),
    (
        "empty_attack_and_texts",
        "rule r { attack [] references [] tags [] }",
    ),
    (
        "thresholds",
        "rule a { threshold count() by source.ip over 10m >= 20 }\n\
         rule b { threshold distinct(user.name) by source.ip, host.name over 5m > 10 }\n\
         rule c { threshold count() over 1h == 1000 }\n\
         rule d { threshold count() over 1d < 2 threshold count() over 30s <= 3 }",
    ),
    (
        "thresholds_having_step_and_aggregates",
        "rule a { threshold by source.ip over 10m having count() > 50 and distinct(url.path) > 10 }\n\
         rule b { threshold over 10m step 1m having not (sum(b) >= 1 or min(c) < 2) and max(d) == 3 }\n\
         rule c { threshold count() by source.ip over 10m step 2m >= 5 }",
    ),
    (
        "cased_comparisons_and_grouping",
        "rule a { where user.name cased == \"Admin\" and not url.path cased like \"/A*\" or a cased not in [\"X\"] }\n\
         rule b { threshold distinct(cased url.path) by cased user.name, host.name over 5m > 1 }",
    ),
    (
        "several_sources",
        "rule a { from web, proxy }\nrule b { from dns }\nrule c { from a,b,\"c\" }",
    ),
    (
        "len_of_a_field",
        "rule a { where len(dns.question.name) > 60 or not len( a.b ) in [1, 2] and len == 3 }",
    ),
    (
        "durations",
        "rule r { every 30s lookback 10m every 1h lookback 2d every 05m }",
    ),
    (
        "strings_escapes_raw_and_newlines",
        "rule r { title \"a\\\"b\\\\c\\nd\\te\\rf\\u{e9}\\u{1F600}\" \
         description \"two\nlines\" author r\"C:\\no\\escapes\" \
         date r#\"say \"hi\"\"# modified r##\"a \"# b\"## }",
    ),
    (
        "test_block_items",
        "rule r {\n  test \"all items\" {\n    expect match\n    event { a: 1 }\n    \
         repeat 25 every 10s { source.ip: \"198.51.100.9\", destination.port: 43, }\n    \
         events \"fixtures/x.jsonl\"\n    expect nomatch\n    expect alert 0\n    \
         expect alert { source.ip: \"198.51.100.9\" }\n    expect alert {}\n  }\n}",
    ),
    (
        "event_values",
        "rule r { test \"values\" { event { @timestamp: \"2026-11-22T10:00:00Z\", \
         \"quoted.key\": r\"raw\", n: -7, t: true, f: false, z: null, \
         arr: [1, \"two\", [true], {}], obj: { inner.path: { deep: [] }, \"k\": 0, }, \
         event.dataset: \"dns\" } } }",
    ),
    (
        "playbook_any_keys",
        "rule r { playbook { triage \"x\" triage \"y\" unknown_key \"z\" } playbook {} }",
    ),
    (
        "items_in_any_order_on_one_line",
        "rule a { } list b = [1] rule c { title \"t\" }",
    ),
    (
        "sequences_and_first_seen",
        "rule a { sequence by source.ip, cased user.name within 5m {\n  5 where event.outcome == \"failure\"\n  then where event.outcome == \"success\" and not a in [1] } }\n\
         rule b { sequence within 1h { where a == 1 then 2 where b == 2 then where c == 3 } }\n\
         rule c { first seen user.name, cased source.ip in 30d where a == 1 }",
    ),
];

/// A diagnostic's code, line and column.
type Expected = (&'static str, usize, usize);

/// Bad inputs: each expected diagnostic as (code, line, column).
const BAD: &[(&str, &str, &[Expected])] = &[
    (
        "binary_garbage",
        "\u{0}\u{1}\u{7f}\u{2}garbage\u{3} ;; \u{feff}\nrule ok { }\n",
        &[("E0101", 1, 1), ("E0200", 1, 5)],
    ),
    (
        "unterminated_string",
        "rule r {\n  title \"never closed\n}\n",
        &[("E0102", 2, 9)],
    ),
    (
        "unterminated_raw_string",
        "rule r {\n  where a matches r#\"abc\"\n}\n",
        &[("E0102", 2, 19)],
    ),
    (
        "bad_escapes_all_reported",
        "rule r {\n  title \"a\\qb\"\n  author \"\\x41\"\n}\nrule s { title \"\\'\" }\n",
        &[("E0103", 2, 11), ("E0103", 3, 11), ("E0103", 5, 17)],
    ),
    (
        "unicode_escape_out_of_range",
        "rule r { title \"\\u{110000}\" id \"\\u{d800}\" author \"\\u{}\" date \"\\u{1234567}\" }",
        &[
            ("E0106", 1, 17),
            ("E0106", 1, 33),
            ("E0106", 1, 51),
            ("E0106", 1, 63),
        ],
    ),
    (
        "json_unicode_escape_in_event",
        "rule r { test \"t\" { event { a: \"\\u00e9\" } } }",
        &[("E0106", 1, 33)],
    ),
    (
        "unclosed_rule_brace",
        "rule r {\n  title \"t\"\n",
        &[("E0201", 3, 1)],
    ),
    (
        "unclosed_paren_in_where",
        "rule r {\n  where (a == 1",
        &[("E0201", 2, 16)],
    ),
    (
        "unclosed_list_bracket",
        "list l = [\"a\",",
        &[("E0201", 1, 15)],
    ),
    (
        "unclosed_event_brace",
        "rule r { test \"t\" { event { a: 1 ",
        &[("E0201", 1, 34)],
    ),
    (
        "unknown_statement_with_did_you_mean",
        "rule r {\n  titel \"x\"\n}\n",
        &[("E0203", 2, 3)],
    ),
    (
        "unknown_statement_without_near_name",
        "rule r { severity high }",
        &[("E0203", 1, 10)],
    ),
    (
        "unknown_alert_line",
        "rule r {\n  alert { treat source.ip ip_address }\n}",
        &[("E0203", 2, 11)],
    ),
    (
        "alert_risk_without_score",
        "rule r {\n  alert { risk source.ip system }\n}",
        &[("E0200", 2, 33)],
    ),
    (
        "not_before_string_operator",
        "rule r { where f not contains \"x\" and g not matches \"y\" }",
        &[("E0204", 1, 18), ("E0204", 1, 41)],
    ),
    (
        "matches_takes_one_pattern",
        "rule r { where f matches [\"a\", \"b\"] }",
        &[("E0200", 1, 26)],
    ),
    (
        "in_needs_a_list",
        "rule r { where f in \"a\" }\nrule s { where g in cidr \"10.0.0.0/8\" }\n\
         rule t { where h not in 5 }\nrule u { where i not in cidr \"::1\" }",
        &[
            ("E0200", 1, 21),
            ("E0200", 2, 26),
            ("E0200", 3, 25),
            ("E0200", 4, 30),
        ],
    ),
    (
        "all_needs_a_list",
        "rule r { where f contains all \"a\" }",
        &[("E0200", 1, 31)],
    ),
    (
        "bad_durations",
        "rule r { every 0m lookback -5m every 1h30m lookback 10ms every 1w lookback 5 \
         every 99999999999999999999d every 213503982334602d }",
        &[
            ("E0105", 1, 16),
            ("E0105", 1, 28),
            ("E0105", 1, 38),
            ("E0105", 1, 53),
            ("E0105", 1, 64),
            ("E0105", 1, 76),
            ("E0105", 1, 84),
            ("E0105", 1, 112),
        ],
    ),
    (
        "duration_not_a_number",
        "rule r { every five_minutes }",
        &[("E0200", 1, 16)],
    ),
    (
        "integer_out_of_range",
        "rule r { where a == 9223372036854775808 and b == -9223372036854775809 \
         and c == -9223372036854775808 }",
        &[("E0104", 1, 21), ("E0104", 1, 50)],
    ),
    (
        "float_in_event",
        "rule r { test \"t\" { event { port: 443.0 } } }",
        &[("E0200", 1, 35)],
    ),
    (
        "recovery_reports_errors_in_two_rules",
        "rule a {\n  title \"ok\"\n  level = high\n}\n\nlist fine = [1]\n\
         # rule in a comment\nrule b {\n  where x == \n}\nrule c { title \"c\" }\n",
        &[("E0200", 3, 9), ("E0200", 10, 1)],
    ),
    (
        "missing_closing_brace_before_next_rule",
        "rule a {\n  title \"a\"\n\nrule b {\n  title \"b\"\n  where x == 1 y\n}\n",
        &[("E0200", 4, 1), ("E0203", 6, 16)],
    ),
    (
        "recovery_after_a_closer_on_the_same_line",
        "rule a { title 5 } rule b { title 6 }\nlist c = [1 2] list d = [3 4]\n\
         rule e { where x == rule }\n",
        &[
            ("E0200", 1, 16),
            ("E0200", 1, 35),
            ("E0200", 2, 13),
            ("E0200", 2, 28),
            ("E0200", 3, 21),
        ],
    ),
    (
        "field_path_ending_in_a_dot",
        "rule a { where source. == \"x\" }\nrule b { where source.# c\n  == 1 }\n\
         rule c { where source..ip == 1 }",
        &[("E0200", 1, 24), ("E0200", 3, 3), ("E0200", 4, 23)],
    ),
    (
        "missing_comma_in_list",
        "list l = [\"a\" \"b\"]",
        &[("E0200", 1, 15)],
    ),
    (
        "keyword_as_rule_name",
        "rule test { }\nrule ok { }",
        &[("E0200", 1, 6)],
    ),
    (
        "top_level_junk",
        "title \"x\"\nrule ok { }\nlevel high",
        &[("E0200", 1, 1), ("E0200", 3, 1)],
    ),
    (
        "stray_characters_named_by_code_point",
        "rule r {\u{a0}title \"x\"\u{c}}\n",
        &[("E0101", 1, 9), ("E0101", 1, 19)],
    ),
    (
        "missing_value_before_brace",
        "rule r { where a == }",
        &[("E0200", 1, 21)],
    ),
    (
        "end_of_input_after_rule_keyword",
        "rule",
        &[("E0200", 1, 5)],
    ),
    (
        "missing_brace_after_name",
        "rule r title \"x\" }",
        &[("E0200", 1, 8)],
    ),
    (
        "bad_technique_and_key",
        "rule r { attack T159 }\nrule s { test \"t\" { event { match: 1 } } }",
        &[("E0200", 1, 17), ("E0200", 2, 29)],
    ),
    (
        "threshold_errors",
        "rule r { threshold count() by a, over 5m > 1 }\nrule s { threshold count() over 5m != 1 }",
        &[("E0200", 1, 34), ("E0200", 2, 36)],
    ),
    (
        "having_errors",
        "rule r { threshold by a over 5m count() > 1 }\n\
         rule s { threshold over 5m step 1m count() > 1 }\n\
         rule t { threshold over 5m having (count() > 1 }\n\
         rule u { threshold over 5m having count() > 1 and }\n\
         rule v { threshold over 5m having median(a) > 1 }",
        &[
            ("E0200", 1, 33),
            ("E0200", 2, 36),
            ("E0200", 3, 48),
            ("E0200", 4, 51),
            ("E0200", 5, 35),
        ],
    ),
    (
        "len_errors",
        "rule r { where len(a > 1 }\nrule s { where len() > 1 }",
        &[("E0200", 1, 22), ("E0200", 2, 20)],
    ),
    (
        "sequence_errors",
        "rule r { sequence by a 5m { where a == 1 then where b == 2 } }\n\
         rule s { sequence within 5m where a == 1 }\n\
         rule t { sequence within 5m { } }\n\
         rule u { sequence within 5m { where a == 1 where b == 2 } }\n\
         rule v { sequence within 5m { 2 a == 1 then where b == 2 } }\n\
         rule w { sequence within 5m { where a == 1 then } }\n\
         rule x { sequence within 5m { where a == 1 then where b == 2 \n\
         rule y { sequence within 0m { where a == 1 then where b == 2 } }",
        &[
            ("E0200", 1, 24),
            ("E0200", 2, 29),
            ("E0200", 3, 31),
            ("E0200", 4, 44),
            ("E0200", 5, 33),
            ("E0200", 6, 49),
            ("E0200", 8, 1),
            ("E0105", 8, 26),
        ],
    ),
    (
        "first_seen_errors",
        "rule r { first source.ip in 1d }\n\
         rule s { first seen in 1d }\n\
         rule t { first seen a, b 1d }\n\
         rule u { first seen a in }",
        &[
            ("E0200", 1, 16),
            ("E0200", 2, 21),
            ("E0200", 3, 26),
            ("E0200", 4, 26),
        ],
    ),
];

/// Each diagnostic as `CODE line:col message`, with its labels and help.
fn render(source: &SourceFile, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let at = source.position(d.primary.span.start);
        let end = source.position(d.primary.span.end);
        out.push_str(&format!(
            "{} {}:{}-{}:{} {}\n",
            d.code.id, at.line, at.column, end.line, end.column, d.message
        ));
        if !d.primary.message.is_empty() {
            out.push_str(&format!("  label: {}\n", d.primary.message));
        }
        for label in &d.secondary {
            let at = source.position(label.span.start);
            out.push_str(&format!(
                "  secondary {}:{}: {}\n",
                at.line, at.column, label.message
            ));
        }
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}

#[test]
fn every_construct_parses_to_its_syntax_tree() {
    for (name, text) in GOOD {
        let (file, diagnostics) = parse(FileId(0), text);
        assert!(diagnostics.is_empty(), "{name}: {diagnostics:#?}");
        insta::with_settings!({ description => *text, omit_expression => true }, {
            insta::assert_debug_snapshot!(format!("good_{name}"), file);
        });
    }
}

#[test]
fn bad_inputs_report_code_line_and_column() {
    let mut mismatches = Vec::new();
    for (name, text, expected) in BAD {
        let (_, diagnostics) = parse(FileId(0), text);
        let source = SourceFile::new("bad.trip", *text);
        let found: Vec<(&str, usize, usize)> = diagnostics
            .iter()
            .map(|d| {
                let at = source.position(d.primary.span.start);
                (d.code.id, at.line, at.column)
            })
            .collect();
        if found != *expected {
            let rendered = render(&source, &diagnostics);
            mismatches.push(format!("{name}: expected {expected:?}\n{rendered}"));
        }
        // What a person sees: the real rendering, as `check` prints it.
        let mut map = tripline::source::SourceMap::default();
        map.add(source);
        let shown: Vec<String> = diagnostics
            .iter()
            .map(|d| tripline::diag::render::render(&map, d, false))
            .collect();
        insta::with_settings!({ description => *text, omit_expression => true }, {
            insta::assert_snapshot!(format!("bad_{name}"), shown.join("\n"));
        });
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Broken items keep their kind and name; good ones around them parse.
#[test]
fn recovery_keeps_broken_items_by_name() {
    let text = "rule a { level = high }\nrule b { title \"b\" }\nlist c = [1 2]\nrule d { }";
    let (file, diagnostics) = parse(FileId(0), text);
    assert_eq!(diagnostics.len(), 2);
    let summary: Vec<String> = file
        .items
        .iter()
        .map(|item| match item {
            Item::Rule(rule) => format!("rule {}", rule.name.node),
            Item::List(list) => format!("list {}", list.name.node),
            Item::Broken { kind, name } => {
                format!("broken {kind:?} {:?}", name.as_ref().map(|n| &n.node))
            }
        })
        .collect();
    assert_eq!(
        summary,
        [
            "broken Rule Some(\"a\")",
            "rule b",
            "broken List Some(\"c\")",
            "rule d"
        ]
    );
}

fn nested_parens(levels: usize) -> String {
    format!(
        "rule r {{ where {}a == 1{} }}",
        "(".repeat(levels),
        ")".repeat(levels)
    )
}

fn first_code_and_column(text: &str) -> Option<(&'static str, usize)> {
    let (_, diagnostics) = parse(FileId(0), text);
    let source = SourceFile::new("deep.trip", text);
    diagnostics
        .first()
        .map(|d| (d.code.id, source.position(d.primary.span.start).column))
}

/// Runs in the test harness's own thread (2 MiB stack in debug builds).
#[test]
fn nesting_up_to_256_levels_parses() {
    assert_eq!(first_code_and_column(&nested_parens(256)), None);
    let nots = format!("rule r {{ where {}a == 1 }}", "not ".repeat(256));
    assert_eq!(first_code_and_column(&nots), None);
    let mixed = format!(
        "rule r {{ where {}a in [1]{} }}",
        "not (".repeat(127),
        ")".repeat(127)
    );
    assert_eq!(first_code_and_column(&mixed), None);
    let value = format!(
        "rule r {{ test \"t\" {{ event {{ a: {}1{} }} }} }}",
        "[{b: ".repeat(128),
        "}]".repeat(128)
    );
    assert_eq!(first_code_and_column(&value), None);
}

#[test]
fn nesting_past_256_levels_is_reported_at_the_first_opener_past_the_limit() {
    let opener_257 = "rule r { where ".len() + 257;
    assert_eq!(
        first_code_and_column(&nested_parens(257)),
        Some(("E0202", opener_257))
    );
    assert_eq!(
        first_code_and_column(&nested_parens(10_000)),
        Some(("E0202", opener_257))
    );
    let nots = format!("rule r {{ where {}a == 1 }}", "not ".repeat(257));
    let not_257 = "rule r { where ".len() + 4 * 256 + 1;
    assert_eq!(first_code_and_column(&nots), Some(("E0202", not_257)));
    let list = format!(
        "rule r {{ where {}a in [1]{} }}",
        "(".repeat(256),
        ")".repeat(256)
    );
    let bracket = "rule r { where ".len() + 256 + "a in [".len();
    assert_eq!(first_code_and_column(&list), Some(("E0202", bracket)));
    let value = format!(
        "rule r {{ test \"t\" {{ event {{ a: {}1{} }} }} }}",
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let column = "rule r { test \"t\" { event { a: ".len() + 257;
    assert_eq!(first_code_and_column(&value), Some(("E0202", column)));
    let (_, diagnostics) = parse(FileId(0), &nested_parens(257));
    insta::assert_snapshot!(render(
        &SourceFile::new("deep.trip", nested_parens(257)),
        &diagnostics
    ));
}

#[test]
fn a_keyword_starts_a_field_path_only_before_a_dot() {
    let (file, diagnostics) = parse(FileId(0), "rule r { where event.action == \"x\" }");
    assert!(diagnostics.is_empty());
    let Some(Item::Rule(rule)) = file.items.first() else {
        unreachable!("one rule parsed: {file:?}")
    };
    let Some(StatementValue::Where(expr)) = rule.statements.first().map(|s| &s.value) else {
        unreachable!("one where statement: {rule:?}")
    };
    let Expr::Predicate(predicate) = &expr.node else {
        unreachable!("a predicate: {expr:?}")
    };
    assert_eq!(predicate.field.node, "event.action");
    let (_, diagnostics) = parse(FileId(0), "rule r { where event == \"x\" }");
    assert_eq!(diagnostics.len(), 1);
}

#[test]
fn fifty_thousand_rules_parse_quickly() {
    let rule = "rule r_{n} {\n  title \"Rule {n}\"\n  level high\n  attack T1590.002\n  \
                from dns\n  where dns.question.type in [\"AXFR\", \"IXFR\"] and not source.ip \
                in cidr @internal # why\n  threshold count() by source.ip over 10m >= 20\n  \
                test \"t\" {\n    event { source.ip: \"203.0.113.7\", n: [1, 2] }\n    \
                expect match\n  }\n}\n";
    let text: String = (0..50_000)
        .map(|n| rule.replace("{n}", &n.to_string()))
        .collect();
    let started = std::time::Instant::now();
    let (file, diagnostics) = parse(FileId(0), &text);
    let elapsed = started.elapsed();
    assert!(diagnostics.is_empty());
    assert_eq!(file.items.len(), 50_000);
    assert_eq!(file.comments.len(), 50_000);
    // Generous for an unoptimised build; release parses this in well under a second.
    eprintln!("{} bytes parsed in {elapsed:?}", text.len());
    assert!(elapsed.as_secs() < 30, "took {elapsed:?}");
}

/// Pieces of the language, so random inputs get deep into the grammar.
const PIECES: &[&str] = &[
    "rule",
    "list",
    "r",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ":",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "title",
    "where",
    "not",
    "and",
    "or",
    "in",
    "cidr",
    "contains",
    "all",
    "matches",
    "exists",
    "threshold",
    "count()",
    "by",
    "over",
    "5m",
    "0m",
    "test",
    "event",
    "repeat",
    "every",
    "expect",
    "alert",
    "match",
    "\"s\"",
    "\"\\q",
    "r#\"x\"#",
    "r\"",
    "-12",
    "443.0",
    "T1590",
    "@l",
    "@timestamp",
    "a.b",
    "event.action",
    "#c\n",
    "\n",
    " ",
    "\u{a0}",
    "\"\\u{110000}\"",
    "99999999999999999999",
    "playbook",
    "true",
    "null",
    "attack",
];

proptest::proptest! {
    #[test]
    fn any_text_parses_without_panic(text in "\\PC*") {
        let _ = parse(FileId(0), &text);
    }

    #[test]
    fn any_token_soup_parses_without_panic(
        picks in proptest::collection::vec(0..PIECES.len(), 0..80)
    ) {
        let text: String = picks.iter().map(|&i| PIECES[i]).collect::<Vec<_>>().join(" ");
        let (_, diagnostics) = parse(FileId(0), &text);
        for d in &diagnostics {
            proptest::prop_assert!(d.primary.span.end <= text.len());
            proptest::prop_assert!(text.is_char_boundary(d.primary.span.start));
        }
    }
}

/// A chain of `and`s is nested as deep as it is long in the syntax tree;
/// past 100,000 conditions it is an error at the first one too many, not a
/// stack overflow later. (Run on a large stack: the tree of 100,000
/// conditions itself is dropped recursively.)
#[test]
fn an_expression_of_more_than_100000_conditions_is_too_long() {
    let chain = |n: usize| {
        let terms: Vec<String> = (0..n).map(|i| format!("a{i} == 1")).collect();
        format!("rule r {{ where {} }}", terms.join(" and "))
    };
    let run = move || {
        assert_eq!(first_code_and_column(&chain(100_000)), None);
        let text = chain(100_001);
        let column = text.rfind("a100000").unwrap() + 1;
        assert_eq!(first_code_and_column(&text), Some(("E0205", column)));
        let short = format!(
            "rule r {{ where {} or b == 1 }}",
            vec!["a == 1"; 100_000].join(" or ")
        );
        let (_, diagnostics) = parse(FileId(0), &short);
        insta::assert_snapshot!(render(
            &SourceFile::new("long.trip", short),
            &diagnostics[..1]
        ));
    };
    std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}
