//! A rule's `test` blocks: names unique in the rule, at least one `expect`
//! that suits the rule (match/nomatch without `threshold`, alerts with it),
//! events that can be used (repeat counts, `events` files that exist,
//! usable `@timestamp`s in threshold rules) and typo warnings on event
//! fields close to the fields the rule reads.

use std::path::{Path, PathBuf};

use crate::diag::{Fix, codes, nearest_sure};
use crate::ir::{self, Expect, TestInput};
use crate::syntax::ast::{self, EventLit, Expectation, TestBlock, TestItem, Value};
use crate::syntax::{Span, Spanned};

use super::context::RuleCx;
use super::detection::Written;
use super::event::{Leaf, flatten, json};
use super::values::is_usable_timestamp;

/// The most copies one `repeat` may make.
const MAX_REPEAT: i64 = 1_000_000;
/// The most events the `event` and `repeat` blocks of one test may make:
/// `tripline test` holds a test's events in memory at once.
const MAX_EVENTS_PER_TEST: u64 = 1_000_000;
const TIMESTAMP: &str = "@timestamp";

pub(crate) fn tests(
    cx: &mut RuleCx,
    tests: &[&TestBlock],
    threshold: Option<Written<'_>>,
) -> Vec<ir::Test> {
    let folder = cx
        .scope
        .map
        .get(cx.file)
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut seen: Vec<&Spanned<ast::StringLit>> = Vec::new();
    let mut lowered = Vec::new();
    for test in tests {
        if let Some(first) = seen.iter().find(|name| name.value == test.name.value) {
            let diagnostic = cx
                .error(
                    codes::DUPLICATE_TEST,
                    test.name.span,
                    format!("this rule already has a test named \"{}\"", test.name.value),
                )
                .with_secondary(cx.file, first.span, "first test of that name")
                .with_help("give each test of a rule its own name");
            cx.emit(diagnostic);
        } else {
            seen.push(&test.name);
        }
        lowered.push(test_block(cx, test, threshold, &folder));
    }
    lowered
}

fn test_block(
    cx: &mut RuleCx,
    test: &TestBlock,
    threshold: Option<Written<'_>>,
    folder: &Path,
) -> ir::Test {
    if test.name.value.is_empty() {
        // An empty string in a rule statement is a warning (1.1, 1.3).
        let diagnostic = cx
            .warning(codes::EMPTY_TEXT, test.name.span, "empty test name")
            .with_help("name the test after what it shows, e.g. `\"external AXFR fires\"`");
        cx.emit(diagnostic);
    }
    let mut inputs = Vec::new();
    let mut expects = Vec::new();
    let mut total = EventTotal::default();
    for item in &test.body {
        match item {
            TestItem::Event(event) => {
                total.add(cx, 1, event.span);
                let event_map = event_fields(cx, &event.node, threshold.is_some());
                inputs.push(TestInput::Event {
                    event: event_map,
                    span: event.span,
                });
            }
            TestItem::Repeat {
                count,
                every,
                event,
                span,
            } => {
                if !(1..=MAX_REPEAT).contains(&count.node) {
                    let diagnostic = cx
                        .error(
                            codes::REPEAT_COUNT,
                            count.span,
                            format!("`repeat {}` is out of range", count.node),
                        )
                        .with_help("`repeat` makes from 1 to 1000000 copies");
                    cx.emit(diagnostic);
                }
                total.add(
                    cx,
                    u64::try_from(count.node.min(MAX_REPEAT)).unwrap_or(0),
                    *span,
                );
                let event_map = event_fields(cx, &event.node, threshold.is_some());
                inputs.push(TestInput::Repeat {
                    count: u64::try_from(count.node).unwrap_or(0),
                    every: every.seconds,
                    event: event_map,
                    span: *span,
                });
            }
            TestItem::Events(path) => inputs.push(events_file(cx, path, folder)),
            TestItem::Expect(expectation) => {
                if let Some(expect) = expect(cx, expectation, threshold) {
                    expects.push(Spanned::new(expect, expectation.span));
                }
            }
        }
    }
    let has_expect = test
        .body
        .iter()
        .any(|item| matches!(item, TestItem::Expect(_)));
    if !has_expect {
        let diagnostic = cx
            .error(
                codes::TEST_WITHOUT_EXPECT,
                test.name.span,
                format!("test \"{}\" has no `expect`", test.name.value),
            )
            .with_help(if threshold.is_some() {
                "add `expect alert { ... }`, `expect alert N` or `expect alert 0`"
            } else {
                "add `expect match` or `expect nomatch`"
            });
        cx.emit(diagnostic);
    }
    if inputs.is_empty() {
        let diagnostic = cx
            .warning(
                codes::TEST_WITHOUT_EVENTS,
                test.name.span,
                format!("test \"{}\" has no events", test.name.value),
            )
            .with_help(
                "add `event { ... }`, `repeat N every D { ... }` or `events \"file.jsonl\"`",
            );
        cx.emit(diagnostic);
    }
    ir::Test {
        name: test.name.value.clone(),
        span: test.name.span,
        inputs,
        expects,
    }
}

