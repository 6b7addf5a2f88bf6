//! The `sql` target: one `SELECT` per rule for DuckDB and for Spark SQL 4,
//! over an `events` table (a view) with one text column per ECS field of
//! the taxonomy, named by its dotted path (`"source.ip"`, `` `source.ip` ``),
//! and `@timestamp` as a UTC timestamp. Per engine `ENGINE/NAME.sql` and
//! `ENGINE/events.sql` (the view over ECS JSON Lines); for the target a
//! `README.md`. The condition comes from the shared writer (`emit::query`)
//! in the SQL `dialect`, a threshold's steps from `threshold`; the files
//! around the query from the templates of `targets/sql/`.

mod address;
mod dialect;
mod first_seen;
mod flavor;
mod group;
mod pattern;
mod sequence;
mod threshold;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::emit::templates::Templates;
use crate::ir::{self, Condition};

use super::query::{self, Refusal};
use super::{Document, EmitError, Emitted, Input};
use dialect::Sql;
pub use flavor::Flavor;

pub(crate) const TARGET: &str = "sql";

/// The version 2 constructs the SQL target writes through the shared
/// check; sequences and first-seen baselines are written by `query`.
const WRITTEN: super::common::Written = super::common::Written {
    cased_equals: true,
    length: true,
    cased_text: true,
    cased_grouping: true,
    having: true,
    step: true,
    sources: true,
    detection: true,
};

/// What the query writer knows about the rule it writes.
pub struct Context<'a> {
    pub input: &'a Input<'a>,
    pub rule: &'a ir::Rule,
}

/// One rule as the templates see it.
#[derive(Debug, Serialize)]
struct RuleView {
    name: String,
    id: String,
    title: String,
    source: String,
    query: String,
    /// `count` or `distinct_count` for a version 1 threshold rule
    /// (`readings` for a version 2 one).
    aggregate: Option<&'static str>,
    /// A version 2 threshold's result columns (its aggregates as written).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    readings: Vec<String>,
    /// A threshold rule's `by` fields (its result columns) and window
    /// (a sequence's `within`, a first-seen baseline's D).
    by: Vec<String>,
    window: Option<u64>,
    /// Comment lines on how to run the query (its header).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

pub fn emit(input: &Input) -> Result<Emitted, EmitError> {
    let mut templates = Templates::load(input.folder)?;
    templates
        .env
        .add_filter("duckdb_string", |text: &str| Flavor::DuckDb.string(text));
    let mut emitted = Emitted::default();
    let columns = columns(input);
    for flavor in Flavor::ALL {
        engine_documents(input, &templates, flavor, &columns, &mut emitted)?;
    }
    emitted.documents.push(Document {
        path: "README.md".to_string(),
        text: templates.render("README.md.j2", minijinja::context! { columns => columns })?,
    });
    Ok(emitted)
}

/// One engine's folder: a query per rule, the runners and the view.
fn engine_documents(
    input: &Input,
    templates: &Templates,
    flavor: Flavor,
    columns: &[String],
    emitted: &mut Emitted,
) -> Result<(), EmitError> {
    let engine = flavor.as_str();
    let mut views = Vec::new();
    for rule in &input.pack.rules {
        let cx = Context { input, rule };
        let version2 = super::common::version2_refusals_except("sql", rule, WRITTEN);
        if !version2.is_empty() {
            if flavor == Flavor::DuckDb {
                emitted.diagnostics.extend(version2);
            }
            continue;
        }
        let view = match view(&cx, flavor) {
            Ok(view) => view,
            Err(refused) => {
                // Both engines refuse the same constructs: report once.
                if flavor == Flavor::DuckDb {
                    emitted.diagnostics.extend(refused);
                }
                continue;
            }
        };
        emitted.documents.push(Document {
            path: format!("{engine}/{}.sql", rule.name),
            text: templates.render(
                "query.sql.j2",
                minijinja::context! { rule => minijinja::Value::from(minijinja::value::Serde(&view)), engine },
            )?,
        });
        views.push(view);
    }
    let rules = minijinja::Value::from(minijinja::value::Serde(&views));
    for (path, template) in job_files(flavor) {
        emitted.documents.push(Document {
            path: format!("{engine}/{path}"),
            text: templates.render(template, minijinja::context! { rules => rules.clone() })?,
        });
    }
    let quoted: Vec<(String, String)> = columns
        .iter()
        .map(|c| (c.clone(), flavor.ident(c)))
        .collect();
    emitted.documents.push(Document {
        path: format!("{engine}/events.sql"),
        text: templates.render(
            &format!("events.{engine}.sql.j2"),
            minijinja::context! { columns => quoted },
        )?,
    });
    Ok(())
}

/// The files that run the whole pack on an engine, and their templates.
fn job_files(flavor: Flavor) -> &'static [(&'static str, &'static str)] {
    match flavor {
        Flavor::DuckDb => &[("run.sql", "run.duckdb.sql.j2")],
        Flavor::Spark => &[
            ("job.py", "job.spark.py.j2"),
            ("rules.json", "rules.spark.json.j2"),
        ],
    }
}

