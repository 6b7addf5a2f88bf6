//! The `splunk` target: an installable Splunk app of Enterprise Security
//! correlation searches (`DIR/splunk/APP_ID/...`) and each search alone
//! (`DIR/splunk/queries/NAME.spl`, one command per line). The search of a
//! rule is planned in `search` (a `| tstats` search on the source's CIM data
//! model, or a raw search through its base-search macro), its conditions
//! written through the shared condition writer in two dialects: search
//! terms (`terms`) and `where` expressions (`eval`). The `.conf` files,
//! metadata and README come from the templates of `targets/splunk/`.

mod alert;
mod checks;
mod conf;
mod datamodel;
mod eval;
mod having;
mod integer;
mod literal;
mod package;
mod pattern;
mod search;
mod settings;
mod sources;
mod terms;
mod threshold;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::folder::TargetFolder;
use super::query::Refusal;
use super::schedule::Plan;
use super::templates::Templates;
use super::{Document, EmitError, Emitted, Input, common};
use crate::diag::Diagnostic;
use crate::ir;

use conf::conf_value;
pub use literal::spl_string;
pub use package::package;

const SPLUNK: &str = "splunk";

/// A filter macro that keeps every result.
const EMPTY_FILTER: &str = "search *";

/// `targets/splunk/app.yaml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct App {
    pub id: String,
    pub label: String,
    pub author: String,
    pub description: String,
    /// The macro of tstats options a site sets (`summariesonly=true`).
    pub summariesonly: MacroSetting,
}

/// A macro the app ships with its default definition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MacroSetting {
    #[serde(rename = "macro")]
    pub name: String,
    pub definition: String,
}

/// What a rule's stanza is made of.
#[derive(Debug, Serialize)]
struct Stanza {
    name: String,
    title: String,
    description: String,
    search: String,
    /// The search, one command per line.
    lines: Vec<String>,
    tstats: bool,
    disabled: u8,
    cron: String,
    earliest: String,
    latest: String,
    severity: u8,
    level: &'static str,
    threshold: bool,
    annotations: String,
    security_domain: String,
    next_steps: String,
    techniques: Vec<String>,
    /// `rule_title` and the risk message, with `$field$` tokens.
    alert_title: String,
    /// `rule_description` (which substitutes tokens: it holds no `$`).
    alert_description: String,
    /// `action.risk.param._risk` (empty: no risk action).
    risk: String,
    notable: u8,
    drilldowns: String,
    /// The tuning macro every search ends with.
    filter: String,
}

#[derive(Debug, Serialize)]
struct Macro {
    name: String,
    definition: String,
    description: String,
    /// A rule's tuning macro (`RULE_filter`), not a base search.
    tuning: bool,
    /// A tuning macro the site defined (`site.toml`).
    site_defined: bool,
}

