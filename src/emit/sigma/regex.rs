//! A checked pattern in Sigma's regular-expression subset ("PCRE with `.`
//! `^ $` `* + ? {n,m}` `[a-z] [^a-z]` `|` `()`"), which pySigma compiles with
//! Python's `re`. `\d \w \s` become explicit ASCII classes, `(?:x)` a plain
//! group, lazy quantifiers greedy (a match-anywhere test does not depend on
//! laziness), `{n}` and `{n,}` the `{n,m}` form. What the subset cannot say
//! exactly is refused: `\b` and `\B` need look-around, and `$` means "end or
//! before a final newline" in PCRE and Python but "end" in tripline.

use regex_syntax::ast::{
    self, AssertionKind, Ast, ClassPerlKind, ClassSet, ClassSetItem, LiteralKind, RepetitionKind,
    RepetitionRange,
};
use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};

use crate::check::regex::{class_members, perl_class};

/// A construct the subset cannot express, and how to do without it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub construct: &'static str,
    pub help: &'static str,
}

/// `pattern` (without its leading `(?i)`) in Sigma's subset. A
/// case-insensitive pattern is spelled with explicit classes (`a` becomes
/// `[Aa]`, `k` `[Kk\u{212A}]`) by simple case folding, as the evaluator
/// reads `(?i)`, rather than with `|i`: Python's `re` (and PCRE) fold case
/// their own way (`İ` matches `(?i)i` in Python, not in tripline).
pub fn rewrite(pattern: &str, case_insensitive: bool) -> Result<String, Unsupported> {
    let tree = ast::parse::Parser::new()
        .parse(pattern)
        .map_err(|_| unsupported("this regular expression"))?;
    let mut out = String::with_capacity(pattern.len() + 16);
    Writer {
        fold: case_insensitive,
    }
    .write(&tree, &mut out)?;
    Ok(out)
}

struct Writer {
    /// Spell out simple case folding (`(?i)`).
    fold: bool,
}

fn unsupported(construct: &'static str) -> Unsupported {
    Unsupported {
        construct,
        help: "write the pattern with Sigma's subset: `.` `^` `* + ? {n,m}` flat classes `|` `()`",
    }
}

impl Writer {
    fn write(&self, tree: &Ast, out: &mut String) -> Result<(), Unsupported> {
        match tree {
            Ast::Empty(_) => {}
            Ast::Dot(_) => out.push('.'),
            Ast::Literal(literal) if self.fold => {
                check_literal(literal)?;
                write_set(&single(literal.c), false, out);
            }
            Ast::Literal(literal) => write_literal(literal, out, false)?,
            Ast::ClassPerl(class) if self.fold => {
                write_set(&perl_set(&class.kind), class.negated, out)
            }
            Ast::ClassPerl(class) => out.push_str(perl_class(class)),
            Ast::Assertion(assertion) => match assertion.kind {
                AssertionKind::StartLine => out.push('^'),
                AssertionKind::EndLine => {
                    return Err(Unsupported {
                        construct: "the regex anchor `$`",
                        help: "Sigma's `$` also matches before a final newline and its \
                           subset has no end-of-text anchor; drop the `$` or match \
                           the text with `endswith`",
                    });
                }
                AssertionKind::WordBoundary | AssertionKind::NotWordBoundary => {
                    return Err(Unsupported {
                        construct: "a regex word boundary (`\\b`, `\\B`)",
                        help: "Sigma's regex subset has no word boundary or look-around; \
                           match the neighbouring characters with a class such as \
                           `(^|[^0-9A-Za-z_])`",
                    });
                }
                _ => return Err(unsupported("this regex assertion")),
            },
            Ast::ClassBracketed(class) if self.fold => {
                let mut set = ClassUnicode::empty();
                class_set(&class.kind, &mut set)?;
                write_set(&set, class.negated, out);
            }
            Ast::ClassBracketed(class) => {
                out.push('[');
                if class.negated {
                    out.push('^');
                }
                write_class_set(&class.kind, out)?;
                out.push(']');
            }
            Ast::Repetition(repetition) => self.write_repetition(repetition, out)?,
            Ast::Group(group) => {
                if let ast::GroupKind::NonCapturing(flags) = &group.kind
                    && !flags.items.is_empty()
                {
                    return Err(unsupported("an inline regex flag"));
                }
                out.push('(');
                self.write(&group.ast, out)?;
                out.push(')');
            }
            Ast::Alternation(alternation) => {
                for (i, branch) in alternation.asts.iter().enumerate() {
                    if i > 0 {
                        out.push('|');
                    }
                    self.write(branch, out)?;
                }
            }
            Ast::Concat(concat) => concat.asts.iter().try_for_each(|a| self.write(a, out))?,
            Ast::Flags(_) => return Err(unsupported("an inline regex flag")),
            Ast::ClassUnicode(_) => return Err(unsupported("a Unicode regex class")),
        }
        Ok(())
    }

