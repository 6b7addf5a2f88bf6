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
fn summary(alerts: &[Alert]) -> Vec<(String, Vec<serde_json::Value>, Vec<Option<i64>>)> {
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
