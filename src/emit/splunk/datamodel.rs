//! What a source's mapping says about its CIM data model (`datamodel:`).
//! The fields a rule's alert reports come from the rule (`alert`). Data, not code: a
//! site edits the mapping to point a source at another dataset.

use crate::emit::Input;

/// A CIM dataset a `| tstats` search reads.
#[derive(Debug, Clone)]
pub struct DataModel {
    /// `Network_Resolution.DNS`.
    pub dataset: String,
    /// `DNS`: field names are `DNS.query`.
    pub prefix: String,
    /// A constraint selecting the source's events (`nodename=Web.Proxy`,
    /// `NOT Web.tag=proxy`).
    pub constraint: Option<String>,
    /// The CIM names the dataset holds.
    pub fields: Vec<String>,
}

impl DataModel {
    /// The data model of `source` in the mapping, if it names one.
    pub fn of(input: &Input, source: &str) -> Option<DataModel> {
        let settings = &input.mapping.sources.get(source)?.settings;
        let model = settings.get("datamodel")?;
        let text = |key: &str| model.get(key)?.as_str().map(str::to_string);
        Some(DataModel {
            dataset: text("dataset")?,
            prefix: text("prefix")?,
            constraint: text("where"),
            fields: names(model.get("fields")?),
        })
    }

    pub fn holds(&self, name: &str) -> bool {
        self.fields.iter().any(|f| f == name)
    }
}

fn names(value: &serde_yaml::Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
