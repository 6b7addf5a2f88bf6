//! What bounds a run (`eval::limits`): long `by` arrays in linear time,
//! the cap on the groups one event may add, windows closed as the stream
//! advances (by each rule's `delay` by default), event times too far in
//! the future, and the count of what open windows hold.

use std::time::{Duration, Instant};

use super::kit::*;
use crate::eval::limits::{Lateness, Limits};
use crate::eval::{Alert, Engine, LineReport, Output, Routing};
use crate::ir::Comparison::Ge;
use crate::ir::Threshold;

/// Runs a `dns` threshold rule (its `delay` 300 s) within `limits`: the
/// alerts emitted after each line (by line index, `lines.len()` for the
/// end) and each line's report.
fn run(
    threshold: Threshold,
    limits: &Limits,
    lines: &[String],
) -> (Vec<(usize, Alert)>, Vec<LineReport>, Engine) {
    let rule = rule("r", "dns", any(), Some(threshold));
    let Ok(mut engine) = Engine::with_limits(&[rule], Routing::Fixed("dns".into()), limits) else {
        unreachable!("the rule compiles");
    };
    let mut alerts = Vec::new();
    let mut reports = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let report = engine.process(line, &mut |out| {
            if let Output::Alert { alert, .. } = out {
                alerts.push((i, alert));
            }
        });
        reports.push(report);
    }
    let (held, _) = engine.held();
    assert!(held.entries >= held.groups);
    let end = lines.len();
    let mut rest = Vec::new();
    engine.finish(&mut |out| {
        if let Output::Alert { alert, .. } = out {
            rest.push((end, alert));
        }
    });
    alerts.extend(rest);
    (alerts, reports, engine)
}

