//! What people bring from other languages into a `where`: `=` for `==`,
//! `<>` for `!=`,
//! `&&` `||` `!` for `and` `or` `not`, `is null` / `== null` / `!= null`
//! for `exists()`, and a bare word where a string is meant. Each is
//! reported (E0206, E0207, E0208) with the fix, and read as that fix would
//! write it, so the item is still checked and one run shows the rest.

use super::lexical::{is_keyword, word_len};
use super::{Ctx, Span, Spanned};
use crate::diag::{Applicability, Diagnostic, Fix, codes};
use crate::syntax::ast::{Expr, Literal, Operator, StringLit};

impl<'a> Ctx<'a> {
    /// `&&` or `||` after an operand: the rest after it and the word it
    /// stands for (`and`, `or`).
    pub(super) fn foreign_logical(&self, rest: &'a str) -> Option<(&'a str, &'static str)> {
        let start = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        let word = match start.get(..2)? {
            "&&" => "and",
            "||" => "or",
            _ => return None,
        };
        let at = self.offset(start);
        let span = Span::new(at, at + 2);
        self.report_foreign(span, &start[..2], word);
        Some((&start[2..], word))
    }

    /// A prefix `!` (not `!=`): the rest after it.
    pub(super) fn foreign_not(&self, rest: &'a str) -> Option<&'a str> {
        let start = self.ws(rest);
        if !start.starts_with('!') || start.starts_with("!=") {
            return None;
        }
        let at = self.offset(start);
        self.report_foreign(Span::new(at, at + 1), "!", "not");
        Some(&start[1..])
    }

    /// A lone `=` or SQL's `<>` where an operator is expected: the rest
    /// after it, the span and the operator it stands for.
    pub(super) fn foreign_equals(&self, start: &'a str) -> Option<(&'a str, Span, Operator)> {
        let (written, meant, op) = if start.starts_with("<>") {
            ("<>", "!=", Operator::Ne)
        } else if start.starts_with('=') && !start.starts_with("==") {
            ("=", "==", Operator::Eq)
        } else {
            return None;
        };
        let at = self.offset(start);
        let span = Span::new(at, at + written.len());
        self.report_foreign(span, written, meant);
        Some((&start[written.len()..], span, op))
    }

    /// E0206 at `span` (the text `written`), fixed by `word` with the spaces
    /// a word needs around it.
    fn report_foreign(&self, span: Span, written: &str, word: &str) {
        self.retract(span.start, codes::UNEXPECTED_CHARACTER.id);
        let before = self.text.get(..span.start).and_then(|t| t.chars().last());
        let after = self.text.get(span.end..).and_then(|t| t.chars().next());
        let spaced = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || c == '(' || c == ')');
        let is_word = word.starts_with(|c: char| c.is_ascii_alphabetic());
        let mut replacement = String::new();
        if is_word && !spaced(before) {
            replacement.push(' ');
        }
        replacement.push_str(word);
        if is_word && !spaced(after) {
            replacement.push(' ');
        }
        self.report(
            Diagnostic::error(
                codes::FOREIGN_OPERATOR,
                self.file,
                span,
                format!("`{written}` is not an operator here; write `{word}`"),
            )
            .with_label(format!("use `{word}`"))
            .with_help(if word == "==" || word == "!=" {
                "equality is `==`, inequality `!=`"
            } else {
                "conditions are joined with `and` and `or`, and negated with `not`"
            })
            .with_fix(Fix::safe(
                format!("replace `{written}` with `{word}`"),
                span,
                replacement,
            )),
        );
    }

    /// `f is null`, `f is not null`: the rest and the expression they mean.
    pub(super) fn is_null(
        &self,
        input: &'a str,
        field: &Spanned<String>,
    ) -> Option<(&'a str, Spanned<Expr>)> {
        let (after, _) = self.keyword("is")(input).ok()?;
        let (after, negated) = match self.keyword("not")(after) {
            Ok((after, _)) => (after, true),
            Err(_) => (after, false),
        };
        let (rest, null) = self.keyword("null")(after).ok()?;
        Some((rest, self.null_test(field, null, !negated)))
    }

    /// `== null` or `!= null` after `field`, once the operator is read.
    pub(super) fn equals_null(
        &self,
        input: &'a str,
        field: &Spanned<String>,
        absent: bool,
    ) -> Option<(&'a str, Spanned<Expr>)> {
        let (rest, null) = self.keyword("null")(input).ok()?;
        Some((rest, self.null_test(field, null, absent)))
    }

    /// E0207 for a `null` test from `field` to `null`, read as
    /// `not exists(f)` (`absent`) or `exists(f)`.
    fn null_test(&self, field: &Spanned<String>, null: Span, absent: bool) -> Spanned<Expr> {
        let span = field.span.to(null);
        let written = self.text.get(span.range()).unwrap_or("");
        let exists = format!("exists({})", field.node);
        let meant = if absent {
            format!("not {exists}")
        } else {
            exists
        };
        self.report(
            Diagnostic::error(
                codes::NULL_COMPARISON,
                self.file,
                span,
                format!("`{written}`: there is no `null`; write `{meant}`"),
            )
            .with_label("no `null` in this language")
            .with_help(
                "a field is tested for presence with `exists(f)`; note that `exists()` also \
                 treats an empty string as absent",
            )
            .with_fix(Fix::one(
                Applicability::Unsafe,
                format!("replace with `{meant}`"),
                span,
                meant,
            )),
        );
        let test = Spanned::new(Expr::Exists(field.clone()), span);
        if absent {
            Spanned::new(Expr::Not(Box::new(test)), span)
        } else {
            test
        }
    }

    /// A bare word where a value is expected (`f == admin`), read as the
    /// string it most likely is. Reserved words, and words that go on as a
    /// path or a call, are left to the ordinary error.
    pub(super) fn bare_word_value(&self, start: &'a str) -> Option<(&'a str, Spanned<Literal>)> {
        if super::literal::starts_string(start) {
            return None;
        }
        let len = word_len(start);
        let word = start.get(..len).filter(|w| !w.is_empty())?;
        let rest = &start[len..];
        if is_keyword(word) || rest.starts_with(['.', '(']) || super::statement::is_statement(word)
        {
            return None;
        }
        let at = self.offset(start);
        let span = Span::new(at, at + len);
        let quoted = format!("\"{word}\"");
        self.report(
            Diagnostic::error(
                codes::BARE_WORD_VALUE,
                self.file,
                span,
                format!("expected a value, found the bare word `{word}`"),
            )
            .with_label("not quoted")
            .with_help(format!("strings are quoted: write `{quoted}`"))
            .with_fix(Fix::safe(format!("quote it: `{quoted}`"), span, quoted)),
        );
        let value = StringLit {
            value: word.to_string(),
            raw: false,
        };
        Some((rest, Spanned::new(Literal::String(value), span)))
    }
}
