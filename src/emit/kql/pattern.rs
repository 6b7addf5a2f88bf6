//! Patterns in KQL. The globs of `like` become Kusto's string operators
//! where their shape allows (`=~`, `startswith`, `endswith`, `contains`, a
//! prefix and a suffix), else anchored patterns for `matches regex`, which
//! runs the Rust `regex` engine
//! (<https://learn.microsoft.com/kusto/query/regex>): the checker's ASCII
//! rewrite (`\d` → `[0-9]`, `\b` → `(?-u:\b)`, ...), every group made
//! non-capturing (Kusto allows at most 16 groups). Also the test a missing
//! field defeats: a pattern that matches `""` would match every event
//! without the field.

use regex_syntax::ast::{self, Ast, GroupKind};

use crate::check::regex::rewrite_ascii;
use crate::emit::common::{GlobPiece, glob_pieces};

use super::literal::kql_string;

/// The Kusto pattern for a checked tripline regex.
pub fn translate(pattern: &str, case_insensitive: bool) -> String {
    let ascii = non_capturing(&rewrite_ascii(pattern));
    if case_insensitive {
        format!("(?i){ascii}")
    } else {
        ascii
    }
}

/// Whether the evaluator's reading of the pattern matches the empty string.
pub fn matches_empty(pattern: &str, case_insensitive: bool) -> bool {
    regex::RegexBuilder::new(&rewrite_ascii(pattern))
        .case_insensitive(case_insensitive)
        .build()
        .is_ok_and(|re| re.is_match(""))
}

/// `pattern` with `(` of every capturing group written `(?:`.
fn non_capturing(pattern: &str) -> String {
    let Ok(tree) = ast::parse::Parser::new().parse(pattern) else {
        return pattern.to_string();
    };
    let mut opens = Vec::new();
    capture_opens(&tree, &mut opens);
    opens.sort_unstable();
    let mut out = String::with_capacity(pattern.len() + 2 * opens.len());
    let mut at = 0;
    for open in opens {
        out.push_str(pattern.get(at..=open).unwrap_or(""));
        out.push_str("?:");
        at = open + 1;
    }
    out.push_str(pattern.get(at..).unwrap_or(""));
    out
}

fn capture_opens(tree: &Ast, opens: &mut Vec<usize>) {
    match tree {
        Ast::Group(group) => {
            if let GroupKind::CaptureIndex(_) = group.kind {
                opens.push(group.span.start.offset);
            }
            capture_opens(&group.ast, opens);
        }
        Ast::Repetition(repetition) => capture_opens(&repetition.ast, opens),
        Ast::Alternation(alternation) => alternation
            .asts
            .iter()
            .for_each(|a| capture_opens(a, opens)),
        Ast::Concat(concat) => concat.asts.iter().for_each(|a| capture_opens(a, opens)),
        _ => {}
    }
}

/// A glob as an anchored pattern, case-insensitive unless `cased`: `*` any run (newlines
/// too), `?` one character, the rest literal.
pub fn glob_regex_cased(glob: &str, cased: bool) -> String {
    let mut out = String::from(if cased { "^" } else { "(?i)^" });
    for piece in glob_pieces(glob) {
        match piece {
            GlobPiece::Literal(text) => out.push_str(&regex_syntax::escape(&text)),
            GlobPiece::AnyRun => out.push_str("(?s:.*)"),
            GlobPiece::AnyOne => out.push_str("(?s:.)"),
        }
    }
    out.push('$');
    out
}

/// The value a glob without wildcards stands for.
pub fn glob_literal(glob: &str) -> Option<String> {
    match glob_pieces(glob).as_slice() {
        [GlobPiece::Literal(s)] => Some(s.clone()),
        _ => None,
    }
}

/// A glob as Kusto's case-insensitive string operators, where its shape
/// allows: one literal run with `*` at either end, or a prefix and a
/// suffix that must not overlap (`strlen` counts characters, and case
/// folding keeps their number).
pub fn glob_test_cased(text: &str, glob: &str, cased: bool) -> Option<String> {
    use GlobPiece::{AnyRun, Literal as Lit};
    let q = |s: &str| kql_string(s);
    let (equals, cs) = if cased { ("==", "_cs") } else { ("=~", "") };
    Some(match glob_pieces(glob).as_slice() {
        [Lit(s)] => format!("{text} {equals} {}", q(s)),
        [Lit(s), AnyRun] => format!("{text} startswith{cs} {}", q(s)),
        [AnyRun, Lit(s)] => format!("{text} endswith{cs} {}", q(s)),
        [AnyRun, Lit(s), AnyRun] => format!("{text} contains{cs} {}", q(s)),
        [Lit(a), AnyRun, Lit(b)] => format!(
            "{text} startswith{cs} {} and {text} endswith{cs} {} and strlen({text}) >= {}",
            q(a),
            q(b),
            a.chars().count() + b.chars().count()
        ),
        _ => return None,
    })
}

/// Whether a glob holds on `""`: it is made of `*` alone.
pub fn glob_matches_empty(glob: &str) -> bool {
    glob_pieces(glob)
        .iter()
        .all(|piece| *piece == GlobPiece::AnyRun)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_become_non_capturing_and_classes_ascii() {
        assert_eq!(
            translate(r"id=\d+\s*(or|and)\s+\w+", false),
            r"id=[0-9]+[\t\n\x0B\x0C\r ]*(?:or|and)[\t\n\x0B\x0C\r ]+[0-9A-Za-z_]+"
        );
        assert_eq!(
            translate(r"\bx(?:y)\b", true),
            r"(?i)(?-u:\b)x(?:y)(?-u:\b)"
        );
        assert_eq!(translate(r"[(]a\(b", false), r"[(]a\(b");
    }

    #[test]
    fn empty_matches_are_found_by_the_evaluator_engine() {
        for (pattern, empty) in [("a*", true), ("^", true), (r"\B", true), ("x?", true)] {
            assert_eq!(matches_empty(pattern, false), empty, "{pattern}");
        }
        assert!(!matches_empty("a", false));
        assert!(!matches_empty(r"\b", false));
    }

    #[test]
    fn globs_of_one_or_two_literal_runs_need_no_regex() {
        assert_eq!(
            glob_test_cased("H", "*.x.com", false).as_deref(),
            Some(r#"H endswith ".x.com""#)
        );
        assert_eq!(
            glob_test_cased("H", "a*b", false).as_deref(),
            Some(r#"H startswith "a" and H endswith "b" and strlen(H) >= 2"#)
        );
        assert_eq!(glob_test_cased("H", "*a*b*", false), None);
        assert_eq!(
            glob_test_cased("H", "/A*.PHP", true).as_deref(),
            Some(r#"H startswith_cs "/A" and H endswith_cs ".PHP" and strlen(H) >= 6"#)
        );
        assert_eq!(
            glob_test_cased("H", "Admin", true).as_deref(),
            Some(r#"H == "Admin""#)
        );
        assert_eq!(glob_literal(r"a\*").as_deref(), Some("a*"));
    }

    #[test]
    fn globs_are_anchored_and_escaped() {
        assert_eq!(
            glob_regex_cased(r"/a*.x?", false),
            r"(?i)^/a(?s:.*)\.x(?s:.)$"
        );
        assert_eq!(glob_regex_cased(r"/A?", true), r"^/A(?s:.)$");
        assert!(glob_matches_empty("**"));
        assert!(!glob_matches_empty("*?"));
    }
}
