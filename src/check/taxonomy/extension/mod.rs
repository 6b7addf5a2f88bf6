//! Taxonomy extension files: a pack's own sources and fields, with their
//! names on each target, in the bundled file's shape plus `targets`. An
//! extension maps onto the built-in target folders, so it is checked against
//! them here (target and mapping names, the kql target's schema columns):
//! every problem is a diagnostic at its file, line and column.

use std::path::PathBuf;

use serde_yaml::{Mapping, Value};

mod targets;

use super::{FIELD_TYPES, Field, Source, Taxonomy, field_type, locate};
use crate::diag::{Code, Diagnostic, codes, nearest};
use crate::ir::FieldType;
use crate::source::{FileId, LoadError, SourceMap};

/// Why extending failed: a file that cannot be read (a usage error), or
/// files with errors (diagnostics in the caller's `SourceMap`).
#[derive(Debug, thiserror::Error)]
pub enum ExtendError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("taxonomy extension has errors")]
    Invalid(Vec<Diagnostic>),
}

const TOP_KEYS: [&str; 3] = ["version", "description", "sources"];
const SOURCE_KEYS: [&str; 5] = ["description", "entity", "context", "fields", "targets"];
const FIELD_KEYS: [&str; 2] = ["type", "description"];

impl Taxonomy {
    /// This taxonomy with the sources and fields of each extension file, in
    /// order (a later file may add fields to an earlier file's source).
    /// The files join `map`, where the diagnostics point.
    pub fn extended(
        &self,
        map: &mut SourceMap,
        paths: &[PathBuf],
    ) -> Result<Taxonomy, ExtendError> {
        let (taxonomy, diagnostics) = self.extended_with_errors(map, paths)?;
        if diagnostics.is_empty() {
            Ok(taxonomy)
        } else {
            Err(ExtendError::Invalid(diagnostics))
        }
    }

    /// `extended`, keeping what the files define correctly beside their
    /// errors, so that rules are checked against the sources and fields
    /// meant rather than failing again on each use of a broken file's
    /// names. Only a file that cannot be read is an `Err`.
    pub fn extended_with_errors(
        &self,
        map: &mut SourceMap,
        paths: &[PathBuf],
    ) -> Result<(Taxonomy, Vec<Diagnostic>), LoadError> {
        let mut taxonomy = self.clone();
        let mut diagnostics = Vec::new();
        for path in paths {
            let (file, bad_utf8) = crate::source::load(map, path)?;
            if let Some(diagnostic) = bad_utf8 {
                diagnostics.push(diagnostic);
                continue;
            }
            let text = map.get(file).text.clone();
            let display = path.display().to_string();
            let mut reader = Reader {
                file,
                text: &text,
                display: &display,
                diagnostics: &mut diagnostics,
            };
            reader.read(&mut taxonomy);
        }
        Ok((taxonomy, diagnostics))
    }
}

/// Reads one extension file into the taxonomy, reporting as it goes.
struct Reader<'a> {
    file: FileId,
    text: &'a str,
    display: &'a str,
    diagnostics: &'a mut Vec<Diagnostic>,
}

