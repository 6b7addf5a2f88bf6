//! `sequence` and `first seen` (language.md "Sequences", "First seen"):
//! steps matched by distinct events in time order, ties in input order, an
//! event serving one step only, counts above 1, `within` measured from the
//! first event of the first step, late and out-of-order events under a
//! lateness; first sightings per combination, keyed as groups are.

use super::kit::*;
use crate::eval::limits::{Lateness, Limits};
use crate::eval::{Alert, Engine, LineReport, Output, Routing};
use crate::ir::{Condition, Detection, FirstSeen, Sequence, Step};
use crate::syntax::Span;

fn step(count: u64, condition: Condition) -> Step {
    Step {
        count,
        condition,
        span: Span::default(),
    }
}

fn sequence(by: &[&str], within: u64, steps: Vec<Step>) -> Detection {
    Detection::Sequence(Sequence {
        by: by.iter().map(|p| field(p)).collect(),
        within,
        steps,
        span: Span::default(),
    })
}

fn first_seen(fields: &[&str], horizon: u64) -> Detection {
    Detection::FirstSeen(FirstSeen {
        fields: fields.iter().map(|p| field(p)).collect(),
        horizon,
        span: Span::default(),
    })
}

/// Runs a `dns` rule with `detection` over `lines` within `limits`: its
/// alerts and each line's report.
fn run_with(
    detection: Detection,
    limits: &Limits,
    lines: &[String],
) -> (Vec<Alert>, Vec<LineReport>) {
    let mut rule = rule("r", "dns", any(), None);
    rule.detection = detection;
    let Ok(mut engine) = Engine::with_limits(&[rule], Routing::Fixed("dns".into()), limits) else {
        unreachable!("the rule compiles");
    };
    let mut alerts = Vec::new();
    let mut reports = Vec::new();
    let mut collect = |out: Output<'_>| {
        if let Output::Alert { alert, .. } = out {
            alerts.push(alert);
        }
    };
    for line in lines {
        reports.push(engine.process(line, &mut collect));
    }
    engine.finish(&mut collect);
    (alerts, reports)
}

fn run(detection: Detection, lines: &[String]) -> Vec<Alert> {
    run_with(detection, &Limits::UNBOUNDED, lines).0
}

/// An event at `seconds` from `ip` with `dns.question.type` `kind`.
fn ev(seconds: i64, ip: &str, kind: &str) -> String {
    format!(
        r#"{{"@timestamp":{seconds},"source":{{"ip":"{ip}"}},"dns":{{"question":{{"type":"{kind}"}}}}}}"#
    )
}

fn kind(value: &str) -> Condition {
    eq("dns.question.type", value)
}

/// (first, last) event seconds of each alert.
fn spans(alerts: &[Alert]) -> Vec<(i128, i128)> {
    alerts
        .iter()
        .map(|a| (a.first_time / 1_000_000_000, a.last_time / 1_000_000_000))
        .collect()
}

/// "3 failures then a success within 60s", by source.ip.
fn brute() -> Detection {
    sequence(
        &["source.ip"],
        60,
        vec![step(3, kind("F")), step(1, kind("S"))],
    )
}

#[test]
fn a_sequence_completes_with_its_steps_in_order_within_the_span() {
    let lines = [
        ev(0, "a", "F"),
        ev(10, "a", "F"),
        ev(20, "a", "F"),
        ev(30, "a", "S"),
    ];
    let alerts = run(brute(), &lines);
    assert_eq!(spans(&alerts), [(0, 30)]);
    assert_eq!(
        alerts[0].group,
        [("source.ip".to_string(), serde_json::json!("a"))]
    );
    // Too few failures, or the success before them: nothing.
    assert!(run(brute(), &lines[1..]).is_empty());
    let reordered = [
        ev(0, "a", "S"),
        ev(10, "a", "F"),
        ev(20, "a", "F"),
        ev(30, "a", "F"),
    ];
    assert!(run(brute(), &reordered).is_empty());
}

#[test]
fn groups_are_separate_and_keyed_ignoring_case() {
    let lines = [
        ev(0, "h", "F"),
        ev(1, "i", "F"),
        ev(2, "H", "F"),
        ev(3, "h", "F"),
        ev(4, "i", "S"),
        ev(5, "H", "S"),
    ];
    let alerts = run(brute(), &lines);
    assert_eq!(spans(&alerts), [(0, 5)]);
    // The group's spelling is its first event's.
    assert_eq!(alerts[0].group[0].1, serde_json::json!("h"));
}

