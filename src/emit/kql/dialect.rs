//! KQL as a [`Dialect`] of the shared condition writer: Kusto's own
//! case-insensitive operators (`=~`, `in~`, `contains`, `startswith`,
//! `endswith`), its range functions for `in cidr`, and regexes only for
//! `matches` and globs with `?`. Every test is a real bool, never null (a
//! missing string reads as `""`, a missing number as null and is guarded),
//! so `not()` negates exactly. Predicates that hold on `""` are refused:
//! KQL cannot tell a missing field from an empty one. `has_any` is never
//! used: it matches whole terms, which no tripline operator means.

use std::collections::BTreeSet;

use crate::emit::common::mapped_field;
use crate::emit::query::{Dialect, Nesting, Refusal};
use crate::ir::{Condition, Field, FieldType, IpBlock, Literal, Operation, Ordering, TextOp};
use crate::syntax::Span;

use super::literal::{kql_long, kql_regex, kql_string};
use super::{Context, TARGET, address, number, pattern};

/// The KQL dialect for one rule: its mapping and the columns it reads.
pub struct Kql<'c, 'a> {
    pub cx: &'c Context<'a>,
    /// Every column the query reads (to derive only the columns it needs).
    pub used: BTreeSet<String>,
}

impl<'c, 'a> Kql<'c, 'a> {
    pub fn new(cx: &'c Context<'a>) -> Self {
        Kql {
            cx,
            used: BTreeSet::new(),
        }
    }

    /// The column of `field`, recorded as used.
    pub fn column(&mut self, field: &Field) -> Result<String, Refusal> {
        let column = mapped_field(self.cx.input, TARGET, self.cx.rule, field)?.to_string();
        self.used.insert(column.clone());
        Ok(column)
    }

    /// Refuses a test that needs the field's text on a numeric column: the
    /// column holds null for text that is no number (`"abc"`, `" 443"`),
    /// which the evaluator still sees as a value (it exists, it is a group
    /// key or a distinct value, string predicates read it).
    pub fn needs_text(&self, field: &Field, column: &str, construct: &str) -> Result<(), Refusal> {
        if !self.cx.source.is_numeric(column)
            || numeric_guarded(&self.cx.rule.condition, &field.path)
        {
            return Ok(());
        }
        Err(Refusal::new(
            TARGET,
            field.span,
            format!("{construct} on the numeric column `{column}`"),
            "the column holds null where the log has text that is no integer, which the evaluator still reads as a value; test the field with ==, in or a comparison, or map it to a string column",
        ))
    }

    /// The column as text: a numeric column through `tostring()` (null
    /// becomes `""`, as a missing string reads).
    fn text_of(&self, column: &str) -> String {
        if self.cx.source.is_nullable(column) {
            format!("tostring({column})")
        } else {
            column.to_string()
        }
    }

    /// The column of a string test, refused on a numeric column.
    fn string_column(&mut self, field: &Field) -> Result<String, Refusal> {
        let column = self.column(field)?;
        if field.ty != FieldType::Int {
            self.needs_text(field, &column, "a string test")?;
        }
        Ok(self.text_of(&column))
    }

    /// An integer test on an `int` field.
    fn numeric(&mut self, field: &Field, test: &str) -> Result<String, Refusal> {
        let column = self.column(field)?;
        let numeric_column = self.cx.source.is_numeric(&column);
        Ok(number::numeric_test(&column, test, numeric_column))
    }
}

