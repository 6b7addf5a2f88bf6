//! `like` globs: `*` any run of characters, `?` exactly one character,
//! `\*` `\?` `\\` literal; the whole value must match; case is ignored by
//! folding both the pattern and the value.

use super::fold::{fold, fold_char};

/// A compiled glob, its literal characters folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    /// The pattern between stars; `anchored_start` / `anchored_end` say
    /// whether no star opens / closes it.
    pieces: Vec<Vec<Atom>>,
    anchored_start: bool,
    anchored_end: bool,
    /// Whether some piece holds a `?` (else pieces are matched as strings).
    has_one: bool,
    literal_pieces: Vec<String>,
}

/// Where a glob's one literal must sit in the value (`Glob::as_literal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlobAnchor {
    Whole,
    Start,
    End,
    Anywhere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Atom {
    Char(char),
    One,
}

impl Glob {
    pub fn new(pattern: &str) -> Glob {
        let mut pieces = vec![Vec::new()];
        let mut chars = pattern.chars();
        let mut starts_with_star = false;
        let mut ends_with_star = false;
        let mut first = true;
        while let Some(c) = chars.next() {
            ends_with_star = false;
            let atom = match c {
                '*' => {
                    starts_with_star |= first;
                    ends_with_star = true;
                    first = false;
                    if pieces.last().is_some_and(|p| !p.is_empty()) {
                        pieces.push(Vec::new());
                    }
                    continue;
                }
                '?' => Atom::One,
                // The checker allows a backslash only before `*`, `?`, `\`;
                // anything else is taken literally here.
                '\\' => Atom::Char(fold_char(chars.next().unwrap_or('\\'))),
                other => Atom::Char(fold_char(other)),
            };
            first = false;
            if let Some(piece) = pieces.last_mut() {
                piece.push(atom);
            }
        }
        if pieces.last().is_some_and(Vec::is_empty) {
            pieces.pop();
        }
        let has_one = pieces.iter().flatten().any(|a| *a == Atom::One);
        let literal_pieces = pieces
            .iter()
            .map(|p| {
                p.iter()
                    .map(|a| match a {
                        Atom::Char(c) => *c,
                        Atom::One => '?',
                    })
                    .collect()
            })
            .collect();
        Glob {
            pieces,
            anchored_start: !starts_with_star,
            anchored_end: !ends_with_star,
            has_one,
            literal_pieces,
        }
    }

    /// The glob as one folded literal and where it must sit, when it has
    /// no `?` and stars only at its ends (`a`, `a*`, `*a`, `*a*`); `None`
    /// otherwise, and for a glob without literal (`*`, the empty glob).
    pub fn as_literal(&self) -> Option<(&str, GlobAnchor)> {
        let [piece] = self.literal_pieces.as_slice() else {
            return None;
        };
        if self.has_one || piece.is_empty() {
            return None;
        }
        let anchor = match (self.anchored_start, self.anchored_end) {
            (true, true) => GlobAnchor::Whole,
            (true, false) => GlobAnchor::Start,
            (false, true) => GlobAnchor::End,
            (false, false) => GlobAnchor::Anywhere,
        };
        Some((piece, anchor))
    }

    /// Whether the whole of `value` matches, ignoring case.
    pub fn matches(&self, value: &str) -> bool {
        self.matches_folded(&fold(value))
    }

    /// `matches` on a value already folded (`fold`), so that several globs
    /// can share one folding.
    pub fn matches_folded(&self, value: &str) -> bool {
        if self.has_one {
            let chars: Vec<char> = value.chars().collect();
            self.matches_chars(&chars)
        } else {
            self.matches_str(value)
        }
    }

    fn matches_str(&self, mut value: &str) -> bool {
        let pieces = &self.literal_pieces;
        if pieces.is_empty() {
            return !self.anchored_start || value.is_empty();
        }
        let (mut lo, mut hi) = (0, pieces.len());
        if self.anchored_start {
            let Some(rest) = value.strip_prefix(pieces[0].as_str()) else {
                return false;
            };
            value = rest;
            lo = 1;
            if pieces.len() == 1 && self.anchored_end {
                return value.is_empty();
            }
        }
        if self.anchored_end && hi > lo {
            let Some(rest) = value.strip_suffix(pieces[hi - 1].as_str()) else {
                return false;
            };
            value = rest;
            hi -= 1;
        }
        for piece in &pieces[lo..hi] {
            match value.find(piece.as_str()) {
                Some(at) => value = &value[at + piece.len()..],
                None => return false,
            }
        }
        true
    }

    /// The general case, with `?`: the classic backtracking over the last star.
    fn matches_chars(&self, value: &[char]) -> bool {
        let mut pattern = Vec::new();
        if !self.anchored_start {
            pattern.push(None);
        }
        for (i, piece) in self.pieces.iter().enumerate() {
            if i > 0 {
                pattern.push(None);
            }
            pattern.extend(piece.iter().map(|a| Some(*a)));
        }
        if !self.anchored_end && !self.pieces.is_empty() {
            pattern.push(None);
        }
        wildcard(&pattern, value)
    }
}

/// `None` is a star.
fn wildcard(pattern: &[Option<Atom>], value: &[char]) -> bool {
    let (mut p, mut v) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while v < value.len() {
        match pattern.get(p) {
            Some(None) => {
                star = Some((p, v));
                p += 1;
            }
            Some(Some(Atom::One)) => {
                p += 1;
                v += 1;
            }
            Some(Some(Atom::Char(c))) if *c == value[v] => {
                p += 1;
                v += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    p = sp + 1;
                    v = sv + 1;
                    star = Some((sp, sv + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(Option::is_none)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_values_ignoring_case() {
        let cases: &[(&str, &str, bool)] = &[
            ("*", "", true),
            ("*", "anything", true),
            ("", "", true),
            ("", "x", false),
            ("abc", "ABC", true),
            ("abc", "abcd", false),
            ("a*", "ABC", true),
            ("*c", "abC", true),
            ("*b*", "abc", true),
            ("*b*", "ac", false),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxcyyb", false),
            ("?", "é", true),
            ("?", "", false),
            ("??", "a", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*?", "", false),
            ("*?", "x", true),
            ("*a?c*", "zzabcabd", true),
            (r"a\*b", "a*b", true),
            (r"a\*b", "axb", false),
            (r"a\?b", "a?b", true),
            (r"a\?b", "axb", false),
            (r"a\\b", r"a\b", true),
            ("*.EXAMPLE.com", "www.example.COM", true),
            ("ſ*", "Secret", true),
            ("\u{212A}*", "kerberos", true),
            ("**", "", true),
            ("*a*", "bab", true),
        ];
        for (pattern, value, expected) in cases {
            assert_eq!(
                Glob::new(pattern).matches(value),
                *expected,
                "{pattern:?} like {value:?}"
            );
        }
    }
}
