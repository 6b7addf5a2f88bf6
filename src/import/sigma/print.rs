//! A draft as a tripline syntax tree, printed by `fmt`. `fmt` takes each
//! literal's spelling from the text a tree was parsed from (by span); an
//! imported tree was parsed from nothing, so `Spelling` writes each token's
//! spelling into a text of its own and gives the tree spans into it (with a
//! blank line where the printed rule should have one). The printed text is
//! parsed back and must give the same tree, so what is written is what was
//! built.

use super::cond::{Cond, Lit, Operand, Pred};
use super::draft::{AlertDraft, Draft, TestValue};
use crate::source::FileId;
use crate::syntax::ast::{
    Aggregate, AlertLine, AlertValue, EventField, EventLit, Expectation, Expr, File, Grouping,
    Having, Item, Literal, Operator, PlaybookLine, RuleDecl, Sequence, SequenceStep, Statement,
    StatementValue, StringLit, TestBlock, TestItem, Threshold, Value, Word,
};
use crate::syntax::{self, Span, Spanned};

/// The spellings of an imported tree's tokens, in one text.
#[derive(Default)]
struct Spelling {
    text: String,
}

impl Spelling {
    fn token(&mut self, spelling: &str) -> Span {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push(' ');
        }
        let start = self.text.len();
        self.text.push_str(spelling);
        Span::new(start, self.text.len())
    }

    fn ident(&mut self, word: &str) -> Spanned<String> {
        Spanned::new(word.to_string(), self.token(word))
    }

    fn string(&mut self, value: &str) -> Spanned<StringLit> {
        let span = self.token(&quoted(value));
        Spanned::new(
            StringLit {
                value: value.to_string(),
                raw: false,
            },
            span,
        )
    }

    fn literal(&mut self, lit: &Lit) -> Spanned<Literal> {
        match lit {
            Lit::Str(s) => self.string(s).map(Literal::String),
            Lit::Int(n) => Spanned::new(Literal::Int(*n), self.token(&n.to_string())),
        }
    }

    /// Starts a new line (each statement and block line has its own, so
    /// that `fmt` sees a blank line only where `blank_line` put one).
    fn line(&mut self) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
        }
    }

    fn blank_line(&mut self) {
        self.line();
        if !self.text.ends_with("\n\n") {
            self.text.push('\n');
        }
    }
}

/// A tripline string literal: `"` and `\` escaped, control and invisible
/// line-breaking characters as `\u{..}`.
pub fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The canonical text of the draft, or why it could not be printed.
pub fn print(draft: &Draft) -> Result<String, String> {
    let mut s = Spelling::default();
    let rule_start = s.token("rule");
    let name = s.ident(&draft.name);
    let statements = statements(&mut s, draft)?;
    s.line();
    let close = s.token("}");
    let rule = RuleDecl {
        name,
        statements,
        span: rule_start.to(close),
    };
    let file = File {
        items: vec![Item::Rule(rule)],
        comments: Vec::new(),
        made_up: Vec::new(),
    };
    let text = crate::fmt::format(&s.text, &file);
    let (reparsed, errors) = syntax::parse(FileId(0), &text);
    if !errors.is_empty() || reparsed.items != file.items {
        return Err(
            "the printed rule does not read back as the tree built (an import bug)".to_string(),
        );
    }
    Ok(text)
}

fn statement(
    s: &mut Spelling,
    keyword: &str,
    value: impl FnOnce(&mut Spelling) -> StatementValue,
) -> Statement {
    s.line();
    let keyword = s.ident(keyword);
    let value = value(s);
    let span = Span::new(keyword.span.start, s.text.len());
    Statement {
        keyword,
        value,
        span,
    }
}

fn texts(s: &mut Spelling, values: &[String]) -> StatementValue {
    let open = s.token("[");
    let items = values.iter().map(|v| s.string(v)).collect();
    let close = s.token("]");
    StatementValue::Texts(Spanned::new(items, open.to(close)))
}