impl Dialect for Kql<'_, '_> {
    fn target(&self) -> &'static str {
        TARGET
    }

    fn and(&self, parts: Vec<String>, nesting: Nesting) -> String {
        join(parts, "and", nesting)
    }

    fn or(&self, parts: Vec<String>, nesting: Nesting) -> String {
        join(parts, "or", nesting)
    }

    fn not(&self, inner: String) -> String {
        format!("not({inner})")
    }

    fn exists(&mut self, field: &Field, _: Span) -> Result<String, Refusal> {
        let column = self.column(field)?;
        self.needs_text(field, &column, "`exists()`")?;
        Ok(if self.cx.source.is_nullable(&column) {
            format!("isnotnull({column})")
        } else {
            format!("isnotempty({column})")
        })
    }

    fn equals(&mut self, field: &Field, values: &[Literal], _: Span) -> Result<String, Refusal> {
        if field.ty == FieldType::Int {
            let numbers: Vec<String> = values.iter().map(literal_number).collect();
            let test = match numbers.as_slice() {
                [one] => format!("== {one}"),
                many => format!("in ({})", many.join(", ")),
            };
            return self.numeric(field, &test);
        }
        let text = self.string_column(field)?;
        let strings: Vec<String> = values
            .iter()
            .map(|v| kql_string(&literal_text(v)))
            .collect();
        Ok(match strings.as_slice() {
            [one] => format!("{text} =~ {one}"),
            many => format!("{text} in~ ({})", many.join(", ")),
        })
    }

    fn compare(
        &mut self,
        field: &Field,
        op: Ordering,
        value: i64,
        _: Span,
    ) -> Result<String, Refusal> {
        let symbol = op.symbol();
        self.numeric(field, &format!("{symbol} {}", kql_long(value)))
    }

    fn text_one(
        &mut self,
        field: &Field,
        op: TextOp,
        value: &str,
        span: Span,
    ) -> Result<String, Refusal> {
        self.text_test(field, op, value, false, span)
    }

    /// Kusto's case-sensitive operators: `contains_cs`, `startswith_cs`,
    /// `endswith_cs`, and for a glob `==` or a regex without `(?i)`.
    fn text_one_cased(
        &mut self,
        field: &Field,
        op: TextOp,
        value: &str,
        span: Span,
    ) -> Result<String, Refusal> {
        self.text_test(field, op, value, true, span)
    }

    /// As the default, but globs that are plain values share one `in~`.
    fn text(
        &mut self,
        field: &Field,
        op: TextOp,
        values: &[String],
        all: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        let mut parts = Vec::new();
        let mut plain = Vec::new();
        for value in values {
            match pattern::glob_literal(value) {
                Some(literal) if op == TextOp::Like && !all => plain.push(literal),
                _ => parts.push(self.text_one(field, op, value, span)?),
            }
        }
        if !plain.is_empty() {
            let text = self.string_column(field)?;
            let quoted: Vec<String> = plain.iter().map(|v| kql_string(v)).collect();
            let test = match quoted.as_slice() {
                [one] => format!("{text} =~ {one}"),
                many => format!("{text} in~ ({})", many.join(", ")),
            };
            parts.insert(0, test);
        }
        Ok(self.any_or_all(parts, all))
    }

    /// `==` and `in` compare exactly in KQL.
    fn equals_cased(
        &mut self,
        field: &Field,
        values: &[Literal],
        _: Span,
    ) -> Result<String, Refusal> {
        let text = self.string_column(field)?;
        let strings: Vec<String> = values
            .iter()
            .map(|v| kql_string(&literal_text(v)))
            .collect();
        Ok(match strings.as_slice() {
            [one] => format!("{text} == {one}"),
            many => format!("{text} in ({})", many.join(", ")),
        })
    }

    /// `strlen()` counts Unicode code points. A missing value reads as
    /// `""` in a string column, whose length 0 the evaluator does not
    /// give it (no value, no predicate): refused when 0 would satisfy.
    fn length(
        &mut self,
        field: &Field,
        values: &[Literal],
        compare: Option<(Ordering, i64)>,
        span: Span,
    ) -> Result<String, Refusal> {
        let text = self.string_column(field)?;
        let holds_at_zero = match compare {
            Some((Ordering::Lt, n)) => 0 < n,
            Some((Ordering::Le, n)) => 0 <= n,
            Some((Ordering::Gt, n)) => 0 > n,
            Some((Ordering::Ge, n)) => 0 >= n,
            None => values.contains(&Literal::Int(0)),
        };
        if holds_at_zero {
            return Err(Refusal::new(
                "kql",
                span,
                "a `len()` comparison that holds for length 0",
                "a missing value reads as \"\" in KQL: compare so that 0 does not hold \
                 (`len(f) > n`, `len(f) >= n` with n >= 1)",
            ));
        }
        let length = format!("strlen({text})");
        Ok(match compare {
            Some((op, n)) => {
                let symbol = op.symbol();
                format!("{length} {symbol} {}", kql_long(n))
            }
            None => {
                let numbers: Vec<String> = values.iter().map(literal_number).collect();
                match numbers.as_slice() {
                    [one] => format!("{length} == {one}"),
                    many => format!("{length} in ({})", many.join(", ")),
                }
            }
        })
    }

    fn regex(
        &mut self,
        field: &Field,
        pattern: &str,
        case_insensitive: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        if pattern::matches_empty(pattern, case_insensitive) {
            return Err(Refusal::new(
                TARGET,
                span,
                "a regular expression that matches the empty string",
                "Kusto reads a missing field as \"\", so this pattern would match events without the field; anchor it or require at least one character",
            ));
        }
        let text = self.string_column(field)?;
        let regex = pattern::translate(pattern, case_insensitive);
        Ok(format!("{text} matches regex {}", kql_regex(&regex)))
    }

    fn cidr(&mut self, field: &Field, blocks: &[IpBlock], _: Span) -> Result<String, Refusal> {
        let text = self.string_column(field)?;
        Ok(address::in_blocks(&text, blocks))
    }
}

