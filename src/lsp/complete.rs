//! Completion: what may be written at the cursor, chosen by the words
//! before it on its line and the block it is in: at a line's start what
//! the block holds (a rule's statements, `alert` or `playbook` lines, a
//! test's items, an event's fields; `rule` and `list` at the top level), a
//! source after `from`, a level after `level`, a status after `status`, a
//! technique after `attack`, a list after `@`, and elsewhere the fields of
//! the rule's sources.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation};

use super::analysis::Analysis;
use super::context;
use crate::check::attack::Catalogue;
use crate::ir::{Level, Status};

pub fn complete(analysis: &Analysis, offset: usize) -> Vec<CompletionItem> {
    let text = analysis.text();
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = text[..offset].rfind('\n').map_or(0, |at| at + 1);
    let before = &text[line_start..offset];
    let typing = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, '[' | ',' | '(' | '{'))
        .next()
        .unwrap_or("");
    if typing.starts_with('@') {
        return lists(analysis);
    }
    let words: Vec<&str> = before.split_whitespace().collect();
    // A blank line, or its first word being typed: a statement.
    let first_word_only =
        words.is_empty() || (words.len() == 1 && !before.ends_with(char::is_whitespace));
    match words.first().copied() {
        _ if first_word_only => line_starts(analysis, text, offset),
        Some("from") => sources(analysis),
        Some("level") => levels(),
        Some("status") => statuses(),
        Some("attack") => techniques(),
        _ => fields(analysis, &context::rule_sources(text, offset)),
    }
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        ..CompletionItem::default()
    }
}

/// What a line may start with in the block around the cursor.
fn line_starts(analysis: &Analysis, text: &str, offset: usize) -> Vec<CompletionItem> {
    let keywords: &[&str] = match context::block_at(text, offset) {
        None => &["rule", "list"],
        Some("rule") => crate::syntax::STATEMENTS,
        Some("alert") => crate::syntax::ALERT_LINES,
        Some("playbook") => &crate::check::PLAYBOOK_KEYS,
        Some("test") => &["event", "repeat", "events", "expect"],
        Some("sequence") => &["where", "then"],
        Some(_) => return fields(analysis, &context::rule_sources(text, offset)),
    };
    keywords
        .iter()
        .map(|keyword| item(keyword, CompletionItemKind::KEYWORD, None))
        .collect()
}

fn sources(analysis: &Analysis) -> Vec<CompletionItem> {
    analysis
        .taxonomy
        .sources()
        .iter()
        .map(|source| {
            item(
                &source.name,
                CompletionItemKind::MODULE,
                Some(source.description.clone()),
            )
        })
        .collect()
}

fn levels() -> Vec<CompletionItem> {
    [
        Level::Informational,
        Level::Low,
        Level::Medium,
        Level::High,
        Level::Critical,
    ]
    .into_iter()
    .map(|level| item(&serde_name(&level), CompletionItemKind::ENUM_MEMBER, None))
    .collect()
}

fn statuses() -> Vec<CompletionItem> {
    [
        Status::Experimental,
        Status::Test,
        Status::Stable,
        Status::Deprecated,
    ]
    .into_iter()
    .map(|status| item(&serde_name(&status), CompletionItemKind::ENUM_MEMBER, None))
    .collect()
}

/// The techniques of the ATT&CK catalogue in use, with their names.
fn techniques() -> Vec<CompletionItem> {
    Catalogue::bundled()
        .techniques()
        .iter()
        .filter(|t| !t.revoked && !t.deprecated)
        .map(|t| {
            let mut it = item(&t.id, CompletionItemKind::ENUM_MEMBER, Some(t.name.clone()));
            // Clients filter on this text: typing part of the name finds it.
            it.filter_text = Some(format!("{} {}", t.id, t.name));
            it
        })
        .collect()
}

/// Every list of the pack, with its type and size.
fn lists(analysis: &Analysis) -> Vec<CompletionItem> {
    let mut seen = std::collections::BTreeSet::new();
    let mut items = Vec::new();
    for (_, file) in &analysis.files {
        for it in &file.items {
            if let crate::syntax::ast::Item::List(list) = it
                && seen.insert(list.name.node.clone())
            {
                let ty = list.ty.as_ref().map_or("string", |t| t.node.as_str());
                let detail = format!("list of {} {ty} values", list.elements.node.len());
                let mut completion =
                    item(&list.name.node, CompletionItemKind::VARIABLE, Some(detail));
                // The `@` is already written.
                completion.insert_text = Some(list.name.node.clone());
                completion.filter_text = Some(format!("@{}", list.name.node));
                items.push(completion);
            }
        }
    }
    items
}

/// The fields of `sources` (all sources' when none is known), each with its
/// type and description.
fn fields(analysis: &Analysis, sources: &[String]) -> Vec<CompletionItem> {
    let known: Vec<_> = sources
        .iter()
        .filter_map(|name| analysis.taxonomy.source(name))
        .collect();
    let searched = if known.is_empty() {
        analysis.taxonomy.sources().iter().collect()
    } else {
        known
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut items = Vec::new();
    for source in searched {
        for field in &source.fields {
            if seen.insert(field.name.clone()) {
                let mut it = item(
                    &field.name,
                    CompletionItemKind::FIELD,
                    Some(format!("{} ({})", serde_name(&field.ty), source.name)),
                );
                if !field.description.is_empty() {
                    it.documentation = Some(Documentation::String(field.description.clone()));
                }
                items.push(it);
            }
        }
    }
    items
}

/// A value's name as serde writes it (`Level::High` → `high`).
pub fn serde_name(value: &impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}
