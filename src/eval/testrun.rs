//! Runs a rule's `test` blocks (language.md "Tests", 1.1, 1.2, 1.4): builds
//! the events in written order with generated timestamps, runs the rule on
//! them (every event is of the rule's source), and judges every `expect`
//! on all of them.

mod explain;

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::engine::{Engine, Output, Routing};
use super::event::Value;
use super::events_file;
use super::threshold::Alert;
use super::timestamp::{self, Nanos};
use super::value::key;
use crate::ir::{Expect, FieldType, Rule, Test, TestInput};
use crate::source::SourceMap;

/// 2026-01-01T00:00:00Z, the first generated `@timestamp`.
pub const FIRST_GENERATED: i128 = 1_767_225_600;

/// The result of one test.
#[derive(Debug, Clone, PartialEq)]
pub struct TestOutcome {
    pub rule: String,
    pub test: String,
    /// Why it failed, one line each; empty when it passed.
    pub failures: Vec<String>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Where a test event came from, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `event { }` at a line of the rule file.
    Event { file: PathBuf, line: usize },
    /// Copy `copy` (from 1) of a `repeat` at a line of the rule file.
    Repeat {
        file: PathBuf,
        line: usize,
        copy: u64,
    },
    /// A line of an `events` file.
    File { file: PathBuf, line: usize },
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Event { file, line } | Origin::File { file, line } => {
                write!(f, "{}:{line}", file.display())
            }
            Origin::Repeat { file, line, copy } => {
                write!(f, "{}:{line} (repeat, copy {copy})", file.display())
            }
        }
    }
}

/// One event of a test, as a JSON line.
#[derive(Debug, Clone, PartialEq)]
pub struct TestEvent {
    pub origin: Origin,
    pub line: String,
}

/// Runs every test of `rule`; `sources` turns spans into lines.
pub fn run_rule(rule: &Rule, sources: &SourceMap) -> Vec<TestOutcome> {
    rule.tests
        .iter()
        .map(|test| run_test(rule, test, sources))
        .collect()
}

fn run_test(rule: &Rule, test: &Test, sources: &SourceMap) -> TestOutcome {
    let position_of = |span: crate::syntax::Span| {
        let at = sources.get(rule.file).position(span.start);
        (at.line, at.column)
    };
    let line_of = |span| position_of(span).0;
    let mut failures = Vec::new();
    let events = build_events(rule, test, &position_of, &mut failures);
    let routing = Routing::Fixed(rule.source.clone());
    let mut matched = vec![false; events.len()];
    let mut alerts = Vec::new();
    match Engine::new(std::slice::from_ref(rule), routing, None) {
        Ok(mut engine) => {
            for (i, event) in events.iter().enumerate() {
                engine.process(&event.line, &mut |out| {
                    collect(out, &mut matched[i], &mut alerts)
                });
            }
            engine.finish(&mut |out| collect(out, &mut false, &mut alerts));
        }
        Err(error) => failures.push(error.to_string()),
    }
    let run = Run {
        events: &events,
        matched: &matched,
        alerts: &alerts,
        sources,
    };
    for expect in &test.expects {
        let at = format!("{}:{}", rule.path.display(), line_of(expect.span));
        judge(rule, &expect.node, &at, &run, &mut failures);
    }
    TestOutcome {
        rule: rule.name.clone(),
        test: test.name.clone(),
        failures,
    }
}

fn collect(out: Output<'_>, matched: &mut bool, alerts: &mut Vec<Alert>) {
    match out {
        Output::Match { .. } => *matched = true,
        Output::Alert { alert, .. } => alerts.push(alert),
    }
}