fn statements(s: &mut Spelling, d: &Draft) -> Result<Vec<Statement>, String> {
    let mut out = vec![statement(s, "title", |s| {
        StatementValue::Text(s.string(&d.title))
    })];
    out.push(statement(s, "id", |s| {
        StatementValue::Text(s.string(&d.id))
    }));
    if let Some(status) = &d.status {
        out.push(statement(s, "status", |s| word(s, status)));
    }
    out.push(statement(s, "level", |s| word(s, &d.level)));
    out.push(statement(s, "attack", |s| {
        let ids: Vec<Spanned<String>>;
        if d.techniques.len() == 1 {
            ids = vec![s.ident(&d.techniques[0])];
            let span = ids[0].span;
            StatementValue::Techniques(Spanned::new(ids, span))
        } else {
            let open = s.token("[");
            ids = d.techniques.iter().map(|t| s.ident(t)).collect();
            let close = s.token("]");
            StatementValue::Techniques(Spanned::new(ids, open.to(close)))
        }
    }));
    for (keyword, value) in [
        ("author", &d.author),
        ("date", &d.date),
        ("modified", &d.modified),
    ] {
        if let Some(value) = value {
            out.push(statement(s, keyword, |s| {
                StatementValue::Text(s.string(value))
            }));
        }
    }
    out.push(statement(s, "description", |s| {
        StatementValue::Text(s.string(&d.description))
    }));
    for (keyword, values) in [
        ("references", &d.references),
        ("falsepositives", &d.falsepositives),
        ("tags", &d.tags),
    ] {
        if !values.is_empty() {
            out.push(statement(s, keyword, |s| texts(s, values)));
        }
    }
    s.blank_line();
    out.push(statement(s, "from", |s| word(s, &d.source)));
    let condition = d.condition.as_ref().ok_or("a rule without a condition")?;
    let expr = expr(s, condition, 0)?;
    out.push(statement(s, "where", |_| StatementValue::Where(expr)));
    if let Some(t) = &d.threshold {
        out.push(statement(s, "threshold", |s| threshold(s, t)));
    }
    if let Some(q) = &d.sequence {
        // As `statement`, with a value that can fail.
        s.line();
        let keyword = s.ident("sequence");
        let value = sequence(s, q)?;
        let span = Span::new(keyword.span.start, s.text.len());
        out.push(Statement {
            keyword,
            value,
            span,
        });
    }
    if !d.alert.is_empty() {
        s.blank_line();
        out.push(statement(s, "alert", |s| alert(s, &d.alert)));
    }
    if !d.playbook.is_empty() {
        s.blank_line();
        out.push(statement(s, "playbook", |s| {
            let open = s.token("{");
            let lines = d
                .playbook
                .iter()
                .map(|(key, text)| {
                    s.line();
                    PlaybookLine {
                        key: s.ident(key),
                        text: s.string(text),
                    }
                })
                .collect();
            s.line();
            let close = s.token("}");
            StatementValue::Playbook(Spanned::new(lines, open.to(close)))
        }));
    }
    for test in &d.tests {
        s.blank_line();
        out.push(statement(s, "test", |s| test_block(s, test)));
    }
    Ok(out)
}

/// `"NAME" { event { f: v, ... } expect match }`, a line each.
fn test_block(s: &mut Spelling, test: &super::draft::TestDraft) -> StatementValue {
    let name = s.string(&test.name);
    s.token("{");
    let mut body = Vec::new();
    for event in &test.events {
        s.line();
        let event_start = s.token("event");
        s.token("{");
        let fields = event
            .iter()
            .map(|(field, value)| {
                let key = s.ident(field);
                s.token(":");
                let value = match value {
                    TestValue::Text(text) => s.string(text).map(Value::String),
                    TestValue::Int(n) => Spanned::new(Value::Int(*n), s.token(&n.to_string())),
                };
                EventField { key, value }
            })
            .collect();
        let event_end = s.token("}");
        body.push(TestItem::Event(Spanned::new(
            EventLit { fields },
            event_start.to(event_end),
        )));
    }
    s.line();
    let expect = s.token("expect").to(s.token("match"));
    s.line();
    s.token("}");
    body.push(TestItem::Expect(Spanned::new(Expectation::Match, expect)));
    StatementValue::Test(TestBlock { name, body })
}

fn word(s: &mut Spelling, w: &str) -> StatementValue {
    let span = s.token(w);
    StatementValue::Word(Spanned::new(Word::Bare(w.to_string()), span))
}

fn threshold(s: &mut Spelling, t: &super::draft::ThresholdDraft) -> StatementValue {
    let aggregate_span = s.token(if t.distinct.is_some() {
        "distinct("
    } else {
        "count()"
    });
    let aggregate = match &t.distinct {
        Some(field) => Aggregate::Distinct(Grouping {
            cased: None,
            field: s.ident(field),
        }),
        None => Aggregate::Count,
    };
    let by =
        t.by.iter()
            .map(|f| Grouping {
                cased: None,
                field: s.ident(f),
            })
            .collect();
    let over = Spanned::new(
        crate::syntax::ast::Duration { seconds: t.seconds },
        s.token(&duration(t.seconds)),
    );
    let comparison = Spanned::new(t.comparison, s.token(t.comparison.symbol()));
    let value = Spanned::new(t.value, s.token(&t.value.to_string()));
    let having = Having::Compare {
        aggregate: Spanned::new(aggregate, aggregate_span),
        comparison,
        value,
    };
    StatementValue::Threshold(Threshold {
        by,
        over,
        step: None,
        having: Spanned::new(having, aggregate_span.to(value_span(s))),
    })
}

/// `by F, ... within D {`, a line per step (`then` from the second on),
/// `}`.
fn sequence(s: &mut Spelling, q: &super::draft::SequenceDraft) -> Result<StatementValue, String> {
    if !q.frame.by.is_empty() {
        s.token("by");
    }
    let by = q
        .frame
        .by
        .iter()
        .map(|f| Grouping {
            cased: None,
            field: s.ident(f),
        })
        .collect();
    s.token("within");
    let within = Spanned::new(
        crate::syntax::ast::Duration {
            seconds: q.frame.seconds,
        },
        s.token(&duration(q.frame.seconds)),
    );
    let open = s.token("{");
    let mut steps = Vec::new();
    for (i, cond) in q.steps.iter().enumerate() {
        s.line();
        let start = if i > 0 {
            s.token("then").start
        } else {
            s.text.len()
        };
        s.token("where");
        let condition = expr(s, cond, 0)?;
        steps.push(SequenceStep {
            count: None,
            condition,
            span: Span::new(start, s.text.len()),
        });
    }
    s.line();
    let close = s.token("}");
    Ok(StatementValue::Sequence(Sequence {
        by,
        within,
        steps,
        block: open.to(close),
    }))
}

