//! The minijinja environment every target renders with: auto-escape off (we
//! write YAML, .conf and Markdown, not HTML), undefined values are errors,
//! trim and lstrip blocks on, and the quoting filters written in Rust.

use minijinja::{AutoEscape, Environment, UndefinedBehavior, syntax::SyntaxConfig};

use super::EmitError;
use super::folder::TargetFolder;

/// The templates of one target folder, ready to render; errors name the
/// template's file and line.
pub struct Templates<'f> {
    pub env: Environment<'static>,
    folder: &'f TargetFolder,
}

impl<'f> Templates<'f> {
    /// Every `*.j2` of `folder`, with the shared filters; a target adds its
    /// own filters to `env`.
    pub fn load(folder: &'f TargetFolder) -> Result<Templates<'f>, EmitError> {
        let env = environment(folder).map_err(|err| EmitError::template(folder, &err))?;
        Ok(Templates { env, folder })
    }

    /// Renders template `name` with `context` (anything serializable).
    pub fn render(&self, name: &str, context: impl serde::Serialize) -> Result<String, EmitError> {
        self.env
            .get_template(name)
            .and_then(|template| template.render(minijinja::value::Serde(context)))
            .map_err(|err| EmitError::template(self.folder, &err))
    }
}

/// An environment holding every `*.j2` template of `folder`.
fn environment(folder: &TargetFolder) -> Result<Environment<'static>, minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    env.add_filter("yaml_str", yaml_str);
    env.add_filter("one_line", one_line);
    for (path, text) in &folder.files {
        if path.ends_with(".j2") {
            env.add_template_owned(path.clone(), text.clone())?;
        }
    }
    Ok(env)
}

/// A YAML double-quoted scalar holding exactly `text`: every character
/// YAML (and PyYAML) does not print is escaped.
pub fn yaml_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if yaml_printable(c) => out.push(c),
            c => {
                let code = u32::from(c);
                if code <= 0xFF {
                    out.push_str(&format!("\\x{code:02X}"));
                } else if code <= 0xFFFF {
                    out.push_str(&format!("\\u{code:04X}"));
                } else {
                    out.push_str(&format!("\\U{code:08X}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// Whether YAML prints `c` as itself (so a single-quoted scalar may hold it).
pub fn yaml_printable(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

/// One line of text for metadata and comments (`.conf` values, SQL
/// comments): line breaks and tabs as spaces, every other control
/// character as a visible `\u{..}` escape, so none reaches a reader raw.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' | '\u{85}') {
            out.push(' ');
        } else if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
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
    fn yaml_str_round_trips_awkward_text() {
        for text in [
            "plain",
            "quote \" and \\ back",
            "line\nbreak\ttab",
            "bell \u{7} nel \u{85}",
            "#: - [x] {y}",
            "é ſ K",
        ] {
            let parsed: String = crate::yaml::from_str(&yaml_str(text)).unwrap();
            assert_eq!(parsed, text);
        }
    }

    #[test]
    fn one_line_has_no_line_break_and_no_raw_control() {
        assert_eq!(one_line("a\nb\r\tc\u{2028}d"), "a b  c d");
        assert_eq!(
            one_line("bell\u{7} del\u{7f} csi\u{9b}"),
            "bell\\u{7} del\\u{7f} csi\\u{9b}"
        );
    }
}
