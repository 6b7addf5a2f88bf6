//! What surrounds the cursor, read from the text (which is often broken
//! while it is typed, so the syntax tree may not hold the rule): the word
//! under it and the sources of the rule around it.

use crate::syntax::Span;

/// Characters of a name, a field path (`url.path`, `@timestamp`), a list
/// reference (`@name`) or a technique id (`T1590.002`).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '@')
}

/// The word under (or just before) byte `offset`, with its span.
pub fn word_at(text: &str, offset: usize) -> Option<(Span, &str)> {
    let offset = floor_boundary(text, offset);
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word_char(*c))
        .last()
        .map_or(offset, |(at, _)| at);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word_char(*c))
        .map_or(text.len(), |(at, _)| offset + at);
    (start < end).then(|| (Span::new(start, end), &text[start..end]))
}

/// The operator symbol (`==`, `<=`, ...) under byte `offset`, with its
/// span, if any.
pub fn symbol_at(text: &str, offset: usize) -> Option<(Span, &'static str)> {
    let offset = floor_boundary(text, offset);
    ["==", "!=", "<=", ">=", "<", ">"]
        .into_iter()
        .find_map(|symbol| {
            (offset.saturating_sub(symbol.len() - 1)..=offset)
                .find(|&start| text.get(start..start + symbol.len()) == Some(symbol))
                .map(|start| (Span::new(start, start + symbol.len()), symbol))
        })
}

/// The sources named by `from` in the rule around byte `offset` (from its
/// `rule` line to the next top-level `rule` or `list`).
pub fn rule_sources(text: &str, offset: usize) -> Vec<String> {
    let offset = floor_boundary(text, offset);
    let top_level = |line: &str| line.starts_with("rule ") || line.starts_with("list ");
    let before: Vec<&str> = text[..offset].lines().collect();
    let first = before.iter().rposition(|line| top_level(line)).unwrap_or(0);
    let lines = before[first..].iter().copied().chain(
        text[offset..]
            .lines()
            .skip(1)
            .take_while(|line| !top_level(line)),
    );
    lines
        .filter_map(|line| line.trim_start().strip_prefix("from "))
        .flat_map(|names| names.split(','))
        .map(|name| name.trim().trim_matches('"').to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// The block the cursor is in, named by the first word of the line that
/// opened it (`rule`, `alert`, `playbook`, `test`, `event`, ...; `None` at
/// the top level). Braces inside strings and comments do not count.
pub fn block_at(text: &str, offset: usize) -> Option<&str> {
    let offset = floor_boundary(text, offset);
    let before = &text[..offset];
    let mut open: Vec<&str> = Vec::new();
    let mut line_start = 0;
    let mut in_string = false;
    let mut chars = before.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '\n' => {
                in_string = false;
                line_start = at + 1;
            }
            '#' if !in_string => {
                // A comment runs to the end of its line.
                for (end, c) in chars.by_ref() {
                    if c == '\n' {
                        line_start = end + 1;
                        break;
                    }
                }
            }
            '{' if !in_string => {
                let first = before[line_start..at]
                    .split_whitespace()
                    .next()
                    .unwrap_or("");
                open.push(first);
            }
            '}' if !in_string => {
                open.pop();
            }
            _ => {}
        }
    }
    open.last().copied()
}

fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Whether `word` is a technique id (`T1590`, `T1590.002`).
pub fn is_technique(word: &str) -> bool {
    let bytes = word.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    match bytes.len() {
        5 => bytes[0] == b'T' && digits(1..5),
        9 => bytes[0] == b'T' && digits(1..5) && bytes[5] == b'.' && digits(6..9),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_hold_dots_and_at_signs() {
        let text = "where é.x == 1 and url.path in @bad";
        let at = |needle: &str| text.find(needle).unwrap_or_default() + 1;
        assert_eq!(word_at(text, at("url")).map(|w| w.1), Some("url.path"));
        assert_eq!(word_at(text, at("@bad")).map(|w| w.1), Some("@bad"));
        assert_eq!(word_at(text, text.len()).map(|w| w.1), Some("@bad"));
        assert_eq!(word_at(text, at("é")).map(|w| w.1), Some("é.x"));
        assert_eq!(symbol_at(text, at("==")).map(|s| s.1), Some("=="));
        assert!(is_technique("T1590.002") && is_technique("T1590") && !is_technique("T159"));
    }

    #[test]
    fn the_block_is_named_by_the_line_that_opened_it() {
        let text = "rule a {\n  alert {\n    title \"{x\" # {\n    \n  }\n  test \"t\" {\n    event { a: 1 }\n    \n";
        let at = |needle: &str| text.find(needle).unwrap_or_default();
        assert_eq!(block_at(text, 0), None);
        assert_eq!(block_at(text, at("  alert")), Some("rule"));
        assert_eq!(block_at(text, at("    \n  }")), Some("alert"));
        assert_eq!(block_at(text, at("a: 1")), Some("event"));
        assert_eq!(block_at(text, text.len()), Some("test"));
    }

    #[test]
    fn sources_are_those_of_the_rule_around_the_cursor() {
        let text = "rule a {\n  from dns\n}\nrule b {\n  from web, proxy\n  where x\n}\n";
        assert_eq!(
            rule_sources(text, text.find("where").unwrap_or_default()),
            ["web", "proxy"]
        );
        assert_eq!(rule_sources(text, 3), ["dns"]);
    }
}
