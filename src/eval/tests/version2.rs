//! Version 2 aggregation (language.md "Version 2"): `having` conditions
//! over several aggregates, `sum` of none is 0, `min`/`max` of none make
//! their comparison false, and hopping windows alert once per run.

use serde_json::json;

use super::kit::*;
use crate::eval::Alert;
use crate::eval::timestamp::format_seconds;
use crate::ir::Comparison::{Eq, Ge, Gt, Lt};
use crate::ir::{Aggregate, Having};

fn at(seconds: i64, rest: &str) -> String {
    format!(r#"{{"@timestamp":{seconds}{rest}}}"#)
}

fn run(threshold: crate::ir::Threshold, lines: &[String]) -> Vec<Alert> {
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    alerts(any(), threshold, &lines)
}

/// (window start, group values, aggregate values) of each alert.
fn summary(alerts: &[Alert]) -> Vec<(String, Vec<serde_json::Value>, Vec<Option<i128>>)> {
    alerts
        .iter()
        .map(|a| {
            (
                format_seconds(a.start),
                a.group.iter().map(|(_, v)| v.clone()).collect(),
                a.values.iter().map(|(_, v)| *v).collect(),
            )
        })
        .collect()
}

fn port(from: &str) -> Aggregate {
    match from {
        "sum" => Aggregate::Sum(field("source.port")),
        "min" => Aggregate::Min(field("source.port")),
        _ => Aggregate::Max(field("source.port")),
    }
}

#[test]
fn having_combines_count_and_distinct() {
    // "more than 2 events and more than 1 distinct name", per source.ip.
    let condition = Having::And(vec![
        compare(Aggregate::Count, Gt, 2),
        compare(Aggregate::Distinct(field("dns.question.name")), Gt, 1),
    ]);
    let lines = [
        at(
            0,
            r#","source":{"ip":"1.1.1.1"},"dns":{"question":{"name":"a"}}"#,
        ),
        at(
            1,
            r#","source":{"ip":"1.1.1.1"},"dns":{"question":{"name":"A"}}"#,
        ),
        at(
            2,
            r#","source":{"ip":"1.1.1.1"},"dns":{"question":{"name":"b"}}"#,
        ),
        // Three events, one name: the count holds, the distinct does not.
        at(
            3,
            r#","source":{"ip":"2.2.2.2"},"dns":{"question":{"name":"a"}}"#,
        ),
        at(
            4,
            r#","source":{"ip":"2.2.2.2"},"dns":{"question":{"name":"a"}}"#,
        ),
        at(
            5,
            r#","source":{"ip":"2.2.2.2"},"dns":{"question":{"name":"a"}}"#,
        ),
    ];
    let got = run(having(&["source.ip"], 60, condition), &lines);
    assert_eq!(
        summary(&got),
        [(
            "1970-01-01T00:00:00Z".to_string(),
            vec![json!("1.1.1.1")],
            vec![Some(3), Some(2)]
        )]
    );
    let labels: Vec<&str> = got[0].values.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(labels, ["count()", "distinct(dns.question.name)"]);
}

#[test]
fn or_and_not_over_aggregates() {
    // not (count() < 2) or distinct(...) == 1: a group with one event and a
    // name alerts through the `or`; a group with two events through `not`.
    let condition = Having::Or(vec![
        Having::Not(Box::new(compare(Aggregate::Count, Lt, 2))),
        compare(Aggregate::Distinct(field("dns.question.name")), Eq, 1),
    ]);
    let lines = [
        at(
            0,
            r#","source":{"ip":"1.1.1.1"},"dns":{"question":{"name":"a"}}"#,
        ),
        at(1, r#","source":{"ip":"2.2.2.2"}"#),
        at(2, r#","source":{"ip":"2.2.2.2"}"#),
        at(3, r#","source":{"ip":"3.3.3.3"}"#),
    ];
    let got = run(having(&["source.ip"], 60, condition), &lines);
    let groups: Vec<_> = summary(&got).into_iter().map(|(_, g, _)| g).collect();
    assert_eq!(groups, [vec![json!("1.1.1.1")], vec![json!("2.2.2.2")]]);
}

#[test]
fn sum_of_none_is_zero_and_min_max_of_none_compare_false() {
    // No event carries an integer source.port.
    let lines = [
        at(0, r#","source":{"port":"http"}"#),
        at(1, r#","source":{"port":null}"#),
        at(2, ""),
    ];
    let sum = run(having(&[], 60, compare(port("sum"), Eq, 0)), &lines);
    assert_eq!(
        summary(&sum),
        [("1970-01-01T00:00:00Z".to_string(), vec![], vec![Some(0)])]
    );
    for which in ["min", "max"] {
        // Neither `< N` nor its `not` of `>= N` mistake "none" for a number.
        let low = run(having(&[], 60, compare(port(which), Lt, 100)), &lines);
        assert!(low.is_empty(), "{which} < 100");
        let high = run(having(&[], 60, compare(port(which), Ge, -100)), &lines);
        assert!(high.is_empty(), "{which} >= -100");
    }
    // `not` of a false comparison holds.
    let negated = Having::Not(Box::new(compare(port("min"), Lt, 100)));
    assert_eq!(run(having(&[], 60, negated), &lines).len(), 1);
}

#[test]
fn sum_min_max_read_integers_and_numeric_strings() {
    let lines = [
        at(0, r#","source":{"port":443}"#),
        at(1, r#","source":{"port":"80"}"#),
        at(2, r#","source":{"port":"x"}"#),
        at(3, r#","source":{"port":[22, 8080]}"#),
    ];
    let condition = Having::And(vec![
        compare(port("sum"), Eq, 443 + 80 + 22 + 8080),
        compare(port("min"), Eq, 22),
        compare(port("max"), Eq, 8080),
    ]);
    let got = run(having(&[], 60, condition), &lines);
    assert_eq!(
        summary(&got),
        [(
            "1970-01-01T00:00:00Z".to_string(),
            vec![],
            vec![Some(8625), Some(22), Some(8080)]
        )]
    );
}

/// A sum is exact whatever the order of its events: past the 64-bit range
/// and back, as SQL's `DECIMAL(38,0)` sums are.
#[test]
fn sum_is_exact_past_the_64_bit_range() {
    let max = i64::MAX;
    let lines = [
        at(0, &format!(r#","source":{{"port":{max}}}"#)),
        at(1, r#","source":{"port":1}"#),
        at(2, r#","source":{"port":-10}"#),
    ];
    // Saturating in event order would give MAX - 10, which `>` rejects.
    let got = run(having(&[], 60, compare(port("sum"), Gt, max - 10)), &lines);
    assert_eq!(
        summary(&got),
        [(
            "1970-01-01T00:00:00Z".to_string(),
            vec![],
            vec![Some(i128::from(max) - 9)]
        )]
    );
    // And a sum beyond the range is shown whole.
    let beyond = [at(0, &format!(r#","source":{{"port":[{max}, {max}]}}"#))];
    let got = run(having(&[], 60, compare(port("sum"), Gt, 0)), &beyond);
    assert_eq!(summary(&got)[0].2, [Some(2 * i128::from(max))]);
}

fn hopping(by: &[&str], window: u64, step: u64, condition: Having) -> crate::ir::Threshold {
    crate::ir::Threshold {
        step: Some(step),
        ..having(by, window, condition)
    }
}

#[test]
fn hopping_window_catches_a_burst_across_a_tumbling_boundary() {
    // Twelve events in 110 s from 10:04:00 (the issue's example): 5-minute
    // tumbling windows split them 6 + 6 and `>= 10` never holds.
    let base = 1_767_261_840; // 2026-01-01T10:04:00Z
    let lines: Vec<String> = (0..12).map(|i| at(base + i * 10, "")).collect();
    let tumbling = run(having(&[], 300, compare(Aggregate::Count, Ge, 10)), &lines);
    assert!(tumbling.is_empty());
    let hop = run(
        hopping(&[], 300, 60, compare(Aggregate::Count, Ge, 10)),
        &lines,
    );
    // Windows starting 10:01 .. 10:04 hold all twelve: one run, one alert
    // at its first window.
    assert_eq!(
        summary(&hop),
        [("2026-01-01T10:01:00Z".to_string(), vec![], vec![Some(12)])]
    );
    assert_eq!(hop[0].end - hop[0].start, 300);
}

#[test]
fn hopping_alerts_once_per_run_of_satisfying_windows() {
    // 60 s windows stepping 20 s, `>= 2`: events at 0 and 10 satisfy the
    // windows starting -40, -20 and 0 (one run); a gap; events at 200 and
    // 210 start a second run; a group alerts per run of its own.
    let lines = [
        at(0, r#","source":{"ip":"a"}"#),
        at(10, r#","source":{"ip":"a"}"#),
        at(15, r#","source":{"ip":"b"}"#),
        at(200, r#","source":{"ip":"a"}"#),
        at(210, r#","source":{"ip":"a"}"#),
    ];
    let got = run(
        hopping(&["source.ip"], 60, 20, compare(Aggregate::Count, Ge, 2)),
        &lines,
    );
    assert_eq!(
        summary(&got),
        [
            (
                "1969-12-31T23:59:20Z".to_string(),
                vec![json!("a")],
                vec![Some(2)]
            ),
            (
                "1970-01-01T00:02:40Z".to_string(),
                vec![json!("a")],
                vec![Some(2)]
            ),
        ]
    );
}

#[test]
fn hopping_run_restarts_after_one_unsatisfying_window() {
    // 40 s windows stepping 20 s, `== 1`: an event at 0 satisfies the
    // windows starting -20 and 0; a second event at 25 makes the window
    // at 0 hold 2 (not satisfying), and the window at 20 holds 1 again:
    // alerts at -20 and at 20.
    let lines = [at(0, ""), at(25, "")];
    let got = run(
        hopping(&[], 40, 20, compare(Aggregate::Count, Eq, 1)),
        &lines,
    );
    let starts: Vec<i128> = got.iter().map(|a| a.start).collect();
    assert_eq!(starts, [-20, 20]);
}

/// The predicate made `cased`.
fn cased(mut condition: crate::ir::Condition) -> crate::ir::Condition {
    if let crate::ir::Condition::Predicate(p) = &mut condition {
        p.field.cased = true;
    }
    condition
}

fn cased_field(path: &str) -> crate::ir::Field {
    crate::ir::Field {
        cased: true,
        ..field(path)
    }
}

#[test]
fn cased_comparisons_are_exact_in_case() {
    use crate::ir::TextOp::{Contains, EndsWith, Like, StartsWith};
    let admin = r#"{"user":{"name":"Admin"}}"#;
    let lower = r#"{"user":{"name":"admin"}}"#;
    let rows: [(crate::ir::Condition, bool, bool); 8] = [
        (eq("user.name", "Admin"), true, true),
        (cased(eq("user.name", "Admin")), true, false),
        (cased(is_in("user.name", &["root", "Admin"])), true, false),
        (
            cased(text("user.name", Contains, &["dmi"], false)),
            true,
            true,
        ),
        (
            cased(text("user.name", StartsWith, &["A"], false)),
            true,
            false,
        ),
        (
            cased(text("user.name", EndsWith, &["in", "IN"], true)),
            false,
            false,
        ),
        (
            cased(text("user.name", Like, &["A?m*"], false)),
            true,
            false,
        ),
        (not(cased(eq("user.name", "Admin"))), false, true),
    ];
    for (i, (condition, on_admin, on_lower)) in rows.iter().enumerate() {
        assert_eq!(matches(condition, admin), *on_admin, "row {i} on Admin");
        assert_eq!(matches(condition, lower), *on_lower, "row {i} on admin");
    }
    // `cased like`: `*` spans newlines, `\*` is literal, the whole value.
    let glob = cased(text("user.name", Like, &[r"a\*b*"], false));
    assert!(matches(&glob, r#"{"user":{"name":"a*b\nc"}}"#));
    assert!(!matches(&glob, r#"{"user":{"name":"aXb"}}"#));
    assert!(!matches(&glob, r#"{"user":{"name":"A*b"}}"#));
    // Arrays: any element; a missing field satisfies nothing.
    let any_admin = cased(eq("user.name", "Admin"));
    assert!(matches(&any_admin, r#"{"user":{"name":["x","Admin"]}}"#));
    assert!(!matches(&any_admin, "{}"));
}

#[test]
fn cased_by_and_distinct_group_and_count_exact_text() {
    let lines = [
        at(0, r#","user":{"name":"Admin"},"url":{"path":"/A"}"#),
        at(1, r#","user":{"name":"admin"},"url":{"path":"/a"}"#),
        at(2, r#","user":{"name":"Admin"},"url":{"path":"/a"}"#),
    ];
    let mut folded = count(&["user.name"], 60, Ge, 1);
    let got = run(folded.clone(), &lines);
    assert_eq!(summary(&got).len(), 1, "folded: one group");
    folded.by = vec![cased_field("user.name")];
    let got = run(folded, &lines);
    let groups: Vec<_> = summary(&got).into_iter().map(|(_, g, v)| (g, v)).collect();
    assert_eq!(
        groups,
        [
            (vec![json!("Admin")], vec![Some(2)]),
            (vec![json!("admin")], vec![Some(1)])
        ]
    );
    let exact = Aggregate::Distinct(cased_field("url.path"));
    let folded = Aggregate::Distinct(field("url.path"));
    let both = Having::And(vec![compare(exact, Eq, 2), compare(folded, Eq, 1)]);
    let got = run(having(&[], 60, both), &lines);
    assert_eq!(summary(&got)[0].2, [Some(2), Some(1)]);
}

fn length(mut condition: crate::ir::Condition) -> crate::ir::Condition {
    if let crate::ir::Condition::Predicate(p) = &mut condition {
        p.length = true;
    }
    condition
}

#[test]
fn len_counts_unicode_scalar_values_of_any_element() {
    use crate::ir::Ordering::{Gt, Le};
    let long = length(cmp("dns.question.name", Gt, 3));
    assert!(matches(&long, r#"{"dns":{"question":{"name":"abcd"}}}"#));
    assert!(!matches(&long, r#"{"dns":{"question":{"name":"abc"}}}"#));
    // "é" is one scalar value (two bytes); "e\u0301" is two.
    assert!(!matches(&long, r#"{"dns":{"question":{"name":"abé"}}}"#));
    assert!(matches(
        &long,
        r#"{"dns":{"question":{"name":"abe\u0301"}}}"#
    ));
    // Arrays: any element; a number reads as its text; missing is false.
    assert!(matches(
        &long,
        r#"{"dns":{"question":{"name":["a","abcde"]}}}"#
    ));
    assert!(matches(&long, r#"{"dns":{"question":{"name":12345}}}"#));
    assert!(!matches(&long, "{}"));
    assert!(matches(&not(long), "{}"));
    // `==` and `in` compare the length as a number.
    let exact = length(eq_int("dns.question.name", 0));
    assert!(!matches(
        &exact,
        r#"{"dns":{"question":{"name":""}}}"#.replace("\"\"", "\"x\"").as_str()
    ));
    let short = length(cmp("dns.question.name", Le, 1));
    assert!(matches(&short, r#"{"dns":{"question":{"name":"x"}}}"#));
}
