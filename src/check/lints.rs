//! Warnings for rules that check but do not do what their author meant,
//! from what new users write: SQL wildcards in `like` (W0012), a CIDR block
//! compared as text (W0013), a comparison that always holds (W0014), and a
//! `delay` the schedule rounds (W0015). Each carries a fix where one is
//! safe or worth offering.

use crate::diag::{Fix, codes};
use crate::ir::{self, FieldType};
use crate::syntax::Spanned;
use crate::syntax::ast::{Aggregate, Comparison, Literal, Operand, Operator, Predicate};

use super::context::{RuleCx, duration};
use super::values::parse_cidr;

/// W0012: a `like` pattern shaped like SQL's (`"%admin%"`): `%` at an end,
/// no `*` or `?`, and not URL encoding (`%2e`). Here `%` is literal.
pub(crate) fn like_sql_wildcards(cx: &mut RuleCx, pattern: &str, span: crate::syntax::Span) {
    let sql_shaped = (pattern.starts_with('%') || pattern.ends_with('%'))
        && !pattern.contains(['*', '?'])
        && !url_encoded(pattern);
    if !sql_shaped {
        return;
    }
    let glob = pattern.replace('%', "*");
    let inner = pattern.trim_matches('%');
    let contains = if pattern.starts_with('%') && pattern.ends_with('%') && !inner.contains('%') {
        format!(" or `contains \"{inner}\"`")
    } else {
        String::new()
    };
    let mut diagnostic = cx
        .warning(
            codes::LIKE_SQL_WILDCARD,
            span,
            format!("`%` is not a wildcard in `like`: \"{pattern}\" matches only text with those `%` in it"),
        )
        .with_label("SQL wildcard")
        .with_help(format!(
            "`like` wildcards are `*` (any run) and `?` (one character): write `like \"{glob}\"`{contains}"
        ));
    // The literal as written must be the plain string, so the fix rewrites
    // exactly it (no escapes, not a raw string).
    if cx.text(span) == format!("\"{pattern}\"") && !pattern.contains(['\\', '"']) {
        diagnostic = diagnostic.with_fix(Fix::review(
            format!("use `*`: \"{glob}\""),
            span,
            format!("\"{glob}\""),
        ));
    }
    cx.emit(diagnostic);
}

/// Every `%` followed by two hex digits (`%2e%2e%2f`).
fn url_encoded(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, b)| {
        *b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
    })
}

/// W0013: `f == "10.0.0.0/8"` (or `!=`) compares text, so it matches only
/// the text "10.0.0.0/8". On an `ip` field the fix is `in cidr [...]`.
pub(crate) fn cidr_as_text(cx: &mut RuleCx, field: &ir::Field, predicate: &Predicate) {
    let op = predicate.op.node;
    if let Operand::List(items) = &predicate.operand {
        return cidr_list_as_text(cx, field, predicate, items);
    }
    let Operand::Literal(Spanned {
        node: Literal::String(text),
        span,
    }) = &predicate.operand
    else {
        return;
    };
    if !matches!(op, Operator::Eq | Operator::Ne)
        || predicate.len.is_some()
        || !text.value.contains('/')
        || parse_cidr(&text.value).is_err()
    {
        return;
    }
    let membership = if op == Operator::Eq {
        "in cidr"
    } else {
        "not in cidr"
    };
    let written = cx.text(*span);
    let replacement = format!("{membership} [{written}]");
    let mut diagnostic = cx
        .warning(
            codes::CIDR_AS_TEXT,
            *span,
            format!(
                "`{}` compares `{}` with the text \"{}\", not with the addresses in that block",
                op.symbol(),
                field.path,
                text.value
            ),
        )
        .with_label("a CIDR block");
    if field.ty == FieldType::Ip {
        diagnostic = diagnostic
            .with_help(format!(
                "to test membership, write `{} {replacement}`",
                field.path
            ))
            .with_fix(Fix::review(
                format!("use `{replacement}`"),
                predicate.op.span.to(*span),
                replacement,
            ));
    } else {
        diagnostic = diagnostic.with_help(
            "`in cidr` works on `ip` fields; on a string field, compare the text you expect",
        );
    }
    cx.emit(diagnostic);
}

/// A CIDR block written with a prefix (`10.0.0.0/8`), not a bare address.
fn is_block(literal: &Spanned<Literal>) -> bool {
    matches!(&literal.node, Literal::String(t) if t.value.contains('/') && parse_cidr(&t.value).is_ok())
}

