//! `where` expressions after the pipe, for the tests no search term can
//! express exactly (numbers, regexes, values holding `*` or control
//! characters). Every test is `isnotnull(mvfilter(...))`: it tests each
//! value of a multivalue field, and it is false, never null, when the field
//! is missing, so `NOT`, `AND` and `OR` combine tests exactly as the
//! evaluator does. Case is ignored by `lower()` on both sides; a value that
//! `like()` cannot hold exactly (`%` and `_` are its wildcards, with no
//! documented escape) or that holds a control character goes through
//! `match()` with an escaped regex.

use crate::emit::Input;
use crate::emit::common::{GlobPiece, glob_pieces};
use crate::emit::query::{Dialect, Nesting, Refusal};
use crate::ir::{self, Field, FieldType, IpBlock, Literal, Ordering, TextOp};
use crate::syntax::Span;

use super::literal::{lowered, needs_regex, pcre_text, spl_string};
use super::{SPLUNK, field_name, integer, pattern, terms};

pub struct EvalExpr<'a> {
    input: &'a Input<'a>,
    rule: &'a ir::Rule,
}

impl<'a> EvalExpr<'a> {
    pub fn new(input: &'a Input<'a>, rule: &'a ir::Rule) -> Self {
        EvalExpr { input, rule }
    }

    fn name(&self, field: &Field) -> Result<String, Refusal> {
        Ok(eval_name(field_name(self.input, self.rule, field)?))
    }
}

/// A field as an `eval` operand: bare when it is a plain name, else quoted.
pub fn eval_name(name: &str) -> String {
    if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        name.to_string()
    } else {
        format!("'{name}'")
    }
}

/// Some value of the field passes `test`.
fn any(test: String) -> String {
    format!("isnotnull(mvfilter({test}))")
}

fn refuse(span: Span, construct: &str, help: &str) -> Refusal {
    Refusal::new(SPLUNK, span, construct, help)
}

/// One text test on lowered values (on the values as they are, `cased`):
/// `like()` where the pattern holds no `%`, `_` or a backslash of its own
/// (their meaning in `like()` is not documented), `match()` otherwise.
/// Both are case-sensitive.
fn text_test(
    name: &str,
    op: TextOp,
    value: &str,
    cased: bool,
    span: Span,
) -> Result<String, Refusal> {
    let (value, subject) = match cased {
        true => (value.to_string(), name.to_string()),
        false => (lowered(value), format!("lower({name})")),
    };
    let pieces = match op {
        TextOp::Like => glob_pieces(&value),
        _ => vec![GlobPiece::Literal(value)],
    };
    let literal_text = |p: &GlobPiece| match p {
        GlobPiece::Literal(t) => t.clone(),
        _ => String::new(),
    };
    let (before, after) = match op {
        TextOp::Contains => (true, true),
        TextOp::StartsWith => (false, true),
        TextOp::EndsWith => (true, false),
        TextOp::Like => (false, false),
    };
    if pieces.contains(&GlobPiece::AnyOne) {
        return Err(refuse(
            span,
            "`?` (one character) in a `like` glob",
            "Splunk does not document whether PCRE counts UTF-8 bytes or characters; \
             write the characters, or use `*`",
        ));
    }
    let plain = pieces
        .iter()
        .map(literal_text)
        .all(|t| !t.contains(['%', '_', '\\']) && !needs_regex(&t));
    if plain {
        let mut like = String::from(if before { "%" } else { "" });
        for piece in &pieces {
            match piece {
                GlobPiece::Literal(t) => like.push_str(t),
                _ => like.push('%'),
            }
        }
        like.push_str(if after { "%" } else { "" });
        return Ok(format!("like({subject}, {})", spl_string(&like)));
    }
    let mut regex = String::from(if before { "" } else { "^" });
    for piece in &pieces {
        match piece {
            GlobPiece::Literal(t) => regex.push_str(&pcre_text(t)),
            _ => regex.push_str("(?s:.*)"),
        }
    }
    regex.push_str(if after { "" } else { "\\z" });
    Ok(format!("match({subject}, {})", spl_string(&regex)))
}

