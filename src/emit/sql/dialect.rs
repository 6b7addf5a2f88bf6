//! SQL as a [`Dialect`] of the shared condition writer, for DuckDB and
//! Spark alike (their differences are in [`Flavor`]). Every column is text
//! (`VARCHAR` / `STRING`), null when the event lacks the field. A test on a
//! null column is null, and SQL's three-valued `AND` / `OR` keep a null
//! exactly where the evaluator's `false` would lose: a row is kept only
//! when the condition is true. So only `not` needs a guard: `NOT
//! coalesce(x, false)` is true where the evaluator's `not` is. Case is
//! folded with `lower()` on both sides (the literal folded once here when
//! it is ASCII); `""` is a value, as in the evaluator.

use crate::emit::common::mapped_field;
use crate::emit::query::{Dialect, Nesting, Refusal};
use crate::ir::{Field, FieldType, IpBlock, Literal, Ordering, TextOp};
use crate::syntax::Span;

use super::flavor::Flavor;
use super::{Context, TARGET, address, pattern};

/// The SQL dialect for one rule and one engine.
pub struct Sql<'c, 'a> {
    pub cx: &'c Context<'a>,
    pub flavor: Flavor,
}

impl<'c, 'a> Sql<'c, 'a> {
    pub fn new(cx: &'c Context<'a>, flavor: Flavor) -> Self {
        Sql { cx, flavor }
    }

    /// The quoted column of `field`.
    pub fn column(&self, field: &Field) -> Result<String, Refusal> {
        let name = mapped_field(self.cx.input, TARGET, self.cx.rule, field)?;
        Ok(self.flavor.ident(name))
    }

    /// A string literal folded to lower case (by the engine's `lower()`
    /// when it holds more than ASCII, so both sides fold alike).
    pub fn folded(&self, text: &str, span: Span) -> Result<String, Refusal> {
        let quoted = self.literal(text, span)?;
        Ok(if text.is_ascii() {
            self.flavor.string(&text.to_ascii_lowercase())
        } else {
            format!("lower({quoted})")
        })
    }

    /// A string literal, refused when it holds NUL (no engine keeps one).
    pub fn literal(&self, text: &str, span: Span) -> Result<String, Refusal> {
        if text.contains('\0') {
            return Err(Refusal::new(
                TARGET,
                span,
                "a value holding the NUL character",
                "neither DuckDB nor Spark keeps NUL in a string literal; remove it from the value",
            ));
        }
        Ok(self.flavor.string(text))
    }

    /// `LIKE` with `\` as its escape, the pattern folded unless `cased`.
    fn like(&self, text: &str, pattern: &str, cased: bool, span: Span) -> Result<String, Refusal> {
        let pattern = if cased {
            self.literal(pattern, span)?
        } else {
            self.folded(pattern, span)?
        };
        Ok(format!(
            "{text} LIKE {pattern} ESCAPE {}",
            self.flavor.string("\\")
        ))
    }

    /// One text test: on `lower()` of both sides, or exact with `cased`.
    fn text_test(
        &self,
        field: &Field,
        op: TextOp,
        value: &str,
        cased: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        let column = self.column(field)?;
        let text = if cased {
            column
        } else {
            format!("lower({column})")
        };
        let literal = pattern::like_literal(value);
        match op {
            TextOp::Contains => self.like(&text, &format!("%{literal}%"), cased, span),
            TextOp::StartsWith => self.like(&text, &format!("{literal}%"), cased, span),
            TextOp::EndsWith => self.like(&text, &format!("%{literal}"), cased, span),
            TextOp::Like => match pattern::glob_literal(value) {
                Some(plain) if cased => Ok(format!("{text} = {}", self.literal(&plain, span)?)),
                Some(plain) => Ok(format!("{text} = {}", self.folded(&plain, span)?)),
                None => self.like(&text, &pattern::like_pattern(value), cased, span),
            },
        }
    }
}

/// The test that a text column holds an integer as the evaluator reads one
/// (`-?[0-9]+` within 64 bits), without a regex: `translate()` deletes
/// digits and `-`, so only such text leaves `""`; `try_cast` then gives
/// null for `-`, `4-4` and overflow (a plain `CAST` would fail the query).
pub fn integer_text(column: &str) -> String {
    format!("translate({column}, '-0123456789', '') = ''")
}

/// The number of an integer text column (null for other text).
pub fn integer(column: &str) -> String {
    format!("try_cast({column} AS BIGINT)")
}