/// Every column the mapping names, `@timestamp` aside, and the routing
/// column `event.dataset`, sorted.
fn columns(input: &Input) -> Vec<String> {
    let mut names: BTreeSet<String> = input
        .mapping
        .sources
        .values()
        .flat_map(|s| s.fields.values().flatten().cloned())
        .filter(|c| c != "@timestamp")
        .collect();
    names.insert("event.dataset".to_string());
    names.into_iter().collect()
}

fn view(cx: &Context, flavor: Flavor) -> Result<RuleView, Vec<Diagnostic>> {
    let rule = cx.rule;
    let (aggregate, by, window, notes) = match &rule.detection {
        ir::Detection::Match => (None, Vec::new(), None, Vec::new()),
        ir::Detection::Aggregation(t) => (
            Some(threshold::result_column(t)),
            t.by.iter().map(|f| f.path.clone()).collect(),
            Some(t.window),
            Vec::new(),
        ),
        ir::Detection::Sequence(s) => (
            Some(sequence::RESULT),
            s.by.iter().map(|f| f.path.clone()).collect(),
            Some(s.within),
            sequence::notes(s),
        ),
        ir::Detection::FirstSeen(f) => (
            Some(first_seen::RESULT),
            f.fields.iter().map(|f| f.path.clone()).collect(),
            Some(f.horizon),
            first_seen::notes(f),
        ),
    };
    Ok(RuleView {
        name: rule.name.clone(),
        id: rule.meta.id.to_lowercase(),
        title: rule.meta.title.clone(),
        source: rule.source.clone(),
        query: query(cx, flavor)?,
        aggregate,
        readings: rule
            .threshold()
            .map(threshold::readings)
            .unwrap_or_default(),
        by,
        window,
        notes,
    })
}

/// The whole `SELECT` of a rule.
fn query(cx: &Context, flavor: Flavor) -> Result<String, Vec<Diagnostic>> {
    let rule = cx.rule;
    if !rule.more_sources.is_empty() {
        several_sources(cx)?;
    }
    let diagnostics = |refusals: Vec<Refusal>| -> Vec<Diagnostic> {
        refusals
            .into_iter()
            .map(|r| r.into_diagnostic(rule))
            .collect()
    };
    let mut sql = Sql::new(cx, flavor);
    let condition = query::write(&mut sql, &rule.condition).map_err(diagnostics)?;
    let condition = match rule.condition {
        Condition::Or(_) => format!("({condition})"),
        _ => condition,
    };
    let mut conjuncts = Vec::new();
    if let Some(route) = route(cx, flavor) {
        conjuncts.push(route);
    }
    conjuncts.push(condition);
    let filter = format!(
        "SELECT *\nFROM {}\nWHERE {}",
        table(cx),
        conjuncts.join("\n  AND ")
    );
    let steps = match &rule.detection {
        ir::Detection::Match => return Ok(filter),
        ir::Detection::Aggregation(t) => {
            threshold::steps(&sql, t).map_err(|r| diagnostics(vec![r]))?
        }
        ir::Detection::FirstSeen(f) => {
            first_seen::steps(&sql, f, &tie_order(cx, flavor)).map_err(|r| diagnostics(vec![r]))?
        }
        ir::Detection::Sequence(s) => {
            let steps =
                sequence::steps(&mut sql, s, &tie_order(cx, flavor)).map_err(diagnostics)?;
            let indented = filter.replace('\n', "\n  ");
            // DuckDB reads `RECURSIVE` for the whole list; Spark folds.
            let with = match flavor {
                Flavor::DuckDb => "WITH RECURSIVE",
                Flavor::Spark => "WITH",
            };
            return Ok(format!("{with} matched AS (\n  {indented}\n),\n{steps}"));
        }
    };
    let indented = filter.replace('\n', "\n  ");
    Ok(format!("WITH matched AS (\n  {indented}\n),\n{steps}"))
}

