//! `where` expressions: `or` over `and` over prefix `not` over primaries
//! (`( expr )`, `exists(field)`, predicates), both binary operators left
//! associative. Parentheses and `not` are read with an explicit stack rather
//! than by recursion, so nesting costs heap, not call stack: 256 levels parse
//! in any thread, and the limit is checked at each opener.

use super::error::{PError, PResult};
use super::{Ctx, MAX_DEPTH, Span, Spanned, commit};
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::Expr;

const CONDITION: &str = "a condition such as `field == value`";

/// Conditions joined by `and`/`or` in one expression. The syntax tree nests
/// a chain as deep as it is long and later stages walk it recursively: the
/// cap keeps that depth far inside the stack the binary runs on.
pub(super) const MAX_TERMS: usize = 100_000;

/// What is open while an operand is being read.
enum Pending {
    /// A prefix `not` at this offset.
    Not(usize),
    /// An open `(`.
    Group(Span),
    /// The left side of an `and`.
    And(Spanned<Expr>),
    /// The left side of an `or`.
    Or(Spanned<Expr>),
}

fn join(
    make: fn(Box<Spanned<Expr>>, Box<Spanned<Expr>>) -> Expr,
    left: Spanned<Expr>,
    right: Spanned<Expr>,
) -> Spanned<Expr> {
    let span = left.span.to(right.span);
    Spanned::new(make(Box::new(left), Box::new(right)), span)
}

/// Folds the pending `and`s (and `or`s too when `with_or`) into `right`.
fn reduce(stack: &mut Vec<Pending>, mut right: Spanned<Expr>, with_or: bool) -> Spanned<Expr> {
    loop {
        match stack.pop() {
            Some(Pending::And(left)) => right = join(Expr::And, left, right),
            Some(Pending::Or(left)) if with_or => right = join(Expr::Or, left, right),
            Some(other) => {
                stack.push(other);
                return right;
            }
            None => return right,
        }
    }
}

/// Applies the `not`s waiting directly before a completed operand.
fn apply_nots(
    stack: &mut Vec<Pending>,
    mut operand: Spanned<Expr>,
    depth: &mut usize,
) -> Spanned<Expr> {
    while let Some(Pending::Not(start)) = stack.last() {
        let span = Span::new(*start, operand.span.end);
        operand = Spanned::new(Expr::Not(Box::new(operand)), span);
        stack.pop();
        *depth -= 1;
    }
    operand
}

impl<'a> Ctx<'a> {
    /// The expression of a `where` statement.
    pub(super) fn where_expr(&self, input: &'a str) -> PResult<'a, Spanned<Expr>> {
        let mut stack = Vec::new();
        let mut depth = 0;
        let mut rest = input;
        let mut terms = 0;
        loop {
            terms += 1;
            if terms > MAX_TERMS {
                return Err(self.too_long(rest));
            }
            let (after, operand) = self.operand_with_prefixes(rest, &mut stack, &mut depth)?;
            let (after, done) = self.after_operand(after, &mut stack, &mut depth, operand)?;
            rest = after;
            if let Some(expr) = done {
                return Ok((rest, expr));
            }
        }
    }

    /// Pushes prefix `not`s and `(`s, then reads one primary.
    fn operand_with_prefixes(
        &self,
        mut rest: &'a str,
        stack: &mut Vec<Pending>,
        depth: &mut usize,
    ) -> PResult<'a, Spanned<Expr>> {
        let first = stack.is_empty();
        loop {
            if let Ok((after, span)) = self.keyword("not")(rest) {
                *depth = self.deeper(rest, *depth, span)?;
                stack.push(Pending::Not(span.start));
                rest = after;
            } else if let Some(after) = self.foreign_not(rest) {
                let at = self.offset(after) - 1;
                *depth = self.deeper(rest, *depth, Span::new(at, at + 1))?;
                stack.push(Pending::Not(at));
                rest = after;
            } else if let Ok((after, open)) = self.punct("(")(rest) {
                *depth = self.deeper(rest, *depth, open)?;
                stack.push(Pending::Group(open));
                rest = after;
            } else {
                let primary = self
                    .primary(rest, *depth)
                    .map_err(|e| self.unclosed(e, stack));
                return if first { primary } else { commit(primary) };
            }
        }
    }

