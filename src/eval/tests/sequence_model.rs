//! The sequence matcher against a brute-force model of the rule in
//! language.md "Sequences": for every event E matching the last step, in
//! time order (ties in input order), try every assignment of the group's
//! events since the last alert, within `within` before E, to the steps;
//! alert when one exists, reporting the latest possible first event, and
//! forget everything up to E. Random inputs mix events that match one step,
//! two steps, or none, with ties and out-of-order input.

use proptest::prelude::*;

use super::kit::*;
use crate::eval::{Engine, Output, Routing};
use crate::ir::{Detection, Sequence, Step};
use crate::syntax::Span;

/// Step i matches the kinds in `STEP_KINDS[i]`: `X` matches steps 0 and 1,
/// `Y` steps 1 and 2, `N` none.
const STEP_KINDS: [&[&str]; 3] = [&["A", "X"], &["B", "X", "Y"], &["C", "Y"]];
const KINDS: [&str; 6] = ["A", "B", "C", "X", "Y", "N"];

fn matches(kind: &str, step: usize) -> bool {
    STEP_KINDS[step].contains(&kind)
}

/// Whether events `held` (in order, the last the candidate E) can fill
/// `counts` from step `step` on, taking events from index `from`, with E
/// in the last step; the latest first-event time over all ways.
fn best_start(held: &[(i64, &str)], counts: &[usize]) -> Option<i64> {
    fn go(
        held: &[(i64, &str)],
        counts: &[usize],
        at: usize,
        step: usize,
        taken: usize,
        first: Option<i64>,
    ) -> Option<i64> {
        let last = counts.len() - 1;
        if step == last && taken == counts[last] {
            // Complete only when E itself was the last event taken.
            return (at == held.len()).then_some(first?);
        }
        if at == held.len() {
            return None;
        }
        let (time, kind) = held[at];
        let mut best = None;
        if taken == counts[step] {
            // Step full: the next step starts here.
            return go(held, counts, at, step + 1, 0, first);
        }
        if matches(kind, step) {
            best = best.max(go(
                held,
                counts,
                at + 1,
                step,
                taken + 1,
                first.or(Some(time)),
            ));
        }
        // E must be taken; any other event may be skipped.
        if at + 1 < held.len() {
            best = best.max(go(held, counts, at + 1, step, taken, first));
        }
        best
    }
    go(held, counts, 0, 0, 0, None)
}

/// The model's alerts as (first, last) seconds.
fn model(events: &[(i64, &str)], counts: &[usize], within: i64) -> Vec<(i64, i64)> {
    let mut ordered: Vec<(usize, (i64, &str))> = events.iter().copied().enumerate().collect();
    ordered.sort_by_key(|(seq, (time, _))| (*time, *seq));
    let mut alerts = Vec::new();
    let mut since = 0;
    for end in 0..ordered.len() {
        let (_, (time, kind)) = ordered[end];
        if !matches(kind, counts.len() - 1) {
            continue;
        }
        let held: Vec<(i64, &str)> = ordered[since..=end]
            .iter()
            .map(|(_, e)| *e)
            .filter(|(t, k)| time - t <= within && (0..counts.len()).any(|s| matches(k, s)))
            .collect();
        if let Some(first) = best_start(&held, counts) {
            alerts.push((first, time));
            since = end + 1;
        }
    }
    alerts
}

fn engine_alerts(events: &[(i64, &str)], counts: &[usize], within: u64) -> Vec<(i64, i64)> {
    let steps = counts
        .iter()
        .enumerate()
        .map(|(i, &count)| Step {
            count: count as u64,
            condition: is_in("dns.question.type", STEP_KINDS[i]),
            span: Span::default(),
        })
        .collect();
    let mut rule = rule("r", "dns", super::kit::any(), None);
    rule.detection = Detection::Sequence(Sequence {
        by: vec![field("source.ip")],
        within,
        steps,
        span: Span::default(),
    });
    let Ok(mut engine) = Engine::new(&[rule], Routing::Fixed("dns".into()), None) else {
        unreachable!("the rule compiles");
    };
    let mut alerts = Vec::new();
    let mut collect = |out: Output<'_>| {
        if let Output::Alert { alert, .. } = out {
            let seconds = |n: i128| i64::try_from(n / 1_000_000_000).unwrap_or(i64::MIN);
            alerts.push((seconds(alert.first_time), seconds(alert.last_time)));
        }
    };
    for (time, kind) in events {
        let line = format!(
            r#"{{"@timestamp":{time},"source":{{"ip":"h"}},"dns":{{"question":{{"type":"{kind}"}}}}}}"#
        );
        engine.process(&line, &mut collect);
    }
    engine.finish(&mut collect);
    alerts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn the_matcher_agrees_with_the_brute_force_model(
        events in prop::collection::vec((0i64..12, 0usize..KINDS.len()), 0..12),
        counts in prop::collection::vec(1usize..3, 2..4),
        within in 1u64..8,
    ) {
        let events: Vec<(i64, &str)> = events.into_iter().map(|(t, k)| (t, KINDS[k])).collect();
        let expected = model(&events, &counts, i64::try_from(within).unwrap_or(0));
        prop_assert_eq!(engine_alerts(&events, &counts, within), expected, "{:?}", events);
    }
}

#[test]
fn the_model_itself_sees_the_documented_cases() {
    // One X cannot serve steps 0 and 1 at once; two can.
    assert_eq!(model(&[(0, "X")], &[1, 1], 5), []);
    assert_eq!(model(&[(0, "X"), (1, "X")], &[1, 1], 5), [(0, 1)]);
    // Ties keep input order.
    assert_eq!(model(&[(3, "B"), (3, "A")], &[1, 1], 5), []);
    assert_eq!(model(&[(3, "A"), (3, "B")], &[1, 1], 5), [(3, 3)]);
}
