//! The taxonomy: the sources a rule may read and each source's fields with
//! their types, read from `targets/taxonomy.yaml` (embedded at build time).
//! That file is the one definition; this module only reads it.

use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use crate::ir::FieldType;

/// The taxonomy file shipped with tripline.
const BUNDLED: &str = include_str!("../../targets/taxonomy.yaml");

/// All sources, in the order the file lists them.
#[derive(Debug, Clone, PartialEq)]
pub struct Taxonomy {
    sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    pub description: String,
    /// In the order the file lists them.
    pub fields: Vec<(String, FieldType)>,
    /// The field an alert is about by default (its risk object).
    pub entity: String,
    /// The fields an alert shows by default.
    pub context: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy is not valid YAML: {0}")]
    Yaml(#[from] crate::yaml::Error),
    #[error("taxonomy: {0}")]
    Shape(String),
}

impl Taxonomy {
    /// The bundled taxonomy (parsed once).
    pub fn bundled() -> &'static Taxonomy {
        static TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();
        TAXONOMY.get_or_init(|| {
            #[expect(
                clippy::expect_used,
                reason = "the embedded file is fixed at build time and a unit test parses it"
            )]
            Taxonomy::parse(BUNDLED).expect("bundled taxonomy parses")
        })
    }

    /// Reads a taxonomy file's text.
    pub fn parse(text: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: File = crate::yaml::from_str(text)?;
        let sources = file
            .sources
            .0
            .into_iter()
            .map(|(name, body)| {
                let fields: Vec<(String, FieldType)> = body
                    .fields
                    .0
                    .into_iter()
                    .map(|(field, ty)| Ok((field, field_type(&ty)?)))
                    .collect::<Result<_, TaxonomyError>>()?;
                for field in std::iter::once(&body.entity).chain(&body.context) {
                    if !fields.iter().any(|(name, _)| name == field) {
                        return Err(TaxonomyError::Shape(format!(
                            "source `{name}`: `{field}` in `entity` or `context` is not a field"
                        )));
                    }
                }
                Ok(Source {
                    name,
                    description: body.description,
                    fields,
                    entity: body.entity,
                    context: body.context,
                })
            })
            .collect::<Result<_, TaxonomyError>>()?;
        Ok(Taxonomy { sources })
    }

    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name == name)
    }

    /// The type of `field` in `source`, if the source has that field.
    pub fn field_type(&self, source: &str, field: &str) -> Option<FieldType> {
        self.source(source)?.field_type(field)
    }
}

impl Source {
    pub fn field_type(&self, field: &str) -> Option<FieldType> {
        self.fields
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, ty)| *ty)
    }

    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(name, _)| name.as_str())
    }
}

/// The file's shape. Mappings keep their written order (`Ordered`), which
/// the "allowed words" and "did you mean" help follow.
#[derive(Deserialize)]
struct File {
    sources: Ordered<SourceBody>,
}

#[derive(Deserialize)]
struct SourceBody {
    #[serde(default)]
    description: String,
    entity: String,
    #[serde(default)]
    context: Vec<String>,
    fields: Ordered<String>,
}

/// A string-keyed mapping in written order.
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        deserializer.deserialize_map(Entries(PhantomData))
    }
}

fn field_type(word: &str) -> Result<FieldType, TaxonomyError> {
    match word {
        "string" => Ok(FieldType::String),
        "int" => Ok(FieldType::Int),
        "ip" => Ok(FieldType::Ip),
        "time" => Ok(FieldType::Time),
        other => Err(TaxonomyError::Shape(format!(
            "unknown field type `{other}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_taxonomy_parses_with_types_in_file_order() {
        let taxonomy = Taxonomy::parse(BUNDLED).unwrap();
        let names: Vec<&str> = taxonomy.sources().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "dns",
                "network",
                "web",
                "proxy",
                "authentication",
                "process"
            ]
        );
        assert_eq!(taxonomy.field_type("dns", "source.ip"), Some(FieldType::Ip));
        assert_eq!(
            taxonomy.field_type("web", "http.response.status_code"),
            Some(FieldType::Int)
        );
        assert_eq!(
            taxonomy.field_type("dns", "@timestamp"),
            Some(FieldType::Time)
        );
        assert_eq!(taxonomy.field_type("dns", "url.path"), None);
        assert_eq!(Taxonomy::bundled(), &taxonomy);
    }

    #[test]
    fn unknown_types_are_refused() {
        let text = "sources:\n  x:\n    fields:\n      a: float\n";
        assert!(Taxonomy::parse(text).is_err());
    }
}
