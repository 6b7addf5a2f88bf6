//! Event inputs beyond JSON Lines: syslog (RFC 3164, RFC 5424), CEF and
//! Windows EVTX. Each record becomes one JSON object whose keys are
//! taxonomy fields (dotted, flat), by a mapping kept as data in
//! `targets/inputs/`; the engine then reads it as it reads a JSON line, so
//! the JSON Lines path is untouched (`Decoder::decode` lends it the line).

pub mod cef;
pub mod evtx;
pub mod mapping;
pub mod syslog;

use std::borrow::Cow;

use self::mapping::Mappings;

/// An input format (`eval --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Evtx,
    Syslog,
    Cef,
}

impl Format {
    pub const NAMES: [&'static str; 4] = ["jsonl", "evtx", "syslog", "cef"];

    pub fn parse(name: &str) -> Option<Format> {
        match name {
            "jsonl" => Some(Format::Jsonl),
            "evtx" => Some(Format::Evtx),
            "syslog" => Some(Format::Syslog),
            "cef" => Some(Format::Cef),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Evtx => "evtx",
            Format::Syslog => "syslog",
            Format::Cef => "cef",
        }
    }

    /// The format of an input that starts with `head`: EVTX by its magic
    /// number; else by the first line that is not blank: CEF (`CEF:`,
    /// after an optional syslog header), syslog (`<PRI>` then `1 ` or a
    /// timestamp), else JSON Lines.
    pub fn detect(head: &[u8]) -> Format {
        if head.starts_with(evtx::MAGIC) {
            return Format::Evtx;
        }
        let text = match std::str::from_utf8(head) {
            Ok(text) => text,
            // A cut character at the end of what was read.
            Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or(""),
        };
        let Some(line) = text.lines().find(|l| !l.trim().is_empty()) else {
            return Format::Jsonl;
        };
        let line = line.trim_start_matches('\u{feff}');
        if cef::start(line, 1970).is_some() {
            Format::Cef
        } else if syslog::looks_like(line) {
            Format::Syslog
        } else {
            Format::Jsonl
        }
    }
}

/// Why a record does not parse, and where: the byte column in its line
/// (1-based), none for an EVTX record (it is named by its number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub column: Option<usize>,
    pub message: String,
}

impl Malformed {
    pub fn at(column: usize, message: impl Into<String>) -> Malformed {
        Malformed {
            column: Some(column),
            message: message.into(),
        }
    }

    pub fn record(message: String) -> Malformed {
        Malformed {
            column: None,
            message,
        }
    }
}

/// Turns the lines of an input into JSON lines of taxonomy fields.
#[derive(Debug, Clone)]
pub struct Decoder {
    pub format: Format,
    mappings: Option<Mappings>,
    /// The year of RFC 3164 times, which have none.
    year: i32,
}

impl Decoder {
    /// A decoder for `format`; `year` completes RFC 3164 times.
    pub fn new(format: Format, year: i32) -> Result<Decoder, String> {
        let mappings = match format {
            Format::Jsonl => None,
            _ => Some(Mappings::bundled()?),
        };
        Ok(Decoder {
            format,
            mappings,
            year,
        })
    }

    /// The JSON line of `line`: the line itself for JSON Lines.
    pub fn decode<'l>(&self, line: &'l str) -> Result<Cow<'l, str>, Malformed> {
        let Some(mappings) = &self.mappings else {
            return Ok(Cow::Borrowed(line));
        };
        let event = match self.format {
            Format::Jsonl => return Ok(Cow::Borrowed(line)),
            Format::Syslog => {
                let record = syslog::parse(line, self.year)?;
                syslog::event(&record, &mappings.syslog)
            }
            Format::Cef => {
                let at = if line.starts_with("CEF:") {
                    0
                } else {
                    let header = syslog::parse(line, self.year)?;
                    if !header.message.starts_with("CEF:") {
                        return Err(Malformed::at(
                            header.message_at + 1,
                            "expected `CEF:` after the syslog header",
                        ));
                    }
                    header.message_at
                };
                let record = cef::parse(line, at)?;
                let header = match at {
                    0 => None,
                    _ => syslog::parse(line, self.year).ok(),
                };
                cef::event(&record, header.as_ref(), &mappings.cef)
            }
            Format::Evtx => evtx::event(line, &mappings.evtx)?,
        };
        serde_json::to_string(&event)
            .map(Cow::Owned)
            .map_err(|e| Malformed::record(e.to_string()))
    }
}

#[cfg(test)]
mod tests;
