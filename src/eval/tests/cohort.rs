//! Threshold rules that aggregate alike share their windows (cohorts):
//! splits when only some of them match an event, merges once their
//! windows are closed, and outputs, reports and counts the same, byte for
//! byte, as when every rule keeps windows of its own.

use proptest::prelude::*;

use super::kit::*;
use crate::eval::limits::{Lateness, Limits};
use crate::eval::{Engine, LineReport, Output, Routing};
use crate::ir::Comparison::{Ge, Lt};
use crate::ir::{Aggregate, Detection, FirstSeen, Having, Rule, Threshold};
use crate::syntax::Span;

/// A `dns` threshold rule that skips events whose `skip` names it or
/// says `all`, with `host.name` and `source.port` as alert context.
fn skipping(name: &str, threshold: Threshold) -> Rule {
    let condition = not(is_in("skip", &[name, "all"]));
    let mut rule = rule(name, "dns", condition, Some(threshold));
    rule.alert.context = vec![field("host.name"), field("source.port")];
    rule
}

fn limits(lateness: Option<u64>, max_fanout: u64, max_groups: u64) -> Limits {
    Limits {
        lateness: lateness.map_or(Lateness::Unbounded, Lateness::Seconds),
        max_fanout,
        max_groups,
        ..Limits::UNBOUNDED
    }
}

fn engine(rules: &[Rule], limits: &Limits) -> Engine {
    match Engine::with_limits(rules, Routing::Fixed("dns".into()), limits) {
        Ok(engine) => engine,
        Err(error) => unreachable!("the rules compile: {error}"),
    }
}

/// Everything a run shows, as text: each line's outputs and report, the
/// cohorts after it, what `--stats` would print before the end (windows,
/// groups, entries, peak) and the last alerts.
struct Run {
    lines: Vec<(Vec<String>, LineReport)>,
    cohorts: Vec<usize>,
    held: (u64, u64, u64, u64),
    end: Vec<String>,
}

fn run(mut engine: Engine, lines: &[String]) -> Run {
    let mut seen = Vec::new();
    let mut cohorts = Vec::new();
    for line in lines {
        let mut outputs = Vec::new();
        let report = engine.process(line, &mut |out| outputs.push(shown(&out)));
        seen.push((outputs, report));
        cohorts.push(engine.cohorts());
    }
    let (held, peak) = engine.held();
    let mut end = Vec::new();
    engine.finish(&mut |out| end.push(shown(&out)));
    Run {
        lines: seen,
        cohorts,
        held: (held.windows, held.groups, held.entries, peak),
        end,
    }
}

fn shown(output: &Output<'_>) -> String {
    format!("{output:?}")
}

