//! What the kql target reads from its folder for one taxonomy source: how a
//! query starts (an ASIM parser with its parameters, other parser calls to
//! union with it, or a table), the per-source filter slot, the
//! derived columns, the entity mappings, and the column types from the
//! schema files (`schema/*.txt`, "[Section]" then `Column:type` items).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::super::folder::{SourceMapping, TargetFolder};

/// Column types by schema section, then by column.
#[derive(Debug, Default)]
pub struct Schemas {
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl Schemas {
    /// Every `schema/*.txt` file of the folder.
    pub fn load(folder: &TargetFolder) -> Schemas {
        let mut schemas = Schemas::default();
        for (path, text) in &folder.files {
            if path.starts_with("schema/") && path.ends_with(".txt") {
                schemas.read(text);
            }
        }
        schemas
    }

    fn read(&mut self, text: &str) {
        let mut section: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = Some(name.to_string());
                continue;
            }
            let Some(name) = &section else { continue };
            let columns = self.sections.entry(name.clone()).or_default();
            for item in line.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                if let Some((column, ty)) = item.split_once(':') {
                    columns.insert(column.trim().to_string(), ty.trim().to_string());
                }
            }
        }
    }

    /// The names of the sections, in name order.
    pub fn names(&self) -> Vec<String> {
        self.sections.keys().cloned().collect()
    }

    /// The columns of a section, in name order, with their types.
    pub fn section(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.sections.get(name)
    }
}

/// One Sentinel entity mapping of a source: the entity type, the column
/// it is about (a threshold rule maps it when that column is a `by`
/// column), and its identifiers with their columns (at most three): the
/// column itself (`IP` / `Address` / `SrcIpAddr`), or columns derived from
/// it by the source's `entity_columns` (`Account` / `Name` / `AccountName`),
/// or other columns of whole rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EntityColumn {
    pub entity: String,
    pub column: String,
    pub identifiers: Vec<Identifier>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Identifier {
    pub identifier: String,
    pub column: String,
}

/// An entity as the mapping writes it: `{entity, identifier, column}` for
/// one identifier on the column, or `{entity, column, identifiers}`.
#[derive(Debug, Deserialize)]
struct EntitySetting {
    entity: String,
    column: String,
    identifier: Option<String>,
    #[serde(default)]
    identifiers: Vec<Identifier>,
}

impl From<EntitySetting> for EntityColumn {
    fn from(setting: EntitySetting) -> Self {
        let mut identifiers = setting.identifiers;
        if let Some(identifier) = setting.identifier {
            identifiers.insert(
                0,
                Identifier {
                    identifier,
                    column: setting.column.clone(),
                },
            );
        }
        EntityColumn {
            entity: setting.entity,
            column: setting.column,
            identifiers,
        }
    }
}

/// One parser call besides `starttime` / `endtime`: its name and its other
/// parameters (name -> KQL literal).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ParserCall {
    pub parser: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}

/// The settings of one source in a kql mapping.
#[derive(Debug, Default, Deserialize)]
struct Settings {
    parser: Option<String>,
    #[serde(default)]
    parameters: BTreeMap<String, String>,
    #[serde(default)]
    union: Vec<ParserCall>,
    table: Option<String>,
    schema: Option<String>,
    /// Column types beside (or instead of) the schema section's: a taxonomy
    /// extension's own table.
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    filter: String,
    #[serde(default)]
    extend: BTreeMap<String, Derivation>,
    #[serde(default)]
    entities: Vec<EntitySetting>,
    #[serde(default)]
    entity_columns: BTreeMap<String, String>,
}

/// A derived column: one expression, or several steps each assigning the
/// column from the previous step's value.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Derivation {
    One(String),
    Steps(Vec<String>),
}

/// A source as the query writer sees it.
#[derive(Debug, Default)]
pub struct Source {
    /// `_Im_Dns` (called with starttime/endtime and its parameters) ...
    pub parser: Option<ParserCall>,
    /// ... with more parser calls it unions with ...
    pub union: Vec<ParserCall>,
    /// ... or a table name.
    pub table: Option<String>,
    pub filter: String,
    /// Derived columns: the expressions of their `extend` steps.
    pub extend: BTreeMap<String, Vec<String>>,
    pub entities: Vec<EntityColumn>,
    /// Columns entity identifiers derive from the row (`AccountName`), by
    /// name: one expression each, added at the end of the query.
    pub entity_columns: BTreeMap<String, String>,
    columns: BTreeMap<String, String>,
}

impl Source {
    /// Reads a source's settings; a malformed setting is reported as text.
    pub fn new(mapping: &SourceMapping, schemas: &Schemas) -> Result<Source, String> {
        let value = serde_yaml::to_value(&mapping.settings).map_err(|e| e.to_string())?;
        let settings: Settings = serde_yaml::from_value(value).map_err(|e| e.to_string())?;
        let mut columns = settings
            .schema
            .as_deref()
            .and_then(|s| schemas.section(s))
            .cloned()
            .unwrap_or_default();
        columns.extend(settings.columns);
        if settings.parser.is_none() && settings.table.is_none() {
            return Err("a source needs `parser` or `table`".to_string());
        }
        Ok(Source {
            parser: settings.parser.map(|parser| ParserCall {
                parser,
                parameters: settings.parameters,
            }),
            union: settings.union,
            table: settings.table,
            filter: settings.filter,
            extend: settings
                .extend
                .into_iter()
                .map(|(name, derivation)| match derivation {
                    Derivation::One(expression) => (name, vec![expression]),
                    Derivation::Steps(steps) => (name, steps),
                })
                .collect(),
            entities: settings
                .entities
                .into_iter()
                .map(EntityColumn::from)
                .collect(),
            entity_columns: settings.entity_columns,
            columns,
        })
    }

    /// Whether a column holds numbers (and so null when missing), not text.
    /// Derived and unknown columns are text.
    pub fn is_numeric(&self, column: &str) -> bool {
        matches!(
            self.columns.get(column).map(String::as_str),
            Some("int" | "long" | "real" | "double" | "decimal")
        )
    }

    /// Whether a column is a datetime (or other non-string scalar tested with `isnotnull`).
    pub fn is_nullable(&self, column: &str) -> bool {
        matches!(
            self.columns.get(column).map(String::as_str),
            Some("int" | "long" | "real" | "double" | "decimal" | "datetime" | "bool" | "timespan")
        )
    }

    /// The query's first stage, reading from `start` to `end` (KQL
    /// expressions of the run's time range).
    pub fn head(&self, start: &str, end: &str) -> String {
        let call = |call: &ParserCall| {
            let mut arguments = vec![format!("starttime={start}"), format!("endtime={end}")];
            arguments.extend(call.parameters.iter().map(|(k, v)| format!("{k}={v}")));
            format!("{}({})", call.parser, arguments.join(", "))
        };
        match (&self.parser, &self.table) {
            (Some(parser), _) if self.union.is_empty() => call(parser),
            (Some(parser), _) => {
                let calls: Vec<String> = std::iter::once(parser)
                    .chain(&self.union)
                    .map(call)
                    .collect();
                // As the ASIM parsers union theirs: a call whose table the
                // workspace lacks is left out rather than failing the query.
                format!("union isfuzzy=true\n    {}", calls.join(",\n    "))
            }
            (None, Some(table)) => table.clone(),
            (None, None) => String::new(),
        }
    }
}