/// The events in written order, `@timestamp` filled in where missing;
/// `position_of` gives the line and column of a span of the rule's file.
pub fn build_events(
    rule: &Rule,
    test: &Test,
    position_of: &dyn Fn(crate::syntax::Span) -> (usize, usize),
    failures: &mut Vec<String>,
) -> Vec<TestEvent> {
    let line_of = |span| position_of(span).0;
    let mut generated = 0i128;
    let mut next_time = || {
        generated += 1;
        timestamp::from_seconds(FIRST_GENERATED + generated - 1)
    };
    let mut events = Vec::new();
    let file = rule.path.clone();
    for input in &test.inputs {
        match input {
            TestInput::Event { event, span } => {
                let mut event = event.clone();
                if !event.contains_key("@timestamp") {
                    event.insert("@timestamp".into(), time_json(next_time()));
                }
                let origin = Origin::Event {
                    file: file.clone(),
                    line: line_of(*span),
                };
                events.push(TestEvent {
                    origin,
                    line: Json::Object(event).to_string(),
                });
            }
            TestInput::Repeat {
                count,
                every,
                event,
                span,
            } => {
                let line = line_of(*span);
                let base = match event.get("@timestamp") {
                    None => Some(next_time()),
                    Some(written) => json_time(written),
                };
                for copy in 0..*count {
                    let mut event = event.clone();
                    if let Some(base) = base {
                        let step = timestamp::from_seconds(i128::from(*every) * i128::from(copy));
                        if copy > 0 || !event.contains_key("@timestamp") {
                            event.insert("@timestamp".into(), time_json(base + step));
                        }
                    }
                    let origin = Origin::Repeat {
                        file: file.clone(),
                        line,
                        copy: copy + 1,
                    };
                    events.push(TestEvent {
                        origin,
                        line: Json::Object(event).to_string(),
                    });
                }
            }
            TestInput::File { path, span } => {
                let (line, column) = position_of(*span);
                let at = format!("{}:{line}:{column}", rule.path.display());
                let path = resolve(&rule.path, path);
                match events_file::read(&path, &at) {
                    Ok(text) => {
                        read_events_lines(&path, &text, &mut next_time, &mut events, failures)
                    }
                    Err(failure) => failures.push(failure),
                }
            }
        }
    }
    events
}

/// An `events` path: as given when it exists, else against the rule's folder.
fn resolve(rule_path: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path.to_path_buf();
    }
    rule_path
        .parent()
        .map_or_else(|| path.to_path_buf(), |dir| dir.join(path))
}

fn read_events_lines(
    path: &Path,
    text: &str,
    next_time: &mut dyn FnMut() -> Nanos,
    events: &mut Vec<TestEvent>,
    failures: &mut Vec<String>,
) {
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let origin = Origin::File {
            file: path.to_path_buf(),
            line: index + 1,
        };
        let mut object = match serde_json::from_str::<Json>(line) {
            Ok(Json::Object(object)) => object,
            Ok(_) => {
                failures.push(format!("{origin}: not a JSON object"));
                continue;
            }
            Err(error) => {
                let code = crate::diag::codes::MALFORMED_EVENTS_LINE.id;
                failures.push(format!("{origin}: error[{code}]: malformed JSON: {error}"));
                continue;
            }
        };
        let line = if object.contains_key("@timestamp") {
            line.to_string()
        } else {
            object.insert("@timestamp".into(), time_json(next_time()));
            Json::Object(object).to_string()
        };
        events.push(TestEvent { origin, line });
    }
}

fn time_json(time: Nanos) -> Json {
    Json::String(timestamp::format_nanos(time))
}

fn json_time(value: &Json) -> Option<Nanos> {
    timestamp::parse_value(&from_json(value))
}

/// A JSON scalar as the engine's value (arrays and objects as null).
pub fn from_json(value: &Json) -> Value<'_> {
    match value {
        Json::String(s) => Value::Str(s.as_str().into()),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => n.as_f64().map_or(Value::Null, Value::Float),
        },
        Json::Bool(b) => Value::Bool(*b),
        Json::Null | Json::Array(_) | Json::Object(_) => Value::Null,
    }
}

/// What one test's run produced, for judging its expectations.
struct Run<'r> {
    events: &'r [TestEvent],
    matched: &'r [bool],
    alerts: &'r [Alert],
    sources: &'r SourceMap,
}