impl Reader<'_> {
    fn read(&mut self, taxonomy: &mut Taxonomy) {
        let value: Value = match crate::yaml::from_str(self.text) {
            Ok(value) => value,
            Err(err) => {
                let at = err.location().map_or(0, |l| l.index());
                let diagnostic = match locate::duplicate_key(self.text, at, &err.to_string()) {
                    Some((key, span)) => Diagnostic::error(
                        codes::TAXONOMY_DUPLICATE,
                        self.file,
                        span,
                        format!("`{key}` is written twice in one mapping"),
                    )
                    .with_label("written again here"),
                    None => Diagnostic::error(
                        codes::TAXONOMY_YAML,
                        self.file,
                        crate::syntax::Span::new(at, at),
                        format!("taxonomy extension is not valid YAML: {err}"),
                    ),
                };
                self.diagnostics.push(diagnostic);
                return;
            }
        };
        let Some(top) = self.mapping(&value, &[], "the file") else {
            return;
        };
        self.keys(top, &[], &TOP_KEYS);
        let Some(sources) = top.get("sources") else {
            self.error(
                codes::TAXONOMY_WRONG_TYPE,
                &[],
                "the file has no `sources`",
                "",
            );
            return;
        };
        let Some(sources) = self.mapping(sources, &["sources"], "`sources`") else {
            return;
        };
        for (name, body) in sources {
            let Some(name) = name.as_str() else { continue };
            self.source(taxonomy, name, body);
        }
    }

    fn source(&mut self, taxonomy: &mut Taxonomy, name: &str, body: &Value) {
        let path = ["sources", name];
        if !is_identifier(name) {
            let message = format!("`{name}` cannot be a source name (letters, digits and `_`)");
            self.error(codes::TAXONOMY_WRONG_TYPE, &path, &message, "");
            return;
        }
        let Some(body) = self.mapping(body, &path, &format!("source `{name}`")) else {
            return;
        };
        self.keys(body, &path, &SOURCE_KEYS);
        let existing = taxonomy.sources.iter().position(|s| s.name == name);
        if let (Some(at), Some(_)) = (existing, body.get("description")) {
            let origin = origin(&taxonomy.sources[at].defined_in);
            let message = format!(
                "source `{name}` is already defined ({origin}): an extension may add fields to it, not describe it again"
            );
            self.error_at_key(
                codes::TAXONOMY_DUPLICATE,
                &[&path[..], &["description"]].concat(),
                &message,
            );
        }
        let index = match existing {
            Some(at) => at,
            None => {
                let description = match body.get("description") {
                    Some(Value::String(text)) => text.clone(),
                    Some(_) => {
                        self.error(
                            codes::TAXONOMY_WRONG_TYPE,
                            &["sources", name, "description"],
                            "`description` must be a string",
                            "",
                        );
                        String::new()
                    }
                    None => String::new(),
                };
                taxonomy.sources.push(Source {
                    name: name.to_string(),
                    description,
                    fields: Vec::new(),
                    entity: String::new(),
                    context: Vec::new(),
                    defined_in: Some(self.display.to_string()),
                });
                taxonomy.sources.len() - 1
            }
        };
        if let Some(fields) = body.get("fields") {
            self.fields(&mut taxonomy.sources[index], fields);
        } else if existing.is_none() {
            let message = format!("source `{name}` has no `fields`");
            self.error(codes::TAXONOMY_WRONG_TYPE, &path, &message, "");
        }
        match existing {
            None => self.alert_defaults(&mut taxonomy.sources[index], body),
            Some(at) => {
                for key in ["entity", "context"] {
                    if body.get(key).is_some() {
                        let origin = origin(&taxonomy.sources[at].defined_in);
                        let message = format!(
                            "source `{name}` is already defined ({origin}): an extension may add fields to it, not change its `{key}`"
                        );
                        self.error_at_key(
                            codes::TAXONOMY_DUPLICATE,
                            &[&path[..], &[key]].concat(),
                            &message,
                        );
                    }
                }
            }
        }
        if let Some(targets) = body.get("targets") {
            let source = taxonomy.sources[index].clone();
            let overlays = self.targets(&source, existing.is_some(), targets);
            taxonomy.overlays.extend(overlays);
        }
    }

    /// A new source's alert defaults (optional): `entity`, the field an
    /// alert is about, and `context`, the fields it shows.
    fn alert_defaults(&mut self, source: &mut Source, body: &Mapping) {
        let name = source.name.clone();
        let field = |this: &mut Self, key: &str, value: &Value| -> Option<String> {
            let path = ["sources", name.as_str(), key];
            match value {
                Value::String(field) if source.field(field).is_some() => Some(field.clone()),
                Value::String(field) => {
                    let message = format!("`{field}` is not a field of source `{name}`");
                    this.error(codes::TAXONOMY_UNKNOWN_FIELD, &path, &message, "");
                    None
                }
                _ => {
                    let message = format!("`{key}` must name fields");
                    this.error(codes::TAXONOMY_WRONG_TYPE, &path, &message, "");
                    None
                }
            }
        };
        let entity = body.get("entity").and_then(|v| field(self, "entity", v));
        let context = match body.get("context") {
            None => Vec::new(),
            Some(Value::Sequence(items)) => items
                .iter()
                .filter_map(|v| field(self, "context", v))
                .collect(),
            Some(other) => field(self, "context", other).into_iter().collect(),
        };
        if let Some(entity) = entity {
            source.entity = entity;
        }
        source.context = context;
    }

    fn fields(&mut self, source: &mut Source, fields: &Value) {
        let path = ["sources", source.name.as_str(), "fields"];
        let name = source.name.clone();
        let Some(fields) = self.mapping(fields, &path, "`fields`") else {
            return;
        };
        for (field, spec) in fields {
            let Some(field) = field.as_str() else {
                continue;
            };
            let at = [&path[..], &[field]].concat();
            if source.field(field).is_some() {
                let origin = origin(&source.defined_in);
                let message = format!("source `{name}` already has field `{field}` ({origin})");
                self.error_at_key(codes::TAXONOMY_DUPLICATE, &at, &message);
                continue;
            }
            if field.is_empty()
                || !field
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_.@-".contains(c))
            {
                let message = format!("`{field}` cannot be a field name");
                self.error_at_key(codes::TAXONOMY_WRONG_TYPE, &at, &message);
                continue;
            }
            let (ty, description) = match spec {
                Value::String(ty) => (ty.clone(), String::new()),
                Value::Mapping(long) => {
                    self.keys(long, &at, &FIELD_KEYS);
                    let description = match long.get("description") {
                        Some(Value::String(d)) => d.clone(),
                        _ => String::new(),
                    };
                    match long.get("type") {
                        Some(Value::String(ty)) => (ty.clone(), description),
                        _ => {
                            let message = format!(
                                "field `{field}` needs a `type` ({})",
                                FIELD_TYPES.join(", ")
                            );
                            self.error_at_key(codes::TAXONOMY_WRONG_TYPE, &at, &message);
                            continue;
                        }
                    }
                }
                _ => {
                    let message = format!(
                        "field `{field}`: expected a type ({}) or `{{type: ..., description: ...}}`",
                        FIELD_TYPES.join(", ")
                    );
                    self.error(codes::TAXONOMY_WRONG_TYPE, &at, &message, "");
                    continue;
                }
            };
            let Some(ty) = field_type(&ty) else {
                let help = nearest(&ty, FIELD_TYPES)
                    .map(|n| format!("did you mean `{n}`?"))
                    .unwrap_or_else(|| format!("the types are {}", FIELD_TYPES.join(", ")));
                let message = format!("unknown field type `{ty}`");
                self.error(codes::TAXONOMY_UNKNOWN_TYPE, &at, &message, &help);
                // Known by name, so the targets' names for it raise no
                // second error.
                source.fields.push(Field {
                    name: field.to_string(),
                    ty: FieldType::String,
                    description,
                });
                continue;
            };
            source.fields.push(Field {
                name: field.to_string(),
                ty,
                description,
            });
        }
    }

    /// `value` as a mapping, or an error naming `what`.
    fn mapping<'v>(&mut self, value: &'v Value, path: &[&str], what: &str) -> Option<&'v Mapping> {
        match value {
            Value::Mapping(mapping) => Some(mapping),
            _ => {
                let message = format!("{what} must be a mapping of names to values");
                self.error(codes::TAXONOMY_WRONG_TYPE, path, &message, "");
                None
            }
        }
    }

    /// Reports each key of `mapping` not in `allowed`, with a did-you-mean.
    fn keys(&mut self, mapping: &Mapping, path: &[&str], allowed: &[&str]) {
        for key in mapping.keys() {
            let Some(key) = key.as_str() else {
                self.error(codes::TAXONOMY_WRONG_TYPE, path, "keys must be strings", "");
                continue;
            };
            if allowed.contains(&key) {
                continue;
            }
            let help = did_you_mean(key, allowed.iter().copied());
            let message = format!("unknown key `{key}`");
            self.error_key_help(
                codes::TAXONOMY_UNKNOWN_KEY,
                &[path, &[key]].concat(),
                &message,
                &help,
            );
        }
    }

    /// An error at the value of `path` (its key when the value is below it).
    fn error(&mut self, code: Code, path: &[&str], message: &str, help: &str) {
        self.error_value_help(code, path, message, help);
    }

    fn error_at_key(&mut self, code: Code, path: &[&str], message: &str) {
        self.error_key_help(code, path, message, "");
    }

    fn error_key_help(&mut self, code: Code, path: &[&str], message: &str, help: &str) {
        let span = locate::key(self.text, path);
        self.push(code, span, message, help);
    }

    fn error_value_help(&mut self, code: Code, path: &[&str], message: &str, help: &str) {
        let span = locate::value(self.text, path);
        self.push(code, span, message, help);
    }

    fn push(&mut self, code: Code, span: crate::syntax::Span, message: &str, help: &str) {
        let mut diagnostic = Diagnostic::error(code, self.file, span, message);
        if !help.is_empty() {
            diagnostic = diagnostic.with_help(help.to_string());
        }
        self.diagnostics.push(diagnostic);
    }
}

fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let candidates: Vec<&str> = candidates.into_iter().collect();
    match nearest(name, candidates.iter().copied()) {
        Some(near) => format!("did you mean `{near}`?"),
        None if candidates.len() <= 12 => format!(
            "expected one of {}",
            candidates
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        None => String::new(),
    }
}

fn origin(defined_in: &Option<String>) -> String {
    match defined_in {
        Some(path) => format!("in {path}"),
        None => "in the bundled taxonomy".to_string(),
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