/// The order of a group's events for sequences and first sightings: by
/// time, then, for events at the same time, by every column of the table
/// (nulls first). A table has no input order, which `tripline eval` uses
/// for ties; this order is the same on both engines (text compares by
/// code point), and events equal in every column are interchangeable.
fn tie_order(cx: &Context, flavor: Flavor) -> String {
    let mut order = vec![flavor.ident("@timestamp")];
    order.extend(
        columns(cx.input)
            .iter()
            .map(|c| format!("{} NULLS FIRST", flavor.ident(c))),
    );
    order.join(", ")
}

/// The source's table in the mapping (`events` when it names none).
fn table(cx: &Context) -> String {
    setting(cx, "table").unwrap_or_else(|| "events".to_string())
}

/// The routing test of the source, as `tripline eval` routes: an event
/// whose `event.dataset` is missing or `""` is seen by every rule, one
/// whose value is the source's word (ignoring case) by its rules only; a
/// rule over several sources reads the words of each (each event once).
fn route(cx: &Context, flavor: Flavor) -> Option<String> {
    let dataset = setting(cx, "dataset")?;
    let column = flavor.ident("event.dataset");
    let mut words = vec![flavor.string(&dataset.to_lowercase())];
    for source in &cx.rule.more_sources {
        if let Some(word) = source_setting(cx, source, "dataset") {
            let word = flavor.string(&word.to_lowercase());
            if !words.contains(&word) {
                words.push(word);
            }
        }
    }
    Some(format!(
        "coalesce(lower({column}), '') IN ('', {})",
        words.join(", ")
    ))
}

fn setting(cx: &Context, key: &str) -> Option<String> {
    source_setting(cx, &cx.rule.source, key)
}

fn source_setting(cx: &Context, source: &str, key: &str) -> Option<String> {
    let source = cx.input.mapping.sources.get(source)?;
    source.settings.get(key)?.as_str().map(str::to_string)
}

/// A rule over several sources reads one table with one routing column:
/// refused when the mapping gives its sources different tables, leaves
/// one without a dataset while another has one, or names a field it
/// reads differently in them.
fn several_sources(cx: &Context) -> Result<(), Vec<Diagnostic>> {
    let rule = cx.rule;
    let refuse = |why: String| {
        vec![super::common::refusal(
            TARGET,
            rule,
            rule.span,
            &format!(
                "a rule over several sources (`from {}, {}`)",
                rule.source,
                rule.more_sources.join(", ")
            ),
            &why,
        )]
    };
    let mapping = &cx.input.mapping;
    for other in &rule.more_sources {
        if source_setting(cx, other, "table") != setting(cx, "table") {
            return Err(refuse(format!(
                "sources `{}` and `{other}` are in different tables in mapping `{}`",
                rule.source, cx.input.mapping_name
            )));
        }
        if source_setting(cx, other, "dataset").is_some() != setting(cx, "dataset").is_some() {
            return Err(refuse(format!(
                "one of sources `{}` and `{other}` has no `dataset` in mapping `{}`",
                rule.source, cx.input.mapping_name
            )));
        }
        for path in super::common::fields_read(rule) {
            if mapping.field(other, &path) != mapping.field(&rule.source, &path) {
                return Err(refuse(format!(
                    "field `{path}` has another column in source `{other}` in mapping `{}`",
                    cx.input.mapping_name
                )));
            }
        }
    }
    Ok(())
}
