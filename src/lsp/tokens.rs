//! Semantic tokens: each token of a file with its kind, from a scan of the
//! text (so a file that does not parse is still coloured). Words are told
//! apart by their place: the name after `rule` or `list`, the sources of a
//! `from` line, the value of a `status` or `level` line; other words are
//! keywords when reserved, else fields. The TextMate grammar of the VS Code
//! extension follows the same rules (its test compares the two).

use lsp_types::{SemanticToken, SemanticTokenType, SemanticTokensLegend};

use super::context::is_technique;
use super::position::LineIndex;

/// The token kinds, in legend order.
const KINDS: [SemanticTokenType; 11] = [
    SemanticTokenType::KEYWORD,
    SemanticTokenType::STRING,
    SemanticTokenType::NUMBER,
    SemanticTokenType::COMMENT,
    SemanticTokenType::OPERATOR,
    SemanticTokenType::VARIABLE,
    SemanticTokenType::PROPERTY,
    SemanticTokenType::ENUM_MEMBER,
    SemanticTokenType::FUNCTION,
    SemanticTokenType::TYPE,
    SemanticTokenType::CLASS,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    String,
    Number,
    Comment,
    Operator,
    /// A list: `@name`, or the name a `list` declares.
    List,
    Field,
    /// A technique id, a status or a level.
    Value,
    /// `count`, `distinct`, `sum`, `min`, `max`, `len`, `exists` before `(`.
    Function,
    /// A source after `from`, a list's element type.
    Type,
    /// The name a `rule` declares.
    Rule,
}

pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: KINDS.to_vec(),
        token_modifiers: Vec::new(),
    }
}

/// Words that are keywords where they stand, besides the reserved ones
/// and the statements.
const CONTEXT_WORDS: &[&str] = &[
    "seen",
    "then",
    "within",
    "step",
    "having",
    "cased",
    "nomatch",
    "risk",
    "threat",
    "fields",
    "notable",
    "questions",
    "escalate",
    "triage",
    "investigate",
    "contain",
    "r",
];

const FUNCTIONS: &[&str] = &["count", "distinct", "sum", "min", "max", "len", "exists"];

/// Every token of `text`: (start, end, kind), in order, none spanning a line.
pub fn scan(text: &str) -> Vec<(usize, usize, Kind)> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut previous_word = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        let kind = match c {
            b'#' => {
                i = line_end(text, i);
                Some(Kind::Comment)
            }
            b'"' => {
                i = string_end(bytes, i + 1);
                Some(Kind::String)
            }
            b'r' if bytes.get(i + 1) == Some(&b'"') => {
                // A raw string: no escapes.
                i = text[i + 2..]
                    .find('"')
                    .map_or(text.len(), |at| i + 2 + at + 1);
                Some(Kind::String)
            }
            b'=' | b'!' | b'<' | b'>' => {
                i += 1;
                if bytes.get(i) == Some(&b'=') {
                    i += 1;
                }
                Some(Kind::Operator)
            }
            b'0'..=b'9' | b'-' if c != b'-' || bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Some(Kind::Number)
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c == b'@' => {
                i = word_end(bytes, i + 1);
                let word = &text[start..i];
                let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
                let place = Place {
                    previous: &previous_word,
                    before: &text[line_start..start],
                    after: &text[i..],
                };
                let kind = word_kind(word, &place);
                previous_word = word.to_string();
                Some(kind)
            }
            _ => {
                i += text[i..].chars().next().map_or(1, char::len_utf8);
                None
            }
        };
        if let Some(kind) = kind {
            push_lines(text, start, i, kind, &mut tokens);
        }
    }
    tokens
}

/// What stands around a word.
struct Place<'t> {
    /// The word before it (on any line).
    previous: &'t str,
    /// Its line up to it.
    before: &'t str,
    /// The text after it.
    after: &'t str,
}

