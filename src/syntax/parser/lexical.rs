//! Tokens below literals: whitespace and comments (collected), stray
//! characters (reported and skipped), words, keywords, punctuation and field
//! paths. Every function here skips leading whitespace first.

use nom::Parser;
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::satisfy;
use nom::combinator::recognize;

use super::error::{PError, PResult};
use super::{Ctx, commit};
use crate::diag::{Diagnostic, codes};
use crate::syntax::ast::Ident;
use crate::syntax::{Span, Spanned};

/// The reserved words (spec, Lexical).
pub const KEYWORDS: &[&str] = &[
    "rule",
    "list",
    "from",
    "where",
    "threshold",
    "by",
    "over",
    "and",
    "or",
    "not",
    "in",
    "cidr",
    "all",
    "contains",
    "startswith",
    "endswith",
    "like",
    "matches",
    "exists",
    "test",
    "event",
    "events",
    "repeat",
    "every",
    "expect",
    "match",
    "nomatch",
    "alert",
    "playbook",
    "count",
    "distinct",
    "true",
    "false",
    "null",
];

pub(super) fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

pub(super) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A character that can start or continue some token of the language.
fn is_token_char(c: char) -> bool {
    matches!(c,
        'a'..='z' | 'A'..='Z' | '0'..='9' | '_'
        | '{' | '}' | '[' | ']' | '(' | ')' | ',' | ':' | '.' | '='
        | '!' | '<' | '>' | '@' | '"' | '#' | '-')
}

/// Length of the word (`[A-Za-z_][A-Za-z0-9_]*`) starting `rest`, or 0.
pub(super) fn word_len(rest: &str) -> usize {
    match rest.as_bytes().first() {
        Some(b) if b.is_ascii_alphabetic() || *b == b'_' => rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count(),
        _ => 0,
    }
}

