//! Windows event logs (EVTX), read by the `evtx` crate. A thread reads the
//! records in order and writes each as one line of the crate's JSON (or,
//! for a record that does not parse, a line naming the error), so that
//! `eval` reads them as it reads lines; `event` then maps a record's JSON
//! to taxonomy fields by `targets/inputs/evtx.toml`.

use std::io::{self, Read, Seek, Write};

use evtx::{EvtxParser, ParserSettings};
use serde_json::{Map, Value};

use super::Malformed;
use super::mapping::{EvtxMapping, write};

/// The key of the line written for a record that does not parse (the
/// crate's records always have the one key `Event`).
pub const ERROR_KEY: &str = "$tripline_evtx_error";

/// The magic number an EVTX file starts with.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// Starts reading the EVTX file `source` on a thread; the returned reader
/// gives one JSON line per record. Fails at once when the file header is
/// not that of an EVTX file.
pub fn records<T: Read + Seek + Send + 'static>(source: T) -> io::Result<io::PipeReader> {
    let settings = ParserSettings::new()
        .num_threads(1)
        .indent(false)
        .separate_json_attributes(false);
    let mut parser = EvtxParser::from_read_seek(source)
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("not a readable EVTX file: {e}"),
            )
        })?
        .with_configuration(settings);
    let (reader, mut writer) = io::pipe()?;
    std::thread::Builder::new()
        .name("eval-evtx".into())
        .spawn(move || {
            let mut buffer = io::BufWriter::new(&mut writer);
            // A failure inside the reader ends the records as one that does
            // not parse, rather than as a silent end of input.
            let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                for record in parser.records_json_value() {
                    let line = match record {
                        Ok(record) => serde_json::to_string(&record.data),
                        Err(error) => Ok(error_line(&error.to_string())),
                    };
                    let line = line.unwrap_or_else(|error| error_line(&error.to_string()));
                    if writeln!(buffer, "{line}").is_err() {
                        // The run stopped reading.
                        return;
                    }
                }
            }));
            if read.is_err() {
                let _ = writeln!(
                    buffer,
                    "{}",
                    error_line("the EVTX reader failed here; the records after it were not read")
                );
            }
            let _ = buffer.flush();
        })?;
    Ok(reader)
}

/// The line standing for a record that does not parse.
fn error_line(message: &str) -> String {
    let mut map = Map::new();
    map.insert(ERROR_KEY.into(), Value::String(message.to_string()));
    Value::Object(map).to_string()
}

/// The taxonomy fields of one record line.
pub fn event(line: &str, mapping: &EvtxMapping) -> Result<Map<String, Value>, Malformed> {
    let record: Map<String, Value> = serde_json::from_str(line)
        .map_err(|e| Malformed::record(format!("the record's JSON does not read: {e}")))?;
    if let Some(error) = record.get(ERROR_KEY) {
        let text = error.as_str().unwrap_or("the record does not parse");
        return Err(Malformed::record(text.to_string()));
    }
    let Some(Value::Object(root)) = record.get("Event") else {
        return Err(Malformed::record(
            "the record has no `Event` element".into(),
        ));
    };
    let system = root.get("System");
    let mut event = Map::new();
    let channel = system.and_then(|s| lookup(s, "Channel")).and_then(text);
    let dataset = channel
        .as_deref()
        .and_then(|c| mapping.dataset.get(c))
        .or_else(|| mapping.dataset.get("default"));
    if let Some(dataset) = dataset {
        event.insert("event.dataset".into(), Value::String(dataset.clone()));
    }
    let none = Default::default();
    for (path, targets) in &mapping.system {
        if let Some(value) = system.and_then(|s| lookup(s, path)).and_then(text) {
            write(&mut event, targets, &value, &none);
        }
    }
    let data: Vec<(String, String)> = match root.get("EventData").or_else(|| root.get("UserData")) {
        Some(Value::Object(items)) => items
            .iter()
            .filter(|(name, _)| !name.starts_with('#'))
            .filter_map(|(name, value)| text(value).map(|t| (name.clone(), t)))
            .collect(),
        _ => Vec::new(),
    };
    for (name, value) in &data {
        event.insert(
            format!("winlog.event_data.{name}"),
            Value::String(value.clone()),
        );
    }
    let id = system
        .and_then(|s| lookup(s, "EventID"))
        .and_then(text)
        .and_then(|id| id.parse::<u32>().ok());
    let listed = mapping.events.iter().find(|events| {
        Some(events.channel.as_str()) == channel.as_deref()
            && id.is_some_and(|id| events.ids.contains(&id))
    });
    if let Some(listed) = listed {
        for (field, value) in &listed.set {
            event.insert(field.clone(), Value::String(value.clone()));
        }
        for (name, value) in &data {
            if mapping.none.contains(value) {
                continue;
            }
            if let Some(targets) = listed.fields.get(name) {
                write(&mut event, targets, value, &mapping.logon_types);
            }
        }
    }
    Ok(event)
}

/// `System.TimeCreated.SystemTime`-like paths: each part a key of the
/// object or of its `#attributes`.
fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut at = value;
    for part in path.split('.') {
        let object = at.as_object()?;
        at = match object.get(part) {
            Some(found) => found,
            None => object.get("#attributes")?.as_object()?.get(part)?,
        };
    }
    Some(at)
}

/// A value as text, as Winlogbeat writes event data: strings as they are,
/// numbers and booleans in JSON's spelling, an element's `#text`; arrays
/// joined by a newline; nothing for null and other objects.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Object(object) => object.get("#text").and_then(text),
        Value::Array(items) => {
            let texts: Vec<String> = items.iter().filter_map(text).collect();
            (!texts.is_empty()).then(|| texts.join("\n"))
        }
        Value::Null => None,
    }
}
