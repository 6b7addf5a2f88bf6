//! Printing `sequence` (one step a line inside its braces, `then` opening
//! every step after the first) and `first seen`.

use super::expr::{grouping, where_clause};
use super::printer::Printer;
use super::{INDENT, close_block, number_spelling};
use crate::syntax::Span;
use crate::syntax::ast::{FirstSeen, Grouping, Sequence};

/// `sequence by a, b within 5m {`, the steps, `}`.
pub fn sequence(p: &mut Printer, s: &Sequence) {
    p.text(" ");
    fields(p, "by ", &s.by);
    if !s.by.is_empty() {
        p.text(" ");
    }
    p.text("within ");
    p.token(&number_spelling(p.spelling(s.within.span)), s.within.span);
    p.text(" {");
    p.newline();
    p.indent(INDENT);
    for (i, step) in s.steps.iter().enumerate() {
        p.comments_before(step.span.start);
        if i > 0 {
            p.token("then", Span::at(step.span.start));
            p.text(" ");
        }
        if let Some(count) = &step.count {
            p.token(&number_spelling(p.spelling(count.span)), count.span);
            p.text(" ");
        }
        p.text("where");
        where_clause(p, &step.condition);
        p.newline();
    }
    close_block(p, s.block);
}

/// `first seen a, cased b in 30d`.
pub fn first_seen(p: &mut Printer, f: &FirstSeen) {
    p.text(" ");
    p.token("seen", f.seen);
    p.text(" ");
    fields(p, "", &f.fields);
    p.text(" in ");
    p.token(&number_spelling(p.spelling(f.horizon.span)), f.horizon.span);
}

/// `lead` then the fields separated by `, `.
fn fields(p: &mut Printer, lead: &str, fields: &[Grouping]) {
    for (i, field) in fields.iter().enumerate() {
        p.text(if i == 0 { lead } else { ", " });
        grouping(p, field);
    }
}
