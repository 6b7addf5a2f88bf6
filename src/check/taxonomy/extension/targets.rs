//! The `targets` of an extension's source: which target and mapping each
//! key names, the settings a new source needs there, and (kql) whether each
//! name is a column of the source's schema.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::{Reader, did_you_mean};
use crate::check::taxonomy::{Overlay, Source};
use crate::diag::codes;
use crate::emit::folder::TargetFolder;
use crate::emit::kql::Schemas;

const TARGETS: [&str; 3] = ["sigma", "splunk", "kql"];

/// The settings a source may carry on each target, besides `fields`.
fn setting_keys(target: &str) -> &'static [&'static str] {
    match target {
        "sigma" => &["logsource"],
        "splunk" => &[
            "macro",
            "base_search",
            "datamodel",
            "entities",
            "security_domain",
        ],
        _ => &[
            "parser",
            "parameters",
            "union",
            "table",
            "schema",
            "columns",
            "filter",
            "extend",
            "entities",
        ],
    }
}

/// What reading one key of a source's `targets` needs besides its body.
struct Scope<'a> {
    source: &'a Source,
    /// The source is defined elsewhere (bundled, or an earlier file).
    existing: bool,
    folder: &'a TargetFolder,
    /// `Some` for a `TARGET/MAPPING` key.
    mapping: Option<&'a str>,
    /// The settings of the target-wide key, under a `TARGET/MAPPING` key.
    inherited: BTreeMap<String, Value>,
}