    fn write_repetition(
        &self,
        repetition: &ast::Repetition,
        out: &mut String,
    ) -> Result<(), Unsupported> {
        let mut operand = String::new();
        self.write(&repetition.ast, &mut operand)?;
        out.push_str(&operand);
        match &repetition.op.kind {
            RepetitionKind::ZeroOrOne => out.push('?'),
            RepetitionKind::ZeroOrMore => out.push('*'),
            RepetitionKind::OneOrMore => out.push('+'),
            RepetitionKind::Range(RepetitionRange::Exactly(n)) => {
                out.push_str(&format!("{{{n},{n}}}"))
            }
            RepetitionKind::Range(RepetitionRange::Bounded(n, m)) => {
                out.push_str(&format!("{{{n},{m}}}"))
            }
            // `x{n,}` is `x{n,n}x*`: only the bounded form is in the subset.
            RepetitionKind::Range(RepetitionRange::AtLeast(0)) => out.push('*'),
            RepetitionKind::Range(RepetitionRange::AtLeast(n)) => {
                out.push_str(&format!("{{{n},{n}}}{operand}*"))
            }
        }
        Ok(())
    }
}

fn write_literal(
    literal: &ast::Literal,
    out: &mut String,
    in_class: bool,
) -> Result<(), Unsupported> {
    let c = literal.c;
    match literal.kind {
        LiteralKind::Verbatim | LiteralKind::Meta | LiteralKind::Superfluous => {
            // Escaping ASCII punctuation is literal in PCRE and Python alike.
            let escape = c.is_ascii_punctuation()
                && (in_class || literal.kind != LiteralKind::Verbatim || is_meta(c));
            if escape {
                out.push('\\');
            }
            out.push(c);
            Ok(())
        }
        _ => Err(unsupported("this regex escape")),
    }
}

/// The literal kinds the subset writes (a character or an escaped one).
fn check_literal(literal: &ast::Literal) -> Result<(), Unsupported> {
    match literal.kind {
        LiteralKind::Verbatim | LiteralKind::Meta | LiteralKind::Superfluous => Ok(()),
        _ => Err(unsupported("this regex escape")),
    }
}

fn single(c: char) -> ClassUnicode {
    ClassUnicode::new([ClassUnicodeRange::new(c, c)])
}

/// An ASCII Perl class's members.
fn perl_set(kind: &ClassPerlKind) -> ClassUnicode {
    let ranges: &[(char, char)] = match kind {
        ClassPerlKind::Digit => &[('0', '9')],
        ClassPerlKind::Word => &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
        ClassPerlKind::Space => &[('\t', '\r'), (' ', ' ')],
    };
    ClassUnicode::new(ranges.iter().map(|&(a, b)| ClassUnicodeRange::new(a, b)))
}

/// Adds the members of a bracket class's items to `set`.
fn class_set(kind: &ClassSet, set: &mut ClassUnicode) -> Result<(), Unsupported> {
    match kind {
        ClassSet::BinaryOp(_) => Err(unsupported("a regex class set operation")),
        ClassSet::Item(item) => class_item_set(item, set),
    }
}

fn class_item_set(item: &ClassSetItem, set: &mut ClassUnicode) -> Result<(), Unsupported> {
    match item {
        ClassSetItem::Empty(_) => {}
        ClassSetItem::Literal(literal) => {
            check_literal(literal)?;
            set.union(&single(literal.c));
        }
        ClassSetItem::Range(range) => {
            check_literal(&range.start)?;
            check_literal(&range.end)?;
            set.union(&ClassUnicode::new([ClassUnicodeRange::new(
                range.start.c,
                range.end.c,
            )]));
        }
        ClassSetItem::Perl(class) if !class.negated => set.union(&perl_set(&class.kind)),
        ClassSetItem::Perl(_) => {
            return Err(Unsupported {
                construct: "a negated class escape (`\\D`, `\\W`, `\\S`) inside brackets",
                help: "Sigma's subset has flat classes only; list the characters instead",
            });
        }
        ClassSetItem::Union(union) => {
            for item in &union.items {
                class_item_set(item, set)?;
            }
        }
        _ => return Err(unsupported("a nested or POSIX regex class")),
    }
    Ok(())
}

