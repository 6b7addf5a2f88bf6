//! Sigma string values as pySigma reads them: text with the wildcards `*`
//! and `?` (`\*`, `\?` and `\\` are the literal characters; a backslash
//! before anything else is itself), and the value modifiers that rewrite a
//! value before it is matched (`windash`, `wide`, `utf16*`, `base64`,
//! `base64offset`) expanded to the literal values they stand for.

#[cfg(test)]
use std::fmt::Write as _;

/// One piece of a Sigma string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Char(char),
    /// `*`: any run of characters.
    AnyRun,
    /// `?`: one character.
    AnyOne,
}

pub type SigmaStr = Vec<Part>;

/// The most values one written value may expand to (`windash` multiplies
/// by 5 per dash).
pub const MAX_EXPANSION: usize = 625;

/// Reads Sigma's escaping (pySigma `SigmaString`).
pub fn parse(text: &str) -> SigmaStr {
    let mut parts = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    chars.next();
                    parts.push(Part::Char(next));
                }
                _ => parts.push(Part::Char('\\')),
            },
            '*' => parts.push(Part::AnyRun),
            '?' => parts.push(Part::AnyOne),
            other => parts.push(Part::Char(other)),
        }
    }
    parts
}

#[cfg(test)]
pub fn has_wildcard(s: &[Part]) -> bool {
    s.iter().any(|p| !matches!(p, Part::Char(_)))
}