pub fn emit(input: &Input) -> Result<Emitted, EmitError> {
    let folder = input.folder;
    let mut app = read_yaml::<App>(folder, "app.yaml")?;
    if let Some(id) = &input.pack.settings.splunk_app {
        app.id.clone_from(id);
    }
    let kill_chain = read_yaml::<BTreeMap<String, String>>(folder, "kill_chain.yaml")?;
    let mut templates = Templates::load(folder)?;
    templates.env.add_filter("conf_value", conf_value);
    templates
        .env
        .add_filter("spl_string", |text: &str| spl_string(text));
    let render = |name: &str, context: minijinja::Value| templates.render(name, context);

    let mut emitted = Emitted::default();
    let mut stanzas = Vec::new();
    let mut raw_terms = BTreeSet::new();
    for rule in &input.pack.rules {
        match stanza(input, rule, &kill_chain) {
            Ok((stanza, terms)) => {
                stanzas.push(stanza);
                raw_terms.extend(terms);
            }
            Err(refusals) => emitted.diagnostics.extend(refusals),
        }
    }
    let mut macros = macros(input);
    for stanza in &stanzas {
        // A site's definition (site.toml) or the empty default.
        let site = input.pack.settings.splunk_filters.get(&stanza.name);
        macros.push(Macro {
            name: stanza.filter.clone(),
            definition: site.map_or(EMPTY_FILTER, String::as_str).to_string(),
            site_defined: site.is_some(),
            description: format!(
                "Tuning of {}: a site narrows the rule's alerts here (in local/macros.conf); empty by default",
                stanza.name
            ),
            tuning: true,
        });
    }
    macros.push(Macro {
        name: app.summariesonly.name.clone(),
        definition: app.summariesonly.definition.clone(),
        description: "Options of every tripline tstats search (set summariesonly=true to read only accelerated data)".to_string(),
        tuning: false,
        site_defined: false,
    });
    let version = env!("CARGO_PKG_VERSION");
    // The app's own version is the pack's (manifest, site, `tripline.lock`);
    // a pack without one ships tripline's.
    let app_version = input
        .pack
        .settings
        .splunk_version
        .as_deref()
        .unwrap_or(version);
    let context = minijinja::context! {
        app => minijinja::value::Serde(&app),
        version => version,
        app_version => app_version,
        rules => minijinja::value::Serde(&stanzas),
        macros => minijinja::value::Serde(&macros),
        indexed_value_false => minijinja::value::Serde(&raw_terms),
    };
    let id = &app.id;
    for (path, template) in [
        (format!("{id}/default/app.conf"), "app.conf.j2"),
        (
            format!("{id}/default/savedsearches.conf"),
            "savedsearches.conf.j2",
        ),
        (format!("{id}/default/macros.conf"), "macros.conf.j2"),
        (format!("{id}/default/fields.conf"), "fields.conf.j2"),
        (format!("{id}/metadata/default.meta"), "default.meta.j2"),
        (format!("{id}/README.md"), "README.md.j2"),
    ] {
        let text = render(template, context.clone())?;
        emitted.documents.push(Document { path, text });
    }
    for stanza in &stanzas {
        let text = render(
            "query.spl.j2",
            minijinja::context! { lines => &stanza.lines },
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
                tuning: false,
                site_defined: false,
            })
        })
        .collect()
}