impl<'a> Ctx<'a> {
    /// Skips whitespace and comments (recording each comment) and stray
    /// characters (reporting the first of each run).
    pub(super) fn ws(&self, input: &'a str) -> &'a str {
        // Alternatives often skip the same gap again: remember the last one.
        let (from, to) = self.last_gap.get();
        if from == input.len() {
            return input.get(input.len() - to..).unwrap_or(input);
        }
        let rest = self.skip_gap(input);
        self.last_gap.set((input.len(), rest.len()));
        rest
    }

    fn skip_gap(&self, mut input: &'a str) -> &'a str {
        loop {
            input = input.trim_start_matches(is_space);
            match input.chars().next() {
                Some('#') => input = self.comment(input),
                Some(c) if !is_token_char(c) => input = self.stray(input, c),
                _ => return input,
            }
        }
    }

    /// A `#` comment up to the end of its line, without the trailing
    /// spaces, tabs and CR that `fmt` does not keep.
    pub(super) fn comment(&self, input: &'a str) -> &'a str {
        let end = input.find('\n').unwrap_or(input.len());
        let (line, rest) = input.split_at(end);
        let text = line.trim_end_matches([' ', '\t', '\r']);
        let start = self.offset(input);
        self.record_comment(Span::new(start, start + text.len()), text);
        rest
    }

    /// Reports a character that cannot appear outside strings and comments,
    /// and skips it with any that follow it directly.
    fn stray(&self, input: &'a str, c: char) -> &'a str {
        let start = self.offset(input);
        let span = Span::new(start, start + c.len_utf8());
        let code_point = format!("U+{:04X}", u32::from(c));
        let message = if c.is_ascii_graphic() {
            format!("unexpected character `{c}` ({code_point})")
        } else {
            format!("unexpected character {code_point}")
        };
        let help = match c {
            '\'' => "strings are written in double quotes: \"...\"",
            '+' => "integers are written without `+`",
            _ if c.is_whitespace() => "only space, tab, CR and LF separate tokens",
            _ => "this character may only appear inside a string or a comment",
        };
        self.report(
            Diagnostic::error(codes::UNEXPECTED_CHARACTER, self.file, span, message)
                .with_label("not allowed here")
                .with_help(help),
        );
        input.trim_start_matches(|c: char| !is_token_char(c) && !is_space(c))
    }

    /// Any word, keywords included (`status test`, playbook keys).
    pub(super) fn word(&self, input: &'a str) -> PResult<'a, Ident> {
        let input = self.ws(input);
        let (rest, word) = recognize((
            satisfy(|c: char| c.is_ascii_alphabetic() || c == '_'),
            take_while(is_word_char),
        ))
        .parse(input)?;
        Ok((rest, Spanned::new(word.to_string(), self.span(input, rest))))
    }

    /// A name: a word that is not reserved. `what` names it in the error.
    pub(super) fn name(&self, input: &'a str, what: &'static str) -> PResult<'a, Ident> {
        let start = self.ws(input);
        match self.word(start) {
            Ok((rest, word)) if !is_keyword(&word.node) => Ok((rest, word)),
            Ok((_, word)) => self.fail(PError::done(
                start,
                Diagnostic::error(
                    codes::UNEXPECTED_TOKEN,
                    self.file,
                    word.span,
                    format!("expected {what}, found keyword `{}`", word.node),
                )
                .with_label("reserved word")
                .with_help(format!("`{}` is reserved; choose another name", word.node)),
            )),
            Err(_) => Err(nom::Err::Error(PError::expected(start, what))),
        }
    }

    /// The keyword `kw` as a whole word, not starting a field path (`event.action`).
    pub(super) fn keyword(&self, kw: &'static str) -> impl FnMut(&'a str) -> PResult<'a, Span> {
        move |input: &'a str| {
            let start = self.ws(input);
            let len = word_len(start);
            let rest = start.get(len..).unwrap_or("");
            if len > 0 && start.get(..len) == Some(kw) && !rest.starts_with('.') {
                Ok((rest, self.span(start, rest)))
            } else {
                Err(nom::Err::Error(PError::token(start, kw)))
            }
        }
    }

    /// Punctuation such as `{` or `==`.
    pub(super) fn punct(&self, p: &'static str) -> impl FnMut(&'a str) -> PResult<'a, Span> {
        move |input: &'a str| {
            let start = self.ws(input);
            match tag::<_, _, PError>(p).parse(start) {
                Ok((rest, _)) => Ok((rest, self.span(start, rest))),
                Err(_) => Err(nom::Err::Error(PError::token(start, p))),
            }
        }
    }

    /// A closing delimiter; at the end of the input, an unclosed-delimiter error.
    pub(super) fn closing(
        &self,
        input: &'a str,
        close: &'static str,
        opener: Span,
        open: char,
    ) -> PResult<'a, Span> {
        commit(self.punct(close)(input)).map_err(|e| e.map(|e| e.unclosed_at_end(opener, open)))
    }

    /// A field path: `@timestamp`, or words joined by dots where a keyword
    /// may start the path only when a dot follows it.
    pub(super) fn field_path(&self, input: &'a str) -> PResult<'a, Spanned<String>> {
        let start = self.ws(input);
        let not_a_field = || nom::Err::Error(PError::expected(start, "a field"));
        if let Some(after) = start.strip_prefix('@') {
            let len = word_len(after);
            let rest = after.get(len..).unwrap_or("");
            if after.get(..len) != Some("timestamp") {
                return Err(not_a_field());
            }
            return Ok((
                rest,
                Spanned::new("@timestamp".into(), self.span(start, rest)),
            ));
        }
        let len = word_len(start);
        let mut rest = start.get(len..).unwrap_or("");
        let first = start.get(..len).unwrap_or("");
        if len == 0 || (is_keyword(first) && !rest.starts_with('.')) {
            return Err(not_a_field());
        }
        while let Some(after_dot) = rest.strip_prefix('.') {
            let len = word_len(after_dot);
            if len == 0 {
                return self.fail(PError::expected(
                    self.ws(after_dot),
                    "a field name after `.`",
                ));
            }
            rest = after_dot.get(len..).unwrap_or("");
        }
        let path = start.get(..start.len() - rest.len()).unwrap_or("");
        Ok((rest, Spanned::new(path.to_string(), self.span(start, rest))))
    }
}