fn word_kind(word: &str, place: &Place) -> Kind {
    let before = place.before.trim_end();
    if before.starts_with("list ") && before.ends_with(':') {
        return Kind::Type;
    }
    // `@timestamp` is the one field written with `@`; any other `@name`
    // is a list.
    if word.starts_with('@') {
        return if word == "@timestamp" {
            Kind::Field
        } else {
            Kind::List
        };
    }
    let statement = before.split_whitespace().next().unwrap_or("");
    match (place.previous, statement) {
        ("rule", _) => return Kind::Rule,
        ("list", _) => return Kind::List,
        (_, "from") => return Kind::Type,
        ("status" | "level", "status" | "level") => return Kind::Value,
        _ => {}
    }
    if is_technique(word) {
        Kind::Value
    } else if FUNCTIONS.contains(&word) && place.after.trim_start().starts_with('(') {
        Kind::Function
    } else if crate::syntax::KEYWORDS.contains(&word)
        || crate::syntax::STATEMENTS.contains(&word)
        || CONTEXT_WORDS.contains(&word)
    {
        Kind::Keyword
    } else {
        Kind::Field
    }
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.')) {
        i += 1;
    }
    i
}

fn line_end(text: &str, i: usize) -> usize {
    text[i..].find('\n').map_or(text.len(), |at| i + at)
}

/// Past the closing quote of a string whose body starts at `i`.
fn string_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    bytes.len()
}

/// One token per line the range covers.
fn push_lines(
    text: &str,
    start: usize,
    end: usize,
    kind: Kind,
    out: &mut Vec<(usize, usize, Kind)>,
) {
    let end = end.min(text.len());
    let mut from = start;
    for (at, _) in text[start..end].match_indices('\n') {
        if start + at > from {
            out.push((from, start + at, kind));
        }
        from = start + at + 1;
    }
    if end > from {
        out.push((from, end, kind));
    }
}

/// The tokens in LSP's relative encoding (lines and UTF-16 columns).
pub fn encode(text: &str) -> Vec<SemanticToken> {
    let index = LineIndex::new(text);
    let mut encoded = Vec::new();
    let (mut line, mut column) = (0, 0);
    for (start, end, kind) in scan(text) {
        let from = index.position(start);
        let to = index.position(end);
        let delta_line = from.line - line;
        let delta_start = if delta_line == 0 {
            from.character - column
        } else {
            from.character
        };
        encoded.push(SemanticToken {
            delta_line,
            delta_start,
            length: to.character.saturating_sub(from.character),
            token_type: kind as u32,
            token_modifiers_bitset: 0,
        });
        line = from.line;
        column = from.character;
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_word_gets_the_kind_of_its_place() {
        let text = "list bad: cidr = [\"10.0.0.0/8\"] # x\nrule r {\n  from dns, web\n  level high\n  attack T1590\n  where exists(@timestamp) and len(query.name) >= 3 and not source.ip in cidr @bad\n}\n";
        let kinds: Vec<(&str, Kind)> = scan(text)
            .into_iter()
            .map(|(s, e, k)| (&text[s..e], k))
            .collect();
        let expected = [
            ("list", Kind::Keyword),
            ("bad", Kind::List),
            ("cidr", Kind::Type),
            ("=", Kind::Operator),
            ("\"10.0.0.0/8\"", Kind::String),
            ("# x", Kind::Comment),
            ("rule", Kind::Keyword),
            ("r", Kind::Rule),
            ("from", Kind::Keyword),
            ("dns", Kind::Type),
            ("web", Kind::Type),
            ("level", Kind::Keyword),
            ("high", Kind::Value),
            ("attack", Kind::Keyword),
            ("T1590", Kind::Value),
            ("where", Kind::Keyword),
            ("exists", Kind::Function),
            ("@timestamp", Kind::Field),
            ("and", Kind::Keyword),
            ("len", Kind::Function),
            ("query.name", Kind::Field),
            (">=", Kind::Operator),
            ("3", Kind::Number),
            ("and", Kind::Keyword),
            ("not", Kind::Keyword),
            ("source.ip", Kind::Field),
            ("in", Kind::Keyword),
            ("cidr", Kind::Keyword),
            ("@bad", Kind::List),
        ];
        assert_eq!(kinds, expected);
    }

    #[test]
    fn columns_are_utf16_after_non_ascii_text() {
        let encoded = encode("title \"é𝄞\" x");
        let starts: Vec<(u32, u32)> = encoded.iter().map(|t| (t.delta_start, t.length)).collect();
        // `"é𝄞"` is 5 UTF-16 units; `x` starts 1 unit after it.
        assert_eq!(starts, [(0, 5), (6, 5), (6, 1)]);
    }
}
