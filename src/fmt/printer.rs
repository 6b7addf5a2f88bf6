//! The line printer under `fmt`: builds output lines at an indent and keeps
//! every comment with the source line it was on. A comment that shares its
//! line with code is appended to the output line that holds that code; a
//! comment alone on its line is printed alone, before the next token that
//! followed it in the source.

use std::collections::BTreeSet;

use crate::syntax::{Span, Spanned};

pub struct Printer<'a> {
    source: &'a str,
    out: String,
    line: String,
    indent: usize,
    /// Source lines (0-based) of the tokens on the current output line.
    touched: BTreeSet<usize>,
    comments: Vec<Comment>,
    /// Index of the first own-line comment not yet printed.
    next_own_line: usize,
    line_starts: Vec<usize>,
}

struct Comment {
    span: Span,
    line: usize,
    /// Only whitespace before it on its line.
    own_line: bool,
    printed: bool,
}

impl<'a> Printer<'a> {
    pub fn new(source: &'a str, comments: &[Spanned<String>]) -> Self {
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let line_of = |offset: usize| line_starts.partition_point(|&s| s <= offset) - 1;
        let comments = comments
            .iter()
            .map(|c| {
                let line = line_of(c.span.start);
                let before = &source[line_starts[line]..c.span.start];
                Comment {
                    span: c.span,
                    line,
                    own_line: before.trim().is_empty(),
                    printed: false,
                }
            })
            .collect();
        Printer {
            source,
            out: String::new(),
            line: String::new(),
            indent: 0,
            touched: BTreeSet::new(),
            comments,
            next_own_line: 0,
            line_starts,
        }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset) - 1
    }

    pub fn indent(&mut self, by: usize) {
        self.indent += by;
    }

    pub fn dedent(&mut self, by: usize) {
        self.indent = self.indent.saturating_sub(by);
    }

    /// The source text of a span (a literal keeps its spelling).
    pub fn spelling(&self, span: Span) -> &'a str {
        self.source.get(span.range()).unwrap_or("")
    }

    /// Writes `text`, which stands for source at `span`: own-line comments
    /// that came before it are printed first.
    pub fn token(&mut self, text: &str, span: Span) {
        self.comments_before(span.start);
        if self.line.is_empty() {
            self.line.push_str(&" ".repeat(self.indent));
        }
        self.line.push_str(text);
        self.touched.insert(self.line_of(span.start));
        if span.end > span.start {
            self.touched.insert(self.line_of(span.end - 1));
        }
    }

    /// Writes punctuation or a space that has no source position of its own.
    pub fn text(&mut self, text: &str) {
        if self.line.is_empty() {
            self.line.push_str(&" ".repeat(self.indent));
        }
        self.line.push_str(text);
    }

    /// Ends the current line, appending the comments that shared a source
    /// line with its tokens.
    pub fn newline(&mut self) {
        let mut trailing = Vec::new();
        for comment in &mut self.comments {
            if !comment.printed && !comment.own_line && self.touched.contains(&comment.line) {
                comment.printed = true;
                trailing.push(comment.span);
            }
        }
        // A comment runs to the end of its line, so only one can trail a
        // line; any further ones follow on lines of their own.
        // Comment spans hold no trailing blanks (the parser drops them), so
        // a comment is written exactly as its span says.
        let mut trailing = trailing.into_iter();
        let mut line = self.line.trim_end().to_string();
        if let Some(span) = trailing.next() {
            line.push(' ');
            line.push_str(self.spelling(span));
        }
        if !line.is_empty() {
            self.out.push_str(&line);
            self.out.push('\n');
        }
        for span in trailing {
            let text = format!("{}{}", " ".repeat(self.indent), self.spelling(span));
            self.out.push_str(&text);
            self.out.push('\n');
        }
        self.line.clear();
        self.touched.clear();
    }

    /// A blank line, unless the output is empty, already ends with one,
    /// or has just opened a block.
    pub fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") && !self.out.ends_with("{\n") {
            self.out.push('\n');
        }
    }

    /// Whether the source line just above the one holding `offset` is blank.
    pub fn blank_before(&self, offset: usize) -> bool {
        let line = self.line_of(offset.min(self.source.len()));
        line > 0 && {
            let start = self.line_starts[line - 1];
            self.source[start..self.line_starts[line]].trim().is_empty()
        }
    }

    /// Prints, each on its own line, the own-line comments that come before
    /// `offset` in the source (keeping one blank line above one that had it).
    pub fn comments_before(&mut self, offset: usize) {
        while let Some(comment) = self.comments.get(self.next_own_line) {
            if comment.span.start >= offset {
                break;
            }
            self.next_own_line += 1;
            if comment.printed || !comment.own_line {
                continue;
            }
            let span = comment.span;
            self.comments[self.next_own_line - 1].printed = true;
            if !self.line.trim().is_empty() {
                // A comment inside something printed on one line: end the
                // line there so the comment survives, and carry on below.
                self.newline();
            }
            self.line.clear();
            if self.blank_before(span.start) {
                self.blank_line();
            }
            let text = format!("{}{}", " ".repeat(self.indent), self.spelling(span));
            self.out.push_str(&text);
            self.out.push('\n');
        }
    }

    /// Prints the comments left at the end of the file and returns the text.
    pub fn finish(mut self) -> String {
        self.comments_before(usize::MAX);
        self.newline();
        for comment in self.comments.iter().filter(|c| !c.printed) {
            // Trailing comments whose line printed nothing (cannot happen for
            // a parsed file, but a comment must never be lost).
            self.out
                .push_str(self.source.get(comment.span.range()).unwrap_or(""));
            self.out.push('\n');
        }
        self.out
    }

    /// Whether any comment starts inside `span`.
    pub fn has_comment_in(&self, span: Span) -> bool {
        self.comments
            .iter()
            .any(|c| c.span.start >= span.start && c.span.start < span.end)
    }

    /// The width of the current line so far.
    pub fn column(&self) -> usize {
        if self.line.is_empty() {
            self.indent
        } else {
            self.line.chars().count()
        }
    }
}
