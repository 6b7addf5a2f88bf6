//! `threshold` (aggregate, `by` fields, window, comparison) and the schedule
//! (`every`, `lookback`, `delay`): the fields are the source's and not
//! `@timestamp`, and `lookback` covers the window, `every` and `delay`.

use crate::diag::codes;
use crate::ir::{self, FieldType};
use crate::syntax::ast::{self, Aggregate, Comparison, Having};
use crate::syntax::{Span, Spanned};

use super::context::{RuleCx, duration};
use super::statements::Statements;

/// How often the SIEM runs a rule that does not say (and the pack's
/// manifest does not either).
pub(crate) const DEFAULT_EVERY: u64 = 5 * 60;
/// How late events may arrive, for a rule that does not say.
pub(crate) const DEFAULT_DELAY: u64 = 5 * 60;

pub(crate) fn threshold(cx: &mut RuleCx, threshold: &ast::Threshold) -> Option<ir::Threshold> {
    let by: Vec<_> = threshold.by.iter().map(|g| grouping(cx, g, "by")).collect();
    let step = match &threshold.step {
        None => Ok(None),
        Some(step) => step_of(cx, step, threshold.over.seconds)
            .map(Some)
            .ok_or(()),
    };
    let having = having(cx, &threshold.having);
    let step = step.ok()?;
    Some(ir::Threshold {
        by: by.into_iter().collect::<Option<_>>()?,
        window: threshold.over.seconds,
        step,
        step_span: threshold
            .step
            .as_ref()
            .map_or(Span::default(), |step| threshold.over.span.to(step.span)),
        having: having?,
        span: threshold
            .by
            .first()
            .map_or(threshold.over.span, |g| g.field.span)
            .to(threshold.having.span),
    })
}

/// The seconds of `step H`, when H divides the window (else E0520).
fn step_of(cx: &mut RuleCx, step: &Spanned<ast::Duration>, window: u64) -> Option<u64> {
    if step.seconds > 0 && step.seconds <= window && window.is_multiple_of(step.seconds) {
        return Some(step.seconds);
    }
    let diagnostic = cx
        .error(
            codes::STEP_NOT_DIVIDING,
            step.span,
            format!(
                "`step` {} does not divide the window {}",
                duration(step.seconds),
                duration(window)
            ),
        )
        .with_label("windows would not line up")
        .with_help(
            "windows of length W start at every multiple of `step`: give a `step` that \
             divides `over` (`over 10m step 1m`), or leave `step` out",
        );
    cx.emit(diagnostic);
    None
}

/// A `having` condition (every comparison checked), `and`/`or` flattened.
fn having(cx: &mut RuleCx, having: &Spanned<Having>) -> Option<ir::Having> {
    match &having.node {
        Having::Or(left, right) | Having::And(left, right) => {
            let or = matches!(having.node, Having::Or(..));
            let (left, right) = (self::having(cx, left), self::having(cx, right));
            let mut parts = Vec::new();
            for part in [left?, right?] {
                match part {
                    ir::Having::Or(inner) if or => parts.extend(inner),
                    ir::Having::And(inner) if !or => parts.extend(inner),
                    other => parts.push(other),
                }
            }
            Some(if or {
                ir::Having::Or(parts)
            } else {
                ir::Having::And(parts)
            })
        }
        Having::Not(inner) => Some(ir::Having::Not(Box::new(self::having(cx, inner)?))),
        Having::Group(inner) => self::having(cx, inner),
        Having::Compare {
            aggregate,
            comparison,
            value,
        } => Some(ir::Having::Compare {
            aggregate: {
                let checked = self::aggregate(cx, aggregate)?;
                super::lints::aggregate_always_holds(cx, aggregate, comparison, value);
                checked
            },
            comparison: match comparison.node {
                Comparison::Gt => ir::Comparison::Gt,
                Comparison::Ge => ir::Comparison::Ge,
                Comparison::Eq => ir::Comparison::Eq,
                Comparison::Lt => ir::Comparison::Lt,
                Comparison::Le => ir::Comparison::Le,
            },
            value: value.node,
            span: having.span,
        }),
    }
}

/// `count()`, `distinct(f)` (any field but `@timestamp`), and `sum`, `min`,
/// `max` of an `int` field (E0420).
fn aggregate(cx: &mut RuleCx, aggregate: &Spanned<Aggregate>) -> Option<ir::Aggregate> {
    let field = match &aggregate.node {
        Aggregate::Count => return Some(ir::Aggregate::Count),
        Aggregate::Distinct(field) => {
            return grouping(cx, field, "distinct").map(ir::Aggregate::Distinct);
        }
        Aggregate::Sum(field) | Aggregate::Min(field) | Aggregate::Max(field) => field,
    };
    let lowered = cx.read_field(field)?;
    if lowered.ty != FieldType::Int {
        let name = aggregate.node.name();
        let diagnostic = cx
            .error(
                codes::AGGREGATE_TYPE,
                field.span,
                format!(
                    "`{name}` reads an integer, but `{}` is not an `int` field",
                    lowered.path
                ),
            )
            .with_label("not an `int` field")
            .with_help(if lowered.ty == FieldType::Time {
                "the window (`over`) already groups events by time".to_string()
            } else {
                format!(
                    "`{name}()` takes an `int` field; count values with `count()` or `distinct({})`",
                    lowered.path
                )
            });
        cx.emit(diagnostic);
        return None;
    }
    Some(match &aggregate.node {
        Aggregate::Sum(_) => ir::Aggregate::Sum(lowered),
        Aggregate::Min(_) => ir::Aggregate::Min(lowered),
        _ => ir::Aggregate::Max(lowered),
    })
}