impl Dialect for EvalExpr<'_> {
    fn target(&self) -> &'static str {
        SPLUNK
    }

    fn and(&self, parts: Vec<String>, nesting: Nesting) -> String {
        group(parts.join(" AND "), nesting)
    }

    fn or(&self, parts: Vec<String>, nesting: Nesting) -> String {
        group(parts.join(" OR "), nesting)
    }

    /// Every operand is a call or a parenthesised group; `NOT NOT x` is
    /// written `NOT (NOT x)`.
    fn not(&self, inner: String) -> String {
        super::literal::negated(inner)
    }

    fn exists(&mut self, field: &Field, _: Span) -> Result<String, Refusal> {
        if field.ty == FieldType::Time {
            return Ok("isnotnull(_time)".to_string());
        }
        let name = self.name(field)?;
        Ok(any(format!("{name}!=\"\"")))
    }

    fn equals(&mut self, field: &Field, values: &[Literal], _: Span) -> Result<String, Refusal> {
        let name = self.name(field)?;
        if field.ty == FieldType::Int {
            let tests: Vec<String> = values
                .iter()
                .filter_map(|v| match v {
                    Literal::Int(n) => Some(integer::equals(&name, *n)),
                    Literal::String(_) => None,
                })
                .collect();
            return Ok(any(tests.join(" OR ")));
        }
        let texts: Vec<String> = values
            .iter()
            .map(|v| match v {
                Literal::String(s) => lowered(s),
                Literal::Int(n) => n.to_string(),
            })
            .collect();
        if texts.iter().any(|t| needs_regex(t)) {
            let bodies: Vec<String> = texts.iter().map(|t| pcre_text(t)).collect();
            let regex = format!("^(?:{})\\z", bodies.join("|"));
            return Ok(any(format!("match(lower({name}), {})", spl_string(&regex))));
        }
        let quoted: Vec<String> = texts.iter().map(|t| spl_string(t)).collect();
        Ok(any(match quoted.as_slice() {
            [one] => format!("lower({name})=={one}"),
            _ => format!("in(lower({name}), {})", quoted.join(", ")),
        }))
    }

    fn compare(
        &mut self,
        field: &Field,
        op: Ordering,
        value: i64,
        _: Span,
    ) -> Result<String, Refusal> {
        let name = self.name(field)?;
        Ok(any(integer::compare(&name, op, value)))
    }

    fn text_one(
        &mut self,
        field: &Field,
        op: TextOp,
        value: &str,
        span: Span,
    ) -> Result<String, Refusal> {
        let name = self.name(field)?;
        Ok(any(text_test(&name, op, value, false, span)?))
    }

    /// Several values in one `mvfilter()`: any of them (or all, on one value).
    fn text(
        &mut self,
        field: &Field,
        op: TextOp,
        values: &[String],
        all: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        let name = self.name(field)?;
        let tests = values
            .iter()
            .map(|v| text_test(&name, op, v, false, span))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(any(tests.join(if all { " AND " } else { " OR " })))
    }

    /// `==` between a string and a string literal is case-sensitive in
    /// `where` (a literal is never read as a number); values a plain
    /// literal should not carry go through `match()`.
    fn equals_cased(
        &mut self,
        field: &Field,
        values: &[Literal],
        _: Span,
    ) -> Result<String, Refusal> {
        let name = self.name(field)?;
        let texts: Vec<String> = values
            .iter()
            .map(|v| match v {
                Literal::String(s) => s.clone(),
                Literal::Int(n) => n.to_string(),
            })
            .collect();
        if texts.iter().any(|t| needs_regex(t)) {
            let bodies: Vec<String> = texts.iter().map(|t| pcre_text(t)).collect();
            let regex = format!("^(?:{})\\z", bodies.join("|"));
            return Ok(any(format!("match({name}, {})", spl_string(&regex))));
        }
        let tests: Vec<String> = texts
            .iter()
            .map(|t| format!("{name}=={}", spl_string(t)))
            .collect();
        Ok(any(tests.join(" OR ")))
    }

    /// Refused: Splunk documents `len()` as a value's "character length"
    /// without saying what a character is (bytes, UTF-16 units, code
    /// points), and no other function counts Unicode scalar values.
    fn length(
        &mut self,
        _: &Field,
        _: &[Literal],
        _: Option<(Ordering, i64)>,
        span: Span,
    ) -> Result<String, Refusal> {
        Err(refuse(
            span,
            "the length of a value (`len()`)",
            "Splunk documents `len()` as a \"character length\" without saying whether it counts \
             bytes or Unicode code points (users report wrong counts on non-ASCII text); \
             no SPL function is documented to count Unicode scalar values",
        ))
    }

    /// `like()` and `match()` on the values as they are.
    fn text_cased(
        &mut self,
        field: &Field,
        op: TextOp,
        values: &[String],
        all: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        let name = self.name(field)?;
        let tests = values
            .iter()
            .map(|v| text_test(&name, op, v, true, span))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(any(tests.join(if all { " AND " } else { " OR " })))
    }

    fn regex(
        &mut self,
        field: &Field,
        pattern: &str,
        ci: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        let name = self.name(field)?;
        let regex =
            pattern::regex(pattern, ci).map_err(|why| refuse(span, &why.construct, &why.help))?;
        Ok(any(format!("match({name}, {})", spl_string(&regex))))
    }

    /// `cidrmatch()` per block; a value that is no address is outside every
    /// block as Splunk reads it (an accepted difference).
    fn cidr(&mut self, field: &Field, blocks: &[IpBlock], _: Span) -> Result<String, Refusal> {
        let name = self.name(field)?;
        let tests: Vec<String> = terms::cidr_values(blocks)
            .iter()
            .map(|b| format!("cidrmatch({}, {name})", spl_string(b)))
            .collect();
        Ok(any(tests.join(" OR ")))
    }
}

fn group(text: String, nesting: Nesting) -> String {
    match nesting {
        Nesting::Top => text,
        Nesting::Nested => format!("({text})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cased_text_tests_keep_case_on_both_sides() {
        let span = Span::default();
        let test = |op, value, cased| text_test("user", op, value, cased, span).unwrap();
        assert_eq!(test(TextOp::StartsWith, "Ad", true), r#"like(user, "Ad%")"#);
        assert_eq!(
            test(TextOp::StartsWith, "Ad", false),
            r#"like(lower(user), "ad%")"#
        );
        // `%` is `like()`'s own wildcard: an escaped regex instead.
        assert_eq!(
            test(TextOp::EndsWith, "5%", true),
            r#"match(user, "5%\\z")"#
        );
        assert_eq!(test(TextOp::Like, "A*b", true), r#"like(user, "A%b")"#);
        assert!(text_test("user", TextOp::Like, "A?", true, span).is_err());
    }
}
