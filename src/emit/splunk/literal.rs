//! Text inside a search: PCRE pieces for literal characters (with case
//! folding written out as each character's simple-folding orbit, so the
//! match is exact whatever Splunk's `lower()` or PCRE mode does) and SPL
//! string literals. Every character that could end a literal, start a macro
//! call, a token or a new `.conf` line is written as a `\xHH` escape, so
//! the only backslashes in a literal are escape introducers.

/// The PCRE spelling of `c` standing for itself outside a bracket class.
/// Non-ASCII characters are written raw (callers group them before a
/// quantifier); NUL never reaches here (it is refused).
pub fn pcre_char(c: char) -> String {
    match c {
        '\\' | '.' | '^' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}' => {
            format!("\\{c}")
        }
        c if needs_hex(c) => hex(c),
        c => c.to_string(),
    }
}

/// The PCRE spelling of `c` as a member of a bracket class (ASCII only).
pub fn pcre_class_char(c: char) -> String {
    match c {
        '\\' | ']' | '[' | '^' | '-' => format!("\\{c}"),
        c if needs_hex(c) => hex(c),
        c => c.to_string(),
    }
}

/// Characters never written raw: controls (they would end the `.conf`
/// line or be invisible), the backtick (macro calls), `$` (tokens), the
/// double quote (the SPL literal's end), `;` (cuts values in some `.conf`
/// readers) and `'` (field names in `eval`).
fn needs_hex(c: char) -> bool {
    c.is_ascii_control() || matches!(c, '`' | '$' | '"' | ';' | '\'' | '#')
}

fn hex(c: char) -> String {
    format!("\\x{:02X}", u32::from(c))
}

/// The characters that equal `c` under simple case folding, `c` included,
/// in code point order. The classes come from the evaluator's own table
/// (`eval::fold`), not from `regex-syntax`, whose Unicode version may lag
/// behind it (it knew nothing of the case pairs Unicode 16 and 17 added).
pub fn orbit(c: char) -> Vec<char> {
    use crate::eval::fold::fold_char;
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static CLASSES: OnceLock<HashMap<char, Vec<char>>> = OnceLock::new();
    let classes = CLASSES.get_or_init(|| {
        let mut classes: HashMap<char, Vec<char>> = HashMap::new();
        for d in (0..=0x10FFFF).filter_map(char::from_u32) {
            let folded = fold_char(d);
            if folded != d {
                classes
                    .entry(folded)
                    .or_insert_with(|| vec![folded])
                    .push(d);
            }
        }
        for members in classes.values_mut() {
            members.sort_unstable();
        }
        classes
    });
    classes
        .get(&fold_char(c))
        .cloned()
        .unwrap_or_else(|| vec![c])
}

/// A PCRE piece matching exactly the characters equal to `c` ignoring case.
pub fn folded_char(c: char) -> String {
    let members = orbit(c);
    match members.as_slice() {
        [only] => pcre_char(*only),
        _ if members.iter().all(char::is_ascii) => {
            let inner: String = members.iter().map(|m| pcre_class_char(*m)).collect();
            format!("[{inner}]")
        }
        _ => {
            let ascii: String = members
                .iter()
                .filter(|m| m.is_ascii())
                .map(|m| pcre_class_char(*m))
                .collect();
            let mut alternatives = match ascii.len() {
                0 => Vec::new(),
                1 => vec![ascii],
                _ => vec![format!("[{ascii}]")],
            };
            alternatives.extend(
                members
                    .iter()
                    .filter(|m| !m.is_ascii())
                    .map(|m| pcre_char(*m)),
            );
            format!("(?:{})", alternatives.join("|"))
        }
    }
}

/// A PCRE piece matching exactly `text` ignoring case (simple folding).
pub fn folded(text: &str) -> String {
    text.chars().map(folded_char).collect()
}

/// An SPL string literal holding `text` (`\` and `"` escaped, the only
/// escapes the Search Manual documents).
pub fn spl_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if matches!(c, '\\' | '"') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orbits_follow_simple_case_folding() {
        assert_eq!(orbit('k'), vec!['K', 'k', '\u{212A}']);
        assert_eq!(orbit('s'), vec!['S', 's', 'ſ']);
        assert_eq!(orbit('İ'), vec!['İ']);
        assert_eq!(orbit('1'), vec!['1']);
        assert_eq!(folded("aX"), "[Aa][Xx]");
        assert_eq!(folded("é"), "(?:É|é)");
    }

    #[test]
    fn folded_pieces_match_what_simple_folding_equates() {
        for (text, candidate, equal) in [
            ("straße", "STRAßE", true),
            ("José", "JOSÉ", true),
            ("kelvin", "\u{212A}ELVIN", true),
            ("ſ", "S", true),
            ("i", "İ", false),
            ("a.b", "axb", false),
            ("`$\";'#|[]*", "`$\";'#|[]*", true),
            ("line\nbreak\t", "LINE\nBREAK\t", true),
        ] {
            let re = regex::Regex::new(&format!("^{}\\z", folded(text))).unwrap();
            assert_eq!(re.is_match(candidate), equal, "{text} vs {candidate}");
        }
    }

    /// The orbits written into searches are exactly the evaluator's
    /// classes: two characters share an orbit iff they fold alike.
    #[test]
    fn orbits_are_the_evaluators_folding_classes() {
        use crate::eval::fold::fold_char;
        let mut classes: std::collections::HashMap<char, Vec<char>> = Default::default();
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            classes.entry(fold_char(c)).or_default().push(c);
        }
        let mut differences = Vec::new();
        for members in classes.values().filter(|m| m.len() > 1) {
            for &c in members {
                if orbit(c) != *members {
                    differences.push((c, orbit(c), members.clone()));
                }
            }
        }
        assert!(differences.is_empty(), "{differences:?}");
    }

    #[test]
    fn literals_hold_no_raw_delimiters() {
        let piece = folded("\"`$;'\n\\|");
        assert!(!piece.contains(['"', '`', '$', ';', '\'', '\n']));
        assert_eq!(spl_string(r#"a\b"c"#), r#""a\\b\"c""#);
    }
}
