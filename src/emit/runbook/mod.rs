//! The `runbook` target: a Markdown page per rule in the shape of the SOC
//! playbooks the pack was written from (`| Column Name | Value |` rows:
//! tactic, technique, name, log sources, key indicators, then the analyst
//! steps from the rule's `playbook`), and an index of the pack by technique.
//! The key indicators are the rule's logic in plain words (`words`) and the
//! alert section how its alert appears (`alert`), so a page never drifts
//! from its rule.

mod alert;
mod markdown;
mod words;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::check::{Catalogue, Taxonomy};
use crate::diag::{Diagnostic, codes};
use crate::emit::templates::Templates;
use crate::ir;

use super::{Document, EmitError, Emitted, Input};

/// One rule as the templates see it.
#[derive(Debug, Serialize)]
struct PageView {
    name: String,
    title: String,
    id: String,
    level: ir::Level,
    status: ir::Status,
    description: String,
    tactics: Vec<String>,
    /// Parent technique ids (`T1590`).
    ttps: Vec<String>,
    /// Full technique ids (`T1590.002`).
    sub_ttps: Vec<String>,
    /// `Gather Victim Network Information: DNS`, one per technique.
    technique_names: Vec<String>,
    log_sources: String,
    key_indicators: String,
    playbook: ir::Playbook,
    alert: alert::AlertView,
    falsepositives: Vec<String>,
    references: Vec<String>,
}

/// A technique of the index and the rules on it.
#[derive(Debug, Serialize)]
struct IndexEntry {
    id: String,
    name: String,
    tactics: Vec<String>,
    rules: Vec<IndexRule>,
}

#[derive(Debug, Serialize)]
struct IndexRule {
    name: String,
    title: String,
    level: ir::Level,
    source: String,
}

pub fn emit(input: &Input) -> Result<Emitted, EmitError> {
    let templates = templates(input)?;
    let mut emitted = Emitted::default();
    for rule in &input.pack.rules {
        if rule.playbook.is_empty() {
            emitted.diagnostics.push(
                Diagnostic::warning(
                    codes::RULE_WITHOUT_PLAYBOOK,
                    rule.file,
                    rule.span,
                    format!("rule `{}` has no playbook: its runbook shows `-` for the analyst steps", rule.name),
                )
                .with_help("add `playbook { questions \"...\" escalate \"...\" triage \"...\" investigate \"...\" contain \"...\" }`"),
            );
        }
        let page = page(input.taxonomy, rule);
        emitted.documents.push(Document {
            path: format!("{}.md", rule.name),
            text: templates.render("page.md.j2", minijinja::context! { rule => minijinja::Value::from(minijinja::value::Serde(&page)) })?,
        });
    }
    let index = index(input.pack);
    emitted.documents.push(Document {
        path: "index.md".to_string(),
        text: templates.render("index.md.j2", minijinja::context! { techniques => minijinja::Value::from(minijinja::value::Serde(&index)) })?,
    });
    Ok(emitted)
}

fn templates<'f>(input: &Input<'f>) -> Result<Templates<'f>, EmitError> {
    let mut templates = Templates::load(input.folder)?;
    let env = &mut templates.env;
    env.add_filter("md_text", |text: &str| markdown::text(text));
    env.add_filter("md_block", |text: &str| markdown::block(text));
    env.add_filter("md_reference", |text: &str| markdown::reference(text));
    Ok(templates)
}

fn page(taxonomy: &Taxonomy, rule: &ir::Rule) -> PageView {
    let catalogue = Catalogue::bundled();
    let mut ttps: Vec<String> = Vec::new();
    for technique in &rule.meta.techniques {
        let parent = parent_id(&technique.id).to_string();
        if !ttps.contains(&parent) {
            ttps.push(parent);
        }
    }
    let technique_names = rule
        .meta
        .techniques
        .iter()
        .map(|t| match catalogue.technique(parent_id(&t.id)) {
            Some(parent) if parent.id != t.id => format!("{}: {}", parent.name, t.name),
            _ => t.name.clone(),
        })
        .collect();
    let log_source = |name: &str| match taxonomy.source(name) {
        Some(source) => format!(
            "{} (tripline source `{}`)",
            markdown::text(&capitalised(&source.description)),
            name
        ),
        None => format!("tripline source `{name}`"),
    };
    let all_sources: Vec<&str> = std::iter::once(rule.source.as_str())
        .chain(rule.more_sources.iter().map(String::as_str))
        .collect();
    let log_sources: Vec<String> = all_sources.iter().map(|s| log_source(s)).collect();
    let log_sources = log_sources.join("; ");
    let from = match all_sources.as_slice() {
        [one] => format!("the `{one}` source"),
        many => {
            let quoted: Vec<String> = many.iter().map(|s| format!("`{s}`")).collect();
            format!("the {} sources", quoted.join(" and "))
        }
    };
    let mut key_indicators = format!(
        "Events from {from} where {}.",
        words::condition(&rule.condition)
    );
    let detection = match &rule.detection {
        crate::ir::Detection::Match => None,
        crate::ir::Detection::Aggregation(threshold) => Some(words::threshold(threshold)),
        crate::ir::Detection::Sequence(sequence) => Some(words::sequence(sequence)),
        crate::ir::Detection::FirstSeen(first) => Some(words::first_seen(first)),
    };
    if let Some(detection) = detection {
        key_indicators.push(' ');
        key_indicators.push_str(&detection);
    }
    PageView {
        name: rule.name.clone(),
        title: rule.meta.title.clone(),
        id: rule.meta.id.clone(),
        level: rule.meta.level,
        status: rule.meta.status,
        description: rule.meta.description.clone(),
        tactics: rule.meta.tactics.iter().map(|t| t.name.clone()).collect(),
        ttps,
        sub_ttps: rule.meta.techniques.iter().map(|t| t.id.clone()).collect(),
        technique_names,
        log_sources,
        key_indicators,
        playbook: rule.playbook.clone(),
        alert: alert::view(rule),
        falsepositives: rule.meta.falsepositives.clone(),
        references: rule.meta.references.clone(),
    }
}

/// Every technique of the pack (sorted by id) with its rules.
fn index(pack: &ir::Pack) -> Vec<IndexEntry> {
    let mut by_technique: BTreeMap<&str, IndexEntry> = BTreeMap::new();
    for rule in &pack.rules {
        for technique in &rule.meta.techniques {
            let entry = by_technique
                .entry(&technique.id)
                .or_insert_with(|| IndexEntry {
                    id: technique.id.clone(),
                    name: technique.name.clone(),
                    tactics: technique_tactics(technique),
                    rules: Vec::new(),
                });
            entry.rules.push(IndexRule {
                name: rule.name.clone(),
                title: rule.meta.title.clone(),
                level: rule.meta.level,
                source: rule.source.clone(),
            });
        }
    }
    by_technique.into_values().collect()
}

fn technique_tactics(technique: &ir::Technique) -> Vec<String> {
    let catalogue = Catalogue::bundled();
    technique
        .tactics
        .iter()
        .map(|short| {
            catalogue
                .tactic(short)
                .map_or_else(|| short.clone(), |t| t.name.clone())
        })
        .collect()
}

fn parent_id(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
