//! Fixes carried by diagnostics, as data: each fix is a set of edits to the
//! diagnostic's own file (a span and its replacement) with an applicability,
//! as ruff has. `tripline check --fix` applies the `Safe` ones; an editor
//! may offer every fix as a code action (`Unsafe` ones for review).
//!
//! A fix is `Safe` when applying it keeps the rule's intent and cannot make
//! a valid rule mean something else the author did not write (`=` to `==`,
//! a misspelt statement keyword). A guess among several names, or a change
//! of what the rule matches, is `Unsafe`.

use serde::Serialize;

use crate::syntax::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Applied by `check --fix`.
    Safe,
    /// Offered only: a person reviews it first.
    Unsafe,
}

/// Replace the text of `span` (byte offsets in the diagnostic's file) with
/// `replacement`; an empty span inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, for a menu ("replace `=` with `==`").
    pub message: String,
    pub applicability: Applicability,
    /// Applied together or not at all; they never overlap.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// One replacement that `check --fix` may apply.
    pub fn safe(message: impl Into<String>, span: Span, replacement: impl Into<String>) -> Self {
        Fix::one(Applicability::Safe, message, span, replacement)
    }

    /// One replacement offered for review only.
    pub fn review(message: impl Into<String>, span: Span, replacement: impl Into<String>) -> Self {
        Fix::one(Applicability::Unsafe, message, span, replacement)
    }

    /// One replacement with the given applicability.
    pub fn one(
        applicability: Applicability,
        message: impl Into<String>,
        span: Span,
        replacement: impl Into<String>,
    ) -> Self {
        Fix {
            message: message.into(),
            applicability,
            edits: vec![Edit {
                span,
                replacement: replacement.into(),
            }],
        }
    }

    pub fn is_safe(&self) -> bool {
        self.applicability == Applicability::Safe
    }
}

/// Applies `fixes` to `text`, in order of position. A fix with an edit
/// outside the text, off a character boundary, or overlapping an edit
/// already taken is left out (a later `check --fix` may apply it once the
/// text has settled). Returns the new text and how many fixes were applied.
pub fn apply<'f>(text: &str, fixes: impl IntoIterator<Item = &'f Fix>) -> (String, usize) {
    let mut fixes: Vec<&Fix> = fixes.into_iter().collect();
    fixes.sort_by_key(|f| f.edits.iter().map(|e| e.span.start).min());
    let mut taken: Vec<&Edit> = Vec::new();
    let mut applied = 0;
    for fix in fixes {
        let fits = |e: &Edit| {
            text.get(e.span.range()).is_some() && !taken.iter().any(|t| overlaps(t.span, e.span))
        };
        let disjoint = fix.edits.iter().enumerate().all(|(i, e)| {
            fix.edits[..i]
                .iter()
                .all(|other| !overlaps(other.span, e.span))
        });
        if !fix.edits.is_empty() && disjoint && fix.edits.iter().all(fits) {
            taken.extend(&fix.edits);
            applied += 1;
        }
    }
    taken.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in taken {
        out.push_str(text.get(at..edit.span.start).unwrap_or(""));
        out.push_str(&edit.replacement);
        at = edit.span.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    (out, applied)
}

/// Two edits conflict when their spans share a byte, or when both insert
/// at the same place (their order would be a guess).
fn overlaps(a: Span, b: Span) -> bool {
    (a.start < b.end && b.start < a.end) || a.start == b.start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_position_order_whatever_the_fix_order() {
        let text = "where a = 1 && b = 2";
        let fixes = [
            Fix::safe("and", Span::new(12, 14), "and"),
            Fix::safe("==", Span::new(8, 9), "=="),
            Fix::safe("==", Span::new(17, 18), "=="),
        ];
        let (out, applied) = apply(text, &fixes);
        assert_eq!(out, "where a == 1 and b == 2");
        assert_eq!(applied, 3);
    }

    #[test]
    fn an_overlapping_or_out_of_range_fix_is_left_for_later() {
        let text = "abcdef";
        let fixes = [
            Fix::safe("x", Span::new(1, 3), "X"),
            Fix::safe("y", Span::new(2, 4), "Y"),
            Fix::safe("z", Span::new(5, 9), "Z"),
            Fix::safe("w", Span::new(1, 1), "W"),
        ];
        let (out, applied) = apply(text, &fixes);
        assert_eq!(out, "aXdef");
        assert_eq!(applied, 1);
    }

    #[test]
    fn an_edit_off_a_character_boundary_is_refused() {
        let (out, applied) = apply("é", &[Fix::safe("x", Span::new(1, 2), "e")]);
        assert_eq!((out.as_str(), applied), ("é", 0));
    }
}
