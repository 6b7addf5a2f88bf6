//! Why a test failed, in terms of the rule: for an event `expect match`
//! missed, each node of `where` with its verdict and the event's value of
//! each field tested; for a threshold expectation that failed, every group
//! and window with its aggregate values and whether it alerted. Both run
//! the engine itself on parts of the rule, so they cannot disagree with it.
//! Output is bounded: a few events, a few dozen lines each.

use serde_json::Value as Json;

use super::TestEvent;
use crate::eval::engine::{Engine, Output, Routing};
use crate::eval::threshold::Alert;
use crate::ir::{Aggregate, Comparison, Condition, Detection, Having, Rule};
use crate::source::SourceMap;

/// Events explained predicate by predicate; the rest are only listed.
pub const EVENTS_EXPLAINED: usize = 3;
/// Lines of `where` shown per event.
const CONDITION_LINES: usize = 30;
/// Groups and windows shown for a threshold.
const WINDOWS_SHOWN: usize = 20;

/// The lines explaining why `where` is false for `event`, indented under it.
pub fn condition(rule: &Rule, event: &TestEvent, sources: &SourceMap) -> Vec<String> {
    let json: Json = serde_json::from_str(&event.line).unwrap_or(Json::Null);
    let text = &sources.get(rule.file).text;
    let mut lines = Vec::new();
    node(
        rule,
        &rule.condition,
        0,
        &event.line,
        &json,
        text,
        &mut lines,
    );
    let total = lines.len();
    if total > CONDITION_LINES {
        lines.truncate(CONDITION_LINES);
        lines.push(format!("  ... and {} more", total - CONDITION_LINES));
    }
    let mut out = vec!["    where, node by node (verdict, then the event's value):".to_string()];
    out.extend(lines.into_iter().map(|l| format!("      {l}")));
    out
}

/// Adds the lines of `condition` and returns its verdict (`None`: the
/// engine could not judge it, which a checked rule never hits).
fn node(
    rule: &Rule,
    condition: &Condition,
    depth: usize,
    line: &str,
    json: &Json,
    text: &str,
    out: &mut Vec<String>,
) -> Option<bool> {
    let indent = "  ".repeat(depth);
    let at = out.len();
    let (label, verdict) = match condition {
        Condition::And(items) | Condition::Or(items) => {
            out.push(String::new());
            let verdicts: Vec<Option<bool>> = items
                .iter()
                .map(|item| node(rule, item, depth + 1, line, json, text, out))
                .collect();
            let verdicts: Option<Vec<bool>> = verdicts.into_iter().collect();
            match condition {
                Condition::And(_) => (
                    "all of:".to_string(),
                    verdicts.map(|v| v.iter().all(|b| *b)),
                ),
                _ => (
                    "any of:".to_string(),
                    verdicts.map(|v| v.iter().any(|b| *b)),
                ),
            }
        }
        Condition::Not(inner) => {
            out.push(String::new());
            let verdict = node(rule, inner, depth + 1, line, json, text, out);
            ("not:".to_string(), verdict.map(|v| !v))
        }
        Condition::Exists(field) => {
            let label = format!(
                "exists({})   ({}: {})",
                field.path,
                field.path,
                value_at(json, &field.path)
            );
            out.push(String::new());
            (label, leaf_holds(rule, condition, line))
        }
        Condition::Predicate(predicate) => {
            // A rule built without source text has no spelling: its field
            // names the predicate then.
            let written = text
                .get(predicate.span.range())
                .filter(|w| !w.trim().is_empty())
                .unwrap_or(&predicate.field.path);
            let written = written.split_whitespace().collect::<Vec<_>>().join(" ");
            let path = &predicate.field.path;
            let label = format!("{written}   ({path}: {})", value_at(json, path));
            out.push(String::new());
            (label, leaf_holds(rule, condition, line))
        }
    };
    let shown = match verdict {
        Some(true) => "true ",
        Some(false) => "false",
        None => "?    ",
    };
    if let Some(slot) = out.get_mut(at) {
        *slot = format!("{shown}  {indent}{label}");
    }
    verdict
}

