//! The `targets` of an extension's source: which target and mapping each
//! key names, the settings a new source needs there, (kql) whether each
//! name is a column of the source's schema and (sql) whether each name can
//! be a column of the `events` view.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::{Reader, did_you_mean};
use crate::check::taxonomy::{Overlay, Source};
use crate::diag::codes;
use crate::emit::folder::TargetFolder;
use crate::emit::kql::Schemas;

const TARGETS: [&str; 4] = ["sigma", "splunk", "kql", "sql"];

/// The settings a source may carry on each target, besides `fields`.
fn setting_keys(target: &str) -> &'static [&'static str] {
    match target {
        "sigma" => &["logsource"],
        "sql" => &["table", "dataset"],
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
        let target = scope.folder.name.as_str();
        let allowed: Vec<&str> = std::iter::once("fields")
            .chain(setting_keys(target).iter().copied())
            .collect();
        self.keys(body, at, &allowed);
        let mut settings = self.settings(scope, body, &allowed, at);
        if target == "sql" {
            self.sql_settings(scope, &mut settings, at);
        }
        let mut effective = scope.inherited.clone();
        effective.extend(settings.clone());
        if !scope.existing {
            self.required_settings(target, &effective, at);
        }
        let fields = match body.get("fields") {
            Some(names) => self.field_names(scope.source, names, at)?,
            None => BTreeMap::new(),
        };
        if target == "kql" {
            self.kql_columns(scope, &effective, &fields, at);
        }
        if target == "sql" {
            self.sql_columns(&fields, at);
        }
        Some(Overlay {
            target: target.to_string(),
            mapping: scope.mapping.map(str::to_string),
            source: scope.source.name.clone(),
            settings,
            fields,
        })
    }

    /// The settings a key gives (besides `fields`); a source defined
    /// elsewhere takes none.
    fn settings(
        &mut self,
        scope: &Scope,
        body: &Mapping,
        allowed: &[&str],
        at: &[&str],
    ) -> BTreeMap<String, Value> {
        let mut settings = BTreeMap::new();
        for (key, value) in body {
            let Some(key) = key
                .as_str()
                .filter(|k| *k != "fields" && allowed.contains(k))
            else {
                continue;
            };
            if scope.existing {
                let message = format!(
                    "source `{}` is defined elsewhere: an extension gives names to the fields it adds, not `{key}`",
                    scope.source.name
                );
                let path = [at, &[key]].concat();
                self.error_at_key(codes::TAXONOMY_UNKNOWN_KEY, &path, &message);
                continue;
            }
            settings.insert(key.to_string(), value.clone());
        }
        settings
    }

    /// A key's `fields`: each a field of the source, named by a string or
    /// null (not mapped).
    fn field_names(
        &mut self,
        source: &Source,
        names: &Value,
        at: &[&str],
    ) -> Option<BTreeMap<String, Option<String>>> {
        let fields_at = [at, &["fields"]].concat();
        let names = self.mapping(names, &fields_at, "`fields`")?;
        let mut fields = BTreeMap::new();
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
        Some(fields)
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
        let schemas = Schemas::load(scope.folder);
        let Some((sections, known)) = self.kql_tables(scope, settings, &schemas, at) else {
            return;
        };
        for (field, column) in fields {
            let Some(column) = column.as_ref().filter(|c| !known.contains(c)) else {
                continue;
            };
            let path = [at, &["fields", field.as_str()]].concat();
            if sections.is_empty() {
                let message =
                    format!("column `{column}` is not in the source's `columns` or `extend`");
                let help = did_you_mean(column, known.iter().map(String::as_str));
                self.error_value_help(codes::TAXONOMY_UNKNOWN_COLUMN, &path, &message, &help);
            }
            for section in &sections {
                let Some(columns) = schemas.section(section) else {
                    continue;
                };
                if columns.contains_key(column) {
                    continue;
                }
                let candidates = columns
                    .keys()
                    .map(String::as_str)
                    .chain(known.iter().map(String::as_str));
                let help = did_you_mean(column, candidates);
                let message = format!("schema `[{section}]` has no column `{column}`");
                self.error_value_help(codes::TAXONOMY_UNKNOWN_COLUMN, &path, &message, &help);
            }
        }
    }

    /// The schema sections a kql source reads (for a source defined
    /// elsewhere, those of the mappings the key applies to) and the columns
    /// it adds (`columns`, `extend`); `None` after reporting an unknown
    /// section.
    fn kql_tables(
        &mut self,
        scope: &Scope,
        settings: &BTreeMap<String, Value>,
        schemas: &Schemas,
        at: &[&str],
    ) -> Option<(Vec<String>, Vec<String>)> {
        let names = |value: Option<&Value>| -> Vec<String> {
            match value {
                Some(Value::Mapping(m)) => m
                    .keys()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                _ => Vec::new(),
            }
        };
        let (mut sections, mut known) = (Vec::new(), Vec::new());
        if scope.existing {
            let mappings = scope
                .mapping
                .map_or_else(|| scope.folder.mapping_names(), |m| vec![m]);
            for name in mappings {
                let Ok(mapping) = scope.folder.mapping(name) else {
                    continue;
                };
                let Some(source) = mapping.sources.get(&scope.source.name) else {
                    continue;
                };
                if let Some(Value::String(section)) = source.settings.get("schema") {
                    sections.push(section.clone());
                }
                known.extend(names(source.settings.get("extend")));
            }
            return Some((sections, known));
        }
        if let Some(Value::String(section)) = settings.get("schema") {
            if schemas.section(section).is_none() {
                let all = schemas.names();
                let help = did_you_mean(section, all.iter().map(String::as_str));
                let message = format!("no schema section `[{section}]` in targets/kql/schema/");
                let path = [at, &["schema"]].concat();
                self.error_value_help(codes::TAXONOMY_UNKNOWN_COLUMN, &path, &message, &help);
                return None;
            }
            sections.push(section.clone());
        }
        known.extend(names(settings.get("columns")));
        known.extend(names(settings.get("extend")));
        Some((sections, known))
    }

    /// A new sql source reads its mapping's `table` (`events` when it names
    /// none) and, like the bundled sources, only the rows whose
    /// `event.dataset` is its name or empty (as `tripline eval` routes):
    /// `dataset` defaults to the source's name, and `dataset: null` reads
    /// every row. Both are plain names, written into the query as they are.
    fn sql_settings(&mut self, scope: &Scope, settings: &mut BTreeMap<String, Value>, at: &[&str]) {
        for key in ["table", "dataset"] {
            let Some(value) = settings.get(key) else {
                continue;
            };
            let path = [at, &[key]].concat();
            let ok = match (key, value) {
                ("table", Value::String(t)) => sql_table_name(t),
                ("dataset", Value::String(_) | Value::Null) => true,
                _ => false,
            };
            if !ok {
                let message = if key == "table" {
                    "`table` must be a table or view name: letters, digits, `_` and `.`, not starting with a digit"
                } else {
                    "`dataset` must be a string (the `event.dataset` value of the source's rows), or null (every row)"
                };
                self.error(codes::TAXONOMY_WRONG_TYPE, &path, message, "");
                settings.remove(key);
            }
        }
        if !scope.existing && !scope.inherited.contains_key("dataset") {
            settings
                .entry("dataset".to_string())
                .or_insert_with(|| Value::String(scope.source.name.clone()));
        }
    }

    /// Every sql name is a column of the `events` view, which reads it from
    /// each event's JSON by that path: letters, digits, `_` and `.`
    /// (and `@timestamp`, the view's time column, for `@timestamp` alone).
    fn sql_columns(&mut self, fields: &BTreeMap<String, Option<String>>, at: &[&str]) {
        for (field, column) in fields {
            let Some(column) = column else {
                continue;
            };
            let path = [at, &["fields", field.as_str()]].concat();
            if field == "@timestamp" || column == "@timestamp" {
                if field != column {
                    let message = format!(
                        "`@timestamp` is the `events` view's time column: `{field}` cannot be named `{column}`"
                    );
                    let help = if field == "@timestamp" {
                        "did you mean `@timestamp`?"
                    } else {
                        ""
                    };
                    self.error_value_help(codes::TAXONOMY_UNKNOWN_COLUMN, &path, &message, help);
                }
                continue;
            }
            if !sql_column_name(column) {
                let message = format!(
                    "`{column}` cannot be a column of the `events` view: a name is letters, digits, `_` and `.`, each dot between two parts"
                );
                self.error_value_help(codes::TAXONOMY_UNKNOWN_COLUMN, &path, &message, "");
            }
        }
    }
}

/// A column the `events` view reads by its JSON path: dot-separated parts
/// of letters, digits and `_`.
fn sql_column_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// A table or view name written unquoted into a query.
fn sql_table_name(name: &str) -> bool {
    name.split('.').all(|part| {
        part.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}
