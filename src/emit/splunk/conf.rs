//! Values of `.conf` lines. A `.conf` value has no escapes: a line break
//! ends it (the next line may start a stanza or a key), a trailing
//! backslash continues it, and any other control character reaches
//! Splunk's readers raw. So rule text in a value is written on one line
//! (line breaks and tabs as spaces), a rule whose text holds another
//! control character is refused by name, and JSON values carry every
//! control character as a `\u` escape.

use crate::emit::query::Refusal;
use crate::emit::templates;
use crate::ir::{self, TitlePart};

use super::SPLUNK;

/// A `.conf` value on one line: line breaks and tabs become spaces, and a
/// trailing backslash (a continuation in `.conf`) is dropped.
pub fn conf_value(text: &str) -> String {
    let line = templates::one_line(text);
    line.trim().trim_end_matches('\\').trim_end().to_string()
}

/// Whether `conf_value` writes `c` as a space rather than it being refused.
fn becomes_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{85}')
}

/// A control character that no `.conf` value can hold: C0 and C1 controls
/// and DEL, except the whitespace `conf_value` writes as spaces.
pub fn unwritable(c: char) -> bool {
    c.is_control() && !becomes_space(c)
}

/// A refusal for each of the rule's texts that `savedsearches.conf` writes
/// as plain values (title, description, alert title) and that holds a
/// control character it cannot write.
pub fn control_refusals(rule: &ir::Rule) -> Vec<Refusal> {
    let alert_title: String = rule
        .alert
        .title
        .iter()
        .filter_map(|part| match part {
            TitlePart::Text(text) => Some(text.as_str()),
            TitlePart::Field(_) => None,
        })
        .collect();
    [
        ("title", rule.meta.title.as_str()),
        ("description", rule.meta.description.as_str()),
        ("alert title", alert_title.as_str()),
    ]
    .into_iter()
    .filter_map(|(what, text)| {
        let c = text.chars().find(|&c| unwritable(c))?;
        Some(Refusal::new(
            SPLUNK,
            rule.span,
            format!(
                "the control character U+{:04X} in the rule's {what}",
                u32::from(c)
            ),
            format!(
                "a `.conf` value has no escape for control characters: remove it from the {what} \
                 (line breaks and tabs are written as spaces)"
            ),
        ))
    })
    .collect()
}

/// JSON text (from `serde_json`, which escapes only U+0000 to U+001F) with
/// DEL, the C1 controls and the Unicode line separators also escaped, so a
/// JSON setting holds no raw control character. They can only stand
/// inside JSON strings, where `\uXXXX` means the same character.
pub fn json_text(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_text_escapes_every_control_and_reads_back_the_same() {
        let value = serde_json::json!({"data": "a\u{7f}b\u{85}c\u{9b}d\u{2028}e\u{7}f\"g"});
        let text = json_text(&value.to_string());
        assert!(!text.chars().any(|c| c.is_control()), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn conf_values_are_one_line_without_a_continuation() {
        assert_eq!(conf_value("a\nb\tc\r\nd \\"), "a b c  d");
        assert!(unwritable('\u{7}') && unwritable('\u{7f}') && unwritable('\u{9b}'));
        assert!(!unwritable('\t') && !unwritable('\n') && !unwritable('é'));
    }
}
