//! Diagnostics are values: a severity, a stable code, a message in the
//! user's terms, a primary label and secondary labels (each a span in some
//! file), and an optional help line. Rendering for people, as JSON and as
//! SARIF are separate steps (`render`, `json`, `sarif`) over the same value.
//! A diagnostic may carry fixes (`fix`): edits of its file that `check
//! --fix` applies when safe and an editor offers as code actions.

pub mod codes;
pub mod fix;
pub mod json;
pub mod render;

pub use codes::Code;
pub use fix::{Applicability, Edit, Fix};

use crate::source::FileId;
use crate::syntax::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

/// A span in one file with a short message ("first declared here").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// Where the problem is; its message may be empty.
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    /// Edits of the primary label's file that would resolve it.
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    pub fn error(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Diagnostic::new(Severity::Error, code, file, span, message)
    }

    pub fn warning(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Self {
        Diagnostic::new(Severity::Warning, code, file, span, message)
    }

    fn new(
        severity: Severity,
        code: Code,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            primary: Label {
                file,
                span,
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            fixes: Vec::new(),
        }
    }

    /// The text under the primary marker.
    pub fn with_label(mut self, message: impl Into<String>) -> Self {
        self.primary.message = message.into();
        self
    }

    pub fn with_secondary(mut self, file: FileId, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            file,
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fixes.push(fix);
        self
    }

    /// The same diagnostic as a warning (refusals under `--skip-refused`).
    pub fn into_warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// The nearest candidate within edit distance 2, ignoring case, for "did you
/// mean" help. Ties go to the candidate listed first.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&name, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// `nearest`, with how sure the guess is: `Safe` when no other candidate is
/// as close, so that `check --fix` may take it; `Unsafe` on a tie. Failing
/// that, a near miss, always `Unsafe` (it names more than was written):
/// the one candidate that extends `name` by a `_` or `.` part
/// (`http.response.status` for `http.response.status_code`), or ends with
/// `.name` (`status_code` for `http.response.status_code`).
pub fn nearest_sure<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
) -> Option<(&'a str, Applicability)> {
    let Some(near) = nearest(name, candidates.clone()) else {
        return near_miss(name, candidates).map(|c| (c, Applicability::Unsafe));
    };
    let lower = name.to_lowercase();
    let distance = |c: &str| edit_distance(&lower, &c.to_lowercase());
    let best = distance(near);
    let ties = candidates
        .into_iter()
        .filter(|c| *c != near && distance(c) == best)
        .count();
    let sure = if ties == 0 {
        Applicability::Safe
    } else {
        Applicability::Unsafe
    };
    Some((near, sure))
}

/// The only candidate that extends `name` at a `_` or `.`, or ends with `.name`.
fn near_miss<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    if name.is_empty() {
        return None;
    }
    let extends = |c: &str| {
        c.strip_prefix(name)
            .is_some_and(|tail| tail.starts_with(['_', '.']))
            || c.strip_suffix(name).is_some_and(|head| head.ends_with('.'))
    };
    let mut found = candidates.into_iter().filter(|c| extends(c));
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_ignores_case_and_stops_at_two_edits() {
        let fields = ["source.ip", "source.port", "destination.ip"];
        assert_eq!(nearest("source.iip", fields), Some("source.ip"));
        assert_eq!(nearest("SOURCE.IP", fields), Some("source.ip"));
        assert_eq!(nearest("src", fields), None);
    }

    #[test]
    fn a_guess_is_safe_only_without_a_tie() {
        let fields = ["source.ip", "source.port", "dest.ip", "dest.id"];
        assert_eq!(
            nearest_sure("source.iip", fields),
            Some(("source.ip", Applicability::Safe))
        );
        assert_eq!(
            nearest_sure("dest.i", fields),
            Some(("dest.ip", Applicability::Unsafe))
        );
        let web = [
            "http.response.status_code",
            "http.request.method",
            "url.path",
        ];
        assert_eq!(
            nearest_sure("http.response.status", web),
            Some(("http.response.status_code", Applicability::Unsafe))
        );
        assert_eq!(
            nearest_sure("status_code", web),
            Some(("http.response.status_code", Applicability::Unsafe))
        );
        assert_eq!(nearest_sure("http", web), None, "two fields extend `http`");
    }
}