fn judge(rule: &Rule, expect: &Expect, at: &str, run: &Run, failures: &mut Vec<String>) {
    let listed = |want: bool| -> Vec<&TestEvent> {
        run.events
            .iter()
            .zip(run.matched)
            .filter(|(_, m)| **m == want)
            .map(|(e, _)| e)
            .collect()
    };
    let alerts = run.alerts;
    match expect {
        Expect::Match => {
            let missed = listed(false);
            if !missed.is_empty() {
                failures.push(format!("expect match ({at}): these events did not match:"));
                for (i, event) in missed.iter().take(EVENTS_LISTED).enumerate() {
                    failures.push(format!("  {}", event.origin));
                    if i < explain::EVENTS_EXPLAINED {
                        failures.extend(explain::condition(rule, event, run.sources));
                    }
                }
                failures.extend(more(missed.len()));
            }
        }
        Expect::NoMatch => {
            let hit = listed(true);
            if !hit.is_empty() {
                failures.push(format!("expect nomatch ({at}): these events matched:"));
                let shown = hit.iter().take(EVENTS_LISTED);
                failures.extend(shown.map(|e| format!("  {}", e.origin)));
                failures.extend(more(hit.len()));
            }
        }
        Expect::AlertCount(n) => {
            if alerts.len() as u64 != *n {
                failures.push(format!(
                    "expect alert {n} ({at}): {} raised",
                    plural(alerts.len())
                ));
                failures.extend(alerts.iter().map(|a| format!("  {}", describe(a))));
                failures.extend(explain::windows(rule, run.events, alerts, run.sources));
            }
        }
        Expect::Alert(fields) => {
            if !alerts.iter().any(|alert| alert_has(rule, alert, fields)) {
                let wanted: Vec<String> = fields
                    .iter()
                    .map(|(f, v)| format!("{}: {v}", f.path))
                    .collect();
                failures.push(format!(
                    "expect alert {{ {} }} ({at}): no such alert; {} raised",
                    wanted.join(", "),
                    plural(alerts.len())
                ));
                failures.extend(alerts.iter().map(|a| format!("  {}", describe(a))));
                failures.extend(explain::windows(rule, run.events, alerts, run.sources));
            }
        }
    }
}

/// Events listed under a failed `expect match` / `expect nomatch`.
const EVENTS_LISTED: usize = 20;

/// `... and N more` when `total` events were more than listed.
fn more(total: usize) -> Option<String> {
    (total > EVENTS_LISTED).then(|| format!("  ... and {} more", total - EVENTS_LISTED))
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 alert".into()
    } else {
        format!("{n} alerts")
    }
}

/// Whether the alert's group has every expected value, compared the way
/// grouping compares (numerically on `int` fields, by exact text on `cased`
/// ones, else by folded text).
fn alert_has(rule: &Rule, alert: &Alert, fields: &[(crate::ir::Field, Json)]) -> bool {
    let by = rule.detection.group_by();
    fields.iter().all(|(field, expected)| {
        let Some(index) = by.iter().position(|b| b.path == field.path) else {
            return false;
        };
        let value = from_json(expected);
        let wanted = if by[index].cased {
            crate::eval::value::exact_key(&value)
        } else {
            key(&value, field.ty == FieldType::Int)
        };
        wanted.is_some() && alert.keys.get(index) == wanted.as_ref()
    })
}

/// `alert {source.ip: "1.2.3.4"} window START..END count N`.
pub fn describe(alert: &Alert) -> String {
    let group: Vec<String> = alert
        .group
        .iter()
        .map(|(f, v)| format!("{f}: {v}"))
        .collect();
    let values: Vec<String> = alert
        .values
        .iter()
        .map(|(label, value)| match value {
            Some(value) => format!("{label} {value}"),
            None => format!("{label} none"),
        })
        .collect();
    format!(
        "alert {{{}}} window {}..{} {}",
        group.join(", "),
        timestamp::format_seconds(alert.start),
        timestamp::format_seconds(alert.end),
        values.join(" ")
    )
}