/// The characters of a string without wildcards.
pub fn literal(s: &[Part]) -> Option<String> {
    s.iter()
        .map(|p| match p {
            Part::Char(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// The string as a tripline glob (`like`): wildcards as `*` `?`, and the
/// literal `*` `?` `\` escaped.
pub fn glob(s: &[Part]) -> String {
    let mut out = String::new();
    for part in s {
        match part {
            Part::AnyRun => out.push('*'),
            Part::AnyOne => out.push('?'),
            Part::Char(c @ ('*' | '?' | '\\')) => {
                out.push('\\');
                out.push(*c);
            }
            Part::Char(c) => out.push(*c),
        }
    }
    out
}

/// `contains` / `startswith` / `endswith` as pySigma applies them: a `*`
/// added where the value does not already have one.
pub fn wrap(mut s: SigmaStr, before: bool, after: bool) -> SigmaStr {
    if before && s.first() != Some(&Part::AnyRun) {
        s.insert(0, Part::AnyRun);
    }
    if after && s.last() != Some(&Part::AnyRun) {
        s.push(Part::AnyRun);
    }
    s
}

/// Python's `\w` on a `str` pattern (Unicode word characters).
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `windash`: each `-` or `/` that matches `\B[-/]\b` within a run of
/// characters (pySigma applies the regex to each run between wildcards)
/// becomes each of `-`, `/`, en dash, em dash and horizontal bar.
pub fn windash(s: &[Part]) -> Option<Vec<SigmaStr>> {
    const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];
    let char_at = |i: usize| match s.get(i) {
        Some(Part::Char(c)) => Some(*c),
        _ => None,
    };
    let spots: Vec<usize> = (0..s.len())
        .filter(|&i| {
            if !matches!(char_at(i), Some('-' | '/')) {
                return false;
            }
            // `\B` before a non-word character: the one before is not a
            // word character either (or the run starts here).
            let before_ok = i
                .checked_sub(1)
                .and_then(char_at)
                .is_none_or(|b| !is_word(b));
            let after_ok = char_at(i + 1).is_some_and(is_word);
            before_ok && after_ok
        })
        .collect();
    let count = DASHES.len().checked_pow(u32::try_from(spots.len()).ok()?)?;
    if count > MAX_EXPANSION {
        return None;
    }
    let mut out = vec![s.to_vec()];
    for spot in spots {
        out = out
            .into_iter()
            .flat_map(|v| {
                DASHES.iter().map(move |d| {
                    let mut v = v.clone();
                    v[spot] = Part::Char(*d);
                    v
                })
            })
            .collect();
    }
    Some(out)
}

/// `wide` (`utf16le`), `utf16be`, `utf16`: each character's UTF-16 bytes
/// read back as UTF-8, which pySigma allows only for ASCII characters;
/// wildcards stay wildcards. `None` for a non-ASCII character.
pub fn utf16(s: &[Part], big_endian: bool, bom: bool) -> Option<SigmaStr> {
    let mut out = Vec::new();
    if bom {
        out.push(Part::Char('\u{feff}'));
    }
    for part in s {
        match part {
            Part::Char(c) if c.is_ascii() => {
                if big_endian {
                    out.extend([Part::Char('\0'), Part::Char(*c)]);
                } else {
                    out.extend([Part::Char(*c), Part::Char('\0')]);
                }
            }
            Part::Char(_) => return None,
            other => out.push(*other),
        }
    }
    Some(out)
}

/// `base64`: the UTF-8 bytes of a value without wildcards, encoded.
pub fn base64(s: &[Part]) -> Option<SigmaStr> {
    let text = literal(s)?;
    Some(encode(text.as_bytes()).chars().map(Part::Char).collect())
}

/// `base64offset`: the three encodings of the value at each byte offset
/// within a 3-byte group, trimmed of the characters that depend on its
/// neighbours (pySigma's offsets, with its length in characters).
pub fn base64offset(s: &[Part]) -> Option<Vec<SigmaStr>> {
    const START: [usize; 3] = [0, 2, 3];
    const END_TRIM: [usize; 3] = [0, 3, 2];
    let text = literal(s)?;
    let length = text.chars().count();
    let mut out = Vec::new();
    for shift in 0..3 {
        let mut bytes = vec![b' '; shift];
        bytes.extend_from_slice(text.as_bytes());
        let encoded = encode(&bytes);
        let end = encoded.len().checked_sub(END_TRIM[(length + shift) % 3])?;
        let piece = encoded.get(START[shift]..end.max(START[shift]))?;
        out.push(piece.chars().map(Part::Char).collect());
    }
    Some(out)
}

/// Standard base64 with padding.
fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let index = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET[index]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A value for messages, as Sigma spells it.
#[cfg(test)]
pub fn spelled(s: &[Part]) -> String {
    let mut out = String::new();
    for part in s {
        let _ = match part {
            Part::AnyRun => out.write_char('*'),
            Part::AnyOne => out.write_char('?'),
            Part::Char(c @ ('*' | '?' | '\\')) => write!(out, "\\{c}"),
            Part::Char(c) => out.write_char(*c),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(values: Vec<SigmaStr>) -> Vec<String> {
        values.iter().map(|v| spelled(v)).collect()
    }

    #[test]
    fn sigma_escapes_only_wildcards_and_backslash() {
        assert_eq!(glob(&parse(r"C:\Windows\*.exe")), r"C:\\Windows\*.exe");
        assert_eq!(glob(&parse(r"a\*b\?c\\d")), r"a\*b\?c\\d");
        assert_eq!(literal(&parse(r"a\*b")), Some("a*b".to_string()));
        assert_eq!(
            literal(&parse(r"trailing\")),
            Some("trailing\\".to_string())
        );
        assert!(has_wildcard(&parse("a?b")));
    }

    #[test]
    fn base64_offsets_match_pysigma() {
        // pySigma 1.5.1: `|base64offset` of "ping" and of "/c ".
        assert_eq!(
            texts(base64offset(&parse("ping")).unwrap()),
            ["cGluZ", "Bpbm", "waW5n"]
        );
        assert_eq!(
            texts(base64offset(&parse("/c ")).unwrap()),
            ["L2Mg", "9jI", "vYy"]
        );
        // `|wide|base64offset`: the UTF-16LE text, its length in characters.
        let wide = utf16(&parse("ping"), false, false).unwrap();
        assert_eq!(
            texts(base64offset(&wide).unwrap()),
            ["cABpAG4AZw", "AAaQBuAGcA", "wAGkAbgBnA"]
        );
    }

    #[test]
    fn base64_is_standard() {
        assert_eq!(texts(vec![base64(&parse("ping")).unwrap()]), ["cGluZw=="]);
        assert_eq!(encode(b"ab"), "YWI=");
    }

    #[test]
    fn windash_expands_dashes_that_start_a_word() {
        let out = texts(windash(&parse("-a x-y /b")).unwrap());
        assert_eq!(out.len(), 25);
        assert!(out.contains(&"/a x-y -b".to_string()));
        assert!(out.contains(&"\u{2013}a x-y \u{2015}b".to_string()));
        assert!(out.iter().all(|v| v.contains("x-y")));
    }

    #[test]
    fn wide_puts_a_nul_after_each_ascii_character() {
        assert_eq!(
            literal(&utf16(&parse("ab"), false, false).unwrap()),
            Some("a\0b\0".to_string())
        );
        assert!(utf16(&parse("é"), false, false).is_none());
    }
}
