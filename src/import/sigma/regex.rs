//! Sigma `|re` patterns (PCRE as the specification says, Python's `re` in
//! pySigma) to tripline `matches` patterns. Only what tripline's regex
//! subset says with the same meaning is carried; two rewrites keep
//! meanings the subset spells differently: PCRE's and Python's `$` also
//! match before a final newline, so `$` becomes `NL?$`, and character
//! escapes the subset lacks (`\n`, `\t`, `\x41`) become the characters
//! they stand for (NL a literal newline character).

use regex_syntax::ast::{self, AssertionKind, Ast, LiteralKind};

use crate::check::regex::validate;

const CASE_FLAG: &str = "(?i)";

/// The tripline pattern for a Sigma regex with its flag modifiers
/// (`|i`); `Err` says why it is not carried.
pub fn pattern(written: &str, ignore_case: bool) -> Result<String, String> {
    let (body, flagged) = match written.strip_prefix(CASE_FLAG) {
        Some(body) => (body, true),
        None => (written, false),
    };
    let body = rewrite(body)?;
    if body.contains('\0') {
        return Err("a NUL character in a regular expression".to_string());
    }
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

/// `$` (end, or before a final newline, in PCRE and Python) as `NL?$`;
/// escapes the subset lacks (`\n`, `\t`, `\x41`, ...) as the characters
/// they stand for (a metacharacter escaped).
fn rewrite(body: &str) -> Result<String, String> {
    let tree = ast::parse::Parser::new()
        .parse(body)
        .map_err(|err| format!("not a regular expression tripline reads: {}", err.kind()))?;
    let mut edits = Vec::new();
    collect_edits(&tree, &mut edits);
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = body.to_string();
    for (range, text) in edits.into_iter().rev() {
        out.replace_range(range, &text);
    }
    Ok(out)
}

type Edit = (std::ops::Range<usize>, String);

fn collect_edits(tree: &Ast, out: &mut Vec<Edit>) {
    match tree {
        Ast::Assertion(assertion) if assertion.kind == AssertionKind::EndLine => {
            let at = assertion.span.start.offset;
            out.push((at..at, "\n?".to_string()));
        }
        Ast::Literal(literal) => out.extend(literal_edit(literal)),
        Ast::ClassBracketed(class) => class_edits(&class.kind, out),
        Ast::Repetition(repetition) => collect_edits(&repetition.ast, out),
        Ast::Group(group) => collect_edits(&group.ast, out),
        Ast::Alternation(alternation) => {
            for item in &alternation.asts {
                collect_edits(item, out);
            }
        }
        Ast::Concat(concat) => {
            for item in &concat.asts {
                collect_edits(item, out);
            }
        }
        _ => {}
    }
}

fn class_edits(set: &ast::ClassSet, out: &mut Vec<Edit>) {
    match set {
        ast::ClassSet::Item(item) => class_item_edits(item, out),
        ast::ClassSet::BinaryOp(op) => {
            class_edits(&op.lhs, out);
            class_edits(&op.rhs, out);
        }
    }
}

fn class_item_edits(item: &ast::ClassSetItem, out: &mut Vec<Edit>) {
    match item {
        ast::ClassSetItem::Literal(literal) => out.extend(literal_edit(literal)),
        ast::ClassSetItem::Range(range) => {
            out.extend(literal_edit(&range.start));
            out.extend(literal_edit(&range.end));
        }
        ast::ClassSetItem::Bracketed(inner) => class_edits(&inner.kind, out),
        ast::ClassSetItem::Union(union) => {
            for item in &union.items {
                class_item_edits(item, out);
            }
        }
        _ => {}
    }
}

/// A character escape the subset lacks, as the character itself.
fn literal_edit(literal: &ast::Literal) -> Option<Edit> {
    if !matches!(
        literal.kind,
        LiteralKind::Special(_) | LiteralKind::HexFixed(_) | LiteralKind::HexBrace(_)
    ) {
        return None;
    }
    let c = literal.c;
    let text = if regex_syntax::is_meta_character(c) {
        format!("\\{c}")
    } else {
        c.to_string()
    };
    Some((literal.span.start.offset..literal.span.end.offset, text))
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
        assert_eq!(pattern(r"\x41\x2E\t", false).unwrap(), "A\\.\t");
        assert_eq!(pattern(r"[\n\x20-\x7E]", false).unwrap(), "[\n -\\~]");
        assert!(pattern(r"\101", false).is_err());
        assert!(pattern(r"a(?i)b", false).is_err());
        assert!(pattern(r"\<word", false).is_err());
    }
}