    /// After an operand: an `and`/`or` (None: read another operand), a `)`
    /// closing a group, or the end of the expression (Some).
    fn after_operand(
        &self,
        rest: &'a str,
        stack: &mut Vec<Pending>,
        depth: &mut usize,
        mut operand: Spanned<Expr>,
    ) -> PResult<'a, Option<Spanned<Expr>>> {
        let mut rest = rest;
        loop {
            operand = apply_nots(stack, operand, depth);
            let foreign = self.foreign_logical(rest);
            if let Some((after, "and")) = foreign {
                let left = reduce(stack, operand, false);
                stack.push(Pending::And(left));
                return Ok((after, None));
            }
            if let Some((after, _)) = foreign {
                let left = reduce(stack, operand, true);
                stack.push(Pending::Or(left));
                return Ok((after, None));
            }
            if let Ok((after, _)) = self.keyword("and")(rest) {
                let left = reduce(stack, operand, false);
                stack.push(Pending::And(left));
                return Ok((after, None));
            }
            if let Ok((after, _)) = self.keyword("or")(rest) {
                let left = reduce(stack, operand, true);
                stack.push(Pending::Or(left));
                return Ok((after, None));
            }
            let inner = reduce(stack, operand, true);
            let Some(Pending::Group(open)) = stack.pop() else {
                return Ok((rest, Some(inner)));
            };
            let close = self.punct(")")(rest).map_err(|_| {
                let error = PError::expected(self.ws(rest), "`and`, `or` or `)`");
                nom::Err::Failure(error.unclosed_at_end(open, '('))
            });
            let (after, close) = close?;
            *depth -= 1;
            operand = Spanned::new(Expr::Group(Box::new(inner)), open.to(close));
            rest = after;
        }
    }

    /// At the end of the input, the innermost open `(` is what is unclosed.
    fn unclosed(&self, error: nom::Err<PError>, stack: &[Pending]) -> nom::Err<PError> {
        let innermost = stack.iter().rev().find_map(|p| match p {
            Pending::Group(open) => Some(*open),
            _ => None,
        });
        match innermost {
            Some(open) => error.map(|e| e.unclosed_at_end(open, '(')),
            None => error,
        }
    }

    /// `exists(field)` or a predicate.
    fn primary(&self, input: &'a str, depth: usize) -> PResult<'a, Spanned<Expr>> {
        if let Ok((after, keyword)) = self.keyword("exists")(input) {
            return self.exists(after, keyword, depth);
        }
        match self.predicate(input, depth) {
            Err(nom::Err::Error(e)) if e.rest_len == self.ws(input).len() => {
                Err(nom::Err::Error(PError::expected(self.ws(input), CONDITION)))
            }
            other => other,
        }
    }

    /// `exists(field)`, after the keyword.
    fn exists(&self, input: &'a str, keyword: Span, depth: usize) -> PResult<'a, Spanned<Expr>> {
        let (after, open) = commit(self.punct("(")(input))?;
        self.deeper(input, depth, open)?;
        let (after, field) =
            commit(self.field_path(after)).map_err(|e| e.map(|e| e.unclosed_at_end(open, '(')))?;
        let (rest, close) = self.closing(after, ")", open, '(')?;
        Ok((rest, Spanned::new(Expr::Exists(field), keyword.to(close))))
    }

    /// E0205 at the condition that starts at `input`.
    fn too_long(&self, input: &'a str) -> nom::Err<PError> {
        let at = self.ws(input);
        let start = self.offset(at);
        let diagnostic = Diagnostic::error(
            codes::EXPRESSION_TOO_LONG,
            self.file,
            Span::new(start, start),
            "expression too long",
        )
        .with_label(format!(
            "this is condition {} of the expression",
            MAX_TERMS + 1
        ))
        .with_help(format!(
            "at most {MAX_TERMS} conditions may be joined by `and` and `or`; \
             split the rule, or put the values in a list (`f in @list`)"
        ));
        nom::Err::Failure(PError::done(at, diagnostic))
    }

    /// One level deeper than `depth` at `opener`, or "nested too deeply".
    pub(super) fn deeper(
        &self,
        input: &'a str,
        depth: usize,
        opener: Span,
    ) -> Result<usize, nom::Err<PError>> {
        if depth < MAX_DEPTH {
            return Ok(depth + 1);
        }
        let diagnostic = Diagnostic::error(
            codes::NESTED_TOO_DEEPLY,
            self.file,
            opener,
            "nested too deeply",
        )
        .with_label(format!("this goes past {MAX_DEPTH} levels of nesting"))
        .with_help(format!(
            "at most {MAX_DEPTH} levels of `(`, `[`, `{{` and `not` may nest; \
                     simplify the expression"
        ));
        Err(nom::Err::Failure(PError::done(self.ws(input), diagnostic)))
    }
}
