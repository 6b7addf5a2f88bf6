//! Regular expressions: the subset every target can express (language.md
//! 1.4, "Checker details"), and the rewrite that gives `\d \w \s \b` and
//! their negations their ASCII meaning in every engine.
//!
//! Both walk `regex-syntax`'s syntax tree, so a construct is judged by what
//! it is, never by spelling; the rewrite replaces spans of the written text.

use std::ops::Range;

use regex_syntax::ast::{
    self, AssertionKind, Ast, ClassPerl, ClassPerlKind, ClassSet, ClassSetItem, GroupKind,
    LiteralKind, RepetitionKind, RepetitionRange,
};

/// The one flag group allowed, at the very start of a pattern.
const LEADING_CASE_FLAG: &str = "(?i)";
/// The largest repetition count every target accepts.
const MAX_REPETITION: u32 = 1000;

/// A validated pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The pattern as written, minus a leading `(?i)`.
    pub pattern: String,
    pub case_insensitive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegexErrorKind {
    /// Not a regular expression at all (E0505).
    Invalid,
    /// Valid Rust syntax outside the portable subset (E0506).
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexError {
    pub kind: RegexErrorKind,
    pub message: String,
    pub help: Option<String>,
    /// Byte offsets into the pattern as written, when the problem has a place.
    pub span: Option<Range<usize>>,
}

/// Checks `written` against the portable subset and that the `regex` crate
/// compiles its ASCII rewrite. Reports the first problem.
pub fn validate(written: &str) -> Result<Pattern, RegexError> {
    let (body, case_insensitive, offset) = match written.strip_prefix(LEADING_CASE_FLAG) {
        Some(body) => (body, true, LEADING_CASE_FLAG.len()),
        None => (written, false, 0),
    };
    let shift = |span: &ast::Span| span.start.offset + offset..span.end.offset + offset;
    let tree = ast::parse::Parser::new().parse(body).map_err(|err| {
        let (kind, help) = match err.kind() {
            ast::ErrorKind::UnsupportedLookAround => (
                RegexErrorKind::Unsupported,
                Some("look-around is not available in every target; match the text itself"),
            ),
            ast::ErrorKind::UnsupportedBackreference => (
                RegexErrorKind::Unsupported,
                Some("backreferences are not available in every target"),
            ),
            _ => (RegexErrorKind::Invalid, None),
        };
        RegexError {
            kind,
            message: err.kind().to_string(),
            help: help.map(str::to_string),
            span: Some(shift(err.span())),
        }
    })?;
    subset(&tree).map_err(|found| RegexError {
        kind: RegexErrorKind::Unsupported,
        message: format!("{} is not supported by every target", found.construct),
        help: Some(found.help.to_string()),
        span: Some(shift(&found.span)),
    })?;
    regex::RegexBuilder::new(&rewrite_ascii(body))
        .case_insensitive(case_insensitive)
        .build()
        .map_err(|err| RegexError {
            kind: RegexErrorKind::Invalid,
            message: err.to_string(),
            help: None,
            span: None,
        })?;
    Ok(Pattern {
        pattern: body.to_string(),
        case_insensitive,
    })
}

/// A construct outside the subset.
struct Unsupported {
    construct: &'static str,
    help: &'static str,
    span: ast::Span,
}

fn refuse(
    construct: &'static str,
    help: &'static str,
    span: &ast::Span,
) -> Result<(), Unsupported> {
    Err(Unsupported {
        construct,
        help,
        span: *span,
    })
}

fn subset(tree: &Ast) -> Result<(), Unsupported> {
    match tree {
        Ast::Empty(_) | Ast::Dot(_) | Ast::ClassPerl(_) => Ok(()),
        Ast::Flags(flags) => refuse(
            "an inline flag group",
            "flags are allowed only as one `(?i)` at the start of the pattern",
            &flags.span,
        ),
        Ast::Literal(literal) => subset_literal(literal),
        Ast::Assertion(assertion) => match assertion.kind {
            AssertionKind::StartLine
            | AssertionKind::EndLine
            | AssertionKind::WordBoundary
            | AssertionKind::NotWordBoundary => Ok(()),
            AssertionKind::StartText => refuse("`\\A`", "use `^`", &assertion.span),
            AssertionKind::EndText => refuse("`\\z`", "use `$`", &assertion.span),
            _ => refuse("a special word boundary", "use `\\b`", &assertion.span),
        },
        Ast::ClassUnicode(class) => refuse(
            "a Unicode class (`\\p..`, `\\P..`)",
            "write the characters or ranges out in a bracket class",
            &class.span,
        ),
        Ast::ClassBracketed(class) => subset_class(&class.kind),
        Ast::Repetition(repetition) => {
            if let RepetitionKind::Range(range) = &repetition.op.kind {
                let (RepetitionRange::Exactly(n)
                | RepetitionRange::AtLeast(n)
                | RepetitionRange::Bounded(_, n)) = *range;
                if n > MAX_REPETITION {
                    return refuse(
                        "a repetition count above 1000",
                        "use counts up to 1000",
                        &repetition.op.span,
                    );
                }
            }
            subset(&repetition.ast)
        }
        Ast::Group(group) => {
            match &group.kind {
                GroupKind::CaptureIndex(_) => {}
                GroupKind::NonCapturing(flags) if flags.items.is_empty() => {}
                GroupKind::CaptureName { .. } => {
                    return refuse("a named group", "use a plain group `( )`", &group.span);
                }
                GroupKind::NonCapturing(_) => {
                    return refuse(
                        "a scoped flag group like `(?i:...)`",
                        "put one `(?i)` at the start of the pattern to ignore case in all of it",
                        &group.span,
                    );
                }
            }
            subset(&group.ast)
        }
        Ast::Alternation(alternation) => alternation.asts.iter().try_for_each(subset),
        Ast::Concat(concat) => concat.asts.iter().try_for_each(subset),
    }
}

fn subset_literal(literal: &ast::Literal) -> Result<(), Unsupported> {
    match literal.kind {
        LiteralKind::Verbatim | LiteralKind::Meta | LiteralKind::Superfluous => Ok(()),
        LiteralKind::HexFixed(_) | LiteralKind::HexBrace(_) => refuse(
            "a hexadecimal escape (`\\x..`, `\\u..`)",
            "write the character itself",
            &literal.span,
        ),
        LiteralKind::Octal => refuse(
            "an octal escape",
            "write the character itself",
            &literal.span,
        ),
        LiteralKind::Special(_) => refuse(
            "an escape like `\\t` or `\\n`",
            "write the character itself (a plain string can hold `\\t` or `\\n`) or use `\\s`",
            &literal.span,
        ),
    }
}

fn subset_class(set: &ClassSet) -> Result<(), Unsupported> {
    match set {
        ClassSet::BinaryOp(op) => refuse(
            "a class set operation (`&&`, `--`, `~~`)",
            "write the class as one flat set of characters and ranges",
            &op.span,
        ),
        ClassSet::Item(item) => subset_class_item(item),
    }
}

fn subset_class_item(item: &ClassSetItem) -> Result<(), Unsupported> {
    match item {
        ClassSetItem::Empty(_) | ClassSetItem::Perl(_) => Ok(()),
        ClassSetItem::Literal(literal) => subset_literal(literal),
        ClassSetItem::Range(range) => {
            subset_literal(&range.start)?;
            subset_literal(&range.end)
        }
        ClassSetItem::Ascii(class) => refuse(
            "a POSIX class like `[:alpha:]`",
            "write the ranges out, e.g. `[a-zA-Z]`",
            &class.span,
        ),
        ClassSetItem::Unicode(class) => refuse(
            "a Unicode class (`\\p..`, `\\P..`)",
            "write the characters or ranges out",
            &class.span,
        ),
        ClassSetItem::Bracketed(class) => refuse(
            "a nested class",
            "write the class as one flat set of characters and ranges",
            &class.span,
        ),
        ClassSetItem::Union(union) => union.items.iter().try_for_each(subset_class_item),
    }
}

/// `pattern` (without a leading `(?i)`) with `\d \w \s \D \W \S \b \B`, also
/// inside bracket classes, spelled as explicit ASCII classes and ASCII word
/// boundaries, for the `regex` crate and the targets. A pattern that does not
/// parse is returned unchanged (`validate` reports it).
pub fn rewrite_ascii(pattern: &str) -> String {
    let Ok(tree) = ast::parse::Parser::new().parse(pattern) else {
        return pattern.to_string();
    };
    let mut edits = Vec::new();
    collect_edits(&tree, &mut edits);
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = String::with_capacity(pattern.len() + 16 * edits.len());
    let mut at = 0;
    for (range, replacement) in edits {
        out.push_str(pattern.get(at..range.start).unwrap_or(""));
        out.push_str(replacement);
        at = range.end;
    }
    out.push_str(pattern.get(at..).unwrap_or(""));
    out
}

type Edit = (Range<usize>, &'static str);

fn range(span: &ast::Span) -> Range<usize> {
    span.start.offset..span.end.offset
}

fn collect_edits(tree: &Ast, edits: &mut Vec<Edit>) {
    match tree {
        Ast::ClassPerl(class) => edits.push((range(&class.span), perl_class(class))),
        Ast::Assertion(assertion) => match assertion.kind {
            AssertionKind::WordBoundary => edits.push((range(&assertion.span), r"(?-u:\b)")),
            AssertionKind::NotWordBoundary => edits.push((range(&assertion.span), r"(?-u:\B)")),
            _ => {}
        },
        Ast::ClassBracketed(class) => collect_class_edits(&class.kind, edits),
        Ast::Repetition(repetition) => collect_edits(&repetition.ast, edits),
        Ast::Group(group) => collect_edits(&group.ast, edits),
        Ast::Alternation(alternation) => alternation
            .asts
            .iter()
            .for_each(|a| collect_edits(a, edits)),
        Ast::Concat(concat) => concat.asts.iter().for_each(|a| collect_edits(a, edits)),
        _ => {}
    }
}

fn collect_class_edits(set: &ClassSet, edits: &mut Vec<Edit>) {
    match set {
        ClassSet::BinaryOp(op) => {
            collect_class_edits(&op.lhs, edits);
            collect_class_edits(&op.rhs, edits);
        }
        ClassSet::Item(item) => collect_item_edits(item, edits),
    }
}

fn collect_item_edits(item: &ClassSetItem, edits: &mut Vec<Edit>) {
    match item {
        // Inside brackets a positive class is spliced in as its members; a
        // negated one needs a nested class, which the `regex` crate accepts.
        ClassSetItem::Perl(class) if !class.negated => {
            edits.push((range(&class.span), class_members(&class.kind)))
        }
        ClassSetItem::Perl(class) => edits.push((range(&class.span), perl_class(class))),
        ClassSetItem::Bracketed(class) => collect_class_edits(&class.kind, edits),
        ClassSetItem::Union(union) => union
            .items
            .iter()
            .for_each(|i| collect_item_edits(i, edits)),
        _ => {}
    }
}

/// The members of an ASCII Perl class, for use inside brackets.
pub(crate) fn class_members(kind: &ClassPerlKind) -> &'static str {
    match kind {
        ClassPerlKind::Digit => "0-9",
        ClassPerlKind::Word => "0-9A-Za-z_",
        ClassPerlKind::Space => r"\t\n\x0B\x0C\r ",
    }
}

/// An ASCII Perl class (`\\d`, `\\W`, ...) as an explicit bracket class.
pub(crate) fn perl_class(class: &ClassPerl) -> &'static str {
    match (&class.kind, class.negated) {
        (ClassPerlKind::Digit, false) => "[0-9]",
        (ClassPerlKind::Digit, true) => "[^0-9]",
        (ClassPerlKind::Word, false) => "[0-9A-Za-z_]",
        (ClassPerlKind::Word, true) => "[^0-9A-Za-z_]",
        (ClassPerlKind::Space, false) => r"[\t\n\x0B\x0C\r ]",
        (ClassPerlKind::Space, true) => r"[^\t\n\x0B\x0C\r ]",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_is_accepted() {
        for good in [
            r"^a\.b$",
            r"(?i)admin|root",
            r"[a-z0-9_\-]+?",
            r"[^\d\s]{2,5}",
            r"(?:ab)*\bx\B",
            r"\d\w\s\D\W\S",
            r"a{3}b{1,}c{0,1000}?",
            r"\/\%",
            "",
            "(?i)",
        ] {
            assert!(validate(good).is_ok(), "{good}: {:?}", validate(good));
        }
    }

    #[test]
    fn constructs_outside_the_subset_are_named() {
        for (bad, construct) in [
            (r"(?P<n>a)", "named group"),
            (r"(?<n>a)", "named group"),
            (r"a(?=b)", "look-around"),
            (r"(a)\1", "backreference"),
            (r"[a-z&&[^aeiou]]", "class set operation"),
            (r"[a[bc]]", "nested class"),
            (r"[[:alpha:]]", "POSIX class"),
            (r"\Aab", "`\\A`"),
            (r"ab\z", "`\\z`"),
            (r"\x41", "hexadecimal"),
            (r"\u0041", "hexadecimal"),
            (r"\pL", "Unicode class"),
            (r"a{1001}", "above 1000"),
            (r"(?i:a)b", "scoped flag"),
            (r"a(?i)b", "inline flag"),
            (r"(?i)(?i)a", "inline flag"),
            (r"(?s).", "inline flag"),
            (r"\ta", "`\\t`"),
        ] {
            let err = validate(bad).unwrap_err();
            assert_eq!(err.kind, RegexErrorKind::Unsupported, "{bad}");
            assert!(err.message.contains(construct), "{bad}: {}", err.message);
            assert!(err.help.is_some(), "{bad}");
        }
    }

    #[test]
    fn syntax_errors_point_into_the_pattern() {
        let err = validate("(?i)ab(c").unwrap_err();
        assert_eq!(err.kind, RegexErrorKind::Invalid);
        assert_eq!(err.span.map(|s| s.start), Some(6));
        assert_eq!(
            validate(r"a{2,1}").unwrap_err().kind,
            RegexErrorKind::Invalid
        );
        assert_eq!(validate(r"\Z").unwrap_err().kind, RegexErrorKind::Invalid);
    }

    #[test]
    fn leading_case_flag_is_split_off() {
        let pattern = validate("(?i)ab").unwrap();
        assert_eq!(pattern.pattern, "ab");
        assert!(pattern.case_insensitive);
    }

    #[test]
    fn perl_classes_become_ascii() {
        assert_eq!(
            rewrite_ascii(r"\d+\w\s"),
            r"[0-9]+[0-9A-Za-z_][\t\n\x0B\x0C\r ]"
        );
        assert_eq!(
            rewrite_ascii(r"\D\W\S"),
            r"[^0-9][^0-9A-Za-z_][^\t\n\x0B\x0C\r ]"
        );
        assert_eq!(rewrite_ascii(r"\bx\B"), r"(?-u:\b)x(?-u:\B)");
        assert_eq!(rewrite_ascii(r"[a\d\W]"), r"[a0-9[^0-9A-Za-z_]]");
        assert_eq!(rewrite_ascii(r"[^\s.]"), r"[^\t\n\x0B\x0C\r .]");
        assert_eq!(rewrite_ascii(r"a\.b\\d"), r"a\.b\\d");
    }

    #[test]
    fn rewritten_patterns_keep_ascii_meaning() {
        let re = regex::Regex::new(&rewrite_ascii(r"^\w+\s\d\b")).unwrap();
        assert!(re.is_match("ab_9 7"));
        assert!(!re.is_match("é 7"));
        assert!(
            !regex::Regex::new(&rewrite_ascii(r"\d"))
                .unwrap()
                .is_match("٣")
        );
        let re = regex::Regex::new(&rewrite_ascii(r"[\W]")).unwrap();
        assert!(re.is_match("é") && !re.is_match("a"));
    }
}