impl Reader<'_> {
    /// The overlays of one source's `targets`.
    pub(super) fn targets(
        &mut self,
        source: &Source,
        existing: bool,
        targets: &Value,
    ) -> Vec<Overlay> {
        let path = ["sources", source.name.as_str(), "targets"];
        let Some(targets) = self.mapping(targets, &path, "`targets`") else {
            return Vec::new();
        };
        let mut overlays: Vec<Overlay> = Vec::new();
        // Target-wide keys first: a `TARGET/MAPPING` key is read over the
        // settings its target-wide key gives.
        let mut keys: Vec<(&str, &Value)> = targets
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v)))
            .collect();
        keys.sort_by_key(|(k, _)| k.contains('/'));
        for (key, body) in keys {
            let at = [&path[..], &[key]].concat();
            let (target, mapping) = match key.split_once('/') {
                Some((t, m)) => (t, Some(m)),
                None => (key, None),
            };
            if !TARGETS.contains(&target) {
                let help = did_you_mean(target, TARGETS);
                let message = format!("unknown target `{target}`");
                self.error_key_help(codes::TAXONOMY_UNKNOWN_TARGET, &at, &message, &help);
                continue;
            }
            let Ok(folder) = TargetFolder::load(target, None) else {
                continue;
            };
            let names = folder.mapping_names();
            if let Some(m) = mapping.filter(|m| !names.contains(m)) {
                let help = did_you_mean(m, names.iter().copied());
                let message = format!("target `{target}` has no mapping `{m}`");
                self.error_key_help(codes::TAXONOMY_UNKNOWN_TARGET, &at, &message, &help);
                continue;
            }
            let Some(body) = self.mapping(body, &at, &format!("`{key}`")) else {
                continue;
            };
            let inherited = overlays
                .iter()
                .find(|o| o.target == target && o.mapping.is_none())
                .map(|o| o.settings.clone())
                .unwrap_or_default();
            let scope = Scope {
                source,
                existing,
                folder: &folder,
                mapping,
                inherited,
            };
            if let Some(overlay) = self.overlay(&scope, body, &at) {
                overlays.push(overlay);
            }
        }
        overlays
    }

    fn overlay(&mut self, scope: &Scope, body: &Mapping, at: &[&str]) -> Option<Overlay> {
        let Scope {
            source,
            existing,
            folder,
            mapping,
            ..
        } = *scope;
        let target = folder.name.as_str();
        let allowed: Vec<&str> = std::iter::once("fields")
            .chain(setting_keys(target).iter().copied())
            .collect();
        self.keys(body, at, &allowed);
        let mut settings = BTreeMap::new();
        for (key, value) in body {
            let Some(key) = key
                .as_str()
                .filter(|k| *k != "fields" && allowed.contains(k))
            else {
                continue;
            };
            if existing {
                let message = format!(
                    "source `{}` is defined elsewhere: an extension gives names to the fields it adds, not `{key}`",
                    source.name
                );
                self.error_at_key(
                    codes::TAXONOMY_UNKNOWN_KEY,
                    &[at, &[key]].concat(),
                    &message,
                );
                continue;
            }
            settings.insert(key.to_string(), value.clone());
        }
        let mut effective = scope.inherited.clone();
        effective.extend(settings.clone());
        if !existing {
            self.required_settings(target, &effective, at);
        }
        let mut fields = BTreeMap::new();
        let fields_at = [at, &["fields"]].concat();
        if let Some(names) = body.get("fields") {
            let names = self.mapping(names, &fields_at, "`fields`")?;
            for (field, column) in names {
                let Some(field) = field.as_str() else {
                    continue;
                };
                let field_at = [&fields_at[..], &[field]].concat();
                if source.field(field).is_none() {
                    let help = did_you_mean(field, source.field_names());
                    let message = format!("source `{}` has no field `{field}`", source.name);
                    self.error_key_help(codes::TAXONOMY_UNKNOWN_FIELD, &field_at, &message, &help);
                    continue;
                }
                let column = match column {
                    Value::Null => None,
                    Value::String(c) => Some(c.clone()),
                    _ => {
                        let message =
                            format!("the name of `{field}` must be a string, or null (not mapped)");
                        self.error(codes::TAXONOMY_WRONG_TYPE, &field_at, &message, "");
                        continue;
                    }
                };
                fields.insert(field.to_string(), column);
            }
        }
        if target == "kql" {
            self.kql_columns(scope, &effective, &fields, at);
        }
        Some(Overlay {
            target: target.to_string(),
            mapping: mapping.map(str::to_string),
            source: source.name.clone(),
            settings,
            fields,
        })
    }

    fn required_settings(&mut self, target: &str, settings: &BTreeMap<String, Value>, at: &[&str]) {
        let missing: &[&str] = match target {
            "sigma" if !settings.contains_key("logsource") => &["logsource"],
            "splunk"
                if !settings.contains_key("macro") || !settings.contains_key("base_search") =>
            {
                &["macro", "base_search"]
            }
            "kql" if !settings.contains_key("parser") && !settings.contains_key("table") => {
                &["parser", "table"]
            }
            "kql" if !settings.contains_key("schema") && !settings.contains_key("columns") => {
                &["schema", "columns"]
            }
            _ => return,
        };
        let wanted = missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>();
        let joiner = if target == "splunk" { " and " } else { " or " };
        let message = format!("a new source on `{target}` needs {}", wanted.join(joiner));
        self.error_at_key(codes::TAXONOMY_MISSING_SETTING, at, &message);
    }

    /// Every kql name must be a column of the source's schema section, of
    /// its `columns`, or derived by its `extend`.
    fn kql_columns(
        &mut self,
        scope: &Scope,
        settings: &BTreeMap<String, Value>,
        fields: &BTreeMap<String, Option<String>>,
        at: &[&str],
    ) {
        let Scope {
            source,
            existing,
            folder,
            mapping,
            ..
        } = *scope;
        let schemas = Schemas::load(folder);
        let mut known: Vec<String> = Vec::new();
        let mut sections: Vec<String> = Vec::new();
        if existing {
            let names = mapping.map_or_else(|| folder.mapping_names(), |m| vec![m]);
            for name in names {
                let Ok(m) = folder.mapping(name) else {
                    continue;
                };
                let Some(s) = m.sources.get(&source.name) else {
                    continue;
                };
                if let Some(Value::String(section)) = s.settings.get("schema") {
                    sections.push(section.clone());
                }
                if let Some(Value::Mapping(extend)) = s.settings.get("extend") {
                    known.extend(extend.keys().filter_map(Value::as_str).map(str::to_string));
                }
            }
        } else {
            match settings.get("schema") {
                Some(Value::String(section)) if schemas.section(section).is_none() => {
                    let all = schemas.names();
                    let help = did_you_mean(section, all.iter().map(String::as_str));
                    let message = format!("no schema section `[{section}]` in targets/kql/schema/");
                    let path = [at, &["schema"]].concat();
                    self.error_value_help(codes::TAXONOMY_UNKNOWN_COLUMN, &path, &message, &help);
                    return;
                }
                Some(Value::String(section)) => sections.push(section.clone()),
                _ => {}
            }
            for key in ["columns", "extend"] {
                if let Some(Value::Mapping(names)) = settings.get(key) {
                    known.extend(names.keys().filter_map(Value::as_str).map(str::to_string));
                }
            }
        }
        for section in &sections {
            let Some(columns) = schemas.section(section) else {
                continue;
            };
            for (field, column) in fields {
                let Some(column) = column else { continue };
                if columns.contains_key(column) || known.contains(column) {
                    continue;
                }
                let candidates = columns
                    .keys()
                    .map(String::as_str)
                    .chain(known.iter().map(String::as_str));
                let help = did_you_mean(column, candidates);
                let message = format!("schema `[{section}]` has no column `{column}`");
                let path = [at, &["fields", field.as_str()]].concat();
                self.error_value_help(codes::TAXONOMY_UNKNOWN_COLUMN, &path, &message, &help);
            }
        }
        if sections.is_empty() {
            for (field, column) in fields {
                let Some(column) = column.as_ref().filter(|c| !known.contains(c)) else {
                    continue;
                };
                let message =
                    format!("column `{column}` is not in the source's `columns` or `extend`");
                let help = did_you_mean(column, known.iter().map(String::as_str));
                let path = [at, &["fields", field.as_str()]].concat();
                self.error_value_help(codes::TAXONOMY_UNKNOWN_COLUMN, &path, &message, &help);
            }
        }
    }
}
