//! `matches` as PCRE for `match()`. Splunk does not document whether its
//! PCRE runs in UTF mode, so the patterns written here mean the same
//! whether PCRE reads the value as characters or as UTF-8 bytes: literals
//! and ASCII classes are exact in both; "any character" and classes
//! holding every non-ASCII character only as a run (`*`, `+`), since a run
//! of bytes and a run of characters cover the same text. A leading `(?i)`
//! stays `(?i)`, refused with non-ASCII letters (their caseless matching
//! depends on UTF mode). `$` becomes `\z` (PCRE's `$` also matches before
//! a final newline); `\d \w \s` are explicit ASCII classes.

use regex_syntax::hir::{Class, ClassUnicode, Hir, HirKind, Look};

use super::literal::{pcre_char, pcre_class_char};

/// What the pattern holds that Splunk cannot run exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexpressible {
    pub construct: String,
    pub help: String,
}

fn unexpressible(construct: &str, help: &str) -> Unexpressible {
    Unexpressible {
        construct: construct.to_string(),
        help: help.to_string(),
    }
}

const BYTES_OR_CHARS: &str = "Splunk does not document whether PCRE counts UTF-8 bytes or characters; \
     write the characters, or use `.*` / `.+` (a run means the same in both)";

/// The PCRE for a checked `matches` pattern (without its leading `(?i)`).
pub fn regex(pattern: &str, case_insensitive: bool) -> Result<String, Unexpressible> {
    if case_insensitive
        && pattern
            .chars()
            .any(|c| !c.is_ascii() && (c.is_lowercase() || c.is_uppercase()))
    {
        return Err(unexpressible(
            "`(?i)` with a non-ASCII letter",
            "Splunk does not document PCRE's UTF mode, on which caseless matching of non-ASCII \
             letters depends; list the spellings, e.g. `(É|é)`",
        ));
    }
    let ascii = crate::check::regex::rewrite_ascii(pattern);
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&ascii)
        .map_err(|_| unexpressible("this regular expression", "check the pattern"))?;
    let text = Writer.node(&hir, false)?.text;
    Ok(if case_insensitive {
        format!("(?i){text}")
    } else {
        text
    })
}

/// A translated node: its PCRE and what its neighbours need to know.
struct Piece {
    text: String,
    /// Holds a run of "any byte / any character".
    run: bool,
    /// Can match the empty string.
    nullable: bool,
    /// Safe to quantify as is.
    atom: bool,
}

struct Writer;

impl Writer {
    /// `after_run`: something before this node may end inside a run, i.e.
    /// in the middle of a character when PCRE reads bytes.
    fn node(&self, hir: &Hir, after_run: bool) -> Result<Piece, Unexpressible> {
        match hir.kind() {
            HirKind::Empty => Ok(piece(String::new(), false, true, true)),
            HirKind::Literal(literal) => {
                let text = String::from_utf8_lossy(&literal.0);
                if text.contains('\0') {
                    return Err(nul());
                }
                let atom = text.chars().count() == 1 && text.is_ascii();
                Ok(piece(
                    text.chars().map(pcre_char).collect(),
                    false,
                    false,
                    atom,
                ))
            }
            HirKind::Class(Class::Unicode(class)) => class_piece(class),
            HirKind::Class(Class::Bytes(_)) => Err(unexpressible(
                "a byte class",
                "write the characters of the class",
            )),
            HirKind::Look(look) => self.look(*look, after_run),
            HirKind::Repetition(repetition) => self.repetition(repetition, after_run),
            HirKind::Capture(capture) => {
                let inner = self.node(&capture.sub, after_run)?;
                let text = if inner.atom && inner.text.starts_with("(?:") {
                    inner.text
                } else {
                    format!("(?:{})", inner.text)
                };
                Ok(piece(text, inner.run, inner.nullable, true))
            }
            HirKind::Concat(items) => {
                let mut text = String::new();
                let (mut carry, mut run, mut nullable) = (after_run, false, true);
                for item in items {
                    let translated = self.node(item, carry)?;
                    text.push_str(&translated.text);
                    carry = translated.run || (translated.nullable && carry);
                    run |= translated.run;
                    nullable &= translated.nullable;
                }
                Ok(piece(text, run, nullable, false))
            }
            HirKind::Alternation(branches) => {
                let translated = branches
                    .iter()
                    .map(|b| self.node(b, after_run))
                    .collect::<Result<Vec<_>, _>>()?;
                let texts: Vec<&str> = translated.iter().map(|p| p.text.as_str()).collect();
                Ok(piece(
                    format!("(?:{})", texts.join("|")),
                    translated.iter().any(|p| p.run),
                    translated.iter().any(|p| p.nullable),
                    true,
                ))
            }
        }
    }

