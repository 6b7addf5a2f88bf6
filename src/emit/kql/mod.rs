//! The `kql` target: Microsoft Sentinel scheduled analytics rules over the
//! ASIM parsers (or native tables, with `--mapping native`). Per rule
//! `NAME.yaml` (the Azure-Sentinel repository's form) and
//! `queries/NAME.kql`; for the pack `azuredeploy.json` (an ARM template).
//! The condition comes from the shared writer (`emit::query`) in the KQL
//! `dialect`, a threshold's stages from `threshold`; the documents around
//! the query from the templates of `targets/kql/`.

mod address;
mod alert;
mod arm;
mod dialect;
mod first_seen;
mod literal;
mod number;
mod pattern;
mod sentinel;
mod source;
mod threshold;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::emit::common::{self, refusal};
use crate::emit::folder::FolderError;
use crate::emit::schedule::Plan;
use crate::emit::templates::Templates;
use crate::ir;

use super::query::{self, Refusal};
use super::{Document, EmitError, Emitted, Input};
use dialect::Kql;
use source::{EntityColumn, Source};

pub(crate) use alert::incident_window;
pub use literal::{kql_regex, kql_string};
pub use source::Schemas;

pub(crate) const TARGET: &str = "kql";
/// Sentinel's limit on a rule's query, in characters.
const MAX_QUERY: usize = 10_000;

/// What the query writer knows about the rule it writes.
pub struct Context<'a> {
    pub input: &'a Input<'a>,
    pub rule: &'a ir::Rule,
    pub source: Source,
}

/// One rule as the templates see it.
#[derive(Debug, Serialize)]
struct RuleView {
    name: String,
    id: String,
    title: String,
    description: String,
    severity: &'static str,
    enabled: bool,
    schedule: sentinel::Schedule,
    tactics: Vec<String>,
    techniques: Vec<String>,
    parent_techniques: Vec<String>,
    sub_techniques: Vec<String>,
    query: String,
    entities: Vec<EntityColumn>,
    alert: alert::AlertView,
    /// The rule's content version (`tripline.lock`; `1.0.0` when new).
    version: String,
}

pub fn emit(input: &Input) -> Result<Emitted, EmitError> {
    let templates = templates(input)?;
    let schemas = Schemas::load(input.folder);
    let tactic_table = sentinel::tactic_table(input.folder.file("sentinel-tactics.csv")?);
    let mut emitted = Emitted::default();
    let mut views = Vec::new();
    for rule in &input.pack.rules {
        let source = source_of(input, &rule.source, &schemas)?;
        let source = match several_sources(input, rule, source, &schemas)? {
            Ok(source) => source,
            Err(refused) => {
                emitted.diagnostics.push(refused);
                continue;
            }
        };
        let cx = Context {
            input,
            rule,
            source,
        };
        match view(&cx, &tactic_table) {
            Ok(view) => views.push(view),
            Err(refused) => emitted.diagnostics.extend(refused),
        }
    }
    for view in &views {
        emitted.documents.push(Document {
            path: format!("{}.yaml", view.name),
            text: templates.render("rule.yaml.j2", minijinja::context! { rule => minijinja::Value::from(minijinja::value::Serde(view)) })?,
        });
        emitted.documents.push(Document {
            path: format!("queries/{}.kql", view.name),
            text: templates.render("query.kql.j2", minijinja::context! { rule => minijinja::Value::from(minijinja::value::Serde(view)) })?,
        });
    }
    emitted.documents.push(Document {
        path: "azuredeploy.json".to_string(),
        text: templates.render("azuredeploy.json.j2",
            minijinja::context! { rules => minijinja::Value::from(minijinja::value::Serde(&views)) },
        )?,
    });
    Ok(emitted)
}