/// The running count of a test's inline events, reported once when it
/// goes over `MAX_EVENTS_PER_TEST` (E0609).
#[derive(Default)]
struct EventTotal {
    events: u64,
    reported: bool,
}

impl EventTotal {
    fn add(&mut self, cx: &mut RuleCx, events: u64, span: Span) {
        self.events = self.events.saturating_add(events);
        if self.events <= MAX_EVENTS_PER_TEST || self.reported {
            return;
        }
        self.reported = true;
        let diagnostic = cx
            .error(
                codes::TOO_MANY_TEST_EVENTS,
                span,
                format!(
                    "this brings the test to {} events, more than the {MAX_EVENTS_PER_TEST} one test may hold",
                    self.events
                ),
            )
            .with_help("split the test, or make fewer copies");
        cx.emit(diagnostic);
    }
}

/// One event's fields, flattened, with the checks on its leaves.
fn event_fields(
    cx: &mut RuleCx,
    event: &EventLit,
    threshold: bool,
) -> serde_json::Map<String, serde_json::Value> {
    let (leaves, map) = flatten(cx, &event.fields);
    for leaf in &leaves {
        if threshold && leaf.path == TIMESTAMP {
            timestamp(cx, leaf);
        }
        typo_warning(cx, leaf);
    }
    map
}

/// E0606: a threshold rule puts events in windows by their `@timestamp`.
fn timestamp(cx: &mut RuleCx, leaf: &Leaf) {
    // The evaluator has the last word: it also refuses times outside the
    // years 0000 to 9999 (`9223372036854775807` epoch milliseconds).
    use crate::eval::{event::Value as EventValue, timestamp::parse_value};
    let usable = match &leaf.value.node {
        Value::Int(n) => parse_value(&EventValue::Int(*n)).is_some(),
        Value::String(text) => {
            is_usable_timestamp(&text.value)
                && parse_value(&EventValue::Str(text.value.as_str().into())).is_some()
        }
        _ => false,
    };
    if !usable {
        let diagnostic = cx
            .error(
                codes::UNUSABLE_TIMESTAMP,
                leaf.value.span,
                "this `@timestamp` cannot place the event in a window",
            )
            .with_help("write RFC 3339 with seconds and an offset, e.g. `\"2026-11-22T10:00:00Z\"`, or epoch seconds");
        cx.emit(diagnostic);
    }
}

/// W0008: a field outside the taxonomy that looks like one the rule reads,
/// or else like a field of the source (a near miss such as
/// `http.response.status` for `http.response.status_code`).
fn typo_warning(cx: &mut RuleCx, leaf: &Leaf) {
    let Some(source) = cx.source else {
        return;
    };
    if source.field_type(&leaf.path).is_some() {
        return;
    }
    let read = cx.read_fields.iter().map(String::as_str);
    let (near, sure, what) = match nearest_sure(&leaf.path, read) {
        Some((near, sure)) => (near.to_string(), sure, "the rule reads"),
        None => match nearest_sure(&leaf.path, source.field_names()) {
            Some((near, sure)) => (near.to_string(), sure, "the source has"),
            None => return,
        },
    };
    let diagnostic = cx
        .warning(
            codes::EVENT_FIELD_TYPO,
            leaf.key,
            format!(
                "`{}` is not a field of source `{}`; {what} `{near}`",
                leaf.path, source.name
            ),
        )
        .with_help(format!("did you mean `{near}`?"));
    // A key written as a nested object cannot be renamed in one place.
    let written = cx.text(leaf.key);
    let diagnostic = if written == leaf.path {
        diagnostic.with_fix(Fix::one(sure, format!("use `{near}`"), leaf.key, near))
    } else {
        diagnostic
    };
    cx.emit(diagnostic);
}

/// `events "path"`: relative to the rule file's folder, inside it (E0610:
/// no absolute path, no `..`, no symlink out of it), and it must exist.
fn events_file(cx: &mut RuleCx, path: &Spanned<ast::StringLit>, folder: &Path) -> TestInput {
    let resolved: PathBuf = folder.join(&path.value);
    if let Some(problem) = leaves_folder(&path.value, folder, &resolved) {
        let diagnostic = cx
            .error(
                codes::EVENTS_FILE_OUTSIDE,
                path.span,
                format!("events file `{}` {problem}", path.value),
            )
            .with_help("put the events file in the rule file's folder or below it");
        cx.emit(diagnostic);
    } else if path.value.is_empty() || !resolved.is_file() {
        let diagnostic = cx
            .error(
                codes::MISSING_EVENTS_FILE,
                path.span,
                format!("events file `{}` not found", resolved.display()),
            )
            .with_help("the path is relative to the folder of the rule's file");
        cx.emit(diagnostic);
    }
    TestInput::File {
        path: resolved,
        span: path.span,
    }
}

