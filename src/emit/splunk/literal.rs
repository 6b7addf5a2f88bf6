//! Text inside a search: SPL string literals, and the PCRE spelling of
//! literal characters for `match()`. Every character that could end a
//! literal, start a macro call or a token, or cut a `.conf` line is written
//! in a regex as a `\xHH` escape, so such values only ever reach a search
//! through `match()` (the contract's rule for control characters and
//! backticks).

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

/// Characters never written raw in a regex: controls (they would end the
/// `.conf` line or be invisible), the backtick (macro calls), `$`
/// (tokens), the double quote (the SPL literal's end), `;` (cuts values in
/// some `.conf` readers) and `'` `#`.
fn needs_hex(c: char) -> bool {
    c.is_ascii_control() || matches!(c, '`' | '$' | '"' | ';' | '\'' | '#')
}

/// Whether `text` must reach a search through `match()` with an escaped
/// regex: it holds a character a plain SPL literal should not carry.
pub fn needs_regex(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_ascii_control() || matches!(c, '`' | '$' | ';'))
}

fn hex(c: char) -> String {
    format!("\\x{:02X}", u32::from(c))
}

/// A PCRE piece matching exactly `text`.
pub fn pcre_text(text: &str) -> String {
    text.chars().map(pcre_char).collect()
}

/// `text` lowercased as the searches compare it: each character that has
/// a one-character lowercase form takes it (Splunk's `lower()` and search
/// terms fold case their own way, an accepted difference).
pub fn lowered(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        })
        .collect()
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

/// `NOT x`, the search and `where` languages alike; `NOT NOT x` is written
/// `NOT (NOT x)` so that every negation applies to one operand.
pub fn negated(inner: String) -> String {
    if inner.starts_with("NOT ") {
        format!("NOT ({inner})")
    } else {
        format!("NOT {inner}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_pieces_match_themselves_and_hold_no_raw_delimiters() {
        for text in ["a.b", "`$\";'#|[]*", "line\nbreak\t", "straße"] {
            let piece = pcre_text(text);
            assert!(!piece.contains(['"', '`', '$', ';', '\'', '\n']), "{piece}");
            let re = regex::Regex::new(&format!("^{piece}\\z")).unwrap();
            assert!(re.is_match(text), "{text:?}");
        }
        assert!(
            !regex::Regex::new(&pcre_text("a.b"))
                .unwrap()
                .is_match("axb")
        );
        assert_eq!(spl_string(r#"a\b"c"#), r#""a\\b\"c""#);
        assert_eq!(lowered("AxFR İ"), "axfr İ");
    }
}