/// W0013 for `f in ["10.0.0.0/8", ...]`: at the first block. When every
/// element is an address or a block and the field is `ip`, the fix (for
/// review) makes the operator `in cidr` (`not in cidr`).
fn cidr_list_as_text(
    cx: &mut RuleCx,
    field: &ir::Field,
    predicate: &Predicate,
    items: &Spanned<Vec<Spanned<Literal>>>,
) {
    let op = predicate.op.node;
    if !matches!(op, Operator::In | Operator::NotIn) || predicate.len.is_some() {
        return;
    }
    let Some(first) = items.iter().find(|item| is_block(item)) else {
        return;
    };
    let all_addresses = items
        .iter()
        .all(|item| matches!(&item.node, Literal::String(t) if parse_cidr(&t.value).is_ok()));
    let membership = if op == Operator::In {
        "in cidr"
    } else {
        "not in cidr"
    };
    let mut diagnostic = cx
        .warning(
            codes::CIDR_AS_TEXT,
            first.span,
            format!(
                "`{}` compares `{}` with the text of each element; \"{}\" is a CIDR block",
                op.symbol(),
                field.path,
                cx.text(first.span).trim_matches('"')
            ),
        )
        .with_label("a CIDR block");
    if field.ty == FieldType::Ip && all_addresses {
        diagnostic = diagnostic
            .with_help(format!(
                "to test membership, write `{} {membership} [...]`",
                field.path
            ))
            .with_fix(Fix::review(
                format!("use `{membership}`"),
                predicate.op.span,
                membership,
            ));
    } else {
        diagnostic = diagnostic
            .with_help("`in cidr` works on `ip` fields, with every element an address or a block");
    }
    cx.emit(diagnostic);
}

/// W0014 in `where`: `len(f) >= 0` or `len(f) > -1` (a length is never
/// below 0).
pub(crate) fn length_always_holds(cx: &mut RuleCx, predicate: &Predicate) {
    let Some(len) = predicate.len else {
        return;
    };
    let Operand::Literal(Spanned {
        node: Literal::Int(value),
        span,
    }) = &predicate.operand
    else {
        return;
    };
    let holds = match predicate.op.node {
        Operator::Ge => *value <= 0,
        Operator::Gt => *value < 0,
        _ => false,
    };
    if holds {
        let written = cx.text(len.to(*span)).to_string();
        always_holds(cx, len.to(*span), &written, "a length is never below 0");
    }
}

/// W0014 in `threshold`: `count() >= 1` or `distinct(f) >= 0` and the like
/// (a group exists only with an event in it; a count is never below 0).
pub(crate) fn aggregate_always_holds(
    cx: &mut RuleCx,
    aggregate: &Spanned<Aggregate>,
    comparison: &Spanned<Comparison>,
    value: &Spanned<i64>,
) {
    let (floor, why) = match aggregate.node {
        Aggregate::Count => (1, "every group has at least one event"),
        Aggregate::Distinct(_) => (0, "a count is never below 0"),
        _ => return,
    };
    let holds = match comparison.node {
        Comparison::Ge => value.node <= floor,
        Comparison::Gt => value.node < floor,
        _ => false,
    };
    if holds {
        let span = comparison.span.to(value.span);
        let written = format!("{} {}", cx.text(aggregate.span), cx.text(span));
        always_holds(cx, span, &written, why);
    }
}

fn always_holds(cx: &mut RuleCx, span: crate::syntax::Span, written: &str, why: &str) {
    let diagnostic = cx
        .warning(
            codes::ALWAYS_HOLDS,
            span,
            format!("`{written}` always holds: {why}"),
        )
        .with_label("always true")
        .with_help(
            "compare with the value that makes the event worth a look, or remove the comparison",
        );
    cx.emit(diagnostic);
}

/// W0015: a `delay` that is not a whole number of `every` is rounded up
/// to one (a run can only wait whole slots). The fix writes what the
/// targets' schedule does; it is offered for review because `eval` takes
/// the written delay as how late events may arrive.
pub(crate) fn delay_rounded(
    cx: &mut RuleCx,
    delay: &Spanned<crate::syntax::ast::Duration>,
    every: u64,
) {
    let settle = ir::settle(every, delay.seconds);
    if delay.seconds == 0 || settle == delay.seconds {
        return;
    }
    let (written, rounded) = (duration(delay.seconds), duration(settle));
    let diagnostic = cx
        .warning(
            codes::SCHEDULE_CANNOT_HONOUR,
            delay.span,
            format!(
                "`delay` {written} is not a whole number of `every` ({}): the rule waits {rounded}",
                duration(every)
            ),
        )
        .with_label(format!("runs as {rounded}"))
        .with_help(format!(
            "each run waits whole `every` slots; write `delay {rounded}`, or change `every`"
        ))
        .with_fix(Fix::review(
            format!("write `{rounded}`"),
            delay.span,
            rounded,
        ));
    cx.emit(diagnostic);
}
