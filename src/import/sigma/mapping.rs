//! The Sigma target's mapping read backwards: which tripline source a
//! `logsource` means, and which tripline field a Sigma field name is, in
//! that source. The mapping (`targets/sigma/mappings/*.yaml`, with a pack's
//! taxonomy extensions laid over it) is the one place that says so.

use std::path::Path;

use crate::check::Taxonomy;
use crate::emit::folder::{FolderError, TargetFolder};
use crate::ir::FieldType;

/// One tripline source as Sigma names it.
#[derive(Debug, Clone)]
pub struct SourceNames {
    pub source: String,
    /// The `logsource` keys and values, lower case.
    pub logsource: Vec<(String, String)>,
    /// `(Sigma name, tripline field, type)`.
    pub fields: Vec<(String, String, FieldType)>,
}

#[derive(Debug, Clone)]
pub struct SigmaNames {
    sources: Vec<SourceNames>,
}

/// `logsource` keys a Sigma rule may add to its source's: `product` names
/// the platform (tripline's sources are not per platform; a Windows rule's
/// fields and values already say Windows), `definition` is prose.
const NARROWING_KEYS: [&str; 2] = ["product", "definition"];

impl SigmaNames {
    /// The names of mapping `mapping` of the sigma target folder (built in,
    /// or under `targets_dir`), with `taxonomy`'s extensions.
    pub fn load(
        targets_dir: Option<&Path>,
        mapping: &str,
        taxonomy: &Taxonomy,
    ) -> Result<SigmaNames, FolderError> {
        let folder = TargetFolder::load("sigma", targets_dir)?;
        let mapping = folder
            .mapping(mapping)?
            .overlaid(taxonomy, "sigma", mapping);
        let mut sources = Vec::new();
        for source in taxonomy.sources() {
            let Some(names) = mapping.sources.get(&source.name) else {
                continue;
            };
            let Some(logsource) = names
                .settings
                .get("logsource")
                .and_then(serde_yaml::Value::as_mapping)
            else {
                continue;
            };
            let logsource = logsource
                .iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_lowercase(), v.as_str()?.to_lowercase())))
                .collect();
            let fields = source
                .fields
                .iter()
                .filter_map(|field| {
                    let sigma = names.fields.get(&field.name)?.as_ref()?;
                    Some((sigma.clone(), field.name.clone(), field.ty))
                })
                .collect();
            sources.push(SourceNames {
                source: source.name.clone(),
                logsource,
                fields,
            });
        }
        Ok(SigmaNames { sources })
    }

    /// The source whose `logsource` the rule's has, every key with the same
    /// value (ignoring case), the rule adding at most `product` and
    /// `definition`; of several, the one that names the most keys.
    pub fn source(&self, logsource: &[(String, String)]) -> Option<&SourceNames> {
        let rule: Vec<(String, String)> = logsource
            .iter()
            .map(|(k, v)| (k.to_lowercase(), v.to_lowercase()))
            .collect();
        self.sources
            .iter()
            .filter(|s| {
                s.logsource.iter().all(|pair| rule.contains(pair))
                    && rule.iter().all(|(key, value)| {
                        s.logsource.contains(&(key.clone(), value.clone()))
                            || NARROWING_KEYS.contains(&key.as_str())
                    })
            })
            .max_by_key(|s| (s.logsource.len(), std::cmp::Reverse(s.source.clone())))
    }

    /// Every source's `logsource`, for a message.
    pub fn known_logsources(&self) -> Vec<String> {
        self.sources
            .iter()
            .map(|s| {
                let pairs: Vec<String> = s
                    .logsource
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect();
                format!("{{{}}} ({})", pairs.join(", "), s.source)
            })
            .collect()
    }
}

impl SourceNames {
    /// The tripline field and type of a Sigma field name (exact spelling:
    /// Sigma field names are case-sensitive).
    pub fn field(&self, sigma: &str) -> Option<(&str, FieldType)> {
        self.fields
            .iter()
            .find(|(name, _, _)| name == sigma)
            .map(|(_, field, ty)| (field.as_str(), *ty))
    }

    /// The Sigma name closest to `sigma` (two edits at most, ignoring case).
    pub fn nearest(&self, sigma: &str) -> Option<&str> {
        crate::diag::nearest(sigma, self.fields.iter().map(|(name, _, _)| name.as_str()))
    }
}
