//! Predicates (`field OP operand`), their operators and operands, and the
//! one routine every bracketed, comma-separated sequence goes through
//! (inline lists, list declarations, `attack [...]`, event objects).

use super::error::{PError, PResult};
use super::{Ctx, Span, Spanned, commit};
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::{Expr, Literal, Operand, Operator, Predicate};

/// Builds a word operator from whether `all` follows it.
type WordOperator = fn(bool) -> Operator;

/// A bracketed sequence: where it opens, and how deep that is (None when the
/// brackets do not count toward the nesting limit).
pub(super) struct Bracket {
    pub open: char,
    pub close: &'static str,
    /// What an element is called in "expected ... or `]`".
    pub element: &'static str,
    pub depth: Option<usize>,
}

impl<'a> Ctx<'a> {
    /// `OPEN element, element, ... CLOSE` with an optional trailing comma.
    /// The opener must be next; returns the elements and the whole span.
    pub(super) fn seq<T>(
        &self,
        input: &'a str,
        bracket: &Bracket,
        mut element: impl FnMut(&'a str) -> PResult<'a, T>,
    ) -> PResult<'a, (Vec<T>, Span)> {
        let open_str: &'static str = if bracket.open == '[' { "[" } else { "{" };
        let (mut rest, open) = self.punct(open_str)(input)?;
        if let Some(depth) = bracket.depth {
            self.deeper(input, depth, open)?;
        }
        let unclosed = |e: nom::Err<PError>| e.map(|e| e.unclosed_at_end(open, bracket.open));
        let mut elements = Vec::new();
        loop {
            if let Ok((after, close)) = self.punct(bracket.close)(rest) {
                return Ok((after, (elements, open.to(close))));
            }
            let (after, value) = match element(rest) {
                Err(nom::Err::Error(e)) if e.rest_len == self.ws(rest).len() => {
                    let what = format!("{} or `{}`", bracket.element, bracket.close);
                    return Err(unclosed(nom::Err::Failure(PError::expected(
                        self.ws(rest),
                        what,
                    ))));
                }
                other => commit(other).map_err(unclosed)?,
            };
            elements.push(value);
            rest = after;
            if let Ok((after, _)) = self.punct(",")(rest) {
                rest = after;
            } else if let Ok((after, close)) = self.punct(bracket.close)(rest) {
                return Ok((after, (elements, open.to(close))));
            } else {
                let what = format!("`,` or `{}`", bracket.close);
                return Err(unclosed(nom::Err::Failure(PError::expected(
                    self.ws(rest),
                    what,
                ))));
            }
        }
    }

    /// A string, raw string or integer literal (or a bare word, reported
    /// and read as the string it means).
    pub(super) fn literal(&self, input: &'a str) -> PResult<'a, Spanned<Literal>> {
        let start = self.ws(input);
        if super::literal::starts_string(start) {
            let (rest, s) = self.string_lit(start)?;
            return Ok((rest, s.map(Literal::String)));
        }
        if let Some(found) = self.bare_word_value(start) {
            return Ok(found);
        }
        match self.integer(start) {
            Ok((rest, n)) => Ok((rest, n.map(Literal::Int))),
            Err(nom::Err::Error(e)) if matches!(e.problem, super::error::Problem::Done(_)) => {
                Err(nom::Err::Error(e))
            }
            Err(nom::Err::Error(_)) => Err(nom::Err::Error(PError::expected(start, "a value"))),
            Err(other) => Err(other),
        }
    }

    /// `[literal, ...]` at `depth` (the bracket is one level deeper).
    pub(super) fn literal_list(
        &self,
        input: &'a str,
        depth: Option<usize>,
    ) -> PResult<'a, Spanned<Vec<Spanned<Literal>>>> {
        let bracket = Bracket {
            open: '[',
            close: "]",
            element: "a value",
            depth,
        };
        let (rest, (elements, span)) = self.seq(input, &bracket, |i| self.literal(i))?;
        Ok((rest, Spanned::new(elements, span)))
    }

    /// `field OP operand`; `f not contains s` is reported and read as
    /// `not f contains s`, so later errors are still found.
    pub(super) fn predicate(&self, input: &'a str, depth: usize) -> PResult<'a, Spanned<Expr>> {
        let (rest, field, len) = match self.len_of(input) {
            Some(found) => found?,
            None => {
                let (rest, field) = self.field_path(input)?;
                (rest, field, None)
            }
        };
        if len.is_none()
            && let Some(found) = self.is_null(rest, &field)
        {
            return Ok(found);
        }
        let (rest, cased) = match self.keyword("cased")(rest) {
            Ok((after, span)) => (after, Some(span)),
            Err(_) => (rest, None),
        };
        let (rest, (op, negated)) = commit(self.operator(rest, &field.node))?;
        if len.is_none()
            && cased.is_none()
            && matches!(op.node, Operator::Eq | Operator::Ne)
            && let Some(found) = self.equals_null(rest, &field, op.node == Operator::Eq)
        {
            return Ok(found);
        }
        let (rest, operand) = commit(self.operand(rest, op.node, depth))?;
        let end = self.offset(rest);
        let start = len.map_or(field.span.start, |len| len.start);
        let span = Span::new(start, end);
        let predicate = Predicate {
            field,
            len,
            cased,
            op,
            operand,
        };
        let predicate = Spanned::new(Expr::Predicate(predicate), span);
        if negated {
            return Ok((rest, Spanned::new(Expr::Not(Box::new(predicate)), span)));
        }
        Ok((rest, predicate))
    }

    /// `len(field)`, when the input opens with `len(`: the rest, the field
    /// and the span from `len` to `)`.
    #[expect(clippy::type_complexity, reason = "one parse result")]
    fn len_of(
        &self,
        input: &'a str,
    ) -> Option<Result<(&'a str, Spanned<String>, Option<Span>), nom::Err<PError>>> {
        let (after, keyword) = self.keyword("len")(input).ok()?;
        let (after, open) = self.punct("(")(after).ok()?;
        let parsed = (|| {
            let (after, field) = commit(self.field_path(after))
                .map_err(|e| e.map(|e| e.unclosed_at_end(open, '(')))?;
            let (rest, close) = self.closing(after, ")", open, '(')?;
            Ok((rest, field, Some(keyword.to(close))))
        })();
        Some(parsed)
    }

    /// The operator after a field; the flag is set for a misplaced `not`.
    fn operator(&self, input: &'a str, field: &str) -> PResult<'a, (Spanned<Operator>, bool)> {
        let start = self.ws(input);
        if let Some((rest, span, op)) = self.foreign_equals(start) {
            return Ok((rest, (Spanned::new(op, span), false)));
        }
        for (symbol, op) in [
            ("==", Operator::Eq),
            ("!=", Operator::Ne),
            ("<=", Operator::Le),
            (">=", Operator::Ge),
            ("<", Operator::Lt),
            (">", Operator::Gt),
        ] {
            if let Ok((rest, span)) = self.punct(symbol)(start) {
                return Ok((rest, (Spanned::new(op, span), false)));
            }
        }
        if let Ok((after_not, not)) = self.keyword("not")(start) {
            if let Ok((rest, op)) = self.membership(after_not, true) {
                return Ok((rest, (Spanned::new(op.node, not.to(op.span)), false)));
            }
            let (rest, op) = self.word_operator(after_not)?;
            self.report_negated(not.to(op.span), field, &op);
            return Ok((rest, (op, true)));
        }
        if let Ok((rest, op)) = self.membership(start, false) {
            return Ok((rest, (op, false)));
        }
        let (rest, op) = self.word_operator(start)?;
        Ok((rest, (op, false)))
    }

    /// `in`, `in cidr` (or after `not`, their negations).
    fn membership(&self, input: &'a str, negated: bool) -> PResult<'a, Spanned<Operator>> {
        let (rest, in_span) = self.keyword("in")(input)?;
        let (op, rest, end) = match self.keyword("cidr")(rest) {
            Ok((after, cidr)) if negated => (Operator::NotInCidr, after, cidr),
            Ok((after, cidr)) => (Operator::InCidr, after, cidr),
            Err(_) if negated => (Operator::NotIn, rest, in_span),
            Err(_) => (Operator::In, rest, in_span),
        };
        Ok((rest, Spanned::new(op, in_span.to(end))))
    }

    /// `contains`, `startswith`, `endswith`, `like` (each with optional
    /// `all`) and `matches`.
    fn word_operator(&self, input: &'a str) -> PResult<'a, Spanned<Operator>> {
        let start = self.ws(input);
        let words: [(&'static str, WordOperator); 4] = [
            ("contains", |all| Operator::Contains { all }),
            ("startswith", |all| Operator::StartsWith { all }),
            ("endswith", |all| Operator::EndsWith { all }),
            ("like", |all| Operator::Like { all }),
        ];
        for (word, make) in words {
            if let Ok((rest, span)) = self.keyword(word)(start) {
                return Ok(match self.keyword("all")(rest) {
                    Ok((after, all)) => (after, Spanned::new(make(true), span.to(all))),
                    Err(_) => (rest, Spanned::new(make(false), span)),
                });
            }
        }
        if let Ok((rest, span)) = self.keyword("matches")(start) {
            return Ok((rest, Spanned::new(Operator::Matches, span)));
        }
        Err(nom::Err::Error(PError::expected(
            start,
            "an operator such as `==`, `in` or `contains`",
        )))
    }

    fn report_negated(&self, span: Span, field: &str, op: &Spanned<Operator>) {
        let written = self.text.get(op.span.range()).unwrap_or("");
        self.report(
            Diagnostic::error(
                codes::NEGATED_STRING_OPERATOR,
                self.file,
                span,
                format!("`not` cannot stand between a field and `{written}`"),
            )
            .with_label("only `in` has an infix `not`")
            .with_help(format!(
                "to negate the test, put `not` before the field: `not {field} {written} ...`"
            )),
        );
    }

    /// The right-hand side, which the operator constrains.
    fn operand(&self, input: &'a str, op: Operator, depth: usize) -> PResult<'a, Operand> {
        let start = self.ws(input);
        let all = matches!(
            op,
            Operator::Contains { all: true }
                | Operator::StartsWith { all: true }
                | Operator::EndsWith { all: true }
                | Operator::Like { all: true }
        );
        if op == Operator::Matches {
            return self.pattern(start);
        }
        if start.starts_with('@') {
            return self.list_ref(start);
        }
        if start.starts_with('[') {
            let (rest, list) = self.literal_list(start, Some(depth))?;
            return Ok((rest, Operand::List(list)));
        }
        if all {
            return Err(nom::Err::Error(PError::expected(
                start,
                "a list `[...]` or `@list` after `all`",
            )));
        }
        if matches!(
            op,
            Operator::In | Operator::NotIn | Operator::InCidr | Operator::NotInCidr
        ) {
            return Err(nom::Err::Error(PError::expected(
                start,
                format!("a list `[...]` or `@list` after `{}`", op.symbol()),
            )));
        }
        let (rest, literal) = self.literal(start)?;
        Ok((rest, Operand::Literal(literal)))
    }

    /// `@name`; the span includes the `@`.
    fn list_ref(&self, start: &'a str) -> PResult<'a, Operand> {
        let after_at = &start[1..];
        let len = super::lexical::word_len(after_at);
        if len == 0 {
            return Err(nom::Err::Error(PError::expected(
                start,
                "a list name after `@`",
            )));
        }
        let rest = &after_at[len..];
        let name = after_at[..len].to_string();
        Ok((
            rest,
            Operand::ListRef(Spanned::new(name, self.span(start, rest))),
        ))
    }

    /// The one pattern string of `matches`.
    fn pattern(&self, start: &'a str) -> PResult<'a, Operand> {
        if start.starts_with('[') || start.starts_with('@') {
            let (found, len) = super::error::describe(start);
            let at = self.offset(start);
            let diagnostic = Diagnostic::error(
                codes::UNEXPECTED_TOKEN,
                self.file,
                Span::new(at, at + len),
                format!("expected one pattern string after `matches`, found {found}"),
            )
            .with_label("`matches` takes one pattern")
            .with_help("write an alternation: `r\"first|second\"`");
            return Err(nom::Err::Error(PError::done(start, diagnostic)));
        }
        if !super::literal::starts_string(start) {
            return Err(nom::Err::Error(PError::expected(
                start,
                "a pattern string after `matches`",
            )));
        }
        let (rest, s) = self.string_lit(start)?;
        Ok((rest, Operand::Literal(s.map(Literal::String))))
    }
}