/// A `by` or `distinct` field, `cased` (E0421 on an `int` field, whose
/// values group by number).
pub(crate) fn grouping(cx: &mut RuleCx, g: &ast::Grouping, place: &str) -> Option<ir::Field> {
    let mut field = group_field(cx, &g.field, place)?;
    if let Some(cased) = g.cased {
        if field.ty == FieldType::Int {
            let diagnostic = cx
                .error(
                    codes::CASED_WITHOUT_CASE,
                    cased,
                    format!(
                        "`cased` has nothing to make exact here: `{}` is an `int` field",
                        field.path
                    ),
                )
                .with_label("no case to keep")
                .with_help("an `int` field groups by its number; leave `cased` out");
            cx.emit(diagnostic);
            return None;
        }
        field.cased = true;
    }
    Some(field)
}

/// A `by` or `distinct` field: of the source, and never `@timestamp` (E0406).
fn group_field(cx: &mut RuleCx, path: &Spanned<String>, place: &str) -> Option<ir::Field> {
    let field = cx.read_field(path)?;
    if field.ty == FieldType::Time {
        let diagnostic = cx
            .error(
                codes::TIMESTAMP_GROUP,
                path.span,
                format!("`{}` cannot stand in `{place}`", field.path),
            )
            .with_help(time_help(place));
        cx.emit(diagnostic);
        return None;
    }
    Some(field)
}

/// Why `@timestamp` has no place among grouping fields, by where it stands.
fn time_help(place: &str) -> &'static str {
    match place {
        "sequence by" => "a sequence is already bounded in time (`within`)",
        "first seen" => "a first sighting already looks back in time (`in`)",
        _ => "the window (`over`) already groups events by time",
    }
}

/// `every` (default the pack's, else 5m), `delay` (likewise) and `lookback` (default and
/// minimum: the window, `every` and the delay rounded up to whole `every`,
/// so that each run sees whole every window ending in its slot). A written
/// `lookback` below the minimum is E0508 at its value, or E0511 at the
/// `delay` when the delay alone pushes the minimum past it.
///
/// `span` is how far back the detection itself reads, and what it is
/// called in the help: the window (`threshold`), `within` (`sequence`),
/// the horizon (`first seen`).
pub(crate) fn schedule(
    cx: &mut RuleCx,
    st: &Statements,
    span: Option<(u64, &str)>,
) -> ir::Schedule {
    let (window, name) = span.unwrap_or((0, "the window"));
    let defaults = cx.scope.settings;
    let every = st.duration("every").map_or(defaults.every, |d| d.seconds);
    let every_span = st.statement("every").map(|s| s.span);
    let delay = st.duration("delay").map_or(defaults.delay, |d| d.seconds);
    if let Some(written) = st.duration("delay") {
        super::lints::delay_rounded(cx, written, every);
    }
    let minimum = ir::Schedule::minimum_lookback(every, delay, window);
    let Some(lookback) = st.duration("lookback") else {
        return ir::Schedule {
            every,
            every_span,
            lookback: minimum,
            delay,
        };
    };
    if lookback.seconds < minimum {
        let written_delay = st.duration("delay");
        let without_delay = window.saturating_add(every);
        let diagnostic = match written_delay {
            Some(written) if lookback.seconds >= without_delay => {
                let allowed = (lookback.seconds - without_delay) / every * every;
                let at_most = if allowed == 0 {
                    "no room for a delay".to_string()
                } else {
                    format!("a `delay` of at most {}", duration(allowed))
                };
                cx.error(
                    codes::DELAY_TOO_LONG,
                    written.span,
                    format!(
                        "`delay` {} needs a `lookback` of at least {}, longer than the written {}",
                        duration(delay),
                        duration(minimum),
                        duration(lookback.seconds)
                    ),
                )
                .with_help(format!(
                    "`lookback` {} allows {at_most}, or lengthen `lookback` to {}",
                    duration(lookback.seconds),
                    duration(minimum)
                ))
            }
            _ => cx
                .error(
                    codes::LOOKBACK_TOO_SHORT,
                    lookback.span,
                    format!(
                        "`lookback` {} is too short: this rule needs at least {}",
                        duration(lookback.seconds),
                        duration(minimum)
                    ),
                )
                .with_help(format!(
                    "a run must see every window ending in its slot whole: {}; use a `lookback` of at least {}, or leave it out",
                    parts(every, delay, (window, name)),
                    duration(minimum)
                )),
        };
        cx.emit(diagnostic);
    }
    ir::Schedule {
        every,
        every_span,
        lookback: lookback.seconds.max(minimum),
        delay,
    }
}

/// "the window 10m + `every` 5m + `delay` 5m" (the delay rounded up to whole `every`).
fn parts(every: u64, delay: u64, (window, name): (u64, &str)) -> String {
    let settle = ir::settle(every, delay);
    let mut parts = Vec::new();
    if window > 0 {
        parts.push(format!("{name} {}", duration(window)));
    }
    parts.push(format!("`every` {}", duration(every)));
    if settle == delay {
        parts.push(format!("`delay` {}", duration(delay)));
    } else {
        parts.push(format!(
            "`delay` {} rounded up to whole `every` ({})",
            duration(delay),
            duration(settle)
        ));
    }
    parts.join(" + ")
}
