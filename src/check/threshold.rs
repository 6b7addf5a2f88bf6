//! `threshold` (aggregate, `by` fields, window, comparison) and the schedule
//! (`every`, `lookback`): the fields are the source's and not `@timestamp`,
//! and `lookback` is not shorter than `every` nor the window.

use crate::diag::codes;
use crate::ir::{self, FieldType};
use crate::syntax::Spanned;
use crate::syntax::ast::{self, Aggregate, Comparison};

use super::context::{RuleCx, duration};
use super::statements::Statements;

/// How often the SIEM runs a rule that does not say.
const DEFAULT_EVERY: u64 = 5 * 60;

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

/// `every` (default 5m) and `lookback` (default: the larger of the window
/// and `every`; never shorter than either, E0508 at its value).
pub(crate) fn schedule(cx: &mut RuleCx, st: &Statements, window: Option<u64>) -> ir::Schedule {
    let every = st.duration("every").map_or(DEFAULT_EVERY, |d| d.seconds);
    let window = window.unwrap_or(0);
    let Some(lookback) = st.duration("lookback") else {
        return ir::Schedule {
            every,
            lookback: every.max(window),
        };
    };
    let (shorter_than, what) = if lookback.seconds < every {
        (every, "`every`")
    } else {
        (window, "the threshold window")
    };
    if lookback.seconds < shorter_than {
        let diagnostic = cx
            .error(
                codes::LOOKBACK_TOO_SHORT,
                lookback.span,
                format!(
                    "`lookback` {} is shorter than {what} {}",
                    duration(lookback.seconds),
                    duration(shorter_than)
                ),
            )
            .with_help(format!(
                "use a `lookback` of at least {}, or leave it out",
                duration(every.max(window))
            ));
        cx.emit(diagnostic);
    }
    ir::Schedule {
        every,
        lookback: lookback.seconds,
    }
}