impl Kql<'_, '_> {
    /// One text test, ignoring case or (`cased`) exact.
    fn text_test(
        &mut self,
        field: &Field,
        op: TextOp,
        value: &str,
        cased: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        let text = self.string_column(field)?;
        let operator = match op {
            TextOp::Contains => "contains",
            TextOp::StartsWith => "startswith",
            TextOp::EndsWith => "endswith",
            TextOp::Like => return like(&text, value, cased, span),
        };
        let cs = if cased { "_cs" } else { "" };
        Ok(format!("{text} {operator}{cs} {}", kql_string(value)))
    }
}

/// Parts joined by `and` / `or`: at the top one per line, inside another
/// combination in parentheses.
fn join(parts: Vec<String>, glue: &str, nesting: Nesting) -> String {
    match nesting {
        Nesting::Top => parts.join(&format!("\n    {glue} ")),
        Nesting::Nested => format!("({})", parts.join(&format!(" {glue} "))),
    }
}

/// A `like` glob: Kusto's string operators where the glob's shape allows,
/// else an anchored case-insensitive regex.
fn like(text: &str, glob: &str, cased: bool, span: Span) -> Result<String, Refusal> {
    if pattern::glob_matches_empty(glob) {
        return Err(Refusal::new(
            TARGET,
            span,
            "a `like` glob made only of `*`",
            "Kusto reads a missing field as \"\", which this glob matches; write `exists(field)` instead",
        ));
    }
    Ok(
        pattern::glob_test_cased(text, glob, cased).unwrap_or_else(|| {
            format!(
                "{text} matches regex {}",
                kql_regex(&pattern::glob_regex_cased(glob, cased))
            )
        }),
    )
}

fn literal_text(literal: &Literal) -> String {
    match literal {
        Literal::String(s) => s.clone(),
        Literal::Int(n) => n.to_string(),
    }
}

fn literal_number(literal: &Literal) -> String {
    match literal {
        Literal::Int(n) => kql_long(*n),
        Literal::String(s) => s.clone(),
    }
}

/// Whether `condition` holds only for events whose `path` is an integer: a
/// top-level conjunct compares it with a number (`f >= 0`, `f == 22`).
/// Then text that is no integer fails the rule in the evaluator and, as
/// null, in the query, and the numeric column is exact for that field.
pub fn numeric_guarded(condition: &Condition, path: &str) -> bool {
    let conjuncts = match condition {
        Condition::And(parts) => parts.as_slice(),
        single => std::slice::from_ref(single),
    };
    conjuncts.iter().any(|part| match part {
        Condition::Predicate(p) if p.field.path == path && p.field.ty == FieldType::Int => match &p
            .operation
        {
            Operation::Compare { .. } => true,
            Operation::Equals { values, .. } => values.iter().all(|v| matches!(v, Literal::Int(_))),
            _ => false,
        },
        _ => false,
    })
}
