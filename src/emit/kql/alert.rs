//! What a Sentinel alert shows and how alerts become incidents: the alert
//! name with `{{Column}}` tokens (`alertDetailsOverride`), the context
//! columns as `customDetails`, the entity mappings a rule's rows can fill
//! (with the columns their identifiers derive), and the incident grouping
//! by the rule's entities over a window its schedule implies.

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::emit::common::{mapped_field, refusal};
use crate::ir::{self, TitlePart};

use super::TARGET;
use super::literal::{iso_duration, sentinel_duration};
use super::source::{EntityColumn, Identifier, Source};

const MAX_ENTITY_MAPPINGS: usize = 5;
const MAX_IDENTIFIERS: usize = 3;
const MAX_CUSTOM_DETAILS: usize = 20;
const MAX_DETAIL_KEY: usize = 20;
const MAX_NAME: usize = 256;
/// Sentinel's default incident grouping window, and its longest.
const MIN_GROUPING: u64 = 5 * 3600;
const MAX_GROUPING: u64 = 7 * 86_400;

/// The alert settings of one rule as the templates read them.
#[derive(Debug, Serialize)]
pub struct AlertView {
    /// `alertDisplayNameFormat`.
    pub name_format: String,
    /// `alertDescriptionFormat`.
    pub description_format: String,
    /// `customDetails`: key and column.
    pub details: Vec<(String, String)>,
    pub create_incident: bool,
    /// Entity types incidents group by (`Selected`); empty: all entities.
    pub group_by: Vec<String>,
    pub grouping: String,
    pub grouping_iso: String,
}

/// The alert name: text with `{{Column}}` tokens; a literal `{{` is broken
/// up so that Sentinel does not read it as a token.
pub fn name_format(cx: &super::Context) -> Result<String, Vec<Diagnostic>> {
    let rule = cx.rule;
    let mut refusals = Vec::new();
    let mut out = String::new();
    for part in &rule.alert.title {
        match part {
            TitlePart::Text(text) => out.push_str(&literal(text)),
            TitlePart::Field(field) => match mapped_field(cx.input, TARGET, rule, field) {
                Ok(column) => out.push_str(&format!("{{{{{column}}}}}")),
                Err(d) => refusals.push(d),
            },
        }
    }
    if out.chars().count() > MAX_NAME {
        refusals.push(refusal(
            TARGET,
            rule,
            rule.span,
            "an alert title longer than 256 characters",
            "Sentinel alert names hold at most 256 characters; shorten the `alert` title",
        ));
    }
    if refusals.is_empty() {
        Ok(out)
    } else {
        Err(refusals)
    }
}

fn literal(text: &str) -> String {
    text.replace("{{", "{ {").replace("}}", "} }")
}

/// The alert settings around a query whose result has `details` columns;
/// `risk_columns` are the columns of the rule's risk objects.
pub fn view(
    rule: &ir::Rule,
    name_format: String,
    details: &[(Option<String>, String)],
    entities: &[EntityColumn],
    risk_columns: &[String],
    period: u64,
) -> AlertView {
    let mut keys: Vec<(String, String)> = Vec::new();
    for (path, column) in details.iter().take(MAX_CUSTOM_DETAILS) {
        let base = detail_key(path.as_deref(), column);
        let mut key = base.clone();
        let mut n = 2;
        while keys.iter().any(|(k, _)| *k == key) {
            let suffix = n.to_string();
            key = base
                .chars()
                .take(MAX_DETAIL_KEY - suffix.len())
                .chain(suffix.chars())
                .collect();
            n += 1;
        }
        keys.push((key, column.clone()));
    }
    // Group by the entity types of the risk objects' columns, else all.
    let mut group_by: Vec<String> = Vec::new();
    for entity in entities {
        if risk_columns.contains(&entity.column) && !group_by.contains(&entity.entity) {
            group_by.push(entity.entity.clone());
        }
    }
    let grouping = incident_window(period);
    AlertView {
        name_format,
        description_format: literal(&rule.meta.description),
        details: keys,
        create_incident: rule.alert.notable,
        group_by,
        grouping: sentinel_duration(grouping).unwrap_or_else(|| "5h".to_string()),
        grouping_iso: iso_duration(grouping).unwrap_or_else(|| "PT5H".to_string()),
    }
}

/// How long Sentinel joins a rule's alerts into one incident, for a rule
/// whose query reads `period` seconds (the runbook states it too).
pub fn incident_window(period: u64) -> u64 {
    period.clamp(MIN_GROUPING, MAX_GROUPING)
}

/// A `customDetails` key (letters, digits and `_`, a letter first, at most
/// 20 characters): the column's name when it fits, else the field's path in
/// camel case (`process.command_line` → `ProcessCommandLine`), cut to 20.
fn detail_key(path: Option<&str>, column: &str) -> String {
    let fits = |k: &str| {
        k.len() <= MAX_DETAIL_KEY
            && k.starts_with(|c: char| c.is_ascii_alphabetic())
            && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    if fits(column) {
        return column.to_string();
    }
    let source = path.unwrap_or(column);
    let mut key = String::new();
    for word in source.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            key.push(first.to_ascii_uppercase());
            key.extend(chars);
        }
    }
    let key: String = key
        .trim_start_matches(|c: char| !c.is_ascii_alphabetic())
        .chars()
        .take(MAX_DETAIL_KEY)
        .collect();
    if key.is_empty() {
        "Detail".to_string()
    } else {
        key
    }
}

/// The entity mappings a rule's rows fill, with the derived columns they
/// need: of a threshold rule those about a `by` column (identifiers on
/// other columns of the row are left out, the rows hold only the alert's
/// columns), of a plain rule all. At most five, three identifiers each.
pub fn entities(
    rule: &ir::Rule,
    source: &Source,
    by_columns: Option<&[String]>,
) -> Result<(Vec<EntityColumn>, Vec<String>), Diagnostic> {
    let mut derived: Vec<String> = Vec::new();
    let mut chosen = Vec::new();
    for entity in &source.entities {
        if by_columns.is_some_and(|by| !by.contains(&entity.column)) {
            continue;
        }
        let identifiers: Vec<Identifier> = entity
            .identifiers
            .iter()
            .filter(|i| {
                source.entity_columns.contains_key(&i.column)
                    || by_columns.is_none_or(|by| by.contains(&i.column))
            })
            .take(MAX_IDENTIFIERS)
            .cloned()
            .collect();
        if identifiers.is_empty() {
            continue;
        }
        for identifier in &identifiers {
            if source.entity_columns.contains_key(&identifier.column)
                && !derived.contains(&identifier.column)
            {
                derived.push(identifier.column.clone());
            }
        }
        chosen.push(EntityColumn {
            entity: entity.entity.clone(),
            column: entity.column.clone(),
            identifiers,
        });
    }
    if chosen.len() > MAX_ENTITY_MAPPINGS {
        return Err(refusal(
            TARGET,
            rule,
            rule.span,
            "more than 5 entity mappings",
            "Sentinel accepts at most 5 entity mappings; remove some from the mapping's `entities`",
        ));
    }
    Ok((chosen, derived))
}