/// Whether `leaf` alone holds for the event, as the engine judges it.
fn leaf_holds(rule: &Rule, leaf: &Condition, line: &str) -> Option<bool> {
    let mut alone = rule.clone();
    alone.condition = leaf.clone();
    alone.detection = Detection::Match;
    alone.tests.clear();
    let routing = Routing::Fixed(rule.source.clone());
    let mut engine = Engine::new(std::slice::from_ref(&alone), routing, None).ok()?;
    engine.parse(line).ok()?;
    let mut matched = false;
    engine.process(line, &mut |output| {
        matched |= matches!(output, crate::eval::Output::Match { .. });
    });
    Some(matched)
}

/// The event's value at a dotted path (nested objects or dotted keys), as
/// JSON, or `absent`.
fn value_at(json: &Json, path: &str) -> String {
    find(json, path).map_or_else(|| "absent".to_string(), Json::to_string)
}

fn find<'j>(json: &'j Json, path: &str) -> Option<&'j Json> {
    let object = json.as_object()?;
    if let Some(value) = object.get(path) {
        return Some(value);
    }
    // `a.b.c` may be `{"a": {"b.c": ..}}`, `{"a.b": {"c": ..}}`, ...
    path.match_indices('.').find_map(|(at, _)| {
        let inner = object.get(&path[..at])?;
        find(inner, &path[at + 1..])
    })
}

/// Every (group, window) of a threshold rule over `events`, with its
/// aggregate values and whether it alerted in `alerts`; empty for a rule
/// that is no threshold.
pub fn windows(
    rule: &Rule,
    events: &[TestEvent],
    alerts: &[Alert],
    sources: &SourceMap,
) -> Vec<String> {
    let Detection::Aggregation(threshold) = &rule.detection else {
        return Vec::new();
    };
    // The same aggregation with a condition that always holds: every
    // (group, window) comes out, with the values the real one compared.
    let mut every = rule.clone();
    let mut always = threshold.clone();
    always.having = match &threshold.having {
        // A version 1 threshold stays one: `>= 0` holds for every count
        // and keeps the aggregate's label (`count`) as its alerts show it.
        Having::Compare {
            aggregate: aggregate @ (Aggregate::Count | Aggregate::Distinct(_)),
            span,
            ..
        } => Having::Compare {
            aggregate: aggregate.clone(),
            comparison: Comparison::Ge,
            value: 0,
            span: *span,
        },
        having => Having::Or(vec![having.clone(), Having::Not(Box::new(having.clone()))]),
    };
    every.detection = Detection::Aggregation(always);
    every.tests.clear();
    let routing = Routing::Fixed(rule.source.clone());
    let Ok(mut engine) = Engine::new(std::slice::from_ref(&every), routing, None) else {
        return Vec::new();
    };
    let mut all = Vec::new();
    let mut keep = |out: Output<'_>| {
        if let Output::Alert { alert, .. } = out {
            all.push(alert);
        }
    };
    for event in events {
        engine.process(&event.line, &mut keep);
    }
    engine.finish(&mut keep);
    // The statement as written, from its keyword (the span starts after it).
    let text = &sources.get(rule.file).text;
    let start = text
        .get(..threshold.span.start)
        .and_then(|before| before.rfind("threshold"))
        .unwrap_or(threshold.span.start);
    let written = text
        .get(start..threshold.span.end)
        .filter(|w| !w.trim().is_empty());
    let written = written.map_or(String::new(), |w| {
        format!(
            " of `{}`",
            w.split_whitespace().collect::<Vec<_>>().join(" ")
        )
    });
    let mut lines = vec![format!(
        "  every group and window{written} ({}):",
        if threshold.step.is_some() {
            "with `step`, a group's run of overlapping windows shows as its first"
        } else {
            "aggregate values, then whether it alerted"
        }
    )];
    if all.is_empty() {
        lines.push("    none: no event passed `where`".to_string());
    }
    for window in all.iter().take(WINDOWS_SHOWN) {
        let alerted = alerts
            .iter()
            .any(|a| a.keys == window.keys && a.start == window.start);
        lines.push(format!(
            "    {} -> {}",
            super::describe(window).trim_start_matches("alert "),
            if alerted { "alerted" } else { "no alert" }
        ));
    }
    if all.len() > WINDOWS_SHOWN {
        lines.push(format!("    ... and {} more", all.len() - WINDOWS_SHOWN));
    }
    lines
}
