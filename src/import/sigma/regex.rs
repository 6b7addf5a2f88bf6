//! Sigma `|re` patterns (PCRE as the specification says, Python's `re` in
//! pySigma) to tripline `matches` patterns. Only what tripline's regex
//! subset says with the same meaning is carried; one rewrite keeps a
//! meaning the subset spells differently: PCRE's and Python's `$` also
//! match before a final newline, so `$` becomes `NL?$` (NL a literal
//! newline character: the subset has no `\n` escape).

use regex_syntax::ast::{self, AssertionKind, Ast};

use crate::check::regex::validate;

const CASE_FLAG: &str = "(?i)";

/// The tripline pattern for a Sigma regex with its flag modifiers
/// (`|i`); `Err` says why it is not carried.
pub fn pattern(written: &str, ignore_case: bool) -> Result<String, String> {
    let (body, flagged) = match written.strip_prefix(CASE_FLAG) {
        Some(body) => (body, true),
        None => (written, false),
    };
    if body.contains('\0') {
        return Err("a NUL character in a regular expression".to_string());
    }
    let body = end_anchors(body)?;
    let pattern = if flagged || ignore_case {
        format!("{CASE_FLAG}{body}")
    } else {
        body
    };
    match validate(&pattern) {
        Ok(_) => Ok(pattern),
        Err(err) => Err(format!(
            "outside the regular expressions every tripline target writes: {}",
            err.message
        )),
    }
}

/// `$` (end, or before a final newline, in PCRE and Python) as `NL?$`.
fn end_anchors(body: &str) -> Result<String, String> {
    let tree = ast::parse::Parser::new()
        .parse(body)
        .map_err(|err| format!("not a regular expression tripline reads: {}", err.kind()))?;
    let mut anchors = Vec::new();
    collect_end_anchors(&tree, &mut anchors);
    let mut out = body.to_string();
    for offset in anchors.into_iter().rev() {
        out.insert_str(offset, "\n?");
    }
    Ok(out)
}

fn collect_end_anchors(tree: &Ast, out: &mut Vec<usize>) {
    match tree {
        Ast::Assertion(assertion) if assertion.kind == AssertionKind::EndLine => {
            out.push(assertion.span.start.offset);
        }
        Ast::Repetition(repetition) => collect_end_anchors(&repetition.ast, out),
        Ast::Group(group) => collect_end_anchors(&group.ast, out),
        Ast::Alternation(alternation) => {
            for item in &alternation.asts {
                collect_end_anchors(item, out);
            }
        }
        Ast::Concat(concat) => {
            for item in &concat.asts {
                collect_end_anchors(item, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::pattern;

    #[test]
    fn patterns_keep_their_meaning_or_are_refused() {
        assert_eq!(pattern(r"\.exe$", false).unwrap(), "\\.exe\n?$");
        assert_eq!(pattern(r"^a|b$", true).unwrap(), "(?i)^a|b\n?$");
        assert_eq!(pattern(r"[$]x", false).unwrap(), r"[$]x");
        assert_eq!(pattern(r"(?i)abc", false).unwrap(), "(?i)abc");
        assert!(pattern(r"(?<=a)b", false).is_err());
        assert!(pattern(r"(a)\1", false).is_err());
        assert!(pattern(r"\x41", false).is_err());
        assert!(pattern(r"a(?i)b", false).is_err());
        assert!(pattern(r"\<word", false).is_err());
    }
}