fn templates<'f>(input: &Input<'f>) -> Result<Templates<'f>, EmitError> {
    let mut templates = Templates::load(input.folder)?;
    let env = &mut templates.env;
    env.add_filter("kql_string", |text: &str| kql_string(text));
    env.add_filter("arm_string", |text: &str| arm::arm_string(text));
    env.add_filter("json", |value: minijinja::Value| {
        serde_json::to_string(&value).map_err(|e| {
            minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
        })
    });
    Ok(templates)
}

/// The source's settings in the mapping (a source the mapping lacks has no
/// mapped fields: its rules are refused when written).
fn source_of(input: &Input, name: &str, schemas: &Schemas) -> Result<Source, EmitError> {
    let Some(mapping) = input.mapping.sources.get(name) else {
        return Ok(Source::default());
    };
    Source::new(mapping, schemas).map_err(|message| {
        EmitError::Folder(FolderError::Yaml {
            path: input
                .folder
                .display_path(&format!("mappings/{}.yaml", input.mapping_name)),
            line: 1,
            column: 1,
            message: format!("source `{name}`: {message}"),
        })
    })
}

/// The source a rule over several sources reads: their parser read once
/// (each event once, `web` and `proxy` both reading `_Im_WebSession`), with
/// the per-source filters joined by `or` (none when one source has none).
/// Refused when the sources start differently (another parser, table or
/// parameters), derive a column differently, or name one of the rule's
/// fields differently.
fn several_sources(
    input: &Input,
    rule: &ir::Rule,
    mut source: Source,
    schemas: &Schemas,
) -> Result<Result<Source, Diagnostic>, EmitError> {
    if rule.more_sources.is_empty() {
        return Ok(Ok(source));
    }
    let refuse = |why: String| {
        refusal(
            TARGET,
            rule,
            rule.span,
            &format!(
                "a rule over several sources (`from {}, {}`)",
                rule.source,
                rule.more_sources.join(", ")
            ),
            &why,
        )
    };
    let mut filters = vec![source.filter.trim().to_string()];
    for other in &rule.more_sources {
        let next = source_of(input, other, schemas)?;
        if next.head("S", "E") != source.head("S", "E") {
            return Ok(Err(refuse(format!(
                "sources `{}` and `{other}` are read through different parsers or tables in mapping `{}`; \
                 Sentinel would need a union of both, not yet written for kql",
                rule.source, input.mapping_name
            ))));
        }
        if next.extend != source.extend {
            return Ok(Err(refuse(format!(
                "sources `{}` and `{other}` derive columns differently in mapping `{}`",
                rule.source, input.mapping_name
            ))));
        }
        for path in common::fields_read(rule) {
            if input.mapping.field(other, &path) != input.mapping.field(&rule.source, &path) {
                return Ok(Err(refuse(format!(
                    "field `{path}` has another column in source `{other}` in mapping `{}`",
                    input.mapping_name
                ))));
            }
        }
        let filter = next.filter.trim().to_string();
        if !filters.contains(&filter) {
            filters.push(filter);
        }
    }
    source.filter = if filters.iter().any(String::is_empty) {
        String::new()
    } else if filters.len() == 1 {
        filters.remove(0)
    } else {
        filters
            .iter()
            .map(|f| format!("({f})"))
            .collect::<Vec<_>>()
            .join(" or ")
    };
    Ok(Ok(source))
}

