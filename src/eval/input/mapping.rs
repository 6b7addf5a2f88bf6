//! The field mappings of the inputs, kept as data in `targets/inputs/`
//! (syslog, CEF, EVTX) and read once per run, and the routes from the
//! dataset names real shippers write to the taxonomy's sources.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

const SYSLOG: &str = include_str!("../../../targets/inputs/syslog.toml");
const CEF: &str = include_str!("../../../targets/inputs/cef.toml");
const EVTX: &str = include_str!("../../../targets/inputs/evtx.toml");
const ROUTES: &str = include_str!("../../../targets/inputs/routes.toml");

/// One or several taxonomy fields a value is written to; each may end with
/// a transformation (`process.name|basename`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Targets {
    One(String),
    Several(Vec<String>),
}

impl Targets {
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let all: &[String] = match self {
            Targets::One(one) => std::slice::from_ref(one),
            Targets::Several(several) => several,
        };
        all.iter().map(String::as_str)
    }
}

pub type FieldMap = BTreeMap<String, Targets>;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogMapping {
    pub fields: FieldMap,
    pub structured_data: Prefix,
    pub dataset: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prefix {
    pub prefix: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CefMapping {
    pub dataset: String,
    pub header: FieldMap,
    pub extensions: FieldMap,
    pub syslog_header: FieldMap,
    pub unlisted: Prefix,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvtxMapping {
    pub none: Vec<String>,
    pub system: FieldMap,
    pub dataset: BTreeMap<String, String>,
    pub logon_types: BTreeMap<String, String>,
    pub events: Vec<EvtxEvents>,
}

/// Events of one channel and ids, and what their `EventData` items write.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvtxEvents {
    pub channel: String,
    pub ids: Vec<u32>,
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    pub fields: FieldMap,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoutes {
    routes: BTreeMap<String, String>,
    /// Dataset → `event.code` → source.
    #[serde(default)]
    codes: BTreeMap<String, BTreeMap<String, String>>,
}

/// Every input's mapping.
#[derive(Debug, Clone)]
pub struct Mappings {
    pub syslog: SyslogMapping,
    pub cef: CefMapping,
    pub evtx: EvtxMapping,
}

impl Mappings {
    /// The bundled mappings (a test checks that they read).
    pub fn bundled() -> Result<Mappings, String> {
        Ok(Mappings {
            syslog: read("syslog.toml", SYSLOG)?,
            cef: read("cef.toml", CEF)?,
            evtx: read("evtx.toml", EVTX)?,
        })
    }
}

/// The bundled routes: dataset name → source, in name order.
pub fn default_routes() -> Result<Vec<(String, String)>, String> {
    let raw: RawRoutes = read("routes.toml", ROUTES)?;
    Ok(raw.routes.into_iter().collect())
}

/// The bundled code routes: (dataset, `event.code`, source), in dataset
/// then code order.
pub fn default_codes() -> Result<Vec<(String, String, String)>, String> {
    let raw: RawRoutes = read("routes.toml", ROUTES)?;
    Ok(raw
        .codes
        .into_iter()
        .flat_map(|(dataset, codes)| {
            codes
                .into_iter()
                .map(move |(code, source)| (dataset.clone(), code, source))
        })
        .collect())
}

fn read<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| format!("the bundled mapping {name} does not read: {e}"))
}

/// Writes `value` to each of `targets` in `event` (a later write of a
/// field replaces an earlier one). `logon_types` serves `|logon_type`.
pub fn write(
    event: &mut Map<String, Value>,
    targets: &Targets,
    value: &str,
    logon_types: &BTreeMap<String, String>,
) {
    for target in targets.iter() {
        let (field, transformed) = match target.split_once('|') {
            None => (target, Some(value.to_string())),
            Some((field, "basename")) => (field, Some(basename(value).to_string())),
            Some((field, "extension")) => (field, extension(value).map(str::to_string)),
            Some((field, "logon_type")) => (field, logon_types.get(value.trim()).cloned()),
            Some((field, "account")) => (field, Some(account(value).1.to_string())),
            Some((field, "account_domain")) => (field, account(value).0.map(str::to_string)),
            // An unknown transformation writes nothing (a test checks the
            // bundled mappings use known ones).
            Some((field, _)) => (field, None),
        };
        if let Some(text) = transformed {
            event.insert(field.to_string(), Value::String(text));
        }
    }
}

/// The transformations a mapping may name.
pub const TRANSFORMS: [&str; 5] = [
    "basename",
    "extension",
    "logon_type",
    "account",
    "account_domain",
];

/// `DOMAIN\user` as its domain (when written) and its user.
pub fn account(text: &str) -> (Option<&str>, &str) {
    match text.split_once('\\') {
        Some((domain, user)) => (Some(domain), user),
        None => (None, text),
    }
}

/// The last part of a Windows or POSIX path.
pub fn basename(path: &str) -> &str {
    path.rsplit(['\\', '/']).next().unwrap_or(path)
}

/// The basename's extension without the dot, when it has one.
pub fn extension(path: &str) -> Option<&str> {
    let name = basename(path);
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => Some(ext),
        _ => None,
    }
}
