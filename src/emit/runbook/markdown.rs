//! Rule text as Markdown text: whatever a rule says (a title, a
//! description, a value), the page shows it as written and nothing in it
//! becomes markup. Rule packs are shared and imported, so a title such as
//! `<img onerror=...>` or `[x](javascript:...)` must reach an analyst's
//! renderer as text (CommonMark with GitHub's tables and autolinks).

/// Inline text: HTML-escaped, the characters that open emphasis, code,
/// links or table cells backslash-escaped (with `[` escaped, `(` and `!`
/// cannot form a link or an image), and every line break or other control
/// character a space, so the text stays on its line.
pub fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 8);
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text that starts a line (a paragraph): also the markers that would open
/// a heading, a list or a quote there (`# x`, `- x`, `+ x`, `= x`, `1. x`).
pub fn block(raw: &str) -> String {
    let text = text(raw);
    let trimmed = text.trim_start_matches(' ');
    let indent = text.len() - trimmed.len();
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    let marker = match trimmed[digits..].chars().next() {
        Some('.' | ')') if digits > 0 => indent + digits,
        Some('-' | '+' | '=' | '#') if digits == 0 => indent,
        _ => return text,
    };
    format!("{}\\{}", &text[..marker], &text[marker..])
}

/// Code: a code span fenced by more backticks than the text holds in a
/// row (CommonMark), padded so a backtick at either end stays inside.
/// Control characters become spaces, `|` is escaped for table cells.
pub fn code(raw: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in raw.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if raw.starts_with('`') || raw.ends_with('`') {
        " "
    } else {
        ""
    };
    let body: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .replace('|', "\\|");
    format!("{fence}{pad}{body}{pad}{fence}")
}

/// A reference: a link only for an `http` or `https` address that an
/// autolink can hold whole; anything else is shown as text.
pub fn reference(raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    let web = lower.starts_with("https://") || lower.starts_with("http://");
    let plain = raw
        .chars()
        .all(|c| !c.is_whitespace() && !c.is_control() && !matches!(c, '<' | '>' | '"' | '`'));
    if web && plain {
        format!("<{}>", raw.replace('|', "%7C"))
    } else {
        text(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_rule_text_stays_text() {
        assert_eq!(
            text("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            text("[x](javascript:alert(1))"),
            "\\[x\\](javascript:alert(1))"
        );
        assert_eq!(text("a\n# heading"), "a # heading");
        assert_eq!(text("- item"), "- item");
        assert_eq!(block("- item"), "\\- item");
        assert_eq!(block("# x"), "\\# x");
        assert_eq!(block("12. item"), "12\\. item");
        assert_eq!(text("a|b \u{1b}[31m"), "a\\|b  \\[31m");
        assert_eq!(text("plain words, 10.0.0.0/8"), "plain words, 10.0.0.0/8");
    }

    #[test]
    fn code_spans_hold_any_backticks() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
        assert_eq!(code("x|y"), "`x\\|y`");
    }

    #[test]
    fn only_web_references_become_links() {
        assert_eq!(
            reference("https://attack.mitre.org/"),
            "<https://attack.mitre.org/>"
        );
        assert_eq!(reference("javascript:alert(1)"), "javascript:alert(1)");
        assert_eq!(reference("https://x/<img>"), "https://x/&lt;img&gt;");
    }
}
