//! The test runner: generated timestamps, `events` files, judging expects,
//! and the report formats.

use serde_json::{Map, Value as Json, json};

use super::kit::*;
use crate::eval::report;
use crate::eval::testrun::{TestEvent, build_events, run_rule};
use crate::ir::Comparison::Ge;
use crate::ir::{Expect, Rule, Test, TestInput};
use crate::source::{SourceFile, SourceMap};
use crate::syntax::{Span, Spanned};

fn object(value: Json) -> Map<String, Json> {
    match value {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

fn event(value: Json) -> TestInput {
    TestInput::Event {
        event: object(value),
        span: Span::at(0),
    }
}

fn repeat(count: u64, every: u64, value: Json) -> TestInput {
    TestInput::Repeat {
        count,
        every,
        event: object(value),
        span: Span::at(2),
    }
}

fn test(name: &str, inputs: Vec<TestInput>, expects: Vec<Expect>) -> Test {
    Test {
        name: name.into(),
        span: Span::default(),
        inputs,
        expects: expects
            .into_iter()
            .map(|e| Spanned::new(e, Span::at(4)))
            .collect(),
    }
}

fn sources() -> SourceMap {
    let mut map = SourceMap::default();
    map.add(SourceFile::new("rules/test.trip", "a\nb\nc\n"));
    map
}

fn timestamps(events: &[TestEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            let v: Json = serde_json::from_str(&e.line).unwrap_or_default();
            v["@timestamp"].as_str().unwrap_or("?").to_string()
        })
        .collect()
}

#[test]
fn generated_timestamps_count_events_and_first_copies() {
    let rule = rule("r", "dns", any(), None);
    let t = test(
        "t",
        vec![
            event(json!({"a": 1})),
            event(json!({"@timestamp": "2020-01-01T00:00:00Z"})),
            repeat(3, 10, json!({"b": 1})),
            event(json!({"c": 1})),
            repeat(2, 60, json!({"@timestamp": "2020-01-01T00:00:00+01:00"})),
        ],
        vec![Expect::Match],
    );
    let mut failures = Vec::new();
    let events = build_events(&rule, &t, &|s| (s.start + 1, 1), &mut failures);
    assert_eq!(
        timestamps(&events),
        [
            "2026-01-01T00:00:00Z",
            "2020-01-01T00:00:00Z",
            "2026-01-01T00:00:01Z",
            "2026-01-01T00:00:11Z",
            "2026-01-01T00:00:21Z",
            "2026-01-01T00:00:02Z",
            "2020-01-01T00:00:00+01:00",
            "2019-12-31T23:01:00Z",
        ]
    );
    assert!(failures.is_empty());
}

fn run_one(rule: &mut Rule, t: Test) -> (bool, String) {
    rule.tests = vec![t];
    let outcomes = run_rule(rule, &sources());
    let passed = outcomes.iter().all(|o| o.passed());
    (passed, report::text(&outcomes))
}

#[test]
fn match_and_nomatch_list_the_events_that_failed() {
    let mut r = rule("dns_axfr", "dns", eq("dns.question.type", "AXFR"), None);
    let t = test(
        "fires",
        vec![
            event(json!({"dns.question.type": "axfr"})),
            repeat(2, 1, json!({"dns.question.type": "A"})),
        ],
        vec![Expect::Match],
    );
    let (passed, text) = run_one(&mut r, t);
    assert!(!passed);
    insta::assert_snapshot!(text, @r#"
    test dns_axfr "fires" ... FAILED
        expect match (rules/test.trip:3): these events did not match:
          rules/test.trip:2 (repeat, copy 1)
            where, node by node (verdict, then the event's value):
              false  dns.question.type   (dns.question.type: "A")
          rules/test.trip:2 (repeat, copy 2)
            where, node by node (verdict, then the event's value):
              false  dns.question.type   (dns.question.type: "A")
    0 passed, 1 failed
    "#);
    let t = test(
        "quiet",
        vec![event(json!({"dns": {"question": {"type": "A"}}}))],
        vec![Expect::NoMatch],
    );
    assert!(run_one(&mut r, t).0);
}

#[test]
fn alert_expectations_compare_like_grouping() {
    let threshold = count(&["source.ip", "destination.port"], 300, Ge, 3);
    let mut r = rule("ssh_burst", "network", any(), Some(threshold));
    let events = vec![repeat(
        3,
        10,
        json!({"source.ip": "10.0.0.1", "destination.port": "022"}),
    )];
    let expect = |fields: Vec<(&str, Json)>| {
        Expect::Alert(fields.into_iter().map(|(f, v)| (field(f), v)).collect())
    };
    let cases = [
        (expect(vec![("destination.port", json!(22))]), true),
        (expect(vec![("destination.port", json!("22"))]), true),
        (
            expect(vec![
                ("source.ip", json!("10.0.0.1")),
                ("destination.port", json!(22)),
            ]),
            true,
        ),
        (expect(vec![]), true),
        (expect(vec![("source.ip", json!("10.0.0.2"))]), false),
        (Expect::AlertCount(1), true),
        (Expect::AlertCount(0), false),
    ];
    for (e, expected) in cases {
        let (passed, text) = run_one(&mut r, test("burst", events.clone(), vec![e]));
        assert_eq!(passed, expected, "{text}");
    }
    let (_, text) = run_one(&mut r, test("burst", events, vec![Expect::AlertCount(2)]));
    insta::assert_snapshot!(text, @r#"
    test ssh_burst "burst" ... FAILED
        expect alert 2 (rules/test.trip:3): 1 alert raised
          alert {source.ip: "10.0.0.1", destination.port: "022"} window 2026-01-01T00:00:00Z..2026-01-01T00:05:00Z count 3
          every group and window (aggregate values, then whether it alerted):
            {source.ip: "10.0.0.1", destination.port: "022"} window 2026-01-01T00:00:00Z..2026-01-01T00:05:00Z count 3 -> alerted
    0 passed, 1 failed
    "#);
}

#[test]
fn events_files_are_read_relative_to_the_rule_and_malformed_lines_fail() {
    let dir = std::env::temp_dir().join(format!("tripline-testrun-{}", std::process::id()));
    let _ = std::fs::create_dir_all(dir.join("fixtures"));
    let lines =
        "{\"dns.question.type\":\"AXFR\"}\n\n{\"dns\":{\"question\":{\"type\":\"IXFR\"}}}\n{oops\n";
    let _ = std::fs::write(dir.join("fixtures/bg.jsonl"), lines);
    let mut r = rule("axfr", "dns", eq("dns.question.type", "axfr"), None);
    r.path = dir.join("x.trip");
    let file = TestInput::File {
        path: "fixtures/bg.jsonl".into(),
        span: Span::default(),
    };
    let t = test("bg", vec![file], vec![Expect::NoMatch]);
    let (passed, text) = run_one(&mut r, t);
    assert!(!passed);
    let text = text.replace(&dir.display().to_string(), "DIR");
    insta::assert_snapshot!(text, @r#"
    test axfr "bg" ... FAILED
        DIR/fixtures/bg.jsonl:4: error[E0607]: malformed JSON: key must be a string at line 1 column 2
        expect nomatch (DIR/x.trip:3): these events matched:
          DIR/fixtures/bg.jsonl:1
    0 passed, 1 failed
    "#);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn junit_has_one_suite_per_rule() {
    let outcomes = vec![
        crate::eval::testrun::TestOutcome {
            rule: "a".into(),
            test: "t<1>".into(),
            failures: vec![],
        },
        crate::eval::testrun::TestOutcome {
            rule: "a".into(),
            test: "t2".into(),
            failures: vec!["expect match (x:1): \"why\"".into(), "  x:2".into()],
        },
    ];
    insta::assert_snapshot!(report::junit(&["a".into(), "b".into()], &outcomes), @r#"
    <?xml version="1.0" encoding="UTF-8"?>
    <testsuites name="tripline" tests="2" failures="1">
      <testsuite name="a" tests="2" failures="1">
        <testcase classname="a" name="t&lt;1&gt;"/>
        <testcase classname="a" name="t2">
          <failure message="expect match (x:1): &quot;why&quot;">expect match (x:1): &quot;why&quot;&#10;  x:2</failure>
        </testcase>
      </testsuite>
      <testsuite name="b" tests="0" failures="0">
      </testsuite>
    </testsuites>
    "#);
}