fn view(
    cx: &Context,
    tactic_table: &BTreeMap<String, Vec<String>>,
) -> Result<RuleView, Vec<Diagnostic>> {
    let rule = cx.rule;
    if cx.source.parser.is_none() && cx.source.table.is_none() {
        return Err(vec![refusal(
            TARGET,
            rule,
            rule.span,
            &format!("source `{}`", rule.source),
            &format!(
                "mapping `{}` has no parser or table for this source",
                cx.input.mapping_name
            ),
        )]);
    }
    sentinel::text_limits(rule).map_err(|d| vec![d])?;
    let schedule = sentinel::schedule(rule).map_err(|d| vec![d])?;
    let tactics = sentinel::tactics(rule, tactic_table).map_err(|d| vec![d])?;
    let name_format = alert::name_format(cx)?;
    let written = query(cx)?;
    let (entities, derived) =
        alert::entities(rule, &cx.source, written.by.as_deref()).map_err(|d| vec![d])?;
    let mut lines = written.lines;
    // The columns entity identifiers derive, at the end (after a
    // threshold's `project`, from its `by` columns).
    for column in &derived {
        if let Some(expression) = cx.source.entity_columns.get(column) {
            lines.push(format!("| extend {column} = {expression}"));
        }
    }
    let query = lines.join("\n");
    if query.chars().count() > MAX_QUERY {
        return Err(vec![refusal(
            TARGET,
            rule,
            rule.span,
            "a query longer than 10,000 characters",
            "Sentinel accepts queries of at most 10,000 characters; split the rule or shorten its lists",
        )]);
    }
    let alert = alert::view(
        rule,
        name_format,
        &written.details,
        &entities,
        &written.risk_columns,
        sentinel::period(rule),
    );
    let techniques: Vec<String> = rule.meta.techniques.iter().map(|t| t.id.clone()).collect();
    let mut parent_techniques: Vec<String> = Vec::new();
    for technique in &techniques {
        let parent = sentinel::parent(technique).to_string();
        if !parent_techniques.contains(&parent) {
            parent_techniques.push(parent);
        }
    }
    Ok(RuleView {
        name: rule.name.clone(),
        id: rule.meta.id.to_lowercase(),
        title: rule.meta.title.clone(),
        description: rule.meta.description.clone(),
        severity: sentinel::severity(rule.meta.level),
        enabled: crate::emit::common::enabled(cx.input.pack, rule),
        schedule,
        tactics,
        sub_techniques: techniques
            .iter()
            .filter(|t| t.contains('.'))
            .cloned()
            .collect(),
        techniques,
        parent_techniques,
        query,
        entities,
        alert,
        version: cx
            .input
            .pack
            .settings
            .rule_versions
            .get(&rule.name)
            .cloned()
            .unwrap_or_else(|| crate::pack::lock::FIRST_VERSION.to_string()),
    })
}

/// A rule's query as lines, and what its rows hold.
struct Written {
    lines: Vec<String>,
    /// The `by` columns of a threshold rule.
    by: Option<Vec<String>>,
    /// The columns `customDetails` shows, with the field of each.
    details: Vec<(Option<String>, String)>,
    /// The columns of the alert's risk objects.
    risk_columns: Vec<String>,
}

