//! `fmt`: the canonical layout on examples (snapshots), and as properties
//! over generated rules: formatting keeps the syntax tree, is idempotent and
//! keeps every comment.

use proptest::prelude::*;
use tripline::source::FileId;
use tripline::syntax::parse;

fn format(text: &str) -> String {
    let (file, errors) = parse(FileId(0), text);
    assert!(
        errors.is_empty(),
        "input does not parse: {errors:?}\n{text}"
    );
    tripline::fmt::format(text, &file)
}

/// Formats, then checks the three properties on the result.
fn assert_fmt_properties(text: &str) -> String {
    let (before, errors) = parse(FileId(0), text);
    assert!(
        errors.is_empty(),
        "generated text does not parse: {errors:?}\n{text}"
    );
    let formatted = tripline::fmt::format(text, &before);
    let (after, errors) = parse(FileId(0), &formatted);
    assert!(
        errors.is_empty(),
        "formatted text does not parse: {errors:?}\n{formatted}"
    );
    assert_eq!(
        before, after,
        "fmt changed the meaning of\n{text}\ninto\n{formatted}"
    );
    assert_eq!(
        tripline::fmt::format(&formatted, &after),
        formatted,
        "fmt is not idempotent on\n{formatted}"
    );
    assert_eq!(
        before.comments.len(),
        after.comments.len(),
        "fmt lost a comment:\n{formatted}"
    );
    for comment in &before.comments {
        assert!(
            formatted.contains(comment.node.trim_end()),
            "fmt lost `{}`:\n{formatted}",
            comment.node
        );
    }
    assert!(formatted.is_empty() || formatted.ends_with('\n'));
    assert!(!formatted.contains('\r') || text.contains('\r'));
    formatted
}

const MESSY: &str = r#"  # Pack header comment
list   internal_ranges :cidr=[ "10.0.0.0/8" ,"192.168.0.0/16", ]
list ports: int = [ 0022, 443 ,]   # trailing
rule   messy_rule{
title "Messy"   # the title
  id "8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11"
    level high
  attack [T1590.002 , T1589,]
  description "d"


  # where comes next
  from dns
  where dns.question.type in ["AXFR","IXFR",] and not source.ip in cidr @internal_ranges or (source.port in @ports and not not exists(host.name))
  threshold count() by source.ip,host.name over 010m >= 0020
  every 05m
  playbook{ questions "q1"
  triage    "t"   }
  test "t1" { repeat 03 every 10s {source.ip:"1.2.3.4",dns.question.type:"AXFR",}
    expect alert { source.ip: "1.2.3.4", }
    expect alert 01
  }
}
"#;

#[test]
fn messy_layout_becomes_canonical() {
    let formatted = assert_fmt_properties(MESSY);
    insta::assert_snapshot!(formatted);
}

#[test]
fn long_lists_and_events_break_one_element_per_line() {
    let domains: Vec<String> = (0..12)
        .map(|i| format!("\"recon-service-{i}.example\""))
        .collect();
    let text = format!(
        "list recon_services = [{}]\nrule r {{\n  test \"t\" {{\n    event {{ url.original: \"{}\", url.domain: \"recon-service-1.example\" }}\n    expect match\n  }}\n}}\n",
        domains.join(", "),
        "x".repeat(60)
    );
    insta::assert_snapshot!(assert_fmt_properties(&text));
}

#[test]
fn comments_inside_lists_survive() {
    let text = "list a = [\n  \"x\", # first\n  # own line\n  \"y\"\n]\n";
    insta::assert_snapshot!(assert_fmt_properties(text));
}

#[test]
fn version2_thresholds_become_canonical() {
    let text = "rule a {\n  threshold   by source.ip,host.name over 10m   having count()>50 and( distinct(url.path)>10 or not max(source.port) <= 0010)\n}\n\
                rule b {\n  threshold by source.ip over 5m step 1m having count() >= 10\n}\n\
                rule c {\n  threshold over 1h having (sum(source.port)>1) # kept\n}\n\
                rule d {\n  from web ,proxy\n  where user.name   cased  ==\"Admin\" and len( dns.question.name )>60\n  threshold distinct( cased url.path ) by  cased user.name over 5m>1\n}\n";
    insta::assert_snapshot!(assert_fmt_properties(text));
}

