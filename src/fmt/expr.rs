//! Printing `where` expressions and `threshold` aggregations.

use super::printer::Printer;
use super::{INDENT, number_spelling};
use crate::syntax::ast::{Aggregate, Expr, Grouping, Having, Operand, Threshold};
use crate::syntax::{Span, Spanned};

/// `where TERM` then `and TERM` / `or TERM` lines for each further
/// top-level term, four spaces deeper than `where`.
pub fn where_clause(p: &mut Printer, condition: &Spanned<Expr>) {
    let (joiner, terms) = top_level_terms(condition);
    for (i, term) in terms.iter().enumerate() {
        if i == 0 {
            p.text(" ");
        } else {
            if i == 1 {
                p.indent(2 * INDENT);
            }
            p.newline();
            p.comments_before(term.span.start);
            p.text(joiner);
            p.text(" ");
        }
        expr(p, term);
    }
    if terms.len() > 1 {
        p.dedent(2 * INDENT);
    }
}

/// The operands of the outermost `or` chain (or `and` chain), left to right.
fn top_level_terms(condition: &Spanned<Expr>) -> (&'static str, Vec<&Spanned<Expr>>) {
    let joiner = match condition.node {
        Expr::Or(..) => "or",
        Expr::And(..) => "and",
        _ => return ("", vec![condition]),
    };
    let mut terms = Vec::new();
    let mut stack = vec![condition];
    while let Some(node) = stack.pop() {
        match (&node.node, joiner) {
            (Expr::Or(left, right), "or") | (Expr::And(left, right), "and") => {
                stack.push(right);
                stack.push(left);
            }
            _ => terms.push(node),
        }
    }
    (joiner, terms)
}

fn expr(p: &mut Printer, e: &Spanned<Expr>) {
    match &e.node {
        Expr::Or(left, right) => binary(p, left, "or", right),
        Expr::And(left, right) => binary(p, left, "and", right),
        Expr::Not(inner) => {
            p.token("not", Span::at(e.span.start));
            p.text(" ");
            expr(p, inner);
        }
        Expr::Group(inner) => {
            p.token("(", Span::at(e.span.start));
            expr(p, inner);
            p.token(")", Span::new(e.span.end.saturating_sub(1), e.span.end));
        }
        Expr::Exists(field) => {
            p.token("exists(", Span::at(e.span.start));
            p.token(&field.node, field.span);
            p.text(")");
        }
        Expr::Predicate(predicate) => {
            if let Some(len) = predicate.len {
                p.token("len(", Span::at(len.start));
                p.token(&predicate.field.node, predicate.field.span);
                p.text(")");
            } else {
                p.token(&predicate.field.node, predicate.field.span);
            }
            p.text(" ");
            if let Some(cased) = predicate.cased {
                p.token("cased", cased);
                p.text(" ");
            }
            p.token(predicate.op.node.symbol(), predicate.op.span);
            p.text(" ");
            operand(p, &predicate.operand);
        }
    }
}

fn binary(p: &mut Printer, left: &Spanned<Expr>, joiner: &str, right: &Spanned<Expr>) {
    expr(p, left);
    p.text(" ");
    p.text(joiner);
    p.text(" ");
    expr(p, right);
}

fn operand(p: &mut Printer, operand: &Operand) {
    match operand {
        Operand::Literal(literal) => {
            p.token(&number_spelling(p.spelling(literal.span)), literal.span)
        }
        Operand::ListRef(name) => p.token(&format!("@{}", name.node), name.span),
        Operand::List(items) => {
            p.token("[", Span::at(items.span.start));
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    p.text(", ");
                }
                p.token(&number_spelling(p.spelling(item.span)), item.span);
            }
            p.token(
                "]",
                Span::new(items.span.end.saturating_sub(1), items.span.end),
            );
        }
    }
}