/// `set` closed under simple case folding, as a flat class (`negated`:
/// `[^...]`), or the character itself when folding adds nothing.
fn write_set(set: &ClassUnicode, negated: bool, out: &mut String) {
    let mut folded = set.clone();
    folded.case_fold_simple();
    let ranges = folded.ranges();
    if let ([range], false) = (ranges, negated)
        && range.start() == range.end()
    {
        write_class_char(range.start(), out, false);
        return;
    }
    out.push('[');
    if negated {
        out.push('^');
    }
    for range in ranges {
        write_class_char(range.start(), out, true);
        if range.end() != range.start() {
            if u32::from(range.end()) > u32::from(range.start()) + 1 {
                out.push('-');
            }
            write_class_char(range.end(), out, true);
        }
    }
    out.push(']');
}

/// One character of a class (or, outside one, a literal): ASCII
/// punctuation escaped, ASCII controls as `\xHH`, the rest as itself.
fn write_class_char(c: char, out: &mut String, in_class: bool) {
    if c.is_ascii_control() {
        out.push_str(&format!("\\x{:02X}", u32::from(c)));
    } else {
        if c.is_ascii_punctuation() && (in_class || is_meta(c)) {
            out.push('\\');
        }
        out.push(c);
    }
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
    )
}

fn write_class_set(set: &ClassSet, out: &mut String) -> Result<(), Unsupported> {
    match set {
        ClassSet::BinaryOp(_) => Err(unsupported("a regex class set operation")),
        ClassSet::Item(item) => write_class_item(item, out),
    }
}

fn write_class_item(item: &ClassSetItem, out: &mut String) -> Result<(), Unsupported> {
    match item {
        ClassSetItem::Empty(_) => Ok(()),
        ClassSetItem::Literal(literal) => write_literal(literal, out, true),
        ClassSetItem::Range(range) => {
            write_literal(&range.start, out, true)?;
            out.push('-');
            write_literal(&range.end, out, true)
        }
        ClassSetItem::Perl(class) if !class.negated => {
            out.push_str(class_members(&class.kind));
            Ok(())
        }
        ClassSetItem::Perl(_) => Err(Unsupported {
            construct: "a negated class escape (`\\D`, `\\W`, `\\S`) inside brackets",
            help: "Sigma's subset has flat classes only; list the characters instead",
        }),
        ClassSetItem::Union(union) => union
            .items
            .iter()
            .try_for_each(|i| write_class_item(i, out)),
        _ => Err(unsupported("a nested or POSIX regex class")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_is_spelled_out() {
        for (tripline, sigma) in [
            (
                r"id=\d+\s*(or|and)\s+\w+",
                r"id=[0-9]+[\t\n\x0B\x0C\r ]*(or|and)[\t\n\x0B\x0C\r ]+[0-9A-Za-z_]+",
            ),
            (r"^(?:ab)+?x{3}y{2,}z{1,4}?", r"^(ab)+x{3,3}y{2,2}y*z{1,4}"),
            (r"[\d.\-\]]a{0,}", r"[0-9\.\-\]]a*"),
            (r"\.\*\\/a", r"\.\*\\/a"),
            (r"é|[^\d]", r"é|[^0-9]"),
            ("", ""),
        ] {
            assert_eq!(
                rewrite(tripline, false),
                Ok(sigma.to_string()),
                "{tripline}"
            );
        }
    }

    #[test]
    fn case_insensitive_patterns_spell_out_simple_case_folding() {
        // Python's `re.IGNORECASE` lets `İ` match `i` and `[a-z]`; tripline's
        // `(?i)` (simple case folding) does not, so no `|i` is written.
        for (tripline, sigma) in [
            (r"ab\.1.", r"[Aa][Bb]\.1."),
            ("[a-c]x", "[A-Ca-c][Xx]"),
            ("[^k]", "[^Kk\u{212A}]"),
            (r"\w+\S", "[0-9A-Z\\_a-z\u{17F}\u{212A}]+[^\\x09-\\x0D ]"),
            ("é|σ", "[Éé]|[Σςσ]"),
            ("i-#", "[Ii]-#"),
        ] {
            assert_eq!(rewrite(tripline, true), Ok(sigma.to_string()), "{tripline}");
        }
        let pattern = rewrite(r"(?:ist)[a-z]", true).unwrap_or_default();
        let regex = ::regex::Regex::new(&pattern).unwrap_or_else(|_| unreachable!());
        assert!(regex.is_match("IſT\u{212A}") && !regex.is_match("\u{130}st"));
    }

    #[test]
    fn anchors_and_boundaries_are_refused() {
        for bad in [r"a$", r"\bword\b", r"a\Bb", r"[\S]"] {
            assert!(rewrite(bad, false).is_err(), "{bad}");
        }
    }
}
