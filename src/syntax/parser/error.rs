//! The parser's error value. nom threads it through every combinator; it
//! records where parsing stopped (as the length of the rest of the input, so
//! it needs no lifetime) and what went wrong, and only at the top is it turned
//! into a `Diagnostic`, when the whole text is at hand to say what was found.

use std::borrow::Cow;

use nom::error::{ErrorKind, ParseError};

use crate::diag::{Diagnostic, codes};
use crate::source::FileId;
use crate::syntax::Span;

/// Result of one grammar function.
pub(super) type PResult<'a, T> = nom::IResult<&'a str, T, PError>;

#[derive(Debug)]
pub(super) struct PError {
    /// Length of the input left where the error happened.
    pub rest_len: usize,
    pub problem: Problem,
}

#[derive(Debug)]
pub(super) enum Problem {
    /// A nom primitive failed. The grammar functions replace it with
    /// `Expected` before it can reach the user; this is only the fallback.
    Nom,
    /// "expected {0}, found ..." (E0200), at `rest_len`.
    Expected(Cow<'static, str>),
    /// "expected `{0}`, found ..." (E0200): one keyword or punctuation
    /// token. Kept apart from `Expected` so that failed alternatives, which
    /// are frequent, allocate nothing.
    Token(&'static str),
    /// The input ended inside `open`, opened at `opener` (E0201).
    Unclosed { opener: Span, open: char },
    /// A diagnostic already complete (lexical errors, E0202, E0203, ...).
    Done(Box<Diagnostic>),
}

impl PError {
    pub fn expected(rest: &str, what: impl Into<Cow<'static, str>>) -> Self {
        PError {
            rest_len: rest.len(),
            problem: Problem::Expected(what.into()),
        }
    }

    pub fn token(rest: &str, token: &'static str) -> Self {
        PError {
            rest_len: rest.len(),
            problem: Problem::Token(token),
        }
    }

    pub fn done(rest: &str, diagnostic: Diagnostic) -> Self {
        PError {
            rest_len: rest.len(),
            problem: Problem::Done(Box::new(diagnostic)),
        }
    }

    /// True for a syntax error that does not say more than "this token is wrong".
    fn is_plain(&self) -> bool {
        matches!(
            self.problem,
            Problem::Nom | Problem::Expected(_) | Problem::Token(_)
        )
    }

    /// At the end of the input inside `open`: the real problem is the unclosed
    /// delimiter. The innermost enclosing construct converts first; outer ones
    /// then leave the error alone.
    pub fn unclosed_at_end(self, opener: Span, open: char) -> Self {
        if self.rest_len == 0 && self.is_plain() {
            PError {
                rest_len: 0,
                problem: Problem::Unclosed { opener, open },
            }
        } else {
            self
        }
    }

    /// The diagnostic, now that the text is known.
    pub fn into_diagnostic(self, file: FileId, text: &str) -> Diagnostic {
        let offset = text.len().saturating_sub(self.rest_len);
        let rest = text.get(offset..).unwrap_or("");
        let (found, len) = describe(rest);
        let span = Span::new(offset, offset + len);
        match self.problem {
            Problem::Done(diagnostic) => *diagnostic,
            Problem::Token(token) => {
                let what = format!("`{token}`");
                expected(file, span, &what, &found)
            }
            Problem::Expected(what) => expected(file, span, &what, &found),
            Problem::Nom => Diagnostic::error(
                codes::UNEXPECTED_TOKEN,
                file,
                span,
                format!("unexpected {found}"),
            ),
            Problem::Unclosed { opener, open } => {
                let close = closer(open);
                Diagnostic::error(
                    codes::UNCLOSED_DELIMITER,
                    file,
                    Span::at(offset),
                    format!("expected `{close}`, found end of input"),
                )
                .with_label(format!("expected `{close}`"))
                .with_secondary(
                    file,
                    opener,
                    format!("unclosed `{open}` opened here"),
                )
            }
        }
    }
}

/// "expected X, found Y" at the token found.
fn expected(file: FileId, span: Span, what: &str, found: &str) -> Diagnostic {
    Diagnostic::error(
        codes::UNEXPECTED_TOKEN,
        file,
        span,
        format!("expected {what}, found {found}"),
    )
    .with_label(format!("expected {what}"))
}

fn closer(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

impl<'a> ParseError<&'a str> for PError {
    fn from_error_kind(input: &'a str, _: ErrorKind) -> Self {
        PError {
            rest_len: input.len(),
            problem: Problem::Nom,
        }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }

    /// Between two alternatives, the one that got further explains more.
    fn or(self, other: Self) -> Self {
        if other.rest_len < self.rest_len
            || (other.rest_len == self.rest_len && matches!(self.problem, Problem::Nom))
        {
            other
        } else {
            self
        }
    }
}

/// How to name the token at the start of `rest` in "found ...", and its length.
pub(super) fn describe(rest: &str) -> (String, usize) {
    let Some(first) = rest.chars().next() else {
        return ("end of input".to_string(), 0);
    };
    let len = token_len(rest);
    let shown = rest.get(..len).unwrap_or("");
    if first == '"' || super::literal::raw_string_start(rest).is_some() {
        return ("a string".to_string(), len);
    }
    (format!("`{shown}`"), len)
}

/// Length in bytes of the token starting `rest` (which is not empty), as far
/// as naming it in a message needs: words and numbers as a whole, strings to
/// their closing quote, two-character operators, else one character.
pub(super) fn token_len(rest: &str) -> usize {
    if let Some(len) = super::literal::string_token_len(rest) {
        return len;
    }
    let bytes = rest.as_bytes();
    let word = |from: usize| {
        from + rest
            .get(from..)
            .unwrap_or("")
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            .count()
    };
    match bytes.first() {
        Some(b) if b.is_ascii_alphanumeric() || *b == b'_' => word(0),
        Some(b'-') if bytes.get(1).is_some_and(u8::is_ascii_digit) => word(1),
        Some(b'@') => word(1),
        Some(b'=' | b'!' | b'<' | b'>') if bytes.get(1) == Some(&b'=') => 2,
        _ => rest.chars().next().map_or(0, char::len_utf8),
    }
}
