//! Quick fixes: the edits a diagnostic suggests. `fixes` is the one place
//! that reads them; today it reads what diagnostics carry as text (a
//! did-you-mean in the help, a missing `id`), and it is where fixes carried
//! as data by `Diagnostic` plug in.

use crate::diag::{Diagnostic, codes, edit_distance};
use crate::syntax::Span;

/// Replace `span` of the diagnostic's file with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    pub span: Span,
    pub replacement: String,
}

/// The fixes of `diagnostic` in `text` (its primary file's text).
pub fn fixes(diagnostic: &Diagnostic, text: &str) -> Vec<Fix> {
    did_you_mean(diagnostic, text)
        .into_iter()
        .chain(missing_id(diagnostic, text))
        .collect()
}

/// "did you mean `X`?": `X` in place of the name under the primary span,
/// when that name is a near miss of `X` (so the span is what to replace).
fn did_you_mean(diagnostic: &Diagnostic, text: &str) -> Option<Fix> {
    let help = diagnostic.help.as_deref()?;
    let suggestion = help.strip_prefix("did you mean `")?.strip_suffix("`?")?;
    let span = diagnostic.primary.span;
    let written = text.get(span.range())?;
    let near = edit_distance(&written.to_lowercase(), &suggestion.to_lowercase()) <= 3;
    (near && !written.is_empty() && written != suggestion).then(|| Fix {
        title: format!("replace `{written}` with `{suggestion}`"),
        span,
        replacement: suggestion.to_string(),
    })
}

/// "rule `r` has no `id`": a fresh `id` statement after the rule's `{`.
fn missing_id(diagnostic: &Diagnostic, text: &str) -> Option<Fix> {
    if diagnostic.code != codes::MISSING_STATEMENT || !diagnostic.message.ends_with("has no `id`") {
        return None;
    }
    let after_name = diagnostic.primary.span.end;
    let rest = text.get(after_name..)?;
    let brace = rest.find('{')?;
    if !rest[..brace].trim().is_empty() {
        return None;
    }
    let at = after_name + brace + 1;
    Some(Fix {
        title: "add an `id` statement with a fresh id".to_string(),
        span: Span::at(at),
        replacement: format!("\n  id \"{}\"", uuid::Uuid::new_v4()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn first_fix(text: &str) -> Option<(String, String)> {
        let (parsed, mut diagnostics) = crate::syntax::parse(FileId(0), text);
        let mut map = crate::source::SourceMap::default();
        map.add(crate::source::SourceFile::new("r.trip", text));
        diagnostics.extend(crate::check::check(&map, &[(FileId(0), &parsed)]).diagnostics);
        diagnostics.iter().find_map(|d| {
            let fix = fixes(d, text).into_iter().next()?;
            let mut fixed = text.to_string();
            fixed.replace_range(fix.span.range(), &fix.replacement);
            Some((fix.title, fixed))
        })
    }

    #[test]
    fn a_misspelled_list_is_replaced_by_the_near_name() {
        let text = "list bad_domains = [\"a\"]\nrule r {\n  title \"t\"\n  id \"4d4c5b6a-1b2c-4d5e-8f90-0a1b2c3d4e5f\"\n  level low\n  from dns\n  where query.name in @bad_domain\n}\n";
        let (title, fixed) = first_fix(text).unwrap_or_default();
        assert_eq!(title, "replace `@bad_domain` with `@bad_domains`");
        assert!(fixed.contains("in @bad_domains\n"), "{fixed}");
    }

    #[test]
    fn a_missing_id_is_added_fresh_after_the_brace() {
        let text =
            "rule r {\n  title \"t\"\n  level low\n  from dns\n  where query.name == \"a\"\n}\n";
        let (title, fixed) = first_fix(text).unwrap_or_default();
        assert_eq!(title, "add an `id` statement with a fresh id");
        let id_line = fixed.lines().nth(1).unwrap_or_default();
        assert!(
            id_line.starts_with("  id \"") && id_line.len() == 2 + 3 + 2 + 36,
            "{fixed}"
        );
    }
}