/// The search and settings of one rule, with the fields its raw search
/// terms filter on, or every reason it is refused.
fn stanza(
    input: &Input,
    rule: &ir::Rule,
    kill_chain: &BTreeMap<String, String>,
) -> Result<(Stanza, BTreeSet<String>), Vec<Diagnostic>> {
    let written = common::Written {
        cased_equals: true,
        cased_text: true,
        cased_grouping: true,
        // Refused by the `where` dialect, with its reason.
        length: true,
        having: true,
        step: true,
        sources: true,
        // `first seen` is written here, a sequence refused with Splunk's
        // own reason.
        detection: true,
    };
    let mut version2 = common::version2_refusals_except(SPLUNK, rule, written);
    if let ir::Detection::Sequence(sequence) = &rule.detection {
        version2.push(sequence_refusal(rule, sequence));
    }
    if !version2.is_empty() {
        return Err(version2);
    }
    let mut refusals = checks::refusals(&rule.condition);
    refusals.extend(conf::control_refusals(rule));
    let base = sources::base(input, rule).unwrap_or_else(|r| {
        refusals.extend(r);
        String::new()
    });
    let minute = alert::minute_offset(&rule.name, rule.schedule.every);
    let cron = settings::cron(rule.schedule.every, minute).unwrap_or_else(|| {
        refusals.push(Refusal::new(
            SPLUNK,
            rule.schedule.every_span.unwrap_or(rule.span),
            format!("`every {}`", settings::duration(rule.schedule.every)),
            "a cron schedule runs on whole minutes dividing an hour (`5m`), hours dividing a day (`2h`), or `1d`",
        ));
        String::new()
    });
    // Without a base search the source is not mapped at all (or its
    // sources disagree): its alert fields would each repeat that refusal.
    let alert = match base.is_empty() {
        true => None,
        false => alert::settings(input, rule, &base)
            .map_err(|r| refusals.extend(r))
            .ok(),
    };
    let planned = if refusals.is_empty() {
        search::search(input, rule, &base)
            .map_err(|r| refusals.extend(r))
            .ok()
    } else {
        None
    };
    let (Some(mut planned), Some(alert)) = (planned, alert) else {
        return Err(refusals
            .into_iter()
            .map(|r| r.into_diagnostic(rule))
            .collect());
    };
    // Each run reads up to its slot's end; a rule without a threshold reads
    // only its slot, a threshold rule from the start of the earliest window
    // ending in it, or with hopping windows the one H before that (the
    // search then keeps those windows: emit::schedule).
    let filter = format!("{}_filter", rule.name);
    planned.lines.push(format!("| `{filter}`"));
    let plan = Plan::of(rule);
    let earliest = match &rule.detection {
        ir::Detection::Aggregation(threshold) => threshold::lookback(rule, threshold),
        // D before the slot: the rule's look-back (at least D + F + D').
        ir::Detection::FirstSeen(_) => plan.lookback,
        ir::Detection::Match | ir::Detection::Sequence(_) => plan.every + plan.settle,
    };
    let stanza = Stanza {
        name: rule.name.clone(),
        title: rule.meta.title.clone(),
        description: rule.meta.description.clone(),
        search: planned.lines.join(" "),
        lines: planned.lines,
        tstats: planned.tstats,
        disabled: u8::from(!common::enabled(input.pack, rule)),
        cron,
        earliest: format!("-{}", settings::duration(earliest)),
        latest: format!("-{}", settings::duration(plan.settle)),
        severity: settings::severity(rule.meta.level),
        level: settings::level_name(rule.meta.level),
        threshold: rule.threshold().is_some(),
        annotations: conf::json_text(&settings::annotations(&rule.meta, kill_chain)),
        security_domain: setting(input, &rule.source, "security_domain")
            .unwrap_or("threat")
            .to_string(),
        next_steps: conf::json_text(&settings::next_steps(&rule.playbook)),
        techniques: rule.meta.techniques.iter().map(|t| t.id.clone()).collect(),
        alert_title: alert.title,
        alert_description: rule.meta.description.clone(),
        risk: conf::json_text(&alert.risk),
        notable: u8::from(alert.notable),
        drilldowns: conf::json_text(&alert.drilldowns),
        filter,
    };
    Ok((stanza, planned.raw_terms))
}

/// A sequence's state in a group (which steps distinct events have
/// matched, its oldest events dropped as the first leaves `within`, reset
/// by each alert) depends on all the group's earlier events and alerts.
/// SPL keeps no such state: `streamstats` gives running aggregates over a
/// window of results, and `transaction` groups events by its own closing
/// rules (`maxspan`, `startswith`, `endswith`), which neither drop a
/// partial sequence's oldest events nor count distinct events per step.
fn sequence_refusal(rule: &ir::Rule, sequence: &ir::Sequence) -> Diagnostic {
    common::refusal(
        SPLUNK,
        rule,
        sequence.span,
        "a sequence (`sequence ... then ...`)",
        "a sequence's state in a group (the steps matched so far by distinct events, the oldest dropped as the \
         first falls out of `within`, reset by each alert) depends on every earlier event and alert of the group; \
         SPL keeps no such state (`streamstats` gives running aggregates, `transaction` closes groups by its own \
         rules), so no search is exact",
    )
}

/// The CIM name of `field`, refused when unmapped or not a plain name
/// (`'name'` in `eval` has no escape for quotes).
fn field_name<'a>(
    input: &'a Input,
    rule: &ir::Rule,
    field: &ir::Field,
) -> Result<&'a str, Refusal> {
    let name = common::mapped_field(input, SPLUNK, rule, field)?;
    if is_name(name) {
        return Ok(name);
    }
    Err(Refusal::new(
        SPLUNK,
        field.span,
        format!(
            "the field name `{name}` of mapping `{}`",
            input.mapping_name
        ),
        "map the field to a name of letters, digits, `_` and `.`",
    ))
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}