fn value_span(s: &Spelling) -> Span {
    Span::at(s.text.len())
}

/// A duration in its largest exact unit.
pub fn duration(seconds: u64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

fn alert(s: &mut Spelling, lines: &[AlertDraft]) -> StatementValue {
    let open = s.token("{");
    let lines = lines
        .iter()
        .map(|line| {
            s.line();
            let keyword = s.ident(match line {
                AlertDraft::Title(_) => "title",
                AlertDraft::Risk { .. } => "risk",
                AlertDraft::Threat { .. } => "threat",
                AlertDraft::Fields(_) => "fields",
                AlertDraft::Notable(_) => "notable",
            });
            let value = match line {
                AlertDraft::Title(text) => AlertValue::Title(s.string(text)),
                AlertDraft::Risk { field, kind, score } => AlertValue::Risk {
                    field: s.ident(field),
                    kind: s.ident(kind),
                    score: Spanned::new(*score, s.token(&score.to_string())),
                },
                AlertDraft::Threat { field, kind } => AlertValue::Threat {
                    field: s.ident(field),
                    kind: s.ident(kind),
                },
                AlertDraft::Fields(fields) => {
                    let open = s.token("[");
                    let items = fields.iter().map(|f| s.ident(f)).collect();
                    let close = s.token("]");
                    AlertValue::Fields(Spanned::new(items, open.to(close)))
                }
                AlertDraft::Notable(on) => {
                    AlertValue::Notable(Some(s.ident(if *on { "true" } else { "false" })))
                }
            };
            let span = Span::new(keyword.span.start, s.text.len());
            AlertLine {
                keyword,
                value,
                span,
            }
        })
        .collect();
    s.line();
    let close = s.token("}");
    StatementValue::Alert(Spanned::new(lines, open.to(close)))
}

/// Builds `left op right` from two operands.
type Join = fn(Box<Spanned<Expr>>, Box<Spanned<Expr>>) -> Expr;

/// Binding strength: `or` 1, `and` 2, `not` and atoms 3.
fn expr(s: &mut Spelling, cond: &Cond, context: u8) -> Result<Spanned<Expr>, String> {
    let start = s.text.len();
    let (node, strength) = match cond {
        Cond::Or(items) | Cond::And(items) => {
            let (strength, make): (u8, Join) = match cond {
                Cond::Or(_) => (1, Expr::Or),
                _ => (2, Expr::And),
            };
            let mut iter = items.iter();
            let first = iter.next().ok_or("an empty `and` or `or`")?;
            let mut acc = expr(s, first, strength)?;
            for item in iter {
                let right = expr(s, item, strength + 1)?;
                let span = acc.span.to(right.span);
                acc = Spanned::new(make(Box::new(acc), Box::new(right)), span);
            }
            (acc.node, strength)
        }
        Cond::Not(inner) => {
            s.token("not");
            let inner = expr(s, inner, 3)?;
            (Expr::Not(Box::new(inner)), 3)
        }
        Cond::Exists(field) => {
            s.token("exists(");
            let field = s.ident(field);
            (Expr::Exists(field), 3)
        }
        Cond::Pred(p) => (Expr::Predicate(predicate(s, p)), 3),
        Cond::Sigma(..) => {
            return Err("a Sigma test left in the formula (an import bug)".to_string());
        }
    };
    let span = Span::new(start, s.text.len().max(start));
    let node = Spanned::new(node, span);
    if strength < context {
        Ok(Spanned::new(Expr::Group(Box::new(node)), span))
    } else {
        Ok(node)
    }
}

fn predicate(s: &mut Spelling, p: &Pred) -> crate::syntax::ast::Predicate {
    let field = s.ident(&p.field);
    let cased = p.cased.then(|| s.token("cased"));
    let op = Spanned::new(p.op, s.token(p.op.symbol()));
    let operand = match &p.operand {
        Operand::One(lit) if !matches!(p.op, Operator::In | Operator::InCidr) => {
            crate::syntax::ast::Operand::Literal(s.literal(lit))
        }
        Operand::One(lit) => {
            let open = s.token("[");
            let items = vec![s.literal(lit)];
            let close = s.token("]");
            crate::syntax::ast::Operand::List(Spanned::new(items, open.to(close)))
        }
        Operand::List(lits) => {
            let open = s.token("[");
            let items = lits.iter().map(|l| s.literal(l)).collect();
            let close = s.token("]");
            crate::syntax::ast::Operand::List(Spanned::new(items, open.to(close)))
        }
    };
    crate::syntax::ast::Predicate {
        field,
        len: None,
        cased,
        op,
        operand,
    }
}