fn at(seconds: i64, rest: &str) -> String {
    format!(r#"{{"@timestamp":{seconds}{rest}}}"#)
}

fn array(prefix: &str, n: usize) -> String {
    let items: Vec<String> = (0..n).map(|i| format!("\"{prefix}{i}\"")).collect();
    format!("[{}]", items.join(","))
}

#[test]
fn a_long_by_array_is_grouped_in_linear_time() {
    // 100,000 distinct elements: comparing each with those before it took
    // minutes in a debug build (5.6 s for 80,000 in release).
    let n = 100_000;
    let line = at(0, &format!(r#","user":{{"name":{}}}"#, array("u", n)));
    let limits = Limits {
        max_fanout: 1_000_000,
        ..Limits::UNBOUNDED
    };
    let start = Instant::now();
    let (alerts, reports, _) = run(count(&["user.name"], 60, Ge, 1), &limits, &[line]);
    let took = start.elapsed();
    assert_eq!(alerts.len(), n);
    assert_eq!(reports[0].too_many, None);
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn an_event_over_the_combination_limit_is_not_counted() {
    // Two arrays of 200 make 40,000 groups from one line: over 10,000.
    let line = at(
        0,
        &format!(
            r#","user":{{"name":{}}},"host":{{"name":{}}}"#,
            array("u", 200),
            array("h", 200)
        ),
    );
    let small = at(1, r#","user":{"name":["a","b"]},"host":{"name":"x"}"#);
    let (alerts, reports, engine) = run(
        count(&["user.name", "host.name"], 60, Ge, 1),
        &Limits::UNBOUNDED,
        &[line, small],
    );
    let too_many = reports[0]
        .too_many
        .map(|(rule, t)| (rule, t.entries, t.limit));
    assert_eq!(too_many, Some((0, 40_000, 10_000)));
    assert_eq!(reports[1].too_many, None);
    assert_eq!(alerts.len(), 2, "only the small event is counted");
    assert_eq!(engine.held().1, 2, "the peak held two groups");
    // Distinct values multiply the groups: 2 groups x 6,000 values.
    let values = at(
        0,
        &format!(
            r#","user":{{"name":["a","b"]}},"host":{{"name":{}}}"#,
            array("h", 6_000)
        ),
    );
    let (_, reports, _) = run(
        distinct("host.name", &["user.name"], 60, Ge, 1),
        &Limits::UNBOUNDED,
        &[values],
    );
    assert_eq!(reports[0].too_many.map(|(_, t)| t.entries), Some(12_000));
}

#[test]
fn windows_close_as_the_stream_advances_by_the_rules_delay() {
    // 60 s windows, delay 300 s: the window [0, 60) closes once an event
    // is newer than 360; an event of it after that is late.
    let lines = [
        at(0, ""),
        at(30, ""),
        at(360, ""),
        at(361, ""),
        at(59, ""),
        at(400, ""),
    ];
    let limits = Limits::streaming(None);
    let (alerts, reports, _) = run(count(&[], 60, Ge, 1), &limits, &lines);
    let when: Vec<(usize, i128, i128)> = alerts
        .iter()
        .map(|(i, a)| (*i, a.start, a.value()))
        .collect();
    assert_eq!(when, [(3, 0, 2), (6, 360, 3)]);
    let late: Vec<bool> = reports.iter().map(|r| r.late).collect();
    assert_eq!(late, [false, false, false, false, true, false]);
    // `--max-lateness` overrides the delay; unbounded closes at the end.
    let fixed = Limits {
        lateness: Lateness::Seconds(0),
        ..limits
    };
    let (alerts, _, _) = run(count(&[], 60, Ge, 1), &fixed, &lines[..3]);
    assert_eq!(alerts.first().map(|(i, _)| *i), Some(2));
    let (alerts, _, _) = run(count(&[], 60, Ge, 1), &Limits::UNBOUNDED, &lines);
    assert!(alerts.iter().all(|(i, _)| *i == lines.len()));
}

#[test]
fn a_time_far_in_the_future_does_not_close_windows() {
    // One event dated 9999-12-31 used to close every window and make every
    // later event late (30 late, 0 alerts).
    let far = || r#"{"@timestamp":"9999-12-31T00:00:00Z"}"#.to_string();
    let mut lines = vec![at(0, "")];
    lines.push(far());
    lines.extend((1..30).map(|s| at(s, "")));
    let limits = Limits {
        lateness: Lateness::Seconds(60),
        ..Limits::streaming(None)
    };
    let (alerts, reports, _) = run(count(&[], 60, Ge, 2), &limits, &lines);
    assert!(reports[1].future);
    assert_eq!(reports.iter().filter(|r| r.future).count(), 1);
    assert_eq!(reports.iter().filter(|r| r.late).count(), 0);
    let counts: Vec<(i128, i128)> = alerts.iter().map(|(_, a)| (a.start, a.value())).collect();
    assert_eq!(counts, [(0, 30)], "the far event's window has one event");
    // Against the wall clock, even the first event may be too far ahead;
    // a gap of days in an old stream still moves the clock.
    let now = Some(1_767_225_600);
    let clocked = Limits { now, ..limits };
    let lines = [far(), at(0, ""), at(10 * 86_400, ""), at(10, "")];
    let (_, reports, _) = run(count(&[], 60, Ge, 1), &clocked, &lines);
    let future: Vec<bool> = reports.iter().map(|r| r.future).collect();
    assert_eq!(future, [true, false, false, false]);
    assert!(reports[3].late, "the gap moved the clock");
}

#[test]
fn open_windows_count_groups_and_distinct_values() {
    let lines = [
        at(0, r#","source":{"ip":"1.1.1.1"},"user":{"name":["a","b"]}"#),
        at(1, r#","source":{"ip":"2.2.2.2"},"user":{"name":"a"}"#),
        at(2, r#","source":{"ip":"1.1.1.1"},"user":{"name":"A"}"#),
    ];
    let rule = rule(
        "r",
        "dns",
        any(),
        Some(distinct("user.name", &["source.ip"], 60, Ge, 1)),
    );
    let limits = Limits {
        max_groups: 4,
        ..Limits::UNBOUNDED
    };
    let Ok(mut engine) = Engine::with_limits(&[rule], Routing::Fixed("dns".into()), &limits) else {
        unreachable!("the rule compiles");
    };
    let over: Vec<bool> = lines
        .iter()
        .map(|line| engine.process(line, &mut |_| {}).over_group_limit)
        .collect();
    // 1 group + 2 values, then 2 groups + 3 values (over 4); "A" repeats "a".
    assert_eq!(over, [false, true, true]);
    let (held, peak) = engine.held();
    assert_eq!(
        (held.windows, held.groups, held.entries, peak),
        (1, 2, 5, 5)
    );
    assert!(held.bytes > 0);
    engine.finish(&mut |_| {});
    assert_eq!(engine.held().0.entries, 0);
}

#[test]
fn hopping_windows_close_as_the_stream_advances() {
    // 60 s windows stepping 20 s, lateness 0, `>= 1`: each window closes
    // once the clock passes its end, and a run of satisfying windows
    // alerts once, even across closes; an event older than its last open
    // window is late, one with some windows open counts in those only.
    let lines = [at(0, ""), at(30, ""), at(100, ""), at(85, ""), at(500, "")];
    let limits = Limits {
        lateness: Lateness::Seconds(0),
        ..Limits::streaming(None)
    };
    let threshold = Threshold {
        step: Some(20),
        ..count(&[], 60, Ge, 1)
    };
    let (alerts, reports, _) = run(threshold, &limits, &lines);
    let when: Vec<(usize, i128)> = alerts.iter().map(|(i, a)| (*i, a.start)).collect();
    // One run from window -40 through window 80 (every window from -40 to
    // 80 holds an event), then a second from 460.
    assert_eq!(when, [(1, -40), (5, 460)]);
    let late: Vec<bool> = reports.iter().map(|r| r.late).collect();
    assert_eq!(late, [false; 5]);
}
