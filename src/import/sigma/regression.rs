//! SigmaHQ's regression data as tests: a rule's `regression_tests_path`
//! names an `info.yml` (relative to the Sigma repository's root) whose
//! `regression_tests_info` list events recorded as EVTX, each beside its
//! JSON rendering. Each JSON event becomes a test `event { ... }` with
//! `expect match`, its `EventData` (and `System`) names read back through
//! the Sigma mapping; names the source lacks are left out. Missing or
//! unreadable data leaves a note, never refuses the rule.

use std::path::{Component, Path, PathBuf};

use serde_json::Value as Json;

use super::draft::{TestDraft, TestValue};
use super::mapping::SourceNames;
use super::refusal::Refusal;
use super::yaml::{self, Node, NodeKind};
use crate::ir::FieldType;

/// The tests of the rule `doc` read from `sigma_file`, and notes on what
/// was not read.
pub fn tests(sigma_file: &Path, doc: &Node, names: &SourceNames) -> (Vec<TestDraft>, Vec<Refusal>) {
    let Some(node) = doc.get("regression_tests_path") else {
        return (Vec::new(), Vec::new());
    };
    let note = |reason: String| Refusal::new(node.pos, "`regression_tests_path`", reason);
    let relative = node.text().unwrap_or_default();
    let Some((root, info)) = locate(sigma_file, relative) else {
        return (
            Vec::new(),
            vec![note(format!(
                "`{relative}` is not a file below a folder that holds the Sigma file (tests left out)"
            ))],
        );
    };
    let text = match read_text(&info) {
        Ok(text) => text,
        Err(reason) => return (Vec::new(), vec![note(reason)]),
    };
    let docs = match yaml::documents(&text) {
        Ok(docs) => docs,
        Err(err) => {
            return (
                Vec::new(),
                vec![note(format!("{}: {}", info.display(), err.message))],
            );
        }
    };
    let entries = docs
        .first()
        .and_then(|d| d.get("regression_tests_info"))
        .map(|n| match &n.kind {
            NodeKind::Seq(items) => items.as_slice(),
            _ => &[],
        })
        .unwrap_or_default();
    let (mut tests, mut notes) = (Vec::new(), Vec::new());
    for entry in entries {
        let name = entry
            .get("name")
            .and_then(Node::text)
            .unwrap_or("regression data");
        let path = entry.get("path").and_then(Node::text).unwrap_or_default();
        let json = Path::new(path).with_extension("json");
        let events = safe_relative(&json)
            .map(|json| root.join(json))
            .ok_or_else(|| format!("`{path}` is not a relative path inside the repository"))
            .and_then(|json| read_text(&json))
            .and_then(|text| records(&text, &json))
            .and_then(|records| {
                every_record_matches(entry, records.len())?;
                records.iter().map(|r| event(r, names)).collect()
            });
        match events {
            Ok(events) => tests.push(TestDraft {
                name: name.to_string(),
                events,
            }),
            Err(reason) => notes.push(note(format!("test `{name}` left out: {reason}"))),
        }
    }
    (tests, notes)
}

/// The repository root (the nearest folder above the Sigma file holding
/// `relative`) and the file it names.
fn locate(sigma_file: &Path, relative: &str) -> Option<(PathBuf, PathBuf)> {
    let relative = safe_relative(Path::new(relative))?;
    sigma_file.ancestors().skip(1).find_map(|root| {
        let candidate = root.join(&relative);
        candidate.is_file().then(|| (root.to_path_buf(), candidate))
    })
}

/// `path` when it stays inside the folder it is joined to.
fn safe_relative(path: &Path) -> Option<PathBuf> {
    let ok = path.components().all(|c| matches!(c, Component::Normal(_)));
    (ok && !path.as_os_str().is_empty()).then(|| path.to_path_buf())
}

/// A test says every event matches (`expect match`): a recording where
/// only `match_count` of its records should match has no such test.
fn every_record_matches(entry: &Node, records: usize) -> Result<(), String> {
    let count = entry.get("match_count").map(|n| n.resolved());
    match count {
        None => Ok(()),
        Some(Some(yaml::Resolved::Int(n))) if usize::try_from(n) == Ok(records) => Ok(()),
        Some(_) => Err(format!(
            "{} of its {records} records should match, and a tripline test expects every event to match or none",
            entry.get("match_count").and_then(Node::text).unwrap_or("?")
        )),
    }
}

/// The records of a rendered EVTX file: JSON objects one after another.
fn records(text: &str, path: &Path) -> Result<Vec<Json>, String> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Json>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn read_text(path: &Path) -> Result<String, String> {
    let bytes = crate::source::read(path).map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8", path.display()))
}

/// The test event of one rendered EVTX record: `@timestamp` from
/// `System.TimeCreated`, then each `EventData` and `System` value whose
/// Sigma name the source maps.
fn event(json: &Json, names: &SourceNames) -> Result<Vec<(String, TestValue)>, String> {
    let record = json.get("Event").ok_or("no `Event` in the JSON")?;
    let system = record.get("System");
    let mut fields = Vec::new();
    if let Some(Json::String(time)) =
        system.and_then(|s| s.pointer("/TimeCreated/#attributes/SystemTime"))
    {
        fields.push(("@timestamp".to_string(), TestValue::Text(time.clone())));
    }
    let provider = system.and_then(|s| s.pointer("/Provider/#attributes/Name"));
    let system_values = ["EventID", "Channel", "Computer"]
        .into_iter()
        .filter_map(|k| Some((k, system?.get(k)?)))
        .chain(provider.map(|p| ("Provider_Name", p)));
    let data = record.get("EventData").and_then(Json::as_object);
    let data_values = data.into_iter().flatten().map(|(k, v)| (k.as_str(), v));
    for (sigma, value) in system_values.chain(data_values) {
        let Some((field, ty)) = names.field(sigma) else {
            continue;
        };
        if fields.iter().any(|(f, _)| f == field) {
            continue;
        }
        if let Some(value) = test_value(value, ty) {
            fields.push((field.to_string(), value));
        }
    }
    if fields.iter().all(|(f, _)| f == "@timestamp") {
        return Err("none of its fields is a field of the source".to_string());
    }
    Ok(fields)
}

/// A JSON value as the field's type reads it; `None` for what it cannot
/// hold (null, objects, a text that is no integer on an `int` field).
fn test_value(value: &Json, ty: FieldType) -> Option<TestValue> {
    match (value, ty) {
        (Json::Number(n), FieldType::Int) => n.as_i64().map(TestValue::Int),
        (Json::String(s), FieldType::Int) => s.trim().parse().ok().map(TestValue::Int),
        (Json::String(s), FieldType::String | FieldType::Ip) => Some(TestValue::Text(s.clone())),
        (Json::Number(n), FieldType::String) => Some(TestValue::Text(n.to_string())),
        (Json::Bool(b), FieldType::String) => Some(TestValue::Text(b.to_string())),
        _ => None,
    }
}