fn event(time: i64, user: &str, rest: &str) -> String {
    format!(r#"{{"@timestamp":{time},"user":{{"name":"{user}"}}{rest}}}"#)
}

#[test]
fn identical_rules_share_one_cohort_until_an_event_splits_them() {
    let rules: Vec<Rule> = ["a", "b", "c"]
        .iter()
        .map(|name| skipping(name, count(&["user.name"], 60, Ge, 2)))
        .collect();
    let lines = [
        event(0, "u", ""),
        event(1, "u", r#","skip":"b""#),
        event(2, "u", r#","skip":"c""#),
        // Matches no rule, moves the clock: [0, 60) closes, both empty.
        event(100, "u", r#","skip":"all""#),
        event(101, "u", ""),
    ];
    let limits = limits(Some(10), 10_000, u64::MAX);
    let shared = run(engine(&rules, &limits), &lines);
    assert_eq!(shared.cohorts, [1, 2, 3, 1, 1]);
    // a counted 3 events, b 2, c 2 in [0, 60): three alerts, by rule.
    let alerts: Vec<&String> = shared.lines[3].0.iter().collect();
    assert_eq!(alerts.len(), 3);
    assert!(alerts[0].contains("rule: 0") && alerts[0].contains("Some(3)"));
    assert!(alerts[1].contains("rule: 1") && alerts[1].contains("Some(2)"));
    assert!(alerts[2].contains("rule: 2") && alerts[2].contains("Some(2)"));
    let own = run(engine(&rules, &limits).unshared(), &lines);
    assert_eq!(own.cohorts, [3, 3, 3, 3, 3]);
    assert_same(&shared, &own);
}

#[test]
fn open_windows_keep_split_cohorts_apart() {
    let rules: Vec<Rule> = ["a", "b"]
        .iter()
        .map(|name| skipping(name, count(&["user.name"], 60, Ge, 1)))
        .collect();
    // Without a lateness windows close at the end only: no merge before.
    let lines = [event(0, "u", r#","skip":"a""#), event(500, "u", "")];
    let shared = run(engine(&rules, &Limits::UNBOUNDED), &lines);
    assert_eq!(shared.cohorts, [2, 2]);
    assert_eq!(shared.held, (3, 3, 3, 3));
    assert_eq!(shared.end.len(), 3);
}

#[test]
fn hopping_memory_keeps_empty_cohorts_apart() {
    let mut hops = count(&["user.name"], 60, Ge, 1);
    hops.step = Some(20);
    let rules = [skipping("a", hops.clone()), skipping("b", hops)];
    let lines = [
        event(0, "u", r#","skip":"b""#),
        // Closes a's windows -40, -20 and 0: a remembers that u satisfied
        // window 0, b remembers nothing; both hold no window.
        event(61, "u", r#","skip":"all""#),
        // Windows 20, 40, 60: a run going on for a, a new one for b.
        event(75, "u", ""),
    ];
    let limits = limits(Some(0), 10_000, u64::MAX);
    let shared = run(engine(&rules, &limits), &lines);
    assert_eq!(shared.cohorts, [2, 2, 2]);
    let all = shared.lines.iter().flat_map(|(outputs, _)| outputs);
    let alerts: Vec<&String> = all.chain(&shared.end).collect();
    assert_eq!(alerts.len(), 2);
    // a: window -40 only (its run goes on); b: window 20.
    assert!(alerts[0].starts_with("Alert { rule: 0"), "{alerts:?}");
    assert!(alerts[0].contains("start: -40,"), "{alerts:?}");
    assert!(alerts[1].starts_with("Alert { rule: 1"), "{alerts:?}");
    assert!(alerts[1].contains("start: 20,"), "{alerts:?}");
    let own = run(engine(&rules, &limits).unshared(), &lines);
    assert_same(&shared, &own);
}

#[test]
fn different_aggregations_or_sources_do_not_share() {
    let mut rules = vec![
        skipping("a", count(&["user.name"], 60, Ge, 1)),
        skipping("b", count(&["user.name"], 120, Ge, 1)),
        skipping("c", count(&["host.name"], 60, Ge, 1)),
        skipping("d", count(&["user.name"], 60, Ge, 2)),
        skipping("e", count(&["user.name"], 60, Ge, 1)),
        skipping("f", count(&["user.name"], 60, Ge, 1)),
    ];
    rules[5].source = "http".into();
    let engine = engine(&rules, &Limits::UNBOUNDED);
    // a and e share; b, c, d and f (another source) each count alone.
    assert_eq!(engine.cohorts(), 5);
}

#[test]
fn rules_that_may_share_windows_get_one_counting_key() {
    let mut seen = rule("seen", "dns", super::kit::any(), None);
    seen.detection = Detection::FirstSeen(FirstSeen {
        fields: vec![field("user.name")],
        horizon: 60,
        span: Span::default(),
    });
    let rules = [
        skipping("a", count(&["user.name"], 60, Ge, 1)),
        rule("plain", "dns", super::kit::any(), None),
        skipping("b", count(&["user.name"], 120, Ge, 1)),
        seen,
        skipping("c", count(&["user.name"], 60, Ge, 1)),
    ];
    let keys = engine(&rules, &Limits::UNBOUNDED).counting_keys();
    // a and c alike: one key; b another; the plain rule counts nothing;
    // the first-seen rule a key of its own.
    let [Some(a), None, Some(b), Some(seen), Some(c)] = keys[..] else {
        unreachable!("one key per counting rule: {keys:?}");
    };
    assert_eq!(a, c);
    assert_ne!(a, b);
    assert!(seen != a && seen != b, "{keys:?}");
}

#[test]
fn an_event_over_the_fanout_limit_leaves_the_cohort_whole() {
    let rules: Vec<Rule> = ["a", "b", "c"]
        .iter()
        .map(|name| skipping(name, count(&["user.name"], 60, Ge, 1)))
        .collect();
    let lines = [r#"{"@timestamp":0,"user":{"name":["x","y","z"]},"skip":"a"}"#.to_string()];
    let shared = run(engine(&rules, &limits(None, 2, u64::MAX)), &lines);
    assert_eq!(shared.cohorts, [1]);
    let (_, report) = &shared.lines[0];
    // b is the first rule in rule order that did not count it.
    assert_eq!(
        report.too_many.map(|(rule, t)| (rule, t.entries)),
        Some((1, 3))
    );
}

#[test]
fn a_cohort_counts_its_entries_once_per_rule_against_the_group_limit() {
    let rules: Vec<Rule> = ["a", "b", "c"]
        .iter()
        .map(|name| skipping(name, count(&["user.name"], 60, Ge, 1)))
        .collect();
    let lines = [event(0, "u", ""), event(1, "v", "")];
    let shared = run(engine(&rules, &limits(None, 10_000, 5)), &lines);
    assert_eq!(shared.cohorts, [1, 1]);
    assert!(!shared.lines[0].1.over_group_limit);
    assert!(shared.lines[1].1.over_group_limit);
    assert_eq!(shared.held, (3, 6, 6, 6));
}

/// The two threshold classes of the differential, by `kind`: tumbling or
/// hopping counts, and `distinct` with `sum` (or `count() < 2`).
fn thresholds(hopping: bool) -> (Threshold, Threshold) {
    let mut counts = count(&["user.name"], 60, Ge, 2);
    let distinct_port = Aggregate::Distinct(field("source.port"));
    let mut mixed = having(
        &["host.name"],
        120,
        Having::Or(vec![
            compare(distinct_port, Ge, 2),
            compare(Aggregate::Sum(field("source.port")), Ge, 100),
            compare(Aggregate::Count, Lt, 2),
        ]),
    );
    if hopping {
        counts.step = Some(20);
        mixed.step = Some(40);
    }
    (counts, mixed)
}

/// One generated event: time step, user, host, port, `by` array size and
/// which rule (if any) skips it.
type Spec = (i64, u8, u8, i64, u8, u8);

fn lines_of(specs: &[Spec]) -> Vec<String> {
    let mut time = 1_000i64;
    specs
        .iter()
        .map(|&(step, user, host, port, fan, skip)| {
            time += step;
            let users: Vec<String> = (0..=fan).map(|i| format!("\"u{}\"", user + i)).collect();
            let skip = match skip {
                0..=4 => format!(r#","skip":"r{skip}""#),
                5 => r#","skip":"all""#.to_string(),
                _ => String::new(),
            };
            format!(
                r#"{{"@timestamp":{time},"user":{{"name":[{}]}},"host":{{"name":"H{host}"}},"source":{{"port":{port}}}{skip}}}"#,
                users.join(",")
            )
        })
        .collect()
}

fn assert_same(shared: &Run, own: &Run) {
    assert_eq!(shared.lines, own.lines);
    assert_eq!(shared.held, own.held);
    assert_eq!(shared.end, own.end);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Rules r0..r5 in two classes (r0, r1, r3, r4 count; r2, r5 mix
    /// aggregates), a plain rule between them; events skip one rule now
    /// and then, go back in time, fan out over arrays. Sharing changes
    /// nothing that can be seen.
    #[test]
    fn sharing_windows_changes_no_output(
        specs in prop::collection::vec(
            (-90i64..40, 0u8..4, 0u8..3, 0i64..80, 0u8..3, 0u8..12),
            1..60,
        ),
        hopping in prop::bool::ANY,
        lateness in prop::option::of(0u64..90),
        max_fanout in 1u64..6,
        max_groups in prop::sample::select(vec![8u64, 40, u64::MAX]),
    ) {
        let (counts, mixed) = thresholds(hopping);
        let mut rules = Vec::new();
        for (i, threshold) in [&counts, &counts, &mixed, &counts, &counts, &mixed].iter().enumerate() {
            rules.push(skipping(&format!("r{i}"), (*threshold).clone()));
            if i == 2 {
                rules.push(rule("plain", "dns", eq("host.name", "H1"), None));
            }
        }
        let limits = limits(lateness, max_fanout, max_groups);
        let lines = lines_of(&specs);
        let shared = run(engine(&rules, &limits), &lines);
        let own = run(engine(&rules, &limits).unshared(), &lines);
        assert_same(&shared, &own);
        // Never more cohorts than rules with a threshold.
        prop_assert!(shared.cohorts.iter().all(|&n| (2..=6).contains(&n)));
    }
}