/// `threshold count() by a, b over 10m >= 20` when the condition is one
/// comparison (the version 1 form), else `threshold by a over 10m having
/// COND`; `step H` after the window. A `having` form with a comment on a
/// line of its own before the aggregate keeps its order, so the comments
/// keep theirs.
pub fn threshold(p: &mut Printer, t: &Threshold) {
    p.text(" ");
    let groups_start =
        t.by.first()
            .map_or(t.over.span.start, |g| g.cased.unwrap_or(g.field.span).start);
    let single = match &t.having.node {
        Having::Compare {
            aggregate,
            comparison,
            value,
        } if aggregate.span.start < groups_start
            || !p.has_own_line_comment_in(Span::new(groups_start, aggregate.span.start)) =>
        {
            Some((aggregate, comparison, value))
        }
        _ => None,
    };
    if let Some((aggregate, _, _)) = single {
        self::aggregate(p, aggregate);
        p.text(" ");
    }
    for (i, field) in t.by.iter().enumerate() {
        p.text(if i == 0 { "by " } else { ", " });
        grouping(p, field);
    }
    if !t.by.is_empty() {
        p.text(" ");
    }
    p.text("over ");
    p.token(&number_spelling(p.spelling(t.over.span)), t.over.span);
    if let Some(step) = &t.step {
        p.text(" step ");
        p.token(&number_spelling(p.spelling(step.span)), step.span);
    }
    match single {
        Some((_, comparison, value)) => {
            p.text(" ");
            p.token(comparison.node.symbol(), comparison.span);
            p.text(" ");
            p.token(&number_spelling(p.spelling(value.span)), value.span);
        }
        None => having_clause(p, &t.having),
    }
}

/// ` having COND` on the threshold's line when COND is one term; else
/// `having TERM` on a line of its own, one level deeper than `threshold`,
/// and each further top-level `or` / `and` term on a line four spaces
/// deeper than `having` (as `where` lays out its terms).
fn having_clause(p: &mut Printer, condition: &Spanned<Having>) {
    let joiner = match condition.node {
        Having::Or(..) => "or",
        Having::And(..) => "and",
        _ => "",
    };
    let mut terms = Vec::new();
    let mut stack = vec![condition];
    while let Some(node) = stack.pop() {
        match (&node.node, joiner) {
            (Having::Or(left, right), "or") | (Having::And(left, right), "and") => {
                stack.push(right);
                stack.push(left);
            }
            _ => terms.push(node),
        }
    }
    if terms.len() < 2 {
        p.text(" having ");
        having(p, condition);
        return;
    }
    p.indent(INDENT);
    p.newline();
    // `having` has no span of its own: comments written after it go above
    // it, where a second `fmt` finds them too.
    if let Some(first) = terms.first() {
        p.comments_before(first.span.start);
    }
    p.text("having ");
    for (i, term) in terms.iter().enumerate() {
        if i == 1 {
            p.indent(2 * INDENT);
        }
        if i > 0 {
            p.newline();
            p.comments_before(term.span.start);
            p.text(joiner);
            p.text(" ");
        }
        having(p, term);
    }
    p.dedent(3 * INDENT);
}

/// `f` or `cased f`.
pub(super) fn grouping(p: &mut Printer, g: &Grouping) {
    if let Some(cased) = g.cased {
        p.token("cased", cased);
        p.text(" ");
    }
    p.token(&g.field.node, g.field.span);
}

fn aggregate(p: &mut Printer, aggregate: &Spanned<Aggregate>) {
    if let Aggregate::Distinct(g) = &aggregate.node {
        p.token("distinct(", Span::at(aggregate.span.start));
        grouping(p, g);
        p.text(")");
        return;
    }
    match aggregate.node.field() {
        None => p.token("count()", aggregate.span),
        Some(field) => {
            p.token(
                &format!("{}(", aggregate.node.name()),
                Span::at(aggregate.span.start),
            );
            p.token(&field.node, field.span);
            p.text(")");
        }
    }
}

fn having(p: &mut Printer, h: &Spanned<Having>) {
    match &h.node {
        Having::Or(left, right) | Having::And(left, right) => {
            having(p, left);
            p.text(if matches!(h.node, Having::Or(..)) {
                " or "
            } else {
                " and "
            });
            having(p, right);
        }
        Having::Not(inner) => {
            p.token("not", Span::at(h.span.start));
            p.text(" ");
            having(p, inner);
        }
        Having::Group(inner) => {
            p.token("(", Span::at(h.span.start));
            having(p, inner);
            p.text(")");
        }
        Having::Compare {
            aggregate,
            comparison,
            value,
        } => {
            self::aggregate(p, aggregate);
            p.text(" ");
            p.token(comparison.node.symbol(), comparison.span);
            p.text(" ");
            p.token(&number_spelling(p.spelling(value.span)), value.span);
        }
    }
}
