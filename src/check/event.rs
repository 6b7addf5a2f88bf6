//! Test events as written (tripline literals) to JSON: nested objects
//! flatten to dotted paths, and a path given twice is an error at the
//! second (E0605). Objects inside arrays stay objects.

use serde_json::{Map, Value as Json};

use crate::diag::codes;
use crate::syntax::ast::{EventField, Value};
use crate::syntax::{Span, Spanned};

use super::context::RuleCx;

/// One leaf of a flattened event.
pub(crate) struct Leaf<'e> {
    pub path: String,
    pub key: Span,
    pub value: &'e Spanned<Value>,
}

/// The event's leaves in written order, and the event as a JSON map with
/// dotted keys (the first of two equal paths wins; the second is an error).
pub(crate) fn flatten<'e>(
    cx: &mut RuleCx,
    fields: &'e [EventField],
) -> (Vec<Leaf<'e>>, Map<String, Json>) {
    let mut leaves = Vec::new();
    collect(fields, "", &mut leaves);
    let mut map = Map::new();
    let mut kept = Vec::with_capacity(leaves.len());
    for leaf in leaves {
        if let Some(first) = kept.iter().find(|l: &&Leaf| l.path == leaf.path) {
            let diagnostic = cx
                .error(
                    codes::DUPLICATE_EVENT_FIELD,
                    leaf.key,
                    format!("`{}` is given twice in this event", leaf.path),
                )
                .with_secondary(cx.file, first.key, "first given here")
                .with_help("nested objects and dotted keys name the same field; give it once");
            cx.emit(diagnostic);
            continue;
        }
        let value = json(cx, leaf.value);
        too_deep(cx, &leaf, &value);
        map.insert(leaf.path.clone(), value);
        kept.push(leaf);
    }
    (kept, map)
}

/// `tripline test` runs an event as one line of JSON, which serde_json
/// reads only when it nests fewer levels than this (the event is one).
const JSON_DEPTH_LIMIT: usize = 128;

/// E0611: a value nested deeper than the JSON reader will take, which
/// would otherwise pass `check` and then fail to match at test time.
fn too_deep(cx: &mut RuleCx, leaf: &Leaf, value: &Json) {
    let levels = 1 + nesting(value);
    if levels < JSON_DEPTH_LIMIT {
        return;
    }
    let diagnostic = cx
        .error(
            codes::EVENT_NESTED_TOO_DEEPLY,
            leaf.value.span,
            format!(
                "`{}` makes the event {levels} levels deep; a test event may nest at most {}",
                leaf.path,
                JSON_DEPTH_LIMIT - 1
            ),
        )
        .with_help("nest fewer arrays or objects in this value");
    cx.emit(diagnostic);
}

/// Levels of arrays and objects in a value (a scalar: 0).
fn nesting(value: &Json) -> usize {
    match value {
        Json::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Json::Object(fields) => 1 + fields.values().map(nesting).max().unwrap_or(0),
        _ => 0,
    }
}

fn collect<'e>(fields: &'e [EventField], prefix: &str, leaves: &mut Vec<Leaf<'e>>) {
    for field in fields {
        let path = format!("{prefix}{}", field.key.node);
        match &field.value.node {
            Value::Object(inner) if !inner.is_empty() => {
                collect(inner, &format!("{path}."), leaves)
            }
            _ => leaves.push(Leaf {
                path,
                key: field.key.span,
                value: &field.value,
            }),
        }
    }
}

/// A literal as JSON. Objects (inside arrays, or empty) keep their keys.
pub(crate) fn json(cx: &mut RuleCx, value: &Spanned<Value>) -> Json {
    match &value.node {
        Value::String(text) => Json::String(text.value.clone()),
        Value::Int(n) => Json::from(*n),
        Value::Bool(b) => Json::Bool(*b),
        Value::Null => Json::Null,
        Value::Array(items) => Json::Array(items.iter().map(|item| json(cx, item)).collect()),
        Value::Object(fields) => {
            let mut object = Map::new();
            let mut seen: Vec<&Spanned<String>> = Vec::new();
            for field in fields {
                if let Some(first) = seen.iter().find(|k| k.node == field.key.node) {
                    let diagnostic = cx
                        .error(
                            codes::DUPLICATE_EVENT_FIELD,
                            field.key.span,
                            format!("`{}` is given twice in this object", field.key.node),
                        )
                        .with_secondary(cx.file, first.span, "first given here");
                    cx.emit(diagnostic);
                    continue;
                }
                seen.push(&field.key);
                object.insert(field.key.node.clone(), json(cx, &field.value));
            }
            Json::Object(object)
        }
    }
}
