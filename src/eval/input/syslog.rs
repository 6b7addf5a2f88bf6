//! Syslog lines: RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`)
//! and RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, or an RFC 3339
//! time in place of the BSD one, as rsyslog writes it). The parts are
//! mapped to taxonomy fields by `targets/inputs/syslog.toml`.

use serde_json::{Map, Value};

use super::Malformed;
use super::mapping::{SyslogMapping, write};

/// A parsed syslog header and its message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Syslog<'a> {
    pub facility: u8,
    pub severity: u8,
    /// RFC 3339, as written (RFC 5424) or built (RFC 3164, in UTC).
    pub timestamp: Option<String>,
    pub hostname: Option<&'a str>,
    pub app_name: Option<&'a str>,
    pub procid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    /// RFC 5424 structured data: (SD-ID, [(name, value)]).
    pub structured: Vec<(&'a str, Vec<(&'a str, String)>)>,
    pub message: &'a str,
    /// Where the message starts in the line (bytes).
    pub message_at: usize,
}

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const SEVERITIES: [&str; 8] = [
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "informational",
    "debug",
];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Whether `line` starts as a syslog record does: `<PRI>` then `1 ` or a
/// timestamp.
pub fn looks_like(line: &str) -> bool {
    let Ok((_, rest)) = pri(line) else {
        return false;
    };
    rest.starts_with("1 ") || bsd_time(rest, 1970).is_some() || rfc3339_token(rest).is_some()
}

/// Parses one line; `year` is given to RFC 3164 times, which have none.
pub fn parse(line: &str, year: i32) -> Result<Syslog<'_>, Malformed> {
    let (value, rest) = pri(line)?;
    let at = |rest: &str| line.len() - rest.len() + 1;
    let mut record = Syslog {
        facility: value / 8,
        severity: value % 8,
        ..Syslog::default()
    };
    if let Some(rest) = rest.strip_prefix("1 ") {
        rfc5424(line, rest, &mut record)?;
        return Ok(record);
    }
    let (timestamp, rest) = match bsd_time(rest, year) {
        Some(found) => found,
        None => match rfc3339_token(rest) {
            Some((time, rest)) => (time.to_string(), rest),
            None => {
                return Err(Malformed::at(
                    at(rest),
                    "expected a timestamp (`Dec  7 18:07:30` or RFC 3339) or `1 ` after `<PRI>`",
                ));
            }
        },
    };
    record.timestamp = Some(timestamp);
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    // A hostname, unless the first word is already the tag (`sshd[42]:`)
    // or a CEF record.
    let rest = match rest.split_once(' ') {
        _ if rest.starts_with("CEF:") => rest,
        Some((word, after)) if !word.ends_with(':') && !word.contains('[') => {
            record.hostname = Some(word);
            after
        }
        _ => rest,
    };
    let message = match rest.starts_with("CEF:") {
        true => rest,
        false => tag(rest, &mut record),
    };
    record.message_at = line.len() - message.len();
    record.message = message;
    Ok(record)
}

/// `TAG[PID]: ` or `TAG: ` at the start of the content; the rest is the
/// message (all of it when there is no tag).
fn tag<'a>(content: &'a str, record: &mut Syslog<'a>) -> &'a str {
    let end = content.find([':', '[', ' ']).unwrap_or(content.len());
    let (name, after) = content.split_at(end);
    if name.is_empty() {
        return content;
    }
    let (procid, after) = match after.strip_prefix('[').and_then(|a| a.split_once(']')) {
        Some((pid, after)) => (Some(pid), after),
        None => (None, after),
    };
    match after.strip_prefix(':') {
        Some(message) => {
            record.app_name = Some(name);
            record.procid = procid;
            message.strip_prefix(' ').unwrap_or(message)
        }
        None => content,
    }
}

