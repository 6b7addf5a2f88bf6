//! The `splunk` target: an installable Splunk app of Enterprise Security
//! correlation searches (`DIR/splunk/APP_ID/...`) and each search alone
//! (`DIR/splunk/queries/NAME.spl`). The search is written here, one line per
//! rule: the source's base-search macro in parentheses, then one `where`
//! with the whole condition (`expr`), then the aggregation of a threshold
//! rule (`threshold`). The `.conf` files, metadata and README come from the
//! templates of `targets/splunk/`.

mod address;
mod expr;
mod literal;
mod numeric;
mod package;
mod pattern;
mod settings;
mod threshold;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::folder::TargetFolder;
use super::templates::{self, Templates};
use super::{Document, EmitError, Emitted, Input, common};
use crate::diag::Diagnostic;
use crate::ir;

pub use literal::spl_string;
pub use package::package;

const SPLUNK: &str = "splunk";

/// `targets/splunk/app.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub label: String,
    pub author: String,
    pub description: String,
}

/// What a rule's stanza is made of.
#[derive(Debug, Serialize)]
struct Stanza {
    name: String,
    title: String,
    description: String,
    search: String,
    disabled: u8,
    cron: String,
    earliest: String,
    severity: u8,
    level: &'static str,
    threshold: bool,
    suppress_fields: String,
    suppress_period: String,
    annotations: String,
    security_domain: String,
    next_steps: String,
    techniques: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Macro {
    name: String,
    definition: String,
    description: String,
}

pub fn emit(input: &Input) -> Result<Emitted, EmitError> {
    let folder = input.folder;
    let app = read_yaml::<App>(folder, "app.yaml")?;
    let kill_chain = read_yaml::<BTreeMap<String, String>>(folder, "kill_chain.yaml")?;
    let mut templates = Templates::load(folder)?;
    templates.env.add_filter("conf_value", conf_value);
    templates
        .env
        .add_filter("spl_string", |text: &str| spl_string(text));
    let render = |name: &str, context: minijinja::Value| templates.render(name, context);

    let mut emitted = Emitted::default();
    let mut stanzas = Vec::new();
    for rule in &input.pack.rules {
        match stanza(input, rule, &kill_chain) {
            Ok(stanza) => stanzas.push(stanza),
            Err(refusals) => emitted.diagnostics.extend(refusals),
        }
    }
    let macros = macros(input);
    let version = env!("CARGO_PKG_VERSION");
    let context = minijinja::context! {
        app => minijinja::value::Serde(&app),
        version => version,
        rules => minijinja::value::Serde(&stanzas),
        macros => minijinja::value::Serde(&macros),
    };
    let id = &app.id;
    for (path, template) in [
        (format!("{id}/default/app.conf"), "app.conf.j2"),
        (
            format!("{id}/default/savedsearches.conf"),
            "savedsearches.conf.j2",
        ),
        (format!("{id}/default/macros.conf"), "macros.conf.j2"),
        (format!("{id}/metadata/default.meta"), "default.meta.j2"),
        (format!("{id}/README.md"), "README.md.j2"),
    ] {
        let text = render(template, context.clone())?;
        emitted.documents.push(Document { path, text });
    }
    for stanza in &stanzas {
        let text = render(
            "query.spl.j2",
            minijinja::context! { search => &stanza.search },
        )?;
        emitted.documents.push(Document {
            path: format!("queries/{}.spl", stanza.name),
            text,
        });
    }
    Ok(emitted)
}

fn read_yaml<T: serde::de::DeserializeOwned>(
    folder: &TargetFolder,
    file: &str,
) -> Result<T, EmitError> {
    crate::yaml::from_str(folder.file(file)?).map_err(|err| {
        let (line, column) = err.location().map_or((1, 1), |l| (l.line(), l.column()));
        EmitError::Folder(super::folder::FolderError::Yaml {
            path: folder.display_path(file),
            line,
            column,
            message: err.to_string(),
        })
    })
}

/// One line of a source's settings in the mapping (`macro`, `base_search`, ...).
fn setting<'a>(input: &'a Input, source: &str, key: &str) -> Option<&'a str> {
    input
        .mapping
        .sources
        .get(source)?
        .settings
        .get(key)?
        .as_str()
}

