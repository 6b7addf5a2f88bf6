//! How a value is spelled in a Sigma rule, in two layers: Sigma's own
//! (plain values treat `*` `?` as wildcards and `\` as their escape) and
//! YAML's (pySigma reads YAML 1.1 with PyYAML, so every string is quoted and
//! only PyYAML's printable characters stay unescaped).

use crate::emit::templates::{yaml_printable, yaml_str};
use minijinja::Value;

/// The largest magnitude pySigma keeps exactly: it reads every number
/// through a float (`SigmaNumber`).
pub const MAX_EXACT_INT: i64 = 1 << 53;

/// A literal value that must mean itself in a plain (wildcard-reading) value.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether pySigma reads `n` back as the same integer.
pub fn exact_int(n: i64) -> bool {
    (-MAX_EXACT_INT..=MAX_EXACT_INT).contains(&n)
}

/// A YAML scalar for a template value: strings quoted, numbers, booleans
/// and none as YAML words.
pub fn scalar(value: &Value) -> String {
    if value.is_none() || value.is_undefined() {
        return "null".to_string();
    }
    if let Some(text) = value.as_str() {
        return quote(text);
    }
    if value.kind() == minijinja::value::ValueKind::Bool {
        return value.is_true().to_string();
    }
    value.to_string()
}

/// A key or a short word (tag, category): plain when YAML 1.1 reads it
/// back as the same string, else quoted.
pub fn word(text: &str) -> String {
    let mut chars = text.chars();
    let plain_start = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let plain_rest = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '|' | '-'));
    let word = text.to_ascii_lowercase();
    let reserved = matches!(
        word.as_str(),
        "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null"
    );
    if plain_start && plain_rest && !reserved {
        text.to_string()
    } else {
        quote(text)
    }
}

/// A quoted YAML scalar holding exactly `text`: single-quoted when every
/// character is printable for PyYAML and no line break, else double-quoted.
pub fn quote(text: &str) -> String {
    if text.chars().all(yaml_printable) {
        format!("'{}'", text.replace('\'', "''"))
    } else {
        yaml_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_backslashes_are_escaped() {
        assert_eq!(literal(r"C:\Windows\*?"), r"C:\\Windows\\\*\?");
        assert_eq!(literal("it's \"q\" | x"), "it's \"q\" | x");
    }

    #[test]
    fn quoted_scalars_read_back_exactly() {
        for text in [
            "plain",
            "it's",
            r"C:\\a\*",
            "line\nbreak\ttab",
            "nel \u{85} ls \u{2028} bom \u{FEFF} nc \u{FFFE}",
            "bell \u{7} del \u{7F}",
            "café ſ",
            "#: - [x] {y}",
        ] {
            let parsed: String = crate::yaml::from_str(&quote(text)).unwrap_or_default();
            assert_eq!(parsed, text, "{}", quote(text));
        }
        assert_eq!(quote("a'b"), "'a''b'");
        assert_eq!(quote("a\tb"), "\"a\\tb\"");
    }

    #[test]
    fn words_stay_plain_only_when_safe() {
        assert_eq!(word("src_ip|cidr"), "src_ip|cidr");
        assert_eq!(word("cs-uri-stem|contains|all"), "cs-uri-stem|contains|all");
        assert_eq!(word("@timestamp|exists"), "'@timestamp|exists'");
        assert_eq!(word("on"), "'on'");
        assert_eq!(word("a b"), "'a b'");
    }

    #[test]
    fn scalars_by_kind() {
        assert_eq!(scalar(&Value::from(443)), "443");
        assert_eq!(scalar(&Value::from(())), "null");
        assert_eq!(scalar(&Value::from(true)), "true");
        assert_eq!(scalar(&Value::from("0443")), "'0443'");
    }
}