#[test]
fn the_last_event_must_come_within_the_span_of_the_first() {
    // Failures at 0, 10, 20; the success at 61 is 61 s after the first.
    let late = [
        ev(0, "a", "F"),
        ev(10, "a", "F"),
        ev(20, "a", "F"),
        ev(61, "a", "S"),
    ];
    assert!(run(brute(), &late).is_empty());
    // A fourth failure lets the oldest go: 10..61 fits.
    let more = [
        ev(0, "a", "F"),
        ev(10, "a", "F"),
        ev(20, "a", "F"),
        ev(30, "a", "F"),
        ev(61, "a", "S"),
    ];
    assert_eq!(spans(&run(brute(), &more)), [(10, 61)]);
    // Exactly `within` after the first still completes.
    let edge = [
        ev(0, "a", "F"),
        ev(10, "a", "F"),
        ev(20, "a", "F"),
        ev(60, "a", "S"),
    ];
    assert_eq!(spans(&run(brute(), &edge)), [(0, 60)]);
}

#[test]
fn an_alert_resets_the_group() {
    // Failures 0..5 then two successes: one alert; the second success
    // finds no failures left.
    let mut lines: Vec<String> = (0..6).map(|s| ev(s, "a", "F")).collect();
    lines.push(ev(6, "a", "S"));
    lines.push(ev(7, "a", "S"));
    let alerts = run(brute(), &lines);
    // The chain is the latest three failures.
    assert_eq!(spans(&alerts), [(3, 6)]);
}

#[test]
fn an_event_matching_two_steps_serves_one_of_them() {
    // Step 1: any query (`exists`); step 2: an AXFR. One AXFR alone matches
    // both steps but cannot be both events.
    let detection = sequence(
        &["source.ip"],
        60,
        vec![step(1, exists("dns.question.type")), step(1, kind("AXFR"))],
    );
    assert!(run(detection.clone(), &[ev(0, "a", "AXFR")]).is_empty());
    // Two AXFRs: the first serves step 1, the second step 2.
    let two = [ev(0, "a", "AXFR"), ev(5, "a", "AXFR")];
    assert_eq!(spans(&run(detection.clone(), &two)), [(0, 5)]);
    // With a count of 2 on the first step, three AXFRs are needed.
    let counted = sequence(
        &["source.ip"],
        60,
        vec![step(2, exists("dns.question.type")), step(1, kind("AXFR"))],
    );
    assert!(run(counted.clone(), &two).is_empty());
    let three = [ev(0, "a", "AXFR"), ev(1, "a", "A"), ev(5, "a", "AXFR")];
    assert_eq!(spans(&run(counted, &three)), [(0, 5)]);
}

#[test]
fn ties_in_time_follow_input_order() {
    let detection = sequence(
        &["source.ip"],
        60,
        vec![step(1, kind("A")), step(1, kind("B"))],
    );
    // Same second: A before B in input completes, B before A does not.
    assert_eq!(
        spans(&run(detection.clone(), &[ev(5, "a", "A"), ev(5, "a", "B")])),
        [(5, 5)]
    );
    assert!(run(detection, &[ev(5, "a", "B"), ev(5, "a", "A")]).is_empty());
}

#[test]
fn out_of_order_input_is_matched_in_time_order() {
    let detection = sequence(
        &["source.ip"],
        60,
        vec![step(1, kind("A")), step(1, kind("B"))],
    );
    // B is read first but happened after A.
    let lines = [ev(20, "a", "B"), ev(10, "a", "A")];
    assert_eq!(spans(&run(detection, &lines)), [(10, 20)]);
}

#[test]
fn under_a_lateness_events_wait_for_the_clock_and_late_ones_are_reported() {
    let limits = Limits {
        lateness: Lateness::Seconds(30),
        ..Limits::UNBOUNDED
    };
    let detection = sequence(
        &["source.ip"],
        60,
        vec![step(1, kind("A")), step(1, kind("B"))],
    );
    // B read before A, 10 s apart: within the lateness, so in order.
    let lines = [
        ev(110, "a", "B"),
        ev(100, "a", "A"),
        ev(200, "z", "A"),
        ev(150, "a", "A"),
    ];
    let (alerts, reports) = run_with(detection, &limits, &lines);
    assert_eq!(spans(&alerts), [(100, 110)]);
    // The clock reached 200: an event at 150 is more than 30 s behind it.
    assert_eq!(
        reports.iter().map(|r| r.late).collect::<Vec<_>>(),
        [false, false, false, true]
    );
}

#[test]
fn a_missing_group_value_leaves_the_event_out() {
    let lines = [
        r#"{"@timestamp":0,"dns":{"question":{"type":"A"}}}"#.to_string(),
        ev(1, "a", "B"),
    ];
    let detection = sequence(
        &["source.ip"],
        60,
        vec![step(1, kind("A")), step(1, kind("B"))],
    );
    assert!(run(detection.clone(), &lines).is_empty());
    // Without `by`, one group holds every event.
    let one_group = sequence(&[], 60, vec![step(1, kind("A")), step(1, kind("B"))]);
    assert_eq!(spans(&run(one_group, &lines)), [(0, 1)]);
}