/// The base-search macros, one per source of the mapping.
fn macros(input: &Input) -> Vec<Macro> {
    input
        .mapping
        .sources
        .keys()
        .filter_map(|source| {
            Some(Macro {
                name: setting(input, source, "macro")?.to_string(),
                definition: setting(input, source, "base_search")?.to_string(),
                description: format!("Base search of tripline rules on `{source}` events"),
            })
        })
        .collect()
}

/// The search and settings of one rule, or every reason it is refused.
fn stanza(
    input: &Input,
    rule: &ir::Rule,
    kill_chain: &BTreeMap<String, String>,
) -> Result<Stanza, Vec<Diagnostic>> {
    let mut writer = expr::ExprWriter::new(input, rule);
    let filter = writer.condition(&rule.condition);
    let base = match setting(input, &rule.source, "macro").filter(|m| is_name(m)) {
        Some(name) => format!("(`{name}`)"),
        None => {
            writer.refusals.push(common::refusal(
                SPLUNK,
                rule,
                rule.span,
                &format!("source `{}` without a base-search macro", rule.source),
                &format!(
                    "give source `{}` a `macro` in targets/splunk/mappings/{}.yaml",
                    rule.source, input.mapping_name
                ),
            ));
            String::new()
        }
    };
    let mut search = format!("{base} | where {filter}");
    let mut suppress_fields = vec!["_time".to_string()];
    if let Some(threshold) = &rule.threshold {
        let aggregation = threshold::aggregation(&mut writer, threshold);
        search = format!("{search} | {}", aggregation.pipeline);
        suppress_fields.splice(0..0, aggregation.by_fields);
    }
    let cron = settings::cron(rule.schedule.every).unwrap_or_else(|| {
        writer.refusals.push(common::refusal(
            SPLUNK,
            rule,
            rule.span,
            &format!("`every {}`", settings::duration(rule.schedule.every)),
            "a cron schedule runs on whole minutes dividing an hour (`5m`), hours dividing a day (`2h`), or `1d`",
        ));
        String::new()
    });
    if !writer.refusals.is_empty() {
        return Err(writer.refusals);
    }
    let window = rule.threshold.as_ref().map_or(0, |t| t.window);
    Ok(Stanza {
        name: rule.name.clone(),
        title: rule.meta.title.clone(),
        description: rule.meta.description.clone(),
        search,
        disabled: u8::from(rule.meta.status == ir::Status::Deprecated),
        cron,
        earliest: format!("-{}", settings::duration(rule.schedule.lookback)),
        severity: settings::severity(rule.meta.level),
        level: settings::level_name(rule.meta.level),
        threshold: rule.threshold.is_some(),
        suppress_fields: suppress_fields.join(","),
        suppress_period: format!("{}s", rule.schedule.lookback + window),
        annotations: settings::annotations(&rule.meta, kill_chain),
        security_domain: setting(input, &rule.source, "security_domain")
            .unwrap_or("threat")
            .to_string(),
        next_steps: settings::next_steps(&rule.playbook),
        techniques: rule.meta.techniques.iter().map(|t| t.id.clone()).collect(),
    })
}

/// The CIM name of `field`, refused when unmapped or not a plain name
/// (`'name'` in `eval` has no escape for quotes).
fn field_name<'a>(
    input: &'a Input,
    rule: &ir::Rule,
    field: &ir::Field,
) -> Result<&'a str, Diagnostic> {
    let name = common::mapped_field(input, SPLUNK, rule, field)?;
    if is_name(name) {
        Ok(name)
    } else {
        Err(common::refusal(
            SPLUNK,
            rule,
            field.span,
            &format!(
                "the field name `{name}` of mapping `{}`",
                input.mapping_name
            ),
            "map the field to a name of letters, digits, `_` and `.`",
        ))
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// A `.conf` value on one line: line breaks become spaces, and a trailing
/// backslash (a continuation in `.conf`) is dropped.
pub fn conf_value(text: &str) -> String {
    let line = templates::one_line(text);
    line.trim().trim_end_matches('\\').trim_end().to_string()
}
