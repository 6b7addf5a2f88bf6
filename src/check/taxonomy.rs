//! The taxonomy: the sources a rule may read and each source's fields with
//! their types, read from `targets/taxonomy.yaml` (embedded at build time).
//! That file is the one definition; this module only reads it.

use std::sync::OnceLock;

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
}

#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    #[error("taxonomy is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
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
        let document: serde_yaml::Value = serde_yaml::from_str(text)?;
        let sources = mapping(&document, "sources")?
            .iter()
            .map(|(name, body)| read_source(name, body))
            .collect::<Result<_, _>>()?;
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

// The YAML shape is read here and nowhere else, so the YAML crate can be swapped.

fn mapping<'a>(
    value: &'a serde_yaml::Value,
    key: &str,
) -> Result<&'a serde_yaml::Mapping, TaxonomyError> {
    value
        .get(key)
        .and_then(serde_yaml::Value::as_mapping)
        .ok_or_else(|| TaxonomyError::Shape(format!("`{key}` must be a mapping")))
}

fn text(value: &serde_yaml::Value, what: &str) -> Result<String, TaxonomyError> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| TaxonomyError::Shape(format!("{what} must be a string")))
}

fn read_source(
    name: &serde_yaml::Value,
    body: &serde_yaml::Value,
) -> Result<Source, TaxonomyError> {
    let name = text(name, "a source name")?;
    let description = body
        .get("description")
        .map_or(Ok(String::new()), |d| text(d, "a description"))?;
    let fields = mapping(body, "fields")?
        .iter()
        .map(|(field, ty)| {
            Ok((
                text(field, "a field name")?,
                field_type(&text(ty, "a field type")?)?,
            ))
        })
        .collect::<Result<_, TaxonomyError>>()?;
    Ok(Source {
        name,
        description,
        fields,
    })
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
