//! All YAML reading goes through here, so the deprecated `serde_yaml` can be
//! swapped for another crate in one place.

pub use serde_yaml::Error;

/// Deserializes one YAML document.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_yaml::from_str(text)
}

/// Deserializes every document of a multi-document YAML text.
pub fn documents<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, Error> {
    serde_yaml::Deserializer::from_str(text)
        .map(|document| serde::Deserialize::deserialize(document))
        .collect()
}
