//! `eval`'s output: matches and alerts as JSON lines (rendered from
//! pieces prepared once per rule), and a progress bar on stderr.

use std::io::{self, Write};

use super::{EvalOptions, Summary};
use crate::eval::{Alert, Engine, Output, timestamp};

/// Pre-rendered JSON pieces per rule.
pub struct Printer {
    /// `{"kind":"match","rule":…,"id":…,"title":…,"line":`
    match_prefix: Vec<String>,
    /// `{"kind":"alert","rule":…,"id":…,"title":…,`
    alert_prefix: Vec<String>,
}

impl Printer {
    pub fn new(engine: &Engine) -> Printer {
        let head = |kind: &str, rule: &crate::eval::CompiledRule| {
            format!(
                "{{\"kind\":\"{kind}\",\"rule\":{},\"id\":{},\"title\":{}",
                json_string(&rule.name),
                json_string(&rule.id),
                json_string(&rule.title)
            )
        };
        Printer {
            match_prefix: engine
                .rules()
                .iter()
                .map(|r| head("match", r) + ",\"line\":")
                .collect(),
            alert_prefix: engine
                .rules()
                .iter()
                .map(|r| head("alert", r) + ",")
                .collect(),
        }
    }

    pub fn print(
        &self,
        output: Output<'_>,
        number: u64,
        summary: &mut Summary,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        match output {
            Output::Match { rule, line } => {
                summary.matches += 1;
                self.write_match(rule, number, line, out)
            }
            Output::Alert { rule, alert } => {
                summary.alerts += 1;
                let mut line = Vec::new();
                self.write_alert(rule, &alert, &mut line);
                out.write_all(&line)
            }
        }
    }

    /// An alert's line, newline included.
    pub fn write_alert(&self, rule: usize, alert: &Alert, out: &mut Vec<u8>) {
        let prefix = self.alert_prefix.get(rule).map_or("", String::as_str);
        out.extend_from_slice(prefix.as_bytes());
        write_alert_body(alert, out);
        out.extend_from_slice(b"}\n");
    }

    /// A match line, written in pieces: `core::fmt` cost four times as
    /// much as the bytes (a third of the lines of a busy stream match).
    pub fn write_match<W: Write + ?Sized>(
        &self,
        rule: usize,
        number: u64,
        line: &str,
        out: &mut W,
    ) -> io::Result<()> {
        let prefix = self.match_prefix.get(rule).map_or("", String::as_str);
        out.write_all(prefix.as_bytes())?;
        out.write_all(itoa::Buffer::new().format(number).as_bytes())?;
        out.write_all(b",\"event\":")?;
        out.write_all(line.as_bytes())?;
        out.write_all(b"}\n")
    }
}

impl Printer {
    /// The alert's line as it would be printed (for open windows on stderr).
    pub fn alert_line(&self, rule: usize, alert: &Alert) -> String {
        let prefix = self.alert_prefix.get(rule).map_or("", String::as_str);
        format!("{prefix}{}}}", alert_body(alert))
    }
}

/// `"group":{…},"window":{"start":…,"end":…},"count":N` (or
/// `distinct_count`; a version 2 condition: each aggregate as written,
/// `null` for `min`/`max` of no integer), then what the SIEM's row shows
/// beside it: `"first_time":…,"last_time":…` (the group's first and last
/// event) and, for a rule with context fields,
/// `"context":{"field":["value",…],…}`.
pub fn alert_body(alert: &Alert) -> String {
    let mut body = Vec::new();
    write_alert_body(alert, &mut body);
    // Only JSON and text from `String`s were written: always UTF-8.
    String::from_utf8(body).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `alert_body` into `out`, without a `String` or `serde_json::Value` per
/// piece (a pack with thousands of threshold rules prints an alert every
/// few events).
fn write_alert_body(alert: &Alert, out: &mut Vec<u8>) {
    out.extend_from_slice(b"\"group\":{");
    members(&alert.group, out, json);
    out.extend_from_slice(b"},\"window\":{\"start\":\"");
    out.extend_from_slice(timestamp::format_seconds(alert.start).as_bytes());
    out.extend_from_slice(b"\",\"end\":\"");
    out.extend_from_slice(timestamp::format_seconds(alert.end).as_bytes());
    out.extend_from_slice(b"\"},");
    members(&alert.values, out, |value, out| match value {
        Some(value) => out.extend_from_slice(itoa::Buffer::new().format(*value).as_bytes()),
        None => out.extend_from_slice(b"null"),
    });
    out.extend_from_slice(b",\"first_time\":\"");
    out.extend_from_slice(timestamp::format_nanos(alert.first_time).as_bytes());
    out.extend_from_slice(b"\",\"last_time\":\"");
    out.extend_from_slice(timestamp::format_nanos(alert.last_time).as_bytes());
    out.push(b'"');
    if !alert.context.is_empty() {
        out.extend_from_slice(b",\"context\":{");
        members(&alert.context, out, json);
        out.push(b'}');
    }
}

/// `"name":value,…`: each name as a JSON string, each value by `value`.
fn members<V>(pairs: &[(String, V)], out: &mut Vec<u8>, value: impl Fn(&V, &mut Vec<u8>)) {
    for (at, (name, item)) in pairs.iter().enumerate() {
        if at > 0 {
            out.push(b',');
        }
        json(name, out);
        out.push(b':');
        value(item, out);
    }
}

/// `value` as compact JSON, as `serde_json::Value`'s `Display` writes it.
fn json<T: serde::Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) {
    // Strings, arrays of strings and JSON values cannot fail to serialize
    // into a vector.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// A progress bar on stderr, only when stderr is a terminal: bytes of a
/// file, or a count of lines from stdin. Messages are printed around it.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(options: &EvalOptions) -> Progress {
        let bar = options.progress.then(|| {
            let (bar, template) = match options.input_bytes {
                Some(total) => (
                    indicatif::ProgressBar::new(total),
                    "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                ),
                None => (
                    indicatif::ProgressBar::new_spinner(),
                    "{spinner} {pos} lines {per_sec}",
                ),
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar }
    }

    /// Updated every 4096 lines: drawing costs more than a line.
    pub fn tick(&self, lines: u64, bytes: u64) {
        if let Some(bar) = &self.bar
            && lines.is_multiple_of(4096)
        {
            bar.set_position(if bar.length().is_some() { bytes } else { lines });
        }
    }

    pub fn suspend<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