    fn look(&self, look: Look, after_run: bool) -> Result<Piece, Unexpressible> {
        let text = match look {
            Look::Start => "^",
            Look::End => "\\z",
            Look::WordAscii => "\\b",
            Look::WordAsciiNegate if !after_run => "\\B",
            Look::WordAsciiNegate => {
                return Err(unexpressible(
                    "`\\B` after `.*`, `.+` or a negated class",
                    BYTES_OR_CHARS,
                ));
            }
            _ => return Err(unexpressible("this assertion", "use `^`, `$` or `\\b`")),
        };
        Ok(piece(text.to_string(), false, true, false))
    }

    fn repetition(
        &self,
        repetition: &regex_syntax::hir::Repetition,
        after_run: bool,
    ) -> Result<Piece, Unexpressible> {
        let (min, max) = (repetition.min, repetition.max);
        let lazy = if repetition.greedy { "" } else { "?" };
        let quantifier = match (min, max) {
            (0, None) => "*".to_string(),
            (1, None) => "+".to_string(),
            (0, Some(1)) => "?".to_string(),
            (n, None) => format!("{{{n},}}"),
            (n, Some(m)) if n == m => format!("{{{n}}}"),
            (n, Some(m)) => format!("{{{n},{m}}}"),
        };
        if let HirKind::Class(Class::Unicode(class)) = repetition.sub.kind()
            && is_run_class(class)
        {
            let inner = run_class(class);
            return match (min, max) {
                (0, None) => Ok(piece(format!("{inner}*{lazy}"), true, true, false)),
                (1, None) if !after_run => Ok(piece(format!("{inner}+{lazy}"), true, false, false)),
                (1, None) => Err(unexpressible(
                    "`.+` (or a negated class with `+`) right after another such run",
                    BYTES_OR_CHARS,
                )),
                _ => Err(unexpressible(
                    "`.` or a negated class repeated a counted number of times",
                    BYTES_OR_CHARS,
                )),
            };
        }
        let mut inner = self.node(&repetition.sub, after_run)?;
        if inner.run && max != Some(1) {
            // Each repeat follows the previous one.
            self.node(&repetition.sub, true)?;
        }
        if !inner.atom {
            inner.text = format!("(?:{})", inner.text);
        }
        Ok(piece(
            format!("{}{quantifier}{lazy}", inner.text),
            inner.run,
            min == 0 || inner.nullable,
            false,
        ))
    }
}

fn piece(text: String, run: bool, nullable: bool, atom: bool) -> Piece {
    Piece {
        text,
        run,
        nullable,
        atom,
    }
}

fn nul() -> Unexpressible {
    unexpressible(
        "a NUL character",
        "Splunk field values cannot be compared with NUL",
    )
}

/// A class holding every non-ASCII character: it can only stand in a run.
fn is_run_class(class: &ClassUnicode) -> bool {
    let mut outside = class.clone();
    outside.negate();
    outside.is_ascii() && !class.is_ascii()
}

/// A run class as a negated ASCII class (`[^\n]` for `.`).
fn run_class(class: &ClassUnicode) -> String {
    let mut outside = class.clone();
    outside.negate();
    if outside.ranges().is_empty() {
        return "(?s:.)".to_string();
    }
    format!("[^{}]", class_members(&outside))
}

fn class_members(class: &ClassUnicode) -> String {
    class
        .ranges()
        .iter()
        .map(|r| {
            if r.start() == r.end() {
                pcre_class_char(r.start())
            } else {
                format!(
                    "{}-{}",
                    pcre_class_char(r.start()),
                    pcre_class_char(r.end())
                )
            }
        })
        .collect()
}