impl Dialect for Sql<'_, '_> {
    fn target(&self) -> &'static str {
        TARGET
    }

    fn and(&self, parts: Vec<String>, nesting: Nesting) -> String {
        join(parts, "AND", nesting)
    }

    fn or(&self, parts: Vec<String>, nesting: Nesting) -> String {
        join(parts, "OR", nesting)
    }

    fn not(&self, inner: String) -> String {
        format!("NOT coalesce({inner}, false)")
    }

    fn exists(&mut self, field: &Field, span: Span) -> Result<String, Refusal> {
        let column = self.column(field)?;
        if field.ty == FieldType::Time {
            return Err(Refusal::new(
                TARGET,
                span,
                "`exists(@timestamp)`",
                "the table holds @timestamp as a time, null where the event's value is no usable time, which the evaluator still sees as present; test another field",
            ));
        }
        Ok(format!("{column} <> ''"))
    }

    fn equals(&mut self, field: &Field, values: &[Literal], span: Span) -> Result<String, Refusal> {
        let column = self.column(field)?;
        if field.ty == FieldType::Int {
            let numbers: Vec<String> = values.iter().map(literal_text).collect();
            let test = match numbers.as_slice() {
                [one] => format!("= {one}"),
                many => format!("IN ({})", many.join(", ")),
            };
            return Ok(numeric(&column, &test));
        }
        let strings = values
            .iter()
            .map(|v| self.folded(&literal_text(v), span))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match strings.as_slice() {
            [one] => format!("lower({column}) = {one}"),
            many => format!("lower({column}) IN ({})", many.join(", ")),
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
        Ok(numeric(&self.column(field)?, &format!("{symbol} {value}")))
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

    /// `=` and `IN` without `lower()`.
    fn equals_cased(
        &mut self,
        field: &Field,
        values: &[Literal],
        span: Span,
    ) -> Result<String, Refusal> {
        let column = self.column(field)?;
        let strings = values
            .iter()
            .map(|v| self.literal(&literal_text(v), span))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match strings.as_slice() {
            [one] => format!("{column} = {one}"),
            many => format!("{column} IN ({})", many.join(", ")),
        })
    }

    /// `LIKE` (and `=` for a glob without wildcards) without `lower()`.
    fn text_one_cased(
        &mut self,
        field: &Field,
        op: TextOp,
        value: &str,
        span: Span,
    ) -> Result<String, Refusal> {
        self.text_test(field, op, value, true, span)
    }

    /// `length()` counts Unicode code points on both engines; a missing
    /// field is null, so the test is null (not 0) there, as the evaluator
    /// has no value to measure.
    fn length(
        &mut self,
        field: &Field,
        values: &[Literal],
        compare: Option<(Ordering, i64)>,
        _: Span,
    ) -> Result<String, Refusal> {
        let length = format!("length({})", self.column(field)?);
        Ok(match compare {
            Some((op, n)) => format!("{length} {} {n}", op.symbol()),
            None => {
                let numbers: Vec<String> = values.iter().map(literal_text).collect();
                match numbers.as_slice() {
                    [one] => format!("{length} = {one}"),
                    many => format!("{length} IN ({})", many.join(", ")),
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
        let column = self.column(field)?;
        let translated = pattern::translate(self.flavor, pattern, case_insensitive);
        self.literal(&translated, span)?;
        Ok(self.flavor.regex_test(&column, &translated))
    }

    fn cidr(&mut self, field: &Field, blocks: &[IpBlock], _: Span) -> Result<String, Refusal> {
        let column = self.column(field)?;
        Ok(address::in_blocks(self.flavor, &column, blocks))
    }
}

/// The comparison `test` (`= 443`, `IN (22, 3389)`, `>= 400`) on a text
/// column read as an integer; null for a missing field, false for text
/// that is no integer.
fn numeric(column: &str, test: &str) -> String {
    format!("({} {test} AND {})", integer(column), integer_text(column))
}

/// Parts joined by `AND` / `OR`: at the top one per line, inside another
/// combination in parentheses.
fn join(parts: Vec<String>, glue: &str, nesting: Nesting) -> String {
    match nesting {
        Nesting::Top => parts.join(&format!("\n  {glue} ")),
        Nesting::Nested => format!("({})", parts.join(&format!(" {glue} "))),
    }
}

fn literal_text(literal: &Literal) -> String {
    match literal {
        Literal::String(s) => s.clone(),
        Literal::Int(n) => n.to_string(),
    }
}