/// The whole query, and what its rows hold.
fn query(cx: &Context) -> Result<Written, Vec<Diagnostic>> {
    let rule = cx.rule;
    let written = common::Written {
        cased_equals: true,
        length: true,
        cased_text: true,
        cased_grouping: true,
        having: true,
        sources: true,
        // First seen is written here (`first_seen`), a sequence refused
        // here with its own reason.
        detection: true,
        step: true,
    };
    let mut version2 = common::version2_refusals_except("kql", rule, written);
    if let ir::Detection::Sequence(sequence) = &rule.detection {
        version2.push(sequence_refusal(rule, sequence));
    }
    if !version2.is_empty() {
        return Err(version2);
    }
    let diagnostics = |refusals: Vec<Refusal>| -> Vec<Diagnostic> {
        refusals
            .into_iter()
            .map(|r| r.into_diagnostic(rule))
            .collect()
    };
    let mut kql = Kql::new(cx);
    let condition = query::write(&mut kql, &rule.condition).map_err(diagnostics)?;
    // The alert's columns: a plain rule's rows are whole events, so its
    // derived columns are computed; a threshold's rows hold its samples.
    let mut risk_columns = Vec::new();
    for risk in &rule.alert.risk {
        risk_columns.push(kql.column(&risk.field).map_err(|r| diagnostics(vec![r]))?);
    }
    let (tail, by_columns, details) = match rule.threshold() {
        Some(t) => {
            let context = crate::emit::common::sampled_fields(cx.input, rule, t);
            let tail = threshold::lines(&mut kql, t, &context, rule.schedule.every)
                .map_err(|r| diagnostics(vec![r]))?;
            (tail.lines, Some(tail.by), tail.details)
        }
        None => {
            let mut details: Vec<(Option<String>, String)> = Vec::new();
            let shown = crate::emit::common::alert_fields(cx.input, rule);
            for field in &shown {
                kql.column(field).map_err(|r| diagnostics(vec![r]))?;
            }
            for field in &rule.alert.context {
                if !shown.iter().any(|f| f.path == field.path) {
                    continue;
                }
                let column = kql.column(field).map_err(|r| diagnostics(vec![r]))?;
                if !details.iter().any(|(_, c)| *c == column) {
                    details.push((Some(field.path.clone()), column));
                }
            }
            let tail = match &rule.detection {
                ir::Detection::FirstSeen(first) => {
                    first_seen::lines(&mut kql, first, rule.schedule.every)
                        .map_err(|r| diagnostics(vec![r]))?
                }
                _ => Vec::new(),
            };
            (tail, None, details)
        }
    };
    let plan = Plan::of(rule);
    // Hopping windows also read the window H before each one reported.
    let step = rule.threshold().and_then(|t| t.step).unwrap_or(0);
    // First seen reads the D before the slot's first event.
    let horizon = match &rule.detection {
        ir::Detection::FirstSeen(first) => first.horizon,
        _ => 0,
    };
    let reads = literal::timespan(plan.every + plan.window + step + horizon);
    let mut lines = vec![
        // The run's slot, snapped to the grid of `every` (emit::schedule).
        format!(
            "let slot_end = bin_at(now(), {}, datetime(1970-01-01)) - {};",
            literal::timespan(plan.every),
            literal::timespan(plan.settle)
        ),
        cx.source.head(&format!("slot_end - {reads}"), "slot_end"),
        format!("| where TimeGenerated >= slot_end - {reads} and TimeGenerated < slot_end"),
    ];
    if !cx.source.filter.trim().is_empty() {
        lines.push(format!("| where {}", cx.source.filter.trim()));
    }
    // Derived columns, each stage of its derivation on its own line.
    for (name, steps) in &cx.source.extend {
        if kql.used.contains(name) {
            lines.extend(steps.iter().map(|step| format!("| extend {name} = {step}")));
        }
    }
    lines.push(format!("| where {condition}"));
    if step > 0 {
        // The windows are named (`let`) to be read twice (threshold::lines).
        lines[1] = format!("let tl_windows = {}", lines[1]);
    }
    if horizon > 0 {
        // The events are named to be read twice (first_seen::lines).
        lines[1] = format!("let tl_events = {}", lines[1]);
    }
    lines.extend(tail);
    Ok(Written {
        lines,
        by: by_columns,
        details,
        risk_columns,
    })
}

/// A sequence cannot be exact in a scheduled query: each completed
/// sequence empties its group, so whether an event completes one depends
/// on the group's events back to its last pause longer than `within`,
/// however long ago, and a Sentinel run reads a bounded look-back and
/// keeps nothing from the runs before it.
fn sequence_refusal(rule: &ir::Rule, sequence: &ir::Sequence) -> Diagnostic {
    refusal(
        TARGET,
        rule,
        sequence.span,
        "a sequence (`sequence ... then ...`)",
        "each completed sequence empties its group, so whether an event completes one depends on the group's events back to its last pause longer than `within`, however long ago \
         (`where X then where X` over an unbroken stream alerts at its 2nd, 4th, 6th... event: a run must know the count since the stream began); \
         a scheduled Sentinel run reads a bounded look-back and keeps nothing from the runs before it",
    )
}