#[test]
fn sequences_and_first_seen_become_canonical() {
    let text = "rule a {\n  sequence  by source.ip,cased user.name within 05m { 3   where event.outcome==\"failure\"\n\n  # then the success\n  then where event.outcome == \"success\" or\n exists(x) }\n}\n\
                rule b {\n  sequence within 1h {\n    where a == 1 then 2 where b == 2 then where c == 3 # last\n  }\n}\n\
                rule c {\n  first   seen user.name ,  cased source.ip   in 030d\n}\n";
    insta::assert_snapshot!(assert_fmt_properties(text));
}

#[test]
fn formatted_pack_and_matrix_are_fixed_points() {
    let matrix = std::fs::read_to_string("tests/fixtures/matrix/matrix.trip").unwrap();
    assert_eq!(
        format(&matrix),
        matrix,
        "the construct matrix is not formatted"
    );
}

// Generated rules: random layout (spaces, newlines, comments, trailing
// commas, leading zeros) around a random but valid structure.

fn gap() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(" ".to_string()),
        1 => Just("  ".to_string()),
        1 => Just("\n  ".to_string()),
        1 => Just(" # note\n".to_string()),
        1 => Just("\n\n".to_string()),
        1 => Just("\t".to_string()),
    ]
}

fn string_literal() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ./*?_-]{1,12}".prop_map(|s| format!("\"{s}\"")),
        Just(r#""quote \" back \\ nl \n tab \t u \u{e9}""#.to_string()),
        Just(r##"r#"raw "quoted" \d+"#"##.to_string()),
        Just(r#"r"^a\.b$""#.to_string()),
    ]
}

fn integer() -> impl Strategy<Value = String> {
    prop_oneof![
        (0i64..100_000).prop_map(|n| n.to_string()),
        (0i64..100).prop_map(|n| format!("00{n}")),
        (1i64..100).prop_map(|n| format!("-{n}")),
    ]
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("source.ip".to_string()),
        Just("event.action".to_string()),
        Just("dns.question.name".to_string()),
        Just("destination.port".to_string()),
        Just("@timestamp".to_string()),
    ]
}

fn literal_list() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop_oneof![string_literal(), integer()], 1..4),
        gap(),
        any::<bool>(),
    )
        .prop_map(|(items, gap, trailing)| {
            format!(
                "[{}{}]",
                items.join(&format!(",{gap}")),
                if trailing { "," } else { "" }
            )
        })
}

fn predicate() -> impl Strategy<Value = String> {
    let compare = prop_oneof![Just("=="), Just("!="), Just("<"), Just(">=")];
    let text = prop_oneof![
        Just("contains"),
        Just("startswith"),
        Just("endswith"),
        Just("like"),
        Just("matches")
    ];
    let cased = prop_oneof![3 => Just(""), 1 => Just("cased ")];
    prop_oneof![
        (field(), compare, prop_oneof![string_literal(), integer()])
            .prop_map(|(f, o, v)| format!("{f} {o} {v}")),
        (field(), cased.clone(), string_literal()).prop_map(|(f, c, v)| format!("{f} {c}== {v}")),
        (field(), gap(), integer()).prop_map(|(f, g, v)| format!("len({g}{f}) >{g}{v}")),
        (field(), cased, text, string_literal()).prop_map(|(f, c, o, v)| format!("{f} {c}{o} {v}")),
        (
            field(),
            prop_oneof![
                Just("in"),
                Just("not in"),
                Just("contains all"),
                Just("in cidr")
            ],
            literal_list()
        )
            .prop_map(|(f, o, l)| format!("{f} {o} {l}")),
        (
            field(),
            prop_oneof![Just("in"), Just("in cidr"), Just("endswith all")]
        )
            .prop_map(|(f, o)| format!("{f} {o} @some_list")),
        field().prop_map(|f| format!("exists({f})")),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    predicate().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), gap(), inner.clone()).prop_map(|(a, g, b)| format!("{a}{g}and {b}")),
            (inner.clone(), gap(), inner.clone()).prop_map(|(a, g, b)| format!("{a}{g}or {b}")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.prop_map(|a| format!("( {a} )")),
        ]
    })
}

fn aggregate() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("count()".to_string()),
        field().prop_map(|f| format!("distinct({f})")),
        field().prop_map(|f| format!("distinct( cased {f})")),
        field().prop_map(|f| format!("sum({f})")),
        field().prop_map(|f| format!("min({f})")),
        field().prop_map(|f| format!("max({f})")),
    ]
}

fn having() -> impl Strategy<Value = String> {
    let leaf = (
        aggregate(),
        prop_oneof![Just(">"), Just("<="), Just("==")],
        integer(),
    )
        .prop_map(|(a, o, n)| format!("{a} {o} {n}"));
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), gap(), inner.clone()).prop_map(|(a, g, b)| format!("{a}{g}and {b}")),
            (inner.clone(), gap(), inner.clone()).prop_map(|(a, g, b)| format!("{a}{g}or {b}")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.prop_map(|a| format!("( {a} )")),
        ]
    })
}

/// Version 1 and version 2 thresholds, with and without `step`.
fn threshold() -> impl Strategy<Value = String> {
    let step = prop_oneof![Just(""), Just(" step 01m"), Just("\n  step 2m")];
    prop_oneof![
        (aggregate(), step.clone(), gap()).prop_map(|(a, s, g)| format!(
            "threshold {a} by cased source.ip,{g}host.name over 0010m{s} > 5"
        )),
        (step, gap(), having())
            .prop_map(|(s, g, h)| format!("threshold by source.ip over 10m{s}{g}having {h}")),
    ]
}

/// `sequence` with 1 to 3 steps (counts written or not, `then` after a
/// gap or a comment) and `first seen`, around random layout.
fn sequence() -> impl Strategy<Value = String> {
    let count = prop_oneof![Just(""), Just("3 "), Just("01 ")];
    let step = (count, gap(), expression().boxed())
        .prop_map(|(n, g, e)| format!("{n}where{g}{e}"))
        .boxed();
    let by = prop_oneof![
        Just(""),
        Just("by source.ip "),
        Just("by  cased user.name ,host.name ")
    ];
    (by, gap(), prop::collection::vec((step, gap()), 1..4)).prop_map(|(by, g, steps)| {
        let steps: Vec<String> = steps.into_iter().map(|(s, g)| format!("{s}{g}")).collect();
        format!("sequence {by}within 05m{g}{{{g}{}}}", steps.join("then "))
    })
}

fn first_seen() -> impl Strategy<Value = String> {
    (
        gap(),
        prop_oneof![Just("source.ip"), Just("cased user.name ,  host.name")],
    )
        .prop_map(|(g, f)| format!("first{g}seen {f}{g}in 030d"))
}

/// What a rule alerts on: a threshold, a sequence or a first sighting.
fn detection() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => threshold().boxed(),
        1 => sequence().boxed(),
        1 => first_seen().boxed()
    ]
    .boxed()
}

fn event_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        string_literal(),
        integer(),
        Just("true".into()),
        Just("null".into())
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| format!("[{}]", v.join(", "))),
            prop::collection::vec(inner, 1..3).prop_map(|v| {
                let fields: Vec<String> = v
                    .iter()
                    .enumerate()
                    .map(|(i, x)| format!("k{i}: {x}"))
                    .collect();
                format!("{{ {} }}", fields.join(", "))
            }),
        ]
    })
}

fn test_block() -> impl Strategy<Value = String> {
    (prop::collection::vec((field(), event_value()), 1..4), gap(), integer()).prop_map(|(fields, gap, n)| {
        let mut seen = Vec::new();
        let fields: Vec<String> = fields
            .into_iter()
            .filter(|(f, _)| {
                let fresh = !seen.contains(f);
                seen.push(f.clone());
                fresh
            })
            .map(|(f, v)| format!("{f}: {v}"))
            .collect();
        format!(
            "test \"t\" {{{gap}event {{ {} }}\n repeat 2 every 05s {{ a: 1 }}{gap}expect alert {n}\n expect match events \"x.jsonl\" }}",
            fields.join(&format!(",{gap}"))
        )
    })
}

fn rule() -> impl Strategy<Value = String> {
    let from = prop_oneof![
        Just("from web"),
        Just("from web ,proxy"),
        Just("from a,b,c")
    ];
    (
        (expression(), gap(), test_block(), gap(), string_literal()),
        (detection(), from),
    )
        .prop_map(|((e, g, t, g2, s), (th, from))| {
            format!(
                "# leading\nrule generated {{{g}title {s}\n  attack{g2}[T1590, T1589.001]\n  status test\n  {from}\n  where {e}\n  {th}{g}{t}\n  playbook {{ questions {s}{g}contain \"c\" }}\n}}\nlist some_list = [\"a\",{g2}\"b\"]\n"
            )
        })
}

/// The tokens of generated text, in order: strings (plain and raw),
/// comments, one-character punctuation, operator runs (`==`, `>=`) and
/// words (names, numbers, durations, `@list`, technique ids).
fn tokens(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let raw_hashes = bytes[i + 1..].iter().take_while(|&&b| b == b'#').count();
        match bytes[i] {
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'#' => i += text[i..].find('\n').unwrap_or(text.len() - i),
            b'"' => {
                i += 1;
                while bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'r' if bytes.get(i + 1 + raw_hashes) == Some(&b'"') => {
                let close = format!("\"{}", "#".repeat(raw_hashes));
                let body = i + 2 + raw_hashes;
                i = body + text[body..].find(&close).unwrap() + close.len();
            }
            b'{' | b'}' | b'[' | b']' | b'(' | b')' | b',' | b':' => i += 1,
            b'=' | b'<' | b'>' | b'!' => {
                while i < bytes.len() && b"=<>!".contains(&bytes[i]) {
                    i += 1;
                }
            }
            _ => {
                while i < bytes.len()
                    && !bytes[i].is_ascii_whitespace()
                    && !b"{}[](),:=<>!#\"".contains(&bytes[i])
                {
                    i += 1;
                }
            }
        }
        out.push(&text[start..i]);
    }
    out
}

/// `text` with a comment between the pairs of tokens that `mask` picks (it
/// is cycled): a comment after code, or on its own line after a comment.
fn with_comments(text: &str, mask: &[bool]) -> String {
    let tokens = tokens(text);
    let mut out = String::new();
    for (i, token) in tokens.iter().enumerate() {
        if i > 0 {
            let after_comment = tokens[i - 1].starts_with('#');
            out.push_str(match (mask[i % mask.len()], after_comment) {
                (false, false) => " ",
                (false, true) => "\n",
                (true, false) => " # c\n",
                (true, true) => "\n# c\n",
            });
        }
        out.push_str(token);
    }
    out.push('\n');
    out
}

#[test]
fn comments_between_every_pair_of_tokens_keep_fmt_idempotent() {
    let matrix = std::fs::read_to_string("tests/fixtures/matrix/matrix.trip").unwrap();
    for text in [MESSY, matrix.as_str()] {
        assert_fmt_properties(&with_comments(text, &[true]));
    }
}

/// The two layouts that once moved comments again on a second `fmt`.
#[test]
fn comments_that_moved_twice_stay_put() {
    let event_line = "rule r {\n  test \"t\" { event { source.ip: \"1.2.3.4\", # after a value\n  a: 1 }\n    expect match\n  }\n}\n";
    let list_header =
        "list # c1\n  names # c2\n  : # c3\n  string # c4\n  = # c5\n  [\"a\"]\nrule r {\n}\n";
    insta::assert_snapshot!(format!(
        "{}\n{}",
        assert_fmt_properties(event_line),
        assert_fmt_properties(list_header)
    ));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn fmt_keeps_meaning_is_idempotent_and_keeps_comments(text in rule()) {
        assert_fmt_properties(&text);
    }

    /// Comments between any pair of tokens of a generated rule.
    #[test]
    fn fmt_is_idempotent_with_comments_between_tokens(
        text in rule(),
        mask in prop::collection::vec(prop::bool::weighted(0.3), 1..64),
    ) {
        assert_fmt_properties(&with_comments(&text, &mask));
    }
}

/// Inputs the fuzzer found (tests/fuzz): the whole front end on each, and
/// the `fmt` properties where it parses.
#[test]
fn fuzz_findings_stay_fixed() {
    let mut seen = 0;
    for entry in std::fs::read_dir("tests/fixtures/fuzz").unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let mut map = tripline::source::SourceMap::default();
        let (id, bad_utf8) = tripline::source::add_bytes(&mut map, &path, &bytes);
        if bad_utf8.is_some() {
            continue;
        }
        let text = map.get(id).text.clone();
        let (file, errors) = parse(id, &text);
        let checked = tripline::check::check(&map, &[(id, &file)]);
        for diagnostic in errors.iter().chain(&checked.diagnostics) {
            tripline::diag::render::render(&map, diagnostic, false);
        }
        if errors.is_empty() {
            assert_fmt_properties(&text);
        }
        seen += 1;
    }
    assert!(seen >= 3, "the fuzz findings are missing");
}
