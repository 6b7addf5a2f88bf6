//! ArcSight Common Event Format: `CEF:Version|Device Vendor|Device
//! Product|Device Version|Signature ID|Name|Severity|Extension`, alone on a
//! line or after a syslog header. Header fields escape `|` and `\`;
//! extension values escape `=`, `\`, and write newlines as `\n` and `\r`.
//! Fields are mapped to the taxonomy by `targets/inputs/cef.toml`.

use serde_json::{Map, Value};

use super::Malformed;
use super::mapping::{CefMapping, write};
use super::syslog::{self, Syslog};

/// A parsed CEF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cef {
    /// Version, vendor, product, device version, signature id, name,
    /// severity: unescaped.
    pub header: [String; 7],
    /// Extension keys and unescaped values, in the record's order.
    pub extensions: Vec<(String, String)>,
}

const HEADER: [&str; 7] = [
    "version",
    "device_vendor",
    "device_product",
    "device_version",
    "signature_id",
    "name",
    "severity",
];

/// Where `CEF:` starts in `line`: at its start, or as the message of a
/// syslog header.
pub fn start(line: &str, year: i32) -> Option<usize> {
    if line.starts_with("CEF:") {
        return Some(0);
    }
    let record = syslog::parse(line, year).ok()?;
    record
        .message
        .starts_with("CEF:")
        .then_some(record.message_at)
}

/// Parses the record that starts at `at` in `line` (columns are those of
/// the line).
pub fn parse(line: &str, at: usize) -> Result<Cef, Malformed> {
    let column = |offset: usize| at + offset + 1;
    let text = &line[at..];
    let Some(body) = text.strip_prefix("CEF:") else {
        return Err(Malformed::at(column(0), "expected `CEF:`"));
    };
    let mut header: [String; 7] = Default::default();
    let mut offset = 4;
    let mut rest = body;
    for (index, slot) in header.iter_mut().enumerate() {
        let (value, after) = header_field(rest).ok_or_else(|| {
            Malformed::at(
                column(offset),
                format!(
                    "expected 7 header fields ended by `|`, found {index} (the {} is missing)",
                    HEADER[index].replace('_', " ")
                ),
            )
        })?;
        *slot = value;
        offset += rest.len() - after.len();
        rest = after;
    }
    let extensions = extension(rest, &|o| column(offset + o))?;
    Ok(Cef { header, extensions })
}

/// One header field up to its unescaped `|`, unescaped; and what follows.
fn header_field(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '|' => return Some((value, &text[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e @ ('|' | '\\'))) => value.push(e),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => value.push('\\'),
            },
            c => value.push(c),
        }
    }
    None
}

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']')
}

/// Where a `key=` starts at `text[i..]` (the key's length), if one does.
fn key_at(text: &str, i: usize) -> Option<usize> {
    let rest = &text[i..];
    let length = rest.find(|c: char| !is_key_char(c)).unwrap_or(rest.len());
    (length > 0 && rest[length..].starts_with('=')).then_some(length)
}

/// `key=value key=value ...`: a value runs to the space before the next
/// unescaped `key=`. `column` gives a byte offset's column.
fn extension(
    text: &str,
    column: &dyn Fn(usize) -> usize,
) -> Result<Vec<(String, String)>, Malformed> {
    let mut pairs = Vec::new();
    let start = text.len() - text.trim_start().len();
    let mut i = start;
    let end = text.trim_end().len();
    while i < end {
        let Some(length) = key_at(text, i) else {
            return Err(Malformed::at(
                column(i),
                "expected an extension `key=value` (a key is letters, digits, `_`, `.`, `-`, `[` or `]`)",
            ));
        };
        let key = &text[i..i + length];
        let value_at = i + length + 1;
        let mut value = String::new();
        let mut j = value_at;
        let mut next = end;
        while j < end {
            let Some(c) = text[j..].chars().next() else {
                break;
            };
            if c == '\\' {
                let escaped = text[j + 1..].chars().next();
                match escaped {
                    Some('=') => value.push('='),
                    Some('\\') => value.push('\\'),
                    Some('|') => value.push('|'),
                    Some('n') => value.push('\n'),
                    Some('r') => value.push('\r'),
                    Some(other) => {
                        value.push('\\');
                        value.push(other);
                    }
                    None => value.push('\\'),
                }
                j += 1 + escaped.map_or(0, char::len_utf8);
                continue;
            }
            if c == ' ' {
                let after = j + 1 + text[j + 1..].len() - text[j + 1..].trim_start().len();
                if after < end && key_at(text, after).is_some() {
                    next = after;
                    break;
                }
            }
            if c == '=' {
                return Err(Malformed::at(
                    column(j),
                    format!("unescaped `=` in the value of `{key}` (write `\\=`)"),
                ));
            }
            value.push(c);
            j += c.len_utf8();
        }
        let value = value.trim_end_matches(' ').to_string();
        pairs.push((key.to_string(), value));
        i = next;
    }
    Ok(pairs)
}

/// The taxonomy fields of a CEF record, and of the syslog header before it.
pub fn event(cef: &Cef, header: Option<&Syslog<'_>>, mapping: &CefMapping) -> Map<String, Value> {
    let mut event = Map::new();
    event.insert(
        "event.dataset".into(),
        Value::String(mapping.dataset.clone()),
    );
    let none = Default::default();
    if let Some(header) = header {
        let parts = [
            ("timestamp", header.timestamp.as_deref()),
            ("hostname", header.hostname),
        ];
        for (part, value) in parts {
            if let (Some(targets), Some(value)) = (mapping.syslog_header.get(part), value) {
                write(&mut event, targets, value, &none);
            }
        }
    }
    for (name, value) in HEADER.iter().zip(&cef.header) {
        if let Some(targets) = mapping.header.get(*name) {
            write(&mut event, targets, value, &none);
        }
    }
    for (key, value) in &cef.extensions {
        match mapping.extensions.get(key) {
            Some(targets) if targets.iter().any(|t| t == "@timestamp") => {
                // `rt` is epoch milliseconds (read as such) or
                // `MMM dd yyyy HH:mm:ss`, made RFC 3339 (UTC).
                let time = cef_time(value).unwrap_or_else(|| value.clone());
                write(&mut event, targets, &time, &none);
            }
            Some(targets) => write(&mut event, targets, value, &none),
            None => {
                let field = format!("{}.{key}", mapping.unlisted.prefix);
                event.insert(field, Value::String(value.clone()));
            }
        }
    }
    event
}

/// `MMM dd yyyy HH:mm:ss[.SSS]` as RFC 3339 in UTC (a zone after it is
/// not read: the value is kept as written, which is then no usable time).
fn cef_time(text: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut words = text.split(' ');
    let month_name = words.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? + 1;
    let day: u32 = words.next()?.parse().ok()?;
    let year: u32 = words.next()?.parse().ok()?;
    let time = words.next()?;
    if words.next().is_some() || !(1..=31).contains(&day) || year > 9999 {
        return None;
    }
    let (clock, fraction) = match time.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (time, None),
    };
    let shaped = clock.len() == 8
        && clock.bytes().enumerate().all(|(i, b)| match i {
            2 | 5 => b == b':',
            _ => b.is_ascii_digit(),
        })
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if !shaped {
        return None;
    }
    let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
    Some(format!("{year:04}-{month:02}-{day:02}T{clock}{fraction}Z"))
}