#[test]
fn first_seen_alerts_once_per_combination_within_the_horizon() {
    let lines = [
        ev(0, "a", "A"),
        ev(10, "A", "A"), // seen 10 s before (case folded)
        ev(20, "b", "A"),
        ev(200, "a", "A"), // last seen at 10, 190 s before: more than 100
        ev(250, "a", "A"),
    ];
    let alerts = run(first_seen(&["source.ip"], 100), &lines);
    let groups: Vec<(i128, serde_json::Value)> = alerts
        .iter()
        .map(|a| (a.first_time / 1_000_000_000, a.group[0].1.clone()))
        .collect();
    assert_eq!(
        groups,
        [
            (0, serde_json::json!("a")),
            (20, serde_json::json!("b")),
            (200, serde_json::json!("a"))
        ]
    );
}

#[test]
fn first_seen_reads_in_time_order_and_keys_each_array_element() {
    // The later event is read first: the earlier one is the first sighting.
    let lines = [ev(50, "a", "A"), ev(40, "a", "A")];
    let alerts = run(first_seen(&["source.ip"], 100), &lines);
    assert_eq!(spans(&alerts), [(40, 40)]);
    // An array: each element is its own combination.
    let array = [
        r#"{"@timestamp":0,"source":{"ip":["x","y"]}}"#.to_string(),
        r#"{"@timestamp":1,"source":{"ip":"y"}}"#.to_string(),
    ];
    assert_eq!(run(first_seen(&["source.ip"], 100), &array).len(), 2);
}

#[test]
fn held_state_counts_against_max_groups_and_expires() {
    let limits = Limits {
        lateness: Lateness::Seconds(0),
        max_groups: 3,
        ..Limits::UNBOUNDED
    };
    let lines: Vec<String> = (0..5).map(|i| ev(i, &format!("ip{i}"), "A")).collect();
    let (_, reports) = run_with(first_seen(&["source.ip"], 1000), &limits, &lines);
    let over: Vec<bool> = reports.iter().map(|r| r.over_group_limit).collect();
    assert_eq!(over, [false, false, false, true, true]);
    // With a short horizon, old combinations are dropped as time goes on.
    let spread: Vec<String> = (0..5)
        .map(|i| ev(i * 100, &format!("ip{i}"), "A"))
        .collect();
    let (_, reports) = run_with(first_seen(&["source.ip"], 10), &limits, &spread);
    assert!(reports.iter().all(|r| !r.over_group_limit));
}

#[test]
fn a_long_run_of_one_step_holds_only_what_the_step_can_use() {
    let mut rule = rule("r", "dns", any(), None);
    rule.detection = brute();
    let Ok(mut engine) = Engine::new(&[rule], Routing::Fixed("dns".into()), Some(0)) else {
        unreachable!("the rule compiles");
    };
    let mut alerts = Vec::new();
    for i in 0..1000 {
        engine.process(&ev(i / 100, "a", "F"), &mut |out| {
            if let Output::Alert { alert, .. } = out {
                alerts.push(alert);
            }
        });
    }
    let held = engine.ordered_held().unwrap_or_default();
    // 3 failures in the partial sequence, the newest second's events
    // waiting for the clock to move.
    assert_eq!(held.partial_sequences, 1);
    assert_eq!(held.sequence_events, 3);
    engine.process(&ev(20, "a", "S"), &mut |_| {});
    engine.finish(&mut |out| {
        if let Output::Alert { alert, .. } = out {
            alerts.push(alert);
        }
    });
    assert_eq!(spans(&alerts), [(9, 20)]);
}

#[test]
fn a_run_broken_by_another_step_keeps_the_events_before_it() {
    // A, B, then C: the A before the B is the one the chain needs, though
    // a later A came after the B.
    let detection = sequence(
        &["source.ip"],
        60,
        vec![step(1, kind("A")), step(1, kind("B")), step(1, kind("C"))],
    );
    let lines = [
        ev(0, "a", "A"),
        ev(1, "a", "B"),
        ev(2, "a", "A"),
        ev(3, "a", "A"),
        ev(4, "a", "C"),
    ];
    assert_eq!(spans(&run(detection, &lines)), [(0, 4)]);
}

#[test]
fn a_long_array_is_refused_past_the_fanout() {
    let items: Vec<String> = (0..100_000)
        .map(|i| format!("\"10.0.{}.{}\"", i / 256, i % 256))
        .collect();
    let line = format!(
        r#"{{"@timestamp":0,"source":{{"ip":[{}]}}}}"#,
        items.join(",")
    );
    let (alerts, reports) = run_with(first_seen(&["source.ip"], 100), &Limits::UNBOUNDED, &[line]);
    assert!(alerts.is_empty());
    let too_many = reports[0].too_many.map(|(_, t)| (t.entries, t.limit));
    assert_eq!(too_many, Some((10_001, 10_000)));
    // Under the limit, each distinct element (repeats once) is its own
    // combination.
    let items: Vec<String> = (0..50).map(|i| format!("\"h{}\"", i % 20)).collect();
    let line = format!(
        r#"{{"@timestamp":0,"source":{{"ip":[{}]}}}}"#,
        items.join(",")
    );
    assert_eq!(run(first_seen(&["source.ip"], 100), &[line]).len(), 20);
}
