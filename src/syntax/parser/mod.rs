//! The parser: source text to `ast::File` plus syntax diagnostics. It is a
//! nom parser over `&str` with one small function per grammar item; every
//! token function first skips whitespace and comments, so an error's position
//! is always the first token that cannot continue. Lexical problems that leave
//! the token well delimited (a bad escape, an integer out of range, a stray
//! character) are reported on the side and parsing goes on; a syntax error
//! ends the item, which is kept as `Item::Broken`, and parsing resumes at the
//! next top-level `rule` or `list`.
//!
//! Choices the spec leaves open: an item with an error is `Item::Broken`
//! (its values may be made up), unless every error left its meaning known
//! (a stray character, a bad escape, `f not contains s`): then it is checked
//! too, so one run reports the rest of its problems; recovery resumes only at a `rule`/`list`
//! that is the first token on its line; a comment's text keeps its `#` and
//! drops a CR before the LF; the `(` of `exists(` counts toward nesting like
//! any `(` in a `where`; stray characters (including ASCII punctuation the
//! grammar never uses, such as `;` or `'`) are reported once per run and
//! skipped like whitespace.

mod error;
mod event;
mod expr;
mod foreign;
mod items;
mod lexical;
mod literal;
pub(crate) use literal::duration_seconds;
mod operand;
mod recovery;
mod sequence;
mod statement;
mod test_block;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;

use crate::diag::Diagnostic;
use crate::source::FileId;
use crate::syntax::ast;
use crate::syntax::{Span, Spanned};

use error::{PError, PResult};
pub use lexical::KEYWORDS;
pub use statement::{ALERT_LINES, STATEMENTS};

/// How many `(`, `[`, `{` and prefix `not` may nest (spec 1.4).
pub(super) const MAX_DEPTH: usize = 256;

/// Parses one file. Never panics; always returns a tree, with `Item::Broken`
/// for each item that failed, and the diagnostics in the order found.
pub fn parse(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    let ctx = Ctx::new(file, text);
    let items = ctx.items(text);
    let comments = ctx.comments.into_inner();
    let diagnostics = ctx.diagnostics.into_inner();
    let made_up = ctx.made_up.into_inner();
    let file = ast::File {
        items,
        comments,
        made_up,
    };
    (file, diagnostics)
}

/// What the grammar functions share: the text (to turn the rest of the input
/// into offsets) and what they collect on the side. Backtracking may pass the
/// same comment or lexical error twice, so both are deduplicated by offset.
pub(super) struct Ctx<'a> {
    text: &'a str,
    file: FileId,
    comments: RefCell<Vec<Spanned<String>>>,
    diagnostics: RefCell<Vec<Diagnostic>>,
    reported: RefCell<HashSet<(usize, &'static str)>>,
    /// Spans of malformed durations and integers, read as 0.
    made_up: RefCell<Vec<Span>>,
    /// The last whitespace gap skipped, as lengths of the rest before and after.
    last_gap: Cell<(usize, usize)>,
}

impl<'a> Ctx<'a> {
    fn new(file: FileId, text: &'a str) -> Self {
        Ctx {
            text,
            file,
            comments: RefCell::default(),
            diagnostics: RefCell::default(),
            reported: RefCell::default(),
            made_up: RefCell::default(),
            last_gap: Cell::new((usize::MAX, 0)),
        }
    }

    /// Byte offset in the text of the start of `rest`.
    fn offset(&self, rest: &str) -> usize {
        self.text.len().saturating_sub(rest.len())
    }

    /// The span from the start of `from` to the start of `to`.
    fn span(&self, from: &str, to: &str) -> Span {
        Span::new(self.offset(from), self.offset(to))
    }

    /// Records a diagnostic that does not stop the parse (once per place).
    fn report(&self, diagnostic: Diagnostic) {
        let key = (diagnostic.primary.span.start, diagnostic.code.id);
        if self.reported.borrow_mut().insert(key) {
            self.diagnostics.borrow_mut().push(diagnostic);
        }
    }

    /// Withdraws the diagnostic with `code` at `start` (a stray `&` that
    /// turned out to be half of `&&`); it stays marked as reported.
    fn retract(&self, start: usize, code: &'static str) {
        self.reported.borrow_mut().insert((start, code));
        self.diagnostics
            .borrow_mut()
            .retain(|d| !(d.primary.span.start == start && d.code.id == code));
    }

    /// Records a parse error as a diagnostic.
    fn report_error(&self, error: PError) {
        self.report(error.into_diagnostic(self.file, self.text));
    }

    fn diagnostic_count(&self) -> usize {
        self.diagnostics.borrow().len()
    }

    /// Whether the diagnostics since `before` leave the item's meaning
    /// known, so it is still checked: a stray character (skipped), a bad
    /// escape (the rest of the string is intact), `f not contains s` (read
    /// as the `not f contains s` its help suggests), an operator of another
    /// language, a `null` test or an unquoted word (read as what their fix
    /// writes), or a malformed duration or integer (read as 0 and recorded
    /// in `made_up`, so the checker keeps quiet about it). Anything else
    /// makes values up, and the item is kept only by name.
    fn only_harmless_since(&self, before: usize) -> bool {
        use crate::diag::codes::{
            BARE_WORD_VALUE, FOREIGN_OPERATOR, INTEGER_OUT_OF_RANGE, INVALID_DURATION,
            INVALID_ESCAPE, INVALID_UNICODE_ESCAPE, NEGATED_STRING_OPERATOR, NULL_COMPARISON,
            UNEXPECTED_CHARACTER,
        };
        self.diagnostics.borrow()[before..].iter().all(|d| {
            [
                UNEXPECTED_CHARACTER,
                INVALID_ESCAPE,
                INVALID_UNICODE_ESCAPE,
                NEGATED_STRING_OPERATOR,
                INVALID_DURATION,
                INTEGER_OUT_OF_RANGE,
                FOREIGN_OPERATOR,
                NULL_COMPARISON,
                BARE_WORD_VALUE,
            ]
            .contains(&d.code)
        })
    }

    /// Records a malformed value read as 0.
    fn made_up(&self, span: Span) {
        self.made_up.borrow_mut().push(span);
    }

    fn record_comment(&self, span: Span, text: &str) {
        let mut comments = self.comments.borrow_mut();
        if let Err(at) = comments.binary_search_by_key(&span.start, |c| c.span.start) {
            comments.insert(at, Spanned::new(text.to_string(), span));
        }
    }

    /// An error for `nom`: `Failure` stops alternatives from being tried.
    fn fail<T>(&self, error: PError) -> PResult<'a, T> {
        Err(nom::Err::Failure(error))
    }
}

/// Turns a recoverable error into a failure: used once a keyword commits.
fn commit<T>(result: PResult<'_, T>) -> PResult<'_, T> {
    result.map_err(|e| match e {
        nom::Err::Error(e) => nom::Err::Failure(e),
        other => other,
    })
}

/// The `PError` inside any nom error (`Incomplete` cannot happen on complete
/// input; it is mapped to a plain error at the end of the text).
fn into_error(error: nom::Err<PError>) -> PError {
    match error {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        nom::Err::Incomplete(_) => PError {
            rest_len: 0,
            problem: error::Problem::Nom,
        },
    }
}
