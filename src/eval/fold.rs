//! Case folding: Unicode simple case folding (CaseFolding.txt statuses C and
//! S), character by character, with no normalisation. `ſ` folds to `s`, `ς`
//! to `σ`, the Kelvin sign to `k`, `ẞ` to `ß`, and `İ` stays itself. Every
//! "ignoring case" of the language means: equal after this folding.

use std::borrow::Cow;

use super::fold_table::RUNS;

/// The simple case folding of one character.
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let cp = u32::from(c);
    let index = RUNS.partition_point(|&(start, ..)| start <= cp);
    let Some(&(start, count, stride, delta)) = index.checked_sub(1).and_then(|i| RUNS.get(i))
    else {
        return c;
    };
    let offset = cp - start;
    let stride = u32::from(stride);
    if offset % stride != 0 || offset / stride >= u32::from(count) {
        return c;
    }
    cp.checked_add_signed(delta)
        .and_then(char::from_u32)
        .unwrap_or(c)
}

/// `text` folded; borrowed when folding changes nothing (the common case of
/// lower-case ASCII).
pub fn fold(text: &str) -> Cow<'_, str> {
    let unchanged = text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase());
    if unchanged {
        return Cow::Borrowed(text);
    }
    if text.is_ascii() {
        return Cow::Owned(text.to_ascii_lowercase());
    }
    Cow::Owned(text.chars().map(fold_char).collect())
}

/// Whether `text` equals `folded` (already folded) ignoring case, without
/// allocating.
pub fn eq_folded(text: &str, folded: &str) -> bool {
    if text.is_ascii() {
        // ASCII folds to ASCII, so a folded literal holding anything else
        // can never equal an ASCII value.
        return folded.is_ascii() && text.eq_ignore_ascii_case(folded);
    }
    text.chars().map(fold_char).eq(folded.chars())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_folding_not_lowercasing() {
        let cases = [
            ('A', 'a'),
            ('z', 'z'),
            ('ſ', 's'),
            ('ς', 'σ'),
            ('Σ', 'σ'),
            ('\u{212A}', 'k'), // Kelvin sign
            ('\u{212B}', 'å'), // Angstrom sign
            ('İ', 'İ'),        // only a full / Turkic folding
            ('ı', 'ı'),
            ('ẞ', 'ß'), // S status; the full folding would be "ss"
            ('ß', 'ß'),
            ('Ω', 'ω'),
            ('\u{1E9B}', '\u{1E61}'), // long s with dot above
            ('Ꭰ', 'Ꭰ'),               // Cherokee folds to upper case
            ('ꭰ', 'Ꭰ'),
            ('𐐀', '𐐨'), // Deseret, outside the BMP
            ('Ǆ', 'ǆ'),
            ('ǅ', 'ǆ'),
            ('é', 'é'),
            ('É', 'é'),
            ('µ', 'μ'),
        ];
        for (from, to) in cases {
            assert_eq!(fold_char(from), to, "{from:?} (U+{:04X})", u32::from(from));
        }
    }

    #[test]
    fn folds_strings_char_by_char_without_normalisation() {
        assert_eq!(fold("ADMIN"), "admin");
        assert!(matches!(fold("admin"), Cow::Borrowed(_)));
        assert_eq!(fold("\u{212A}ERBEROS"), "kerberos");
        assert_eq!(fold("ΣΟΦΟΣ"), "σοφοσ");
        // "e" + combining acute stays two characters
        assert_eq!(fold("E\u{301}"), "e\u{301}");
        assert!(eq_folded("ſecret", "secret"));
        assert!(eq_folded("SECRET", "secret"));
        assert!(eq_folded("\u{212A}", "k"));
        assert!(!eq_folded("straße", "strasse"));
    }
}
