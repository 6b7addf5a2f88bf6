//! Threshold aggregation: windows, groups, arrays, distinct, first
//! spelling, `< N` on silent windows, timestamps.

use serde_json::json;

use super::kit::*;
use crate::eval::event::Value;
use crate::eval::timestamp::{format_nanos, format_seconds, parse_value, seconds};
use crate::ir::Comparison::{Ge, Gt, Lt};

fn at(ts: &str, rest: &str) -> String {
    format!(r#"{{"@timestamp":{ts}{rest}}}"#)
}

/// (window start, group spelling, value) of each alert.
fn summary(alerts: &[crate::eval::Alert]) -> Vec<(String, Vec<serde_json::Value>, i128)> {
    alerts
        .iter()
        .map(|a| {
            (
                format_seconds(a.start),
                a.group.iter().map(|(_, v)| v.clone()).collect(),
                a.value(),
            )
        })
        .collect()
}

#[test]
fn windows_are_tumbling_and_aligned_on_the_epoch() {
    // 600 s windows: 10:00:00 opens a window, 09:59:59 belongs to the one before.
    let lines = [
        at(r#""2026-01-01T09:59:59Z""#, ""),
        at(r#""2026-01-01T10:00:00Z""#, ""),
        at(r#""2026-01-01T10:09:59.999Z""#, ""),
        at(r#""2026-01-01T10:10:00Z""#, ""),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let got = summary(&alerts(any(), count(&[], 600, Ge, 1), &lines));
    assert_eq!(
        got,
        [
            ("2026-01-01T09:50:00Z".to_string(), vec![], 1),
            ("2026-01-01T10:00:00Z".to_string(), vec![], 2),
            ("2026-01-01T10:10:00Z".to_string(), vec![], 1),
        ]
    );
}

#[test]
fn by_fields_missing_empty_or_array() {
    let lines = [
        at("0", r#","source":{"ip":"1.1.1.1"}"#),
        at("1", r#","source":{"ip":""}"#),
        at("2", r#","source":{"ip":null}"#),
        at("3", r#","source":{"ip":[]}"#),
        at("4", ""),
        at(
            "5",
            r#","source":{"ip":["1.1.1.1","2.2.2.2","1.1.1.1",""]}"#,
        ),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let got = summary(&alerts(any(), count(&["source.ip"], 60, Ge, 1), &lines));
    let epoch = "1970-01-01T00:00:00Z".to_string();
    assert_eq!(
        got,
        [
            (epoch.clone(), vec![json!("1.1.1.1")], 2),
            (epoch, vec![json!("2.2.2.2")], 1)
        ]
    );
}

#[test]
fn several_array_by_fields_count_each_combination() {
    let line = at(
        "0",
        r#","user":{"name":["a","B","b"]},"host":{"name":["x","y"]}"#,
    );
    let got = alerts(
        any(),
        count(&["user.name", "host.name"], 60, Ge, 1),
        &[&line],
    );
    let groups: Vec<_> = summary(&got).into_iter().map(|(_, g, n)| (g, n)).collect();
    assert_eq!(
        groups,
        [
            (vec![json!("a"), json!("x")], 1),
            (vec![json!("a"), json!("y")], 1),
            (vec![json!("B"), json!("x")], 1),
            (vec![json!("B"), json!("y")], 1),
        ]
    );
}

#[test]
fn groups_ignore_case_and_report_the_earliest_spelling() {
    // Input order differs from time order: the earliest event spells the group.
    let lines = [
        at(r#""2026-01-01T00:00:05Z""#, r#","user":{"name":"ADMIN"}"#),
        at(r#""2026-01-01T00:00:01Z""#, r#","user":{"name":"Admin"}"#),
        at(r#""2026-01-01T00:00:01Z""#, r#","user":{"name":"admin"}"#),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let got = summary(&alerts(any(), count(&["user.name"], 60, Ge, 3), &lines));
    assert_eq!(
        got,
        [("2026-01-01T00:00:00Z".to_string(), vec![json!("Admin")], 3)]
    );
}

#[test]
fn int_by_fields_key_by_number_ip_fields_by_text() {
    let lines = [
        at(
            "0",
            r#","destination":{"port":"0443"},"source":{"ip":"10.1.1.5"}"#,
        ),
        at(
            "1",
            r#","destination":{"port":443},"source":{"ip":"::ffff:10.1.1.5"}"#,
        ),
        at(
            "2",
            r#","destination":{"port":"443"},"source":{"ip":"10.1.1.5"}"#,
        ),
        at(
            "3",
            r#","destination":{"port":443.0},"source":{"ip":"10.1.1.5"}"#,
        ),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let ports = summary(&alerts(
        any(),
        count(&["destination.port"], 60, Ge, 1),
        &lines,
    ));
    let ports: Vec<_> = ports.into_iter().map(|(_, g, n)| (g, n)).collect();
    assert_eq!(ports, [(vec![json!("0443")], 3), (vec![json!(443.0)], 1)]);
    let ips = summary(&alerts(any(), count(&["source.ip"], 60, Ge, 1), &lines));
    let ips: Vec<_> = ips.into_iter().map(|(_, g, n)| (g, n)).collect();
    assert_eq!(
        ips,
        [
            (vec![json!("10.1.1.5")], 3),
            (vec![json!("::ffff:10.1.1.5")], 1)
        ]
    );
}

#[test]
fn distinct_counts_values_ignoring_case_and_arrays() {
    let lines = [
        at("0", r#","source":{"ip":"1.1.1.1"},"user":{"name":"Bob"}"#),
        at("1", r#","source":{"ip":"1.1.1.1"},"user":{"name":"bob"}"#),
        at(
            "2",
            r#","source":{"ip":"1.1.1.1"},"user":{"name":["ſam","SAM","eve"]}"#,
        ),
        at("3", r#","source":{"ip":"1.1.1.1"},"user":{"name":""}"#),
        at("4", r#","source":{"ip":"2.2.2.2"}"#),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let got = alerts(
        any(),
        distinct("user.name", &["source.ip"], 60, Ge, 0),
        &lines,
    );
    let got: Vec<_> = summary(&got).into_iter().map(|(_, g, n)| (g, n)).collect();
    // 2.2.2.2 has no user.name: the group exists with no value.
    assert_eq!(
        got,
        [(vec![json!("1.1.1.1")], 3), (vec![json!("2.2.2.2")], 0)]
    );
    assert!(
        alerts(
            any(),
            distinct("user.name", &["source.ip"], 60, Ge, 0),
            &lines
        )[0]
        .values[0]
            .0
            == "distinct_count"
    );
}

#[test]
fn less_than_never_fires_on_silent_windows() {
    let lines = [
        at("0", r#","source":{"ip":"1.1.1.1"}"#),
        at("600", r#","source":{"ip":"1.1.1.1"}"#),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let got = alerts(any(), count(&["source.ip"], 60, Lt, 5), &lines);
    assert_eq!(
        got.len(),
        2,
        "windows 0 and 600 only, not the eight between"
    );
    let only_where = alerts(eq("user.name", "nobody"), count(&[], 60, Lt, 5), &lines);
    assert!(
        only_where.is_empty(),
        "events failing `where` create no group"
    );
}

#[test]
fn comparison_is_applied_per_group_and_window() {
    let mut lines = Vec::new();
    for i in 0..5 {
        lines.push(at(&i.to_string(), r#","source":{"ip":"9.9.9.9"}"#));
    }
    lines.push(at("70", r#","source":{"ip":"9.9.9.9"}"#));
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_eq!(
        alerts(any(), count(&["source.ip"], 60, Gt, 4), &lines).len(),
        1
    );
    assert_eq!(
        alerts(any(), count(&["source.ip"], 60, Gt, 5), &lines).len(),
        0
    );
}

#[test]
fn timestamps_rfc3339_and_epochs() {
    let ts = |v: Value<'_>| parse_value(&v).map(seconds);
    let s = |t: &'static str| Value::Str(t.into());
    let day = 1_767_225_600; // 2026-01-01T00:00:00Z
    assert_eq!(ts(s("2026-01-01T00:00:00Z")), Some(day));
    assert_eq!(ts(s("2026-01-01t00:00:00z")), Some(day));
    assert_eq!(ts(s("2026-01-01 01:00:00+01:00")), Some(day));
    assert_eq!(ts(s("2025-12-31T23:00:00.999999999-01:00")), Some(day));
    assert_eq!(ts(s("2026-01-01T00:00Z")), None); // seconds required
    assert_eq!(ts(s("2026-01-01T00:00:00")), None); // offset required
    assert_eq!(ts(s("2026-02-29T00:00:00Z")), None);
    assert_eq!(ts(s("2024-02-29T00:00:00Z")), Some(1_709_164_800));
    assert_eq!(ts(Value::Int(day as i64)), Some(day));
    assert_eq!(ts(Value::Int(day as i64 * 1000 + 999)), Some(day));
    assert_eq!(ts(Value::Int(99_999_999_999)), Some(99_999_999_999));
    assert_eq!(ts(Value::Int(100_000_000_000)), Some(100_000_000));
    assert_eq!(ts(Value::Float(1_767_225_600.75)), Some(day));
    assert_eq!(ts(Value::Float(-1.5)), Some(-2));
    assert_eq!(ts(s("1767225600.123456")), Some(day));
    assert_eq!(ts(s("1767225600123")), Some(day));
    assert_eq!(ts(s("-1.5")), Some(-2));
    assert_eq!(ts(s("1767225600.")), None);
    assert_eq!(ts(s("+1767225600")), None);
    assert_eq!(ts(s("")), None);
    assert_eq!(ts(Value::Bool(true)), None);
    assert_eq!(ts(Value::Float(1e300)), None);
    assert_eq!(format_seconds(day), "2026-01-01T00:00:00Z");
    assert_eq!(format_seconds(-1), "1969-12-31T23:59:59Z");
}

#[test]
fn events_without_usable_timestamps_are_not_counted() {
    let lines = [
        r#"{"source":{"ip":"1.1.1.1"}}"#,
        r#"{"@timestamp":"yesterday","source":{"ip":"1.1.1.1"}}"#,
    ];
    assert!(alerts(any(), count(&[], 60, Ge, 1), &lines).is_empty());
}

#[test]
fn an_alert_carries_its_first_and_last_time_and_a_sorted_sample() {
    // Eleven distinct users (one twice, one in an array, one empty, one
    // null): the sample is the first ten sorted as text, `""` and null
    // left out; the `by` field is not sampled.
    let mut lines: Vec<String> = (0..11)
        .map(|i| {
            at(
                &format!(r#""2026-01-01T10:00:{:02}Z""#, 10 + i),
                &format!(r#","source.ip":"1.2.3.4","user.name":"u{:02}""#, 10 - i),
            )
        })
        .collect();
    lines.push(at(
        r#""2026-01-01T10:00:05Z""#,
        r#","source.ip":"1.2.3.4","user.name":["u00","B"]"#,
    ));
    lines.push(at(
        r#""2026-01-01T10:00:30Z""#,
        r#","source.ip":"1.2.3.4","user.name":"""#,
    ));
    lines.push(at(
        r#""2026-01-01T10:00:31Z""#,
        r#","source.ip":"1.2.3.4","user.name":null"#,
    ));
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut rule = rule("r", "dns", any(), Some(count(&["source.ip"], 600, Ge, 1)));
    rule.alert.context = vec![field("source.ip"), field("user.name")];
    let Ok(mut engine) =
        crate::eval::Engine::new(&[rule], crate::eval::Routing::Fixed("dns".into()), None)
    else {
        panic!("engine");
    };
    let mut alerts = Vec::new();
    let mut collect = |out: crate::eval::Output<'_>| {
        if let crate::eval::Output::Alert { alert, .. } = out {
            alerts.push(alert);
        }
    };
    for line in &lines {
        engine.process(line, &mut collect);
    }
    engine.finish(&mut collect);
    let [alert] = alerts.as_slice() else {
        panic!("one alert: {alerts:?}");
    };
    assert_eq!(format_nanos(alert.first_time), "2026-01-01T10:00:05Z");
    assert_eq!(format_nanos(alert.last_time), "2026-01-01T10:00:31Z");
    let expected: Vec<String> = [
        "B", "u00", "u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(alert.context, vec![("user.name".to_string(), expected)]);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

    /// A context sample is the first `CONTEXT_SAMPLE` distinct texts of
    /// the values seen, sorted as text, whatever their order: strings as
    /// they are, numbers and booleans as JSON writes them.
    #[test]
    fn a_context_sample_keeps_the_smallest_distinct_texts(
        picks in proptest::collection::vec((0u8..5, -30i64..200, "[a-c1-9]{0,2}"), 0..40),
    ) {
        use std::borrow::Cow;
        use std::collections::BTreeSet;
        use crate::eval::threshold::{Sample, sample_text, sample_value};
        let values: Vec<Value<'_>> = picks
            .iter()
            .map(|(kind, n, s)| match kind {
                0 => Value::Str(Cow::Borrowed(s.as_str())),
                1 => Value::Int(*n),
                2 => Value::Float(*n as f64 / 4.0),
                3 => Value::Bool(*n % 2 == 0),
                _ => Value::Null,
            })
            .collect();
        let mut sample = Sample::default();
        let mut buffer = String::new();
        for value in &values {
            sample_value(&mut sample, value, &mut buffer);
        }
        let all: BTreeSet<String> = values.iter().filter_map(sample_text).collect();
        let expected: Vec<String> = all.into_iter().take(crate::ir::CONTEXT_SAMPLE).collect();
        proptest::prop_assert_eq!(sample.texts, expected);
    }
}
