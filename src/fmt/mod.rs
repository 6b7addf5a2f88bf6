//! `tripline fmt`: prints a syntax tree back in the one canonical layout.
//! Nothing is reordered; two-space indent; a list, an event or an `expect
//! alert` that does not fit in 100 columns (or holds a comment) takes one
//! element per line; a `where` with several top-level `and` / `or` terms
//! puts each on its own line, four spaces deeper; literals keep their
//! spelling but lose leading zeros and trailing commas; comments stay with
//! their line. See docs/fmt.md.

mod expr;
mod printer;
mod sequence;

use printer::Printer;

use crate::syntax::ast::{
    AlertLine, AlertValue, EventField, Expectation, File, Item, ListDecl, PlaybookLine, RuleDecl,
    Statement, StatementValue, TestBlock, TestItem, Value,
};
use crate::syntax::{Span, Spanned};

pub const MAX_WIDTH: usize = 100;
const INDENT: usize = 2;

/// The canonical text of a parsed file (`source` is the text it was parsed from).
pub fn format(source: &str, file: &File) -> String {
    let mut p = Printer::new(source, &file.comments);
    for (i, item) in file.items.iter().enumerate() {
        let span = match item {
            Item::List(list) => list.span,
            Item::Rule(rule) => rule.span,
            Item::Broken { .. } => continue,
        };
        if i > 0 {
            p.blank_line();
        }
        p.comments_before(span.start);
        if p.blank_before(span.start) {
            p.blank_line();
        }
        match item {
            Item::List(list) => list_decl(&mut p, list),
            Item::Rule(rule) => rule_decl(&mut p, rule),
            Item::Broken { .. } => {}
        }
    }
    p.finish()
}

fn list_decl(p: &mut Printer, list: &ListDecl) {
    p.token("list", Span::at(list.span.start));
    p.text(" ");
    p.token(&list.name, list.name.span);
    if let Some(ty) = &list.ty {
        p.text(": ");
        p.token(&ty.node, ty.span);
    }
    p.text(" = ");
    let items: Vec<(String, Span)> = list
        .elements
        .iter()
        .map(|e| (literal_spelling(p, e.span), e.span))
        .collect();
    bracketed(p, &items, list.elements.span);
    p.newline();
}

fn rule_decl(p: &mut Printer, rule: &RuleDecl) {
    p.token("rule", Span::at(rule.span.start));
    p.text(" ");
    p.token(&rule.name, rule.name.span);
    p.text(" {");
    p.newline();
    p.indent(INDENT);
    for statement in &rule.statements {
        p.comments_before(statement.span.start);
        if p.blank_before(statement.span.start) {
            p.blank_line();
        }
        self::statement(p, statement);
    }
    close_block(p, rule.span);
}

/// Prints the comments left inside a block, then its `}` on its own line.
pub(super) fn close_block(p: &mut Printer, block: Span) {
    let close = Span::new(block.end.saturating_sub(1), block.end);
    p.comments_before(close.start);
    p.dedent(INDENT);
    p.token("}", close);
    p.newline();
}

fn statement(p: &mut Printer, statement: &Statement) {
    p.token(&statement.keyword, statement.keyword.span);
    match &statement.value {
        StatementValue::Text(text) => spelled(p, text.span),
        StatementValue::Word(word) => spelled(p, word.span),
        StatementValue::Words(words) => {
            for (i, word) in words.iter().enumerate() {
                if i > 0 {
                    p.text(",");
                }
                spelled(p, word.span);
            }
        }
        StatementValue::Duration(duration) => {
            p.text(" ");
            p.token(&number_spelling(p.spelling(duration.span)), duration.span);
        }
        StatementValue::Techniques(ids) => {
            p.text(" ");
            let items: Vec<(String, Span)> = ids
                .iter()
                .map(|id| (p.spelling(id.span).to_string(), id.span))
                .collect();
            if p.spelling(ids.span).starts_with('[') {
                bracketed(p, &items, ids.span);
            } else if let Some((text, span)) = items.first() {
                p.token(text, *span);
            }
        }
        StatementValue::Texts(texts) => {
            p.text(" ");
            let items: Vec<(String, Span)> = texts
                .iter()
                .map(|t| (p.spelling(t.span).to_string(), t.span))
                .collect();
            bracketed(p, &items, texts.span);
        }
        StatementValue::Where(condition) => expr::where_clause(p, condition),
        StatementValue::Threshold(threshold) => expr::threshold(p, threshold),
        StatementValue::Sequence(sequence) => sequence::sequence(p, sequence),
        StatementValue::FirstSeen(first) => sequence::first_seen(p, first),
        StatementValue::Playbook(lines) => playbook(p, lines, statement.span),
        StatementValue::Alert(lines) => alert(p, lines, statement.span),
        StatementValue::Test(test) => test_block(p, test, statement.span),
    }
    if !matches!(
        statement.value,
        StatementValue::Playbook(_)
            | StatementValue::Alert(_)
            | StatementValue::Test(_)
            | StatementValue::Sequence(_)
    ) {
        p.newline();
    }
}

