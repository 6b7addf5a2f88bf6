//! How predicates and groups read one value of a field (language.md 1.4,
//! "Values in events"): the text string predicates see, the number an
//! `int` field holds, and the key a value has in a group or a `distinct`.

use std::borrow::Cow;

use super::event::Value;
use super::fold::{fold, fold_char};

/// The text string predicates see: a string as is, an integer by its
/// decimal text, `true` / `false` as words. Other values have none.
pub fn text<'v>(value: &'v Value<'_>) -> Option<Cow<'v, str>> {
    match value {
        Value::Str(s) => Some(Cow::Borrowed(s)),
        Value::Int(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(true) => Some(Cow::Borrowed("true")),
        Value::Bool(false) => Some(Cow::Borrowed("false")),
        _ => None,
    }
}

/// The number an `int` field's value reads as: a JSON integer, or a string
/// matching `-?[0-9]+` within the signed 64-bit range.
pub fn integer(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::Str(s) => parse_integer(s),
        _ => None,
    }
}

/// `-?[0-9]+` in the signed 64-bit range (no `+`, no spaces).
pub fn parse_integer(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A group or `distinct` key (language.md 1.3): an `int` field's value that
/// reads as an integer is keyed by its number, any other by its text
/// ignoring case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Int(i64),
    Text(String),
}

/// The key of one (array-opened) value, or `None` when the value is absent
/// for grouping: null, `""`, an object.
pub fn key(value: &Value<'_>, int_field: bool) -> Option<Key> {
    if int_field && let Some(n) = integer(value) {
        return Some(Key::Int(n));
    }
    let text = match value {
        Value::Float(f) => Cow::Owned(float_text(*f)),
        other => text(other)?,
    };
    if text.is_empty() {
        return None;
    }
    Some(Key::Text(fold(&text).into_owned()))
}

/// How a `by` or `distinct` field's values are keyed: by number (`int`),
/// by folded text, or by exact text (`cased`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keying {
    Folded,
    Int,
    Exact,
}

impl Keying {
    pub fn of(field: &crate::ir::Field) -> Keying {
        match (field.ty, field.cased) {
            (crate::ir::FieldType::Int, _) => Keying::Int,
            (_, true) => Keying::Exact,
            _ => Keying::Folded,
        }
    }
}

/// `push_key`, or for `Keying::Exact` the exact text (tag 1, as folded
/// text is: a column is keyed one way only).
#[inline]
pub fn push_key_as(value: &Value<'_>, keying: Keying, out: &mut Vec<u8>) -> bool {
    if keying != Keying::Exact {
        return push_key(value, keying == Keying::Int, out);
    }
    let text = match value {
        Value::Float(f) => Cow::Owned(float_text(*f)),
        other => match text(other) {
            Some(t) => t,
            None => return false,
        },
    };
    if text.is_empty() {
        return false;
    }
    out.push(1);
    out.extend_from_slice(&u32::try_from(text.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    true
}

/// The key of one value for a `cased` field: its exact text.
pub fn exact_key(value: &Value<'_>) -> Option<Key> {
    let text = match value {
        Value::Float(f) => Cow::Owned(float_text(*f)),
        other => text(other)?,
    };
    (!text.is_empty()).then(|| Key::Text(text.into_owned()))
}

/// Appends an encoding of `key(value, int_field)` to `out`, without
/// allocating in the common cases, and returns whether there is a key
/// (nothing is appended when there is none). Two values have equal keys
/// exactly when their encodings are equal, and an encoding is never a
/// prefix of another, so concatenations of encodings compare like tuples.
pub fn push_key(value: &Value<'_>, int_field: bool, out: &mut Vec<u8>) -> bool {
    if int_field && let Some(n) = integer(value) {
        out.push(0);
        out.extend_from_slice(&n.to_le_bytes());
        return true;
    }
    match value {
        Value::Str(s) => push_text(s, out),
        Value::Bool(true) => push_text("true", out),
        Value::Bool(false) => push_text("false", out),
        Value::Int(n) => push_text(&n.to_string(), out),
        Value::Float(f) => push_text(&float_text(*f), out),
        Value::Null | Value::Array(_) | Value::Object(_) => false,
    }
}

/// The keys whose encodings (`push_key`) are concatenated in `bytes`.
pub fn decode_keys(mut bytes: &[u8]) -> Vec<Key> {
    let mut keys = Vec::new();
    while let Some((&tag, rest)) = bytes.split_first() {
        match tag {
            0 => {
                let Some((number, rest)) = rest.split_first_chunk::<8>() else {
                    break;
                };
                keys.push(Key::Int(i64::from_le_bytes(*number)));
                bytes = rest;
            }
            _ => {
                let Some((len, rest)) = rest.split_first_chunk::<4>() else {
                    break;
                };
                let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
                let (text, rest) = rest.split_at(len);
                keys.push(Key::Text(String::from_utf8_lossy(text).into_owned()));
                bytes = rest;
            }
        }
    }
    keys
}

/// Tag 1, the folded text's length (4 bytes), the folded text.
fn push_text(text: &str, out: &mut Vec<u8>) -> bool {
    if text.is_empty() {
        return false;
    }
    out.push(1);
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    if text.is_ascii() {
        out.extend(text.bytes().map(|b| b.to_ascii_lowercase()));
    } else {
        let mut buffer = [0; 4];
        for c in text.chars() {
            out.extend_from_slice(fold_char(c).encode_utf8(&mut buffer).as_bytes());
        }
    }
    let len = u32::try_from(out.len() - at - 4).unwrap_or(u32::MAX);
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    true
}

/// A fractional number's text for grouping (its JSON spelling is not kept).
fn float_text(f: f64) -> String {
    serde_json::Number::from_f64(f).map_or_else(|| f.to_string(), |n| n.to_string())
}

/// The value as JSON, to report a group's first spelling.
pub fn to_json(value: &Value<'_>) -> serde_json::Value {
    match value {
        Value::Str(s) => serde_json::Value::String(s.to_string()),
        Value::Int(n) => serde_json::Value::from(*n),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Null | Value::Array(_) | Value::Object(_) => serde_json::Value::Null,
    }
}

/// Whether a value counts for `exists()`: not null, `""`, `[]` or `{}`
/// (an array exists when one of its elements does).
pub fn exists(value: &Value<'_>) -> bool {
    match value {
        Value::Null => false,
        Value::Str(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(exists),
        Value::Object(object) => !object.empty,
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => true,
    }
}
