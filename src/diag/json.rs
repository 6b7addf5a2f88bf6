//! Diagnostics as data for machines: `check --format json` (one document,
//! spec 1.4) and SARIF 2.1.0 for code scanning. Positions are 1-based lines
//! and columns in Unicode scalar values; ends are exclusive.

use serde_json::{Value, json};

use super::{Diagnostic, Label, Severity, codes};
use crate::source::{Position, SourceMap};

/// Sorts diagnostics by file path, line and column (the order of every format).
pub fn sort(map: &SourceMap, diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_cached_key(|d| {
        let file = map.get(d.primary.file);
        (
            file.path.clone(),
            file.position(d.primary.span.start),
            d.primary.span.end,
        )
    });
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

struct Located {
    file: String,
    start: Position,
    end: Position,
}

fn locate(map: &SourceMap, label: &Label) -> Located {
    let file = map.get(label.file);
    Located {
        file: file.path.to_string_lossy().into_owned(),
        start: file.position(label.span.start),
        end: file.position(label.span.end),
    }
}

/// The `--format json` document.
pub fn to_json(map: &SourceMap, diagnostics: &[Diagnostic]) -> Value {
    let items: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let at = locate(map, &d.primary);
            let labels: Vec<Value> = d
                .secondary
                .iter()
                .map(|label| {
                    let l = locate(map, label);
                    json!({
                        "message": label.message, "file": l.file,
                        "line": l.start.line, "column": l.start.column,
                        "end_line": l.end.line, "end_column": l.end.column,
                    })
                })
                .collect();
            json!({
                "severity": severity_word(d.severity),
                "code": d.code.id,
                "message": d.message,
                "file": at.file,
                "line": at.start.line,
                "column": at.start.column,
                "end_line": at.end.line,
                "end_column": at.end.column,
                "label": d.primary.message,
                "labels": labels,
                "help": d.help,
                "fixes": fixes(map, d),
            })
        })
        .collect();
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    json!({ "diagnostics": items, "errors": errors, "warnings": diagnostics.len() - errors })
}

/// Each fix with its edits located like labels (ends exclusive).
fn fixes(map: &SourceMap, d: &Diagnostic) -> Vec<Value> {
    let file = map.get(d.primary.file);
    d.fixes
        .iter()
        .map(|fix| {
            let edits: Vec<Value> = fix
                .edits
                .iter()
                .map(|edit| {
                    let (start, end) =
                        (file.position(edit.span.start), file.position(edit.span.end));
                    json!({
                        "line": start.line, "column": start.column,
                        "end_line": end.line, "end_column": end.column,
                        "replacement": edit.replacement,
                    })
                })
                .collect();
            json!({ "message": fix.message, "applicability": fix.applicability, "edits": edits })
        })
        .collect()
}

/// The `--format sarif` document (SARIF 2.1.0).
pub fn to_sarif(map: &SourceMap, diagnostics: &[Diagnostic]) -> Value {
    let rules: Vec<Value> = codes::ALL
        .iter()
        .map(|code| json!({ "id": code.id, "shortDescription": { "text": code.title } }))
        .collect();
    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message = format!("{message}\nhelp: {help}");
            }
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, label)| {
                    let mut location = sarif_location(map, label);
                    location["id"] = json!(i);
                    location["message"] = json!({ "text": label.message });
                    location
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code.id,
                "level": severity_word(d.severity),
                "message": { "text": message },
                "locations": [sarif_location(map, &d.primary)],
                "relatedLocations": related,
            });
            if !d.fixes.is_empty() {
                result["fixes"] = json!(sarif_fixes(map, d));
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "tripline",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// SARIF `fixes`: each fix as replacements in the diagnostic's file; a fix
/// for review says so in its description (SARIF has no applicability).
fn sarif_fixes(map: &SourceMap, d: &Diagnostic) -> Vec<Value> {
    let file = map.get(d.primary.file);
    let uri = file.path.to_string_lossy().replace('\\', "/");
    d.fixes
        .iter()
        .map(|fix| {
            let replacements: Vec<Value> = fix
                .edits
                .iter()
                .map(|edit| {
                    let (start, end) =
                        (file.position(edit.span.start), file.position(edit.span.end));
                    json!({
                        "deletedRegion": {
                            "startLine": start.line, "startColumn": start.column,
                            "endLine": end.line, "endColumn": end.column,
                        },
                        "insertedContent": { "text": edit.replacement },
                    })
                })
                .collect();
            let description = if fix.is_safe() {
                fix.message.clone()
            } else {
                format!("{} (for review)", fix.message)
            };
            json!({
                "description": { "text": description },
                "artifactChanges": [{
                    "artifactLocation": { "uri": uri },
                    "replacements": replacements,
                }],
            })
        })
        .collect()
}

fn sarif_location(map: &SourceMap, label: &Label) -> Value {
    let l = locate(map, label);
    json!({ "physicalLocation": {
        "artifactLocation": { "uri": l.file.replace('\\', "/") },
        "region": {
            "startLine": l.start.line, "startColumn": l.start.column,
            "endLine": l.end.line, "endColumn": l.end.column,
        },
    }})
}