fn spelled(p: &mut Printer, span: Span) {
    p.text(" ");
    p.token(p.spelling(span), span);
}

fn playbook(p: &mut Printer, lines: &Spanned<Vec<PlaybookLine>>, span: Span) {
    p.text(" {");
    p.newline();
    p.indent(INDENT);
    for line in lines.iter() {
        p.comments_before(line.key.span.start);
        if p.blank_before(line.key.span.start) {
            p.blank_line();
        }
        p.token(&line.key, line.key.span);
        spelled(p, line.text.span);
        p.newline();
    }
    close_block(p, span);
}

/// `alert { ... }`: one line each, in written order.
fn alert(p: &mut Printer, lines: &Spanned<Vec<AlertLine>>, span: Span) {
    p.text(" {");
    p.newline();
    p.indent(INDENT);
    for line in lines.iter() {
        p.comments_before(line.span.start);
        if p.blank_before(line.span.start) {
            p.blank_line();
        }
        p.token(&line.keyword, line.keyword.span);
        match &line.value {
            AlertValue::Title(text) => spelled(p, text.span),
            AlertValue::Risk { field, kind, score } => {
                spelled(p, field.span);
                spelled(p, kind.span);
                p.text(" ");
                p.token(&number_spelling(p.spelling(score.span)), score.span);
            }
            AlertValue::Threat { field, kind } => {
                spelled(p, field.span);
                spelled(p, kind.span);
            }
            AlertValue::Fields(fields) => {
                p.text(" ");
                let items: Vec<(String, Span)> = fields
                    .iter()
                    .map(|f| (p.spelling(f.span).to_string(), f.span))
                    .collect();
                bracketed(p, &items, fields.span);
            }
            AlertValue::Notable(None) => {}
            AlertValue::Notable(Some(word)) => spelled(p, word.span),
        }
        p.newline();
    }
    close_block(p, span);
}

fn test_block(p: &mut Printer, test: &TestBlock, span: Span) {
    spelled(p, test.name.span);
    p.text(" {");
    p.newline();
    p.indent(INDENT);
    for item in &test.body {
        let start = test_item_span(item).start;
        p.comments_before(start);
        if p.blank_before(start) {
            p.blank_line();
        }
        test_item(p, item);
        p.newline();
    }
    close_block(p, span);
}

fn test_item_span(item: &TestItem) -> Span {
    match item {
        TestItem::Event(event) => event.span,
        TestItem::Repeat { span, .. } => *span,
        TestItem::Events(path) => path.span,
        TestItem::Expect(expect) => expect.span,
    }
}

fn test_item(p: &mut Printer, item: &TestItem) {
    match item {
        TestItem::Event(event) => {
            p.token("event", Span::at(event.span.start));
            p.text(" ");
            fields_block(p, &event.fields, event.span);
        }
        TestItem::Repeat {
            count,
            every,
            event,
            span,
        } => {
            p.token("repeat", Span::at(span.start));
            p.text(" ");
            p.token(&number_spelling(p.spelling(count.span)), count.span);
            p.text(" every ");
            p.token(&number_spelling(p.spelling(every.span)), every.span);
            p.text(" ");
            fields_block(p, &event.fields, event.span);
        }
        TestItem::Events(path) => {
            // `events` starts the line; the path's span is the string only.
            p.text("events");
            spelled(p, path.span);
        }
        TestItem::Expect(expect) => {
            p.token("expect", Span::at(expect.span.start));
            match &expect.node {
                Expectation::Match => p.text(" match"),
                Expectation::NoMatch => p.text(" nomatch"),
                Expectation::AlertCount(n) => {
                    p.text(" alert ");
                    p.token(&number_spelling(p.spelling(n.span)), n.span);
                }
                Expectation::Alert(fields) => {
                    p.text(" alert ");
                    fields_block(p, fields, expect.span);
                }
            }
        }
    }
}

