//! Regular expressions: the subset every target can express (language.md
//! 1.4, "Checker details"), and the rewrite that gives `\d \w \s \b` and
//! their negations their ASCII meaning in every engine.

/// `pattern` (without a leading `(?i)`) with `\d \w \s \D \W \S \b \B`
/// spelled as explicit ASCII classes, for the `regex` crate and the targets.
/// Scaffolding until the checker's validating rewrite lands: identity.
pub fn rewrite_ascii(pattern: &str) -> String {
    pattern.to_string()
}
