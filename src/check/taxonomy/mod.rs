//! The taxonomy: the sources a rule may read and each source's fields with
//! their types and descriptions, read from `targets/taxonomy.yaml` (embedded
//! at build time), optionally extended by a pack's taxonomy extension files
//! (`extension`), which also carry the new names' mappings on each target
//! (`Overlay`). The files are the one definition; this module only reads
//! them.

mod extension;
mod locate;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;

use crate::ir::FieldType;

pub use extension::ExtendError;

/// The taxonomy file shipped with tripline.
const BUNDLED: &str = include_str!("../../../targets/taxonomy.yaml");

/// All sources, in the order the files list them (bundled first), and the
/// extensions' mappings of what they add.
#[derive(Debug, Clone, PartialEq)]
pub struct Taxonomy {
    version: String,
    sources: Vec<Source>,
    overlays: Vec<Overlay>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Source {
    pub name: String,
    pub description: String,
    /// In the order the file lists them.
    pub fields: Vec<Field>,
    /// The field an alert is about by default (its risk object); empty for
    /// a source an extension defines without one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub entity: String,
    /// The fields an alert shows by default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// The extension file that defines the source; `None` when bundled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub defined_in: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// What an extension file says about one source on one target: settings
/// (only for a source the extension defines) and field names (null: not
/// mapped). `mapping` is `None` for every mapping of the target.
#[derive(Debug, Clone, PartialEq)]
pub struct Overlay {
    pub target: String,
    pub mapping: Option<String>,
    pub source: String,
    pub settings: BTreeMap<String, serde_yaml::Value>,
    pub fields: BTreeMap<String, Option<String>>,
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

    /// Reads a taxonomy file's text (the bundled file's shape, without
    /// `targets`).
    pub fn parse(text: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: BundledFile = crate::yaml::from_str(text)?;
        let sources = file
            .sources
            .into_iter()
            .map(|(name, body)| {
                let fields: Vec<Field> = body
                    .fields
                    .into_iter()
                    .map(|(field, spec)| {
                        let (ty, description) = match spec {
                            FieldSpec::Short(ty) => (ty, String::new()),
                            FieldSpec::Long { ty, description } => (ty, description),
                        };
                        Ok(Field {
                            name: field,
                            ty: field_type(&ty)
                                .ok_or_else(|| TaxonomyError::Shape(unknown_type(&ty)))?,
                            description,
                        })
                    })
                    .collect::<Result<_, TaxonomyError>>()?;
                for field in std::iter::once(&body.entity).chain(&body.context) {
                    if !fields.iter().any(|f| f.name == *field) {
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
                    defined_in: None,
                })
            })
            .collect::<Result<_, TaxonomyError>>()?;
        Ok(Taxonomy {
            version: file.version.unwrap_or_else(|| "1".to_string()),
            sources,
            overlays: Vec::new(),
        })
    }

    /// The bundled file's `version`.
    pub fn version(&self) -> &str {
        &self.version
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

    /// The extensions' mappings, in file order.
    pub fn overlays(&self) -> &[Overlay] {
        &self.overlays
    }
}

impl Source {
    pub fn field(&self, field: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == field)
    }

    pub fn field_type(&self, field: &str) -> Option<FieldType> {
        self.field(field).map(|f| f.ty)
    }

    pub fn field_names(&self) -> impl Iterator<Item = &str> + Clone {
        self.fields.iter().map(|f| f.name.as_str())
    }
}

/// The bundled file's shape. Mappings keep their written order.
#[derive(serde::Deserialize)]
struct BundledFile {
    version: Option<String>,
    sources: OrderedMap<SourceBody>,
}

#[derive(serde::Deserialize)]
struct SourceBody {
    #[serde(default)]
    description: String,
    entity: String,
    #[serde(default)]
    context: Vec<String>,
    fields: OrderedMap<FieldSpec>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum FieldSpec {
    Short(String),
    Long {
        #[serde(rename = "type")]
        ty: String,
        #[serde(default)]
        description: String,
    },
}

/// A string-keyed mapping in written order.
type OrderedMap<V> = indexed::Ordered<V>;

mod indexed {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::Deserialize;
    use serde::de::{Deserializer, MapAccess, Visitor};

    pub struct Ordered<V>(pub Vec<(String, V)>);

    impl<V> Default for Ordered<V> {
        fn default() -> Self {
            Ordered(Vec::new())
        }
    }

    impl<V> IntoIterator for Ordered<V> {
        type Item = (String, V);
        type IntoIter = std::vec::IntoIter<(String, V)>;
        fn into_iter(self) -> Self::IntoIter {
            self.0.into_iter()
        }
    }

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
}

/// The field types a taxonomy file may name.
pub const FIELD_TYPES: [&str; 4] = ["string", "int", "ip", "time"];

fn field_type(word: &str) -> Option<FieldType> {
    match word {
        "string" => Some(FieldType::String),
        "int" => Some(FieldType::Int),
        "ip" => Some(FieldType::Ip),
        "time" => Some(FieldType::Time),
        _ => None,
    }
}

fn unknown_type(word: &str) -> String {
    format!(
        "unknown field type `{word}`; expected one of {}",
        FIELD_TYPES.join(", ")
    )
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
                "process",
                "email",
                "ldap",
                "file",
                "registry"
            ]
        );
        assert_eq!(taxonomy.version(), "1.2");
        assert_eq!(taxonomy.field_type("dns", "source.ip"), Some(FieldType::Ip));
        assert_eq!(
            taxonomy.field_type("web", "http.response.status_code"),
            Some(FieldType::Int)
        );
        assert_eq!(
            taxonomy.field_type("dns", "@timestamp"),
            Some(FieldType::Time)
        );
        assert_eq!(
            taxonomy.field_type("authentication", "winlog.event_data.LogonType"),
            Some(FieldType::Int)
        );
        assert_eq!(taxonomy.field_type("dns", "url.path"), None);
        assert_eq!(Taxonomy::bundled(), &taxonomy);
    }

    #[test]
    fn unknown_types_are_refused() {
        let text = "sources:\n  x:\n    entity: a\n    fields:\n      a: float\n";
        assert!(Taxonomy::parse(text).is_err());
    }
}
