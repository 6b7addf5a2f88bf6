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
    let sources: Vec<String> = files
        .iter()
        .map(|&file| displayed_text(map, diagnostic, file))
        .collect();
    let mut group = Group::with_title(
        level
            .primary_title(diagnostic.message.as_str())
            .id(diagnostic.code.id),
    );
    for (file, text) in files.iter().zip(&sources) {
        let path = map.get(*file).path.to_str().unwrap_or("<non-UTF-8 path>");
        let mut snippet = Snippet::source(text.as_str())
            .line_start(1)
            .path(path)
            .fold(true);
        for (label, kind) in labels(diagnostic) {
            if label.file == *file {
                snippet =
                    snippet.annotation(kind.span(label.span.range()).label(label.message.as_str()));
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

/// The file's text, plus one space when a label sits at the very end after a
/// final newline: the renderer then shows that empty last line (line N+1,
/// column 1, where the spec places end-of-input errors) instead of
/// clamping the marker to the previous line.
fn displayed_text(map: &SourceMap, diagnostic: &Diagnostic, file: FileId) -> String {
    let text = &map.get(file).text;
    let at_end =
        labels(diagnostic).any(|(label, _)| label.file == file && label.span.start >= text.len());
    if at_end && (text.is_empty() || text.ends_with('\n')) {
        format!("{text} ")
    } else {
        text.clone()
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
