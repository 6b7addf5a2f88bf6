//! `threshold` (aggregate, `by` fields, window, comparison) and the schedule
//! (`every`, `lookback`, `delay`): the fields are the source's and not
//! `@timestamp`, and `lookback` covers the window, `every` and `delay`.

use crate::diag::codes;
use crate::ir::{self, FieldType};
use crate::syntax::Spanned;
use crate::syntax::ast::{self, Aggregate, Comparison};

use super::context::{RuleCx, duration};
use super::statements::Statements;

/// How often the SIEM runs a rule that does not say (and the pack's
/// manifest does not either).
pub(crate) const DEFAULT_EVERY: u64 = 5 * 60;
/// How late events may arrive, for a rule that does not say.
pub(crate) const DEFAULT_DELAY: u64 = 5 * 60;

pub(crate) fn threshold(cx: &mut RuleCx, threshold: &ast::Threshold) -> Option<ir::Threshold> {
    let by: Vec<_> = threshold
        .by
        .iter()
        .map(|f| group_field(cx, f, "by"))
        .collect();
    let aggregate = match &threshold.aggregate.node {
        Aggregate::Count => Some(ir::Aggregate::Count),
        Aggregate::Distinct(field) => {
            group_field(cx, field, "distinct").map(ir::Aggregate::Distinct)
        }
    };
    Some(ir::Threshold {
        aggregate: aggregate?,
        by: by.into_iter().collect::<Option<_>>()?,
        window: threshold.over.seconds,
        comparison: match threshold.comparison.node {
            Comparison::Gt => ir::Comparison::Gt,
            Comparison::Ge => ir::Comparison::Ge,
            Comparison::Eq => ir::Comparison::Eq,
            Comparison::Lt => ir::Comparison::Lt,
            Comparison::Le => ir::Comparison::Le,
        },
        value: threshold.value.node,
    })
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
            .with_help("the window (`over`) already groups events by time");
        cx.emit(diagnostic);
        return None;
    }
    Some(field)
}

/// `every` (default the pack's, else 5m), `delay` (likewise) and `lookback` (default and
/// minimum: the window, `every` and the delay rounded up to whole `every`,
/// so that each run sees whole every window ending in its slot). A written
/// `lookback` below the minimum is E0508 at its value, or E0511 at the
/// `delay` when the delay alone pushes the minimum past it.
pub(crate) fn schedule(cx: &mut RuleCx, st: &Statements, window: Option<u64>) -> ir::Schedule {
    let defaults = cx.scope.settings;
    let every = st.duration("every").map_or(defaults.every, |d| d.seconds);
    let delay = st.duration("delay").map_or(defaults.delay, |d| d.seconds);
    let window = window.unwrap_or(0);
    let minimum = ir::Schedule::minimum_lookback(every, delay, window);
    let Some(lookback) = st.duration("lookback") else {
        return ir::Schedule {
            every,
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
                    parts(every, delay, window),
                    duration(minimum)
                )),
        };
        cx.emit(diagnostic);
    }
    ir::Schedule {
        every,
        lookback: lookback.seconds.max(minimum),
        delay,
    }
}

/// "the window 10m + `every` 5m + `delay` 5m" (the delay rounded up to whole `every`).
fn parts(every: u64, delay: u64, window: u64) -> String {
    let settle = delay.div_ceil(every.max(1)) * every;
    let mut parts = Vec::new();
    if window > 0 {
        parts.push(format!("the window {}", duration(window)));
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
