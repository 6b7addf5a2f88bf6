//! Patterns in SQL. Globs become `LIKE` patterns with `\` as the escape
//! (`*` → `%`, `?` → `_`, a literal `%`, `_` or `\` escaped); both engines
//! match `%` across newlines and `_` as one character. Regular expressions
//! get the checker's ASCII rewrite (`\d` → `[0-9]`, ...) and then the
//! engine's syntax: DuckDB runs RE2, which reads the rest as Rust does
//! (its `\b` is already ASCII); Spark runs `java.util.regex`, where `.`
//! also stops at `\r` and other line ends, `$` also matches before a final
//! line end and `\b` follows Unicode letters, so those are spelt out.

use regex_syntax::ast::{self, AssertionKind, Ast};

use crate::check::regex::rewrite_ascii;
use crate::emit::common::{GlobPiece, glob_pieces};

use super::flavor::Flavor;

/// A checked glob as a `LIKE` pattern (escape `\`), not yet case-folded.
pub fn like_pattern(glob: &str) -> String {
    let mut out = String::with_capacity(glob.len() + 4);
    for piece in glob_pieces(glob) {
        match piece {
            GlobPiece::Literal(text) => out.push_str(&like_literal(&text)),
            GlobPiece::AnyRun => out.push('%'),
            GlobPiece::AnyOne => out.push('_'),
        }
    }
    out
}

/// Text that stands for itself inside a `LIKE` pattern.
pub fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The engine's pattern for a checked tripline regex.
pub fn translate(flavor: Flavor, pattern: &str, case_insensitive: bool) -> String {
    match flavor {
        Flavor::DuckDb => {
            let ascii = rewrite_ascii(pattern)
                .replace(r"(?-u:\b)", r"\b")
                .replace(r"(?-u:\B)", r"\B");
            if case_insensitive {
                format!("(?i){ascii}")
            } else {
                ascii
            }
        }
        Flavor::Spark => {
            let word = "[0-9A-Za-z_]";
            let boundary = format!("(?:(?<={word})(?!{word})|(?<!{word})(?={word}))");
            let inside = format!("(?:(?<={word})(?={word})|(?<!{word})(?!{word}))");
            let java = rewrite_ascii(&java_lines(pattern))
                .replace(r"(?-u:\b)", &boundary)
                .replace(r"(?-u:\B)", &inside);
            if case_insensitive {
                // Unicode-aware case folding, as the evaluator's `(?i)`.
                format!("(?iu){java}")
            } else {
                java
            }
        }
    }
}

/// `pattern` with `.` as `[^\n]` and `$` as `\z`, Rust's meanings.
fn java_lines(pattern: &str) -> String {
    let Ok(tree) = ast::parse::Parser::new().parse(pattern) else {
        return pattern.to_string();
    };
    let mut edits = Vec::new();
    line_edits(&tree, &mut edits);
    edits.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(pattern.len() + 8 * edits.len());
    let mut at = 0;
    for (start, end, replacement) in edits {
        out.push_str(pattern.get(at..start).unwrap_or(""));
        out.push_str(replacement);
        at = end;
    }
    out.push_str(pattern.get(at..).unwrap_or(""));
    out
}

fn line_edits(tree: &Ast, edits: &mut Vec<(usize, usize, &'static str)>) {
    match tree {
        Ast::Dot(span) => edits.push((span.start.offset, span.end.offset, r"[^\n]")),
        Ast::Assertion(a) if a.kind == AssertionKind::EndLine => {
            edits.push((a.span.start.offset, a.span.end.offset, r"\z"));
        }
        Ast::Repetition(r) => line_edits(&r.ast, edits),
        Ast::Group(g) => line_edits(&g.ast, edits),
        Ast::Alternation(a) => a.asts.iter().for_each(|x| line_edits(x, edits)),
        Ast::Concat(c) => c.asts.iter().for_each(|x| line_edits(x, edits)),
        _ => {}
    }
}

/// The value a glob without wildcards stands for.
pub fn glob_literal(glob: &str) -> Option<String> {
    match glob_pieces(glob).as_slice() {
        [GlobPiece::Literal(s)] => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_become_like_patterns_with_escapes() {
        assert_eq!(like_pattern(r"a*b?c%d_e\\f\*"), r"a%b_c\%d\_e\\f*");
    }

    #[test]
    fn regexes_keep_rust_meanings_in_each_engine() {
        assert_eq!(
            translate(Flavor::DuckDb, r"\bx\d.$", true),
            r"(?i)\bx[0-9].$"
        );
        assert_eq!(translate(Flavor::Spark, r"x.$", false), r"x[^\n]\z");
        assert_eq!(translate(Flavor::Spark, r"[.$]", false), r"[.$]");
    }
}
