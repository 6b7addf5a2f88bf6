//! Diagnostics for people, in rustc's layout: `error[E0301]: message`, an
//! arrow to `file:line:column`, the source line with a marker under the span,
//! secondary labels (in whatever file they are), then `help:`.

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use super::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceMap};

/// Renders one diagnostic; `color` adds ANSI styles (only on a terminal).
pub fn render(map: &SourceMap, diagnostic: &Diagnostic, color: bool) -> String {
    let level = match diagnostic.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    // One snippet per file, the primary's first, as rustc groups labels.
    let mut files = vec![diagnostic.primary.file];
    for label in &diagnostic.secondary {
        if !files.contains(&label.file) {
            files.push(label.file);
        }
    }
    let excerpts: Vec<Excerpt> = files
        .iter()
        .map(|&file| excerpt(map, diagnostic, file))
        .collect();
    let mut group = Group::with_title(
        level
            .primary_title(diagnostic.message.as_str())
            .id(diagnostic.code.id),
    );
    for (file, excerpt) in files.iter().zip(&excerpts) {
        let path = map.get(*file).path.to_str().unwrap_or("<non-UTF-8 path>");
        let mut snippet = Snippet::source(excerpt.text.as_str())
            .line_start(excerpt.first_line)
            .path(path)
            .fold(true);
        for (label, kind) in labels(diagnostic) {
            if label.file == *file {
                let span = label.span.range();
                let local = span.start.saturating_sub(excerpt.offset)
                    ..span.end.saturating_sub(excerpt.offset);
                snippet = snippet.annotation(kind.span(local).label(label.message.as_str()));
            }
        }
        group = group.element(snippet);
    }
    let mut report = vec![group];
    if let Some(help) = &diagnostic.help {
        report.push(Group::with_title(
            Level::HELP.secondary_title(help.as_str()),
        ));
    }
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    renderer.render(&report)
}

fn labels(diagnostic: &Diagnostic) -> impl Iterator<Item = (&Label, AnnotationKind)> {
    std::iter::once((&diagnostic.primary, AnnotationKind::Primary)).chain(
        diagnostic
            .secondary
            .iter()
            .map(|label| (label, AnnotationKind::Context)),
    )
}

/// The lines of one file that a diagnostic shows.
struct Excerpt {
    text: String,
    /// Byte offset of `text` in the file.
    offset: usize,
    first_line: usize,
}

/// Only the lines the labels in `file` touch, so rendering costs the size
/// of the diagnostic, not of the file (a pack of thousands of rules has
/// thousands of diagnostics). One space is added when a label sits at the
/// very end after a final newline: the renderer then shows that empty last
/// line (line N+1, column 1, where end-of-input errors are placed) instead
/// of clamping the marker to the previous line.
fn excerpt(map: &SourceMap, diagnostic: &Diagnostic, file: FileId) -> Excerpt {
    let source = map.get(file);
    let text = &source.text;
    let spans: Vec<_> = labels(diagnostic)
        .filter(|(label, _)| label.file == file)
        .map(|(label, _)| label.span.range())
        .collect();
    let start = spans.iter().map(|s| s.start).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end).max().unwrap_or(0);
    let (range, first_line) = source.lines_around(start, end);
    let mut shown = text[range.clone()].to_string();
    let at_end = spans.iter().any(|s| s.start >= text.len());
    if at_end && (text.is_empty() || text.ends_with('\n')) {
        shown.push(' ');
    }
    Excerpt {
        text: shown,
        offset: range.start,
        first_line,
    }
}

/// The closing line of `check`: how many errors and warnings in how many files.
pub fn summary(errors: usize, warnings: usize, files: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {} in {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{Diagnostic, codes};
    use crate::source::SourceFile;
    use crate::syntax::Span;

    fn render_unknown_field(text: &str, span: Span) -> String {
        let mut map = SourceMap::default();
        let id = map.add(SourceFile::new("rules/x.trip", text));
        let d = Diagnostic::error(
            codes::UNKNOWN_FIELD,
            id,
            span,
            "unknown field `source.iip` in source `dns`",
        )
        .with_label("not a field of `dns`")
        .with_help("did you mean `source.ip`?")
        .with_secondary(id, Span::new(0, 4), "in this rule");
        render(&map, &d, false)
    }

    #[test]
    fn columns_count_characters_and_tabs_as_one() {
        let text = "rule a {\n\twhere é source.iip == \"x\"\n}\n";
        let at = text.find("source.iip").unwrap_or_default();
        insta::assert_snapshot!(render_unknown_field(text, Span::new(at, at + 10)));
    }

    #[test]
    fn end_of_input_after_final_newline_shows_the_next_line() {
        let text = "rule a {\n  where\n";
        insta::assert_snapshot!(render_unknown_field(text, Span::at(text.len())));
    }
}