/// `<PRI>`: 1 to 3 digits, at most 191.
fn pri(line: &str) -> Result<(u8, &str), Malformed> {
    let Some(rest) = line.strip_prefix('<') else {
        return Err(Malformed::at(
            1,
            "expected `<PRI>` at the start of the line",
        ));
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let value = rest[..digits].parse::<u16>().ok().filter(|v| *v <= 191);
    match (value, rest[digits..].strip_prefix('>')) {
        (Some(value), Some(rest)) if (1..=3).contains(&digits) => Ok((value as u8, rest)),
        _ => Err(Malformed::at(
            2,
            "expected a priority of 0 to 191 between `<` and `>`",
        )),
    }
}

/// `Mmm dd hh:mm:ss` (day padded with a space or a zero), in `year`, UTC.
fn bsd_time(text: &str, year: i32) -> Option<(String, &str)> {
    let head = text.get(..15)?;
    let month = MONTHS.iter().position(|m| head.starts_with(m))? + 1;
    let bytes = head.as_bytes();
    let day = head.get(4..6)?.trim_start().parse::<u32>().ok()?;
    let time = head.get(7..15)?;
    let shape = bytes.get(3) == Some(&b' ')
        && bytes.get(6) == Some(&b' ')
        && time.bytes().enumerate().all(|(i, b)| match i {
            2 | 5 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape || !(1..=31).contains(&day) {
        return None;
    }
    let stamp = format!("{year:04}-{month:02}-{day:02}T{time}Z");
    Some((stamp, &text[15..]))
}

/// An RFC 3339 time as the first word (`2026-12-07T18:07:30.5+01:00`).
fn rfc3339_token(text: &str) -> Option<(&str, &str)> {
    let end = text.find(' ').unwrap_or(text.len());
    let word = &text[..end];
    let b = word.as_bytes();
    let shaped = word.len() >= 20
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(10).is_some_and(|c| *c == b'T' || *c == b't')
        && b.get(13) == Some(&b':');
    shaped.then(|| (word, &text[end..]))
}

/// The RFC 5424 header after `<PRI>1 `.
fn rfc5424<'a>(line: &'a str, rest: &'a str, record: &mut Syslog<'a>) -> Result<(), Malformed> {
    let at = |rest: &str| line.len() - rest.len() + 1;
    let mut rest = rest;
    let mut parts: [Option<&'a str>; 5] = [None; 5];
    let names = ["TIMESTAMP", "HOSTNAME", "APP-NAME", "PROCID", "MSGID"];
    for (part, name) in parts.iter_mut().zip(names) {
        let Some((word, after)) = rest.split_once(' ') else {
            return Err(Malformed::at(
                at(rest),
                format!("expected {name} and a space (RFC 5424; `-` when there is none)"),
            ));
        };
        if word.is_empty() {
            return Err(Malformed::at(at(rest), format!("empty {name} (write `-`)")));
        }
        *part = (word != "-").then_some(word);
        rest = after;
    }
    let [timestamp, hostname, app_name, procid, msgid] = parts;
    record.timestamp = timestamp.map(str::to_string);
    record.hostname = hostname;
    record.app_name = app_name;
    record.procid = procid;
    record.msgid = msgid;
    let message = match rest.strip_prefix('-') {
        Some(after) => after,
        None => structured_data(line, rest, &mut record.structured)?,
    };
    let message = match message.strip_prefix(' ') {
        Some(message) => message,
        None if message.is_empty() => message,
        None => {
            return Err(Malformed::at(
                at(message),
                "expected a space before the message",
            ));
        }
    };
    let message = message.strip_prefix('\u{feff}').unwrap_or(message);
    record.message_at = line.len() - message.len();
    record.message = message;
    Ok(())
}

/// `[id name="value" ...]...`; returns what follows.
fn structured_data<'a>(
    line: &'a str,
    mut rest: &'a str,
    out: &mut Vec<(&'a str, Vec<(&'a str, String)>)>,
) -> Result<&'a str, Malformed> {
    let at = |rest: &str| line.len() - rest.len() + 1;
    if !rest.starts_with('[') {
        return Err(Malformed::at(
            at(rest),
            "expected structured data (`[id name=\"value\"]`) or `-`",
        ));
    }
    while let Some(inside) = rest.strip_prefix('[') {
        let end = inside.find([' ', ']']).unwrap_or(inside.len());
        let id = &inside[..end];
        if id.is_empty() {
            return Err(Malformed::at(at(inside), "expected an SD-ID after `[`"));
        }
        rest = &inside[end..];
        let mut params = Vec::new();
        loop {
            if let Some(after) = rest.strip_prefix(']') {
                rest = after;
                break;
            }
            let Some(param) = rest.strip_prefix(' ') else {
                return Err(Malformed::at(at(rest), "expected `]` or a parameter"));
            };
            let Some((name, value)) = param.split_once("=\"") else {
                return Err(Malformed::at(at(param), "expected name=\"value\""));
            };
            if name.is_empty() || name.contains([' ', ']', '"']) {
                return Err(Malformed::at(at(param), "expected a parameter name"));
            }
            let (text, after) = quoted(value).ok_or_else(|| {
                Malformed::at(
                    at(value),
                    "unterminated parameter value (a `\"` is missing)",
                )
            })?;
            params.push((name, text));
            rest = after;
        }
        out.push((id, params));
    }
    Ok(rest)
}

/// A value up to its closing `"`, with `\"`, `\\` and `\]` unescaped.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &text[i + 1..])),
            '\\' => match chars.next() {
                Some((_, e @ ('"' | '\\' | ']'))) => value.push(e),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => return None,
            },
            c => value.push(c),
        }
    }
    None
}

/// The taxonomy fields of a syslog record.
pub fn event(record: &Syslog<'_>, mapping: &SyslogMapping) -> Map<String, Value> {
    let mut event = Map::new();
    let facility_name = FACILITIES.get(record.facility as usize).copied();
    let dataset = facility_name
        .and_then(|name| mapping.dataset.get(name))
        .or_else(|| mapping.dataset.get("default"));
    if let Some(dataset) = dataset {
        event.insert("event.dataset".into(), Value::String(dataset.clone()));
    }
    let facility = record.facility.to_string();
    let severity = record.severity.to_string();
    let parts: [(&str, Option<&str>); 10] = [
        ("timestamp", record.timestamp.as_deref()),
        ("hostname", record.hostname),
        ("app_name", record.app_name),
        ("procid", record.procid),
        ("msgid", record.msgid),
        ("message", Some(record.message)),
        ("facility", Some(&facility)),
        ("facility_name", facility_name),
        ("severity", Some(&severity)),
        (
            "severity_name",
            SEVERITIES.get(record.severity as usize).copied(),
        ),
    ];
    let none = Default::default();
    for (part, value) in parts {
        if let (Some(targets), Some(value)) = (mapping.fields.get(part), value) {
            write(&mut event, targets, value, &none);
        }
    }
    for (id, params) in &record.structured {
        for (name, value) in params {
            let field = format!("{}.{id}.{name}", mapping.structured_data.prefix);
            event.insert(field, Value::String(value.clone()));
        }
    }
    event
}
