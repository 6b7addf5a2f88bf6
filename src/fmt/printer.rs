//! The line printer under `fmt`: builds output lines at an indent and keeps
//! every comment with the code it followed. A comment that shares its line
//! with code goes at the end of the output line holding the last token
//! before it in the source (so it never jumps to an earlier line that merely
//! shares its source line); when several land on one output line, all but
//! the last go on their own lines just above it, where a second `fmt` reads
//! them as own-line comments and leaves them. A comment alone on its line
//! is printed alone, before the next token that followed it in the source.

use crate::syntax::{Span, Spanned};

pub struct Printer<'a> {
    source: &'a str,
    /// Finished output lines, without their newline.
    out: Vec<String>,
    line: String,
    indent: usize,
    /// Start offsets of the tokens on the current output line.
    pending: Vec<usize>,
    /// Each printed token's start offset and the output line holding it.
    placed: Vec<(usize, usize)>,
    comments: Vec<Comment>,
    /// Index of the first own-line comment not yet printed.
    next_own_line: usize,
    line_starts: Vec<usize>,
}

/// The comments that shared a line with code, by output line.
struct Placed {
    lines: Vec<Place>,
    homeless: Vec<Span>,
}

#[derive(Clone, Default)]
struct Place {
    /// At the end of the line (the last), or just above it (the others).
    trailing: Vec<Span>,
    /// On lines of their own just below it.
    below: Vec<Span>,
}

struct Comment {
    span: Span,
    /// Only whitespace before it on its line.
    own_line: bool,
    printed: bool,
    /// The output line an own-line comment was printed on.
    at: Option<usize>,
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
                    own_line: before.trim().is_empty(),
                    printed: false,
                    at: None,
                }
            })
            .collect();
        Printer {
            source,
            out: Vec::new(),
            line: String::new(),
            indent: 0,
            pending: Vec::new(),
            placed: Vec::new(),
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
        self.pending.push(span.start);
    }

    /// Writes punctuation or a space that has no source position of its own.
    pub fn text(&mut self, text: &str) {
        if self.line.is_empty() {
            self.line.push_str(&" ".repeat(self.indent));
        }
        self.line.push_str(text);
    }

    /// Ends the current line (its trailing comments are placed by `finish`).
    pub fn newline(&mut self) {
        let line = self.line.trim_end().to_string();
        if !line.is_empty() {
            let at = self.out.len();
            self.placed
                .extend(self.pending.drain(..).map(|start| (start, at)));
            self.out.push(line);
        }
        self.line.clear();
    }

    /// A blank line, unless the output is empty, already ends with one,
    /// or has just opened a block.
    pub fn blank_line(&mut self) {
        let open = self
            .out
            .last()
            .is_none_or(|last| last.is_empty() || last.ends_with('{'));
        if !open {
            self.out.push(String::new());
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
            self.comments[self.next_own_line - 1].at = Some(self.out.len());
            self.out.push(text);
        }
    }

    /// Prints the comments left at the end of the file, places the comments
    /// that shared a line with code, and returns the text.
    pub fn finish(mut self) -> String {
        self.comments_before(usize::MAX);
        self.newline();
        let placed = self.place_trailing();
        let mut text = String::new();
        let mut push = |indent: &str, body: &str| {
            text.push_str(indent);
            text.push_str(body);
            text.push('\n');
        };
        for (line, place) in self.out.iter().zip(&placed.lines) {
            let indent = &line[..line.len() - line.trim_start().len()];
            let (last, above) = match place.trailing.split_last() {
                Some((last, above)) => (Some(*last), above),
                None => (None, &[][..]),
            };
            for span in above {
                push(indent, self.spelling(*span));
            }
            match last {
                Some(span) => push(line, &format!(" {}", self.spelling(span))),
                None => push(line, ""),
            }
            for span in &place.below {
                push(indent, self.spelling(*span));
            }
        }
        for span in &placed.homeless {
            push("", self.spelling(*span));
        }
        text
    }

    /// Where each comment that shared a line with code goes: at the end of
    /// the output line holding the last token before it, or, when a
    /// comment printed on its own line lies in between (code printed as
    /// bare text, like a `{`), on its own line after that one, so comments
    /// keep their order.
    fn place_trailing(&mut self) -> Placed {
        self.placed.sort_unstable();
        let mut lines = vec![Place::default(); self.out.len()];
        let mut homeless = Vec::new();
        // The lowest output line holding an own-line comment seen so far.
        let mut lowest: Option<usize> = None;
        for comment in &self.comments {
            if let Some(at) = comment.at {
                lowest = lowest.max(Some(at));
                continue;
            }
            let before = self
                .placed
                .partition_point(|&(start, _)| start < comment.span.start);
            let line = before.checked_sub(1).and_then(|i| self.placed.get(i));
            match (line, lowest) {
                (Some(&(_, line)), Some(low)) if low > line => lines[low].below.push(comment.span),
                (Some(&(_, line)), _) => lines[line].trailing.push(comment.span),
                // No code before it (cannot happen for a parsed file, but a
                // comment must never be lost).
                (None, _) => homeless.push(comment.span),
            }
        }
        Placed { lines, homeless }
    }

    /// Whether any comment starts inside `span`.
    pub fn has_comment_in(&self, span: Span) -> bool {
        self.comments
            .iter()
            .any(|c| c.span.start >= span.start && c.span.start < span.end)
    }

    /// Whether a comment alone on its line starts inside `span`.
    pub fn has_own_line_comment_in(&self, span: Span) -> bool {
        self.comments
            .iter()
            .any(|c| c.own_line && c.span.start >= span.start && c.span.start < span.end)
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
