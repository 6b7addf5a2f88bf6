//! Settings from a target folder are checked like rule text when the folder
//! is loaded, because emitters write them into paths and `.conf` files: a
//! `--targets-dir` is configuration, not code. Every string of `app.yaml`,
//! `kill_chain.yaml` and `mappings/*.yaml` is free of line breaks and other
//! control characters (a newline in a `.conf` value starts a new stanza),
//! and the values that become names are identifiers: the app `id` (the
//! app's folder under `--out`), and a source's `macro`, `table` and
//! `parser` (words in the queries).

use serde_yaml::Value;

/// The files whose settings reach the outputs.
pub(super) fn is_settings_file(file: &str) -> bool {
    matches!(file, "app.yaml" | "kill_chain.yaml")
        || (file.starts_with("mappings/") && file.ends_with(".yaml"))
}

/// The first problem in a settings file's text, as `key.path: message`.
/// A file that is not YAML is left to the reader that needs it, which
/// reports the line and column.
pub(super) fn check_settings(file: &str, text: &str) -> Option<String> {
    let value: Value = crate::yaml::from_str(text).ok()?;
    let names: &[&str] = if file == "app.yaml" {
        &["id"]
    } else {
        &["macro", "table", "parser"]
    };
    check_value(&value, "", names)
}

fn check_value(value: &Value, at: &str, names: &[&str]) -> Option<String> {
    match value {
        Value::String(text) => {
            let key = at.rsplit('.').next().unwrap_or(at);
            check_text(text, names.contains(&key)).map(|problem| format!("{at}: {problem}"))
        }
        Value::Sequence(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| check_value(item, &format!("{at}[{i}]"), names)),
        Value::Mapping(entries) => entries.iter().find_map(|(key, item)| {
            let key_text = key.as_str().unwrap_or_default();
            let shown = key_text.escape_debug();
            let path = if at.is_empty() {
                shown.to_string()
            } else {
                format!("{at}.{shown}")
            };
            check_text(key_text, false)
                .map(|problem| format!("{path}: {problem} in the key"))
                .or_else(|| check_value(item, &path, names))
        }),
        Value::Tagged(tagged) => check_value(&tagged.value, at, names),
        _ => None,
    }
}

fn check_text(text: &str, is_name: bool) -> Option<String> {
    if let Some(bad) = text.chars().find(|c| c.is_control()) {
        return Some(format!(
            "a line break or control character (U+{:04X}) is not allowed",
            u32::from(bad)
        ));
    }
    if is_name && !is_identifier(text) {
        return Some(format!(
            "`{text}` is not a name (a letter or `_`, then letters, digits, `_` or `-`)"
        ));
    }
    None
}

/// A letter or `_`, then ASCII letters, digits, `_` or `-`: safe as a
/// folder name and as a word in SPL and KQL.
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_control_characters_are_checked() {
        let cases = [
            ("app.yaml", "id: tripline\nlabel: x\n", None),
            (
                "app.yaml",
                "id: ../../evil_target\n",
                Some("id: `../../evil_target` is not a name"),
            ),
            (
                "app.yaml",
                "id: /tmp/x\n",
                Some("id: `/tmp/x` is not a name"),
            ),
            (
                "app.yaml",
                "id: \"a\\nb\"\n",
                Some("id: a line break or control character (U+000A)"),
            ),
            (
                "mappings/default.yaml",
                "sources:\n  dns:\n    macro: tripline_dns\n    base_search: \"x\\n[evil]\\nsearch = *\"\n",
                Some("sources.dns.base_search: a line break"),
            ),
            (
                "mappings/default.yaml",
                "sources:\n  dns:\n    macro: \"a`b\"\n",
                Some("sources.dns.macro: `a`b` is not a name"),
            ),
            (
                "mappings/default.yaml",
                "sources:\n  dns:\n    fields:\n      \"a\\rb\": x\n",
                Some("sources.dns.fields.a\\rb: a line break"),
            ),
            ("mappings/default.yaml", "sources: [broken\n", None),
        ];
        for (file, text, expected) in cases {
            let found = check_settings(file, text);
            match expected {
                None => assert_eq!(found, None, "{text}"),
                Some(start) => {
                    let found = found.unwrap_or_default();
                    assert!(found.starts_with(start), "{text}: {found}");
                }
            }
        }
    }
}
