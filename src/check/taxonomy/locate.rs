//! Where a key of a block-style YAML file is written, for diagnostics on
//! values that parsed but mean nothing (serde_yaml keeps no positions once a
//! document is a `Value`). Keys are found by their indentation, and a key
//! of a flow mapping (`{type: int}`) by its name on its parent's line.

use crate::syntax::Span;

/// The span of `path`'s key: found by indentation, then, for a key inside a
/// flow mapping on its parent's line (`fields: {a: b}`), by its name on that
/// line; else the deepest key found, or the file's first character.
pub fn key(text: &str, path: &[&str]) -> Span {
    let (depth, span) = block_key(text, path);
    if depth + 1 != path.len() || depth == 0 {
        return span;
    }
    let Some(last) = path.last() else { return span };
    let line_end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i);
    let line = &text[span.end..line_end];
    for candidate in [format!("{last}:"), format!("\"{last}\":")] {
        if let Some(at) = line.find(&candidate) {
            let start = span.end + at;
            return Span::new(start, start + candidate.len() - 1);
        }
    }
    span
}

/// The deepest key of `path` written in block style: its depth and span.
fn block_key(text: &str, path: &[&str]) -> (usize, Span) {
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut best = (0, Span::new(0, 0));
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = content.len() - trimmed.len();
        let mut body = trimmed;
        while let Some(rest) = body.strip_prefix("- ") {
            indent += 2;
            body = rest.trim_start();
        }
        let Some((name, len)) = key_of(body) else {
            continue;
        };
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, name));
        let depth = stack.len();
        let matches = depth <= path.len() && stack.iter().zip(path).all(|((_, k), p)| k == p);
        if matches && depth > best.0 {
            let at = start + (content.len() - body.len());
            best = (depth, Span::new(at, at + len));
            if depth == path.len() {
                return best;
            }
        }
    }
    best
}

/// The span of the value written after `path`'s key on the same line (in a
/// flow mapping, up to its `,` or `}`), or the key's span when the value is
/// on the lines below.
pub fn value(text: &str, path: &[&str]) -> Span {
    let at = key(text, path);
    let line_start = text[..at.start].rfind('\n').map_or(0, |n| n + 1);
    let line_end = text[at.end..].find('\n').map_or(text.len(), |i| at.end + i);
    let Some(rest) = text[at.end..line_end].strip_prefix(':') else {
        return at;
    };
    let value = rest.trim();
    let mut value = value.split(" #").next().unwrap_or(value).trim_end();
    if text[line_start..at.start].contains('{') {
        value = value.split([',', '}']).next().unwrap_or(value).trim_end();
    }
    if value.is_empty() {
        return at;
    }
    let start = at.end + 1 + (rest.len() - rest.trim_start().len());
    Span::new(start, start + value.len())
}

/// For the YAML reader's "duplicate entry with key" error (`message`), whose
/// position `at` is the start of the mapping: the key and the span of its
/// second writing at the mapping's indentation.
pub fn duplicate_key(text: &str, at: usize, message: &str) -> Option<(String, Span)> {
    let rest = message.split("duplicate entry with key \"").nth(1)?;
    let key = rest.split('"').next()?.to_string();
    let line_start = text[..at.min(text.len())].rfind('\n').map_or(0, |n| n + 1);
    let indent = at.min(text.len()) - line_start;
    let mut seen = 0;
    let mut offset = line_start;
    for line in text[line_start..].split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let body = line.trim_end_matches(['\n', '\r']);
        let trimmed = body.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let depth = body.len() - trimmed.len();
        if depth < indent {
            break;
        }
        if depth == indent && key_of(trimmed).is_some_and(|(name, _)| name == key) {
            seen += 1;
            if seen == 2 {
                let len = key_of(trimmed).map_or(0, |(_, len)| len);
                return Some((key, Span::new(start + depth, start + depth + len)));
            }
        }
    }
    None
}

/// `name` and its length as written, for a line that starts with a key
/// (`name:`, `"name":`, `'name':`).
fn key_of(body: &str) -> Option<(String, usize)> {
    let quote = body.chars().next().filter(|c| *c == '"' || *c == '\'');
    if let Some(q) = quote {
        let close = body[1..].find(q)? + 1;
        let rest = &body[close + 1..];
        return rest
            .starts_with(':')
            .then(|| (body[1..close].to_string(), close + 1));
    }
    let colon = body
        .find(": ")
        .or_else(|| body.strip_suffix(':').map(str::len))?;
    let name = &body[..colon];
    if name.is_empty() || name.starts_with(['{', '[', '&', '*']) {
        return None;
    }
    Some((name.to_string(), colon))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "sources:\n  smtp:\n    fields:\n      \"@timestamp\": time\n      smtp.command: strin\n    targets:\n      kql:\n        fields: {a: b}\n";

    #[test]
    fn keys_are_found_by_indentation_and_flow_keys_on_their_parents_line() {
        let at = |path: &[&str]| {
            let span = key(TEXT, path);
            &TEXT[span.start..span.end]
        };
        assert_eq!(
            at(&["sources", "smtp", "fields", "smtp.command"]),
            "smtp.command"
        );
        assert_eq!(
            at(&["sources", "smtp", "fields", "@timestamp"]),
            "\"@timestamp\""
        );
        assert_eq!(
            at(&["sources", "smtp", "targets", "kql", "fields", "a"]),
            "a"
        );
        let span = value(TEXT, &["sources", "smtp", "targets", "kql", "fields", "a"]);
        assert_eq!(&TEXT[span.start..span.end], "b");
        let span = value(TEXT, &["sources", "smtp", "fields", "smtp.command"]);
        assert_eq!(&TEXT[span.start..span.end], "strin");
    }
}