/// Why an `events` path leads out of the rule's folder, if it does.
fn leaves_folder(written: &str, folder: &Path, resolved: &Path) -> Option<&'static str> {
    use std::path::Component;
    let components = Path::new(written).components();
    if components
        .clone()
        .any(|c| matches!(c, Component::RootDir | Component::Prefix(_)))
    {
        return Some("is an absolute path");
    }
    if components.into_iter().any(|c| c == Component::ParentDir) {
        return Some("goes up with `..`");
    }
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    match (resolved.canonicalize(), folder.canonicalize()) {
        (Ok(file), Ok(folder)) if !file.starts_with(&folder) => {
            Some("leads out of the rule's folder through a symlink")
        }
        _ => None,
    }
}

fn expect(
    cx: &mut RuleCx,
    expectation: &Spanned<Expectation>,
    threshold: Option<Written<'_>>,
) -> Option<Expect> {
    let mismatch = match (&expectation.node, threshold) {
        (Expectation::Match | Expectation::NoMatch, Some(written)) => Some((
            format!(
                "`expect match` and `expect nomatch` are for rules without `{}`",
                written.name()
            ),
            format!(
                "a {} rule's test expects alerts: `expect alert {{ ... }}`, `expect alert N` or `expect alert 0`",
                written.name()
            ),
        )),
        (Expectation::AlertCount(_) | Expectation::Alert(_), None) => Some((
            "`expect alert` is for rules with a `threshold`".to_string(),
            "use `expect match` or `expect nomatch`".to_string(),
        )),
        _ => None,
    };
    if let Some((message, help)) = mismatch {
        let diagnostic = cx
            .error(codes::EXPECT_KIND_MISMATCH, expectation.span, message)
            .with_help(help);
        cx.emit(diagnostic);
        return None;
    }
    match &expectation.node {
        Expectation::Match => Some(Expect::Match),
        Expectation::NoMatch => Some(Expect::NoMatch),
        Expectation::AlertCount(count) => match u64::try_from(count.node) {
            Ok(count) => Some(Expect::AlertCount(count)),
            Err(_) => {
                let diagnostic = cx
                    .error(
                        codes::ALERT_COUNT,
                        count.span,
                        format!("`expect alert {}` counts below zero", count.node),
                    )
                    .with_help("write `expect alert 0` for no alert");
                cx.emit(diagnostic);
                None
            }
        },
        Expectation::Alert(fields) => alert_group(cx, fields, threshold?).map(Expect::Alert),
    }
}

/// `expect alert { f: v }`: every `f` is a `by` field (E0603).
fn alert_group(
    cx: &mut RuleCx,
    fields: &[ast::EventField],
    threshold: Written<'_>,
) -> Option<Vec<(ir::Field, serde_json::Value)>> {
    let (leaves, _) = flatten(cx, fields);
    let mut group = Vec::new();
    let mut failed = false;
    for leaf in &leaves {
        let by = threshold.by().iter().find(|by| by.field.node == leaf.path);
        let ty = cx
            .source
            .filter(|_| by.is_some())
            .and_then(|source| source.field_type(&leaf.path));
        match (by, ty) {
            (Some(_), Some(ty)) => group.push((
                ir::Field {
                    path: leaf.path.clone(),
                    ty,
                    span: leaf.key,
                    cased: by.is_some_and(|by| by.cased.is_some()),
                },
                json(cx, leaf.value),
            )),
            // An unknown `by` field is reported at the threshold.
            (Some(_), None) => failed = true,
            (None, _) => {
                failed = true;
                let by_fields: Vec<String> = threshold
                    .by()
                    .iter()
                    .map(|f| format!("`{}`", f.field.node))
                    .collect();
                let help = match threshold {
                    _ if !by_fields.is_empty() => match threshold {
                        Written::FirstSeen(_) => {
                            format!("the `first seen` fields are {}", by_fields.join(", "))
                        }
                        _ => format!("the `by` fields are {}", by_fields.join(", ")),
                    },
                    written => format!(
                        "this rule's {} has no `by` fields: use `expect alert N` or `expect alert {{}}`",
                        written.name()
                    ),
                };
                let diagnostic = cx
                    .error(
                        codes::ALERT_FIELD_NOT_GROUPED,
                        leaf.key,
                        format!(
                            "`expect alert` names `{}`, which is not {}",
                            leaf.path,
                            threshold.field_kind()
                        ),
                    )
                    .with_help(help);
                cx.emit(diagnostic);
            }
        }
    }
    (!failed).then_some(group)
}