/// Most non-ASCII characters a class may list (each becomes an alternative).
const MAX_LISTED: usize = 16;

fn class_piece(class: &ClassUnicode) -> Result<Piece, Unexpressible> {
    if class.ranges().iter().any(|r| r.start() == '\0') {
        return Err(nul());
    }
    if is_run_class(class) {
        return Err(unexpressible(
            "`.` or a negated class outside `*` or `+`",
            BYTES_OR_CHARS,
        ));
    }
    let mut ascii = class.clone();
    ascii.intersect(&ClassUnicode::new([
        regex_syntax::hir::ClassUnicodeRange::new('\0', '\x7F'),
    ]));
    let others: Vec<char> = class
        .ranges()
        .iter()
        .flat_map(|r| r.start()..=r.end())
        .filter(|c| !c.is_ascii())
        .take(MAX_LISTED + 1)
        .collect();
    if others.len() > MAX_LISTED {
        return Err(unexpressible(
            "a class with a range of non-ASCII characters",
            BYTES_OR_CHARS,
        ));
    }
    let mut alternatives = Vec::new();
    if !ascii.ranges().is_empty() {
        alternatives.push(format!("[{}]", class_members(&ascii)));
    }
    alternatives.extend(others.iter().map(|c| pcre_char(*c)));
    Ok(match alternatives.as_slice() {
        [] => piece("(?!)".to_string(), false, false, true),
        [one] => piece(one.clone(), false, false, true),
        _ => piece(
            format!("(?:{})", alternatives.join("|")),
            false,
            false,
            true,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pcre(pattern: &str) -> String {
        let (body, ci) = match pattern.strip_prefix("(?i)") {
            Some(body) => (body, true),
            None => (pattern, false),
        };
        regex(body, ci).unwrap()
    }

    #[test]
    fn patterns_become_portable_pcre() {
        assert_eq!(
            pcre(r"^[a-z0-9]{20,}\.example\.com$"),
            r"^[0-9a-z]{20,}\.example\.com\z"
        );
        assert_eq!(
            pcre(r"id=\d+\s*(or|and)\s+\w+"),
            r"id=[0-9]+[\x09-\x0D ]*(?:or|and)[\x09-\x0D ]+[0-9A-Z_a-z]+"
        );
        assert_eq!(pcre(r"(?i)\bget-adtrust\b"), r"(?i)\bget-adtrust\b");
        assert_eq!(pcre(r"a.*b.+c"), r"a[^\x0A]*b[^\x0A]+c");
        assert_eq!(pcre(r"é+"), r"(?:é)+");
    }

    #[test]
    fn byte_or_character_dependent_constructs_are_refused() {
        for pattern in [
            r"a.b", r"a.{2}", r"[^a]", r"\W", r".+.+", r"(?i)é", r"[à-ÿ]", r".*\B",
        ] {
            let (body, ci) = match pattern.strip_prefix("(?i)") {
                Some(body) => (body, true),
                None => (pattern, false),
            };
            assert!(regex(body, ci).is_err(), "{pattern}");
        }
    }

    #[test]
    fn translated_patterns_agree_with_the_evaluator_on_text() {
        for (pattern, texts) in [
            (
                r"(?i)\bget-adtrust\b",
                &["powershell Get-ADTrust -x", "Get-ADTrustX"][..],
            ),
            (r"^a.*z$", &["abz", "a\nz", "az\n", "aéz"]),
            (r"x[^y]+$", &["xé", "xy", "x\n"]),
        ] {
            let (body, ci) = match pattern.strip_prefix("(?i)") {
                Some(body) => (body, true),
                None => (pattern, false),
            };
            let evaluator = regex::RegexBuilder::new(&crate::check::regex::rewrite_ascii(body))
                .case_insensitive(ci)
                .build()
                .unwrap();
            let ours = regex::Regex::new(&regex(body, ci).unwrap()).unwrap();
            for text in texts {
                assert_eq!(
                    ours.is_match(text),
                    evaluator.is_match(text),
                    "{pattern} on {text:?}"
                );
            }
        }
    }
}