/// `{ key: value, ... }` on one line when it fits and holds no comment,
/// otherwise one field per line. `block` ends with the closing `}`.
fn fields_block(p: &mut Printer, fields: &[EventField], block: Span) {
    let items: Vec<(String, Span)> = fields
        .iter()
        .map(|f| {
            (
                format!("{}: {}", p.spelling(f.key.span), value_text(p, &f.value)),
                f.key.span.to(f.value.span),
            )
        })
        .collect();
    delimited(p, ("{ ", "{", " }", "}"), &items, block);
}

/// `[a, b]` on one line when it fits, otherwise one element per line.
fn bracketed(p: &mut Printer, items: &[(String, Span)], list: Span) {
    delimited(p, ("[", "[", "]", "]"), items, list);
}

/// Open, items, close: inline (`open_inline`, `, `, `close_inline`) when it
/// fits within the width and no comment lies inside, otherwise broken.
/// `block` runs from the opener (or the keyword before it) to the closer.
fn delimited(
    p: &mut Printer,
    (open_inline, open, close_inline, close_text): (&str, &str, &str, &str),
    items: &[(String, Span)],
    block: Span,
) {
    let inline = format!(
        "{open_inline}{}{close_inline}",
        items
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    // Comments before the opener go above it, not between it and an item.
    p.comments_before(block.start);
    let close = Span::new(block.end.saturating_sub(1), block.end);
    let fits = p.column() + inline.chars().count() <= MAX_WIDTH;
    if items.is_empty() {
        p.text(&format!("{open}{close_text}"));
    } else if fits && !p.has_comment_in(block) {
        // The opener stands at the block's start, so a comment after it
        // stays on its line.
        p.token(open_inline, Span::at(block.start));
        for (i, (text, span)) in items.iter().enumerate() {
            if i > 0 {
                p.text(", ");
            }
            p.token(text, *span);
        }
        p.token(close_inline, close);
    } else {
        p.token(open, Span::at(block.start));
        p.newline();
        p.indent(INDENT);
        for (i, (text, span)) in items.iter().enumerate() {
            p.token(text, *span);
            if i + 1 < items.len() {
                p.text(",");
            }
            p.newline();
        }
        p.comments_before(close.start);
        p.dedent(INDENT);
        p.token(close_text, close);
    }
}

/// A test-event value printed inline, literals in their spelling.
fn value_text(p: &Printer, value: &Spanned<Value>) -> String {
    match &value.node {
        Value::Int(_) => number_spelling(p.spelling(value.span)),
        Value::String(_) | Value::Bool(_) | Value::Null => p.spelling(value.span).to_string(),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(|v| value_text(p, v)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(fields) if fields.is_empty() => "{}".to_string(),
        Value::Object(fields) => {
            let fields: Vec<String> = fields
                .iter()
                .map(|f| format!("{}: {}", p.spelling(f.key.span), value_text(p, &f.value)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}

/// A literal from a list: strings as spelled, integers without leading zeros.
fn literal_spelling(p: &Printer, span: Span) -> String {
    number_spelling(p.spelling(span))
}

/// An integer or duration spelling without leading zeros (`-007` → `-7`,
/// `05m` → `5m`); any other spelling is returned unchanged.
pub fn number_spelling(spelling: &str) -> String {
    let (sign, rest) = spelling
        .strip_prefix('-')
        .map_or(("", spelling), |rest| ("-", rest));
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return spelling.to_string();
    }
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, unit) = rest.split_at(digits_end);
    let trimmed = digits.trim_start_matches('0');
    let digits = if trimmed.is_empty() { "0" } else { trimmed };
    let sign = if digits == "0" { "" } else { sign };
    format!("{sign}{digits}{unit}")
}

#[cfg(test)]
mod tests {
    use super::number_spelling;

    #[test]
    fn numbers_lose_leading_zeros_only() {
        assert_eq!(number_spelling("007"), "7");
        assert_eq!(number_spelling("-007"), "-7");
        assert_eq!(number_spelling("000"), "0");
        assert_eq!(number_spelling("05m"), "5m");
        assert_eq!(number_spelling("\"007\""), "\"007\"");
    }
}
