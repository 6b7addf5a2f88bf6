//! The search of one rule, as a list of commands (the `.spl` file puts
//! each on its own line, `savedsearches.conf` joins them on one).
//!
//! A rule of one source whose fields all belong to its CIM data model, and
//! whose condition search terms express exactly, is a `| tstats` search on
//! the data model. Any other rule is a raw search: the source's macro (or
//! the macros of its several sources, `sources`), then the
//! tests search terms express exactly, then `| where` with the rest (the
//! top-level `and` is split so that each part goes where it can). Count
//! thresholds with `by` are raw searches too: tstats splits a multivalue
//! `BY` field into one row per value, so an event holding two spellings of
//! one value (`Bob`, `bob`) would count twice in their group; a raw search
//! keys the event once per distinct lowered value (`mvdedup`).

use std::collections::BTreeSet;

use crate::emit::Input;
use crate::emit::query::{self, Refusal};
use crate::ir::{self, Aggregate, Condition};

use super::datamodel::DataModel;
use super::eval::{EvalExpr, eval_name};
use super::terms::SearchTerms;
use super::threshold::{self, Grouping};

pub struct Search {
    pub lines: Vec<String>,
    pub tstats: bool,
    /// CIM names filtered on by raw search terms (`INDEXED_VALUE = false`).
    pub raw_terms: BTreeSet<String>,
}

/// The search of `rule`, whose base macro is `base` (`` (`tripline_dns`) ``).
pub fn search(input: &Input, rule: &ir::Rule, base: &str) -> Result<Search, Vec<Refusal>> {
    // Several sources: one raw search over their base searches; first
    // seen: raw events in time order.
    if rule.more_sources.is_empty()
        && !matches!(rule.detection, ir::Detection::FirstSeen(_))
        && let Some(model) = DataModel::of(input, &rule.source)
        && fits_data_model(input, rule, &model)
        && let Ok(terms) = query::write(
            &mut SearchTerms::new(input, rule, &format!("{}.", model.prefix)),
            &rule.condition,
        )
    {
        return tstats(input, rule, &model, terms);
    }
    raw(input, rule, base)
}

fn tstats(
    input: &Input,
    rule: &ir::Rule,
    model: &DataModel,
    terms: String,
) -> Result<Search, Vec<Refusal>> {
    let from = format!("FROM datamodel={}", model.dataset);
    let filter = match &model.constraint {
        Some(constraint) => format!("WHERE {constraint} {terms}"),
        None => format!("WHERE {terms}"),
    };
    let prefix = &model.prefix;
    let lines = match rule.threshold() {
        Some(threshold) => {
            let grouping = Grouping::new(input, rule, threshold)?;
            threshold::tstats(&grouping, &format!("{from} {filter}"), prefix)
        }
        None => {
            let by: Vec<String> = alert_columns(input, rule)?
                .iter()
                .filter(|e| model.holds(e))
                .map(|e| format!("{prefix}.{e}"))
                .collect();
            // Every matching event is reported: a missing entity field
            // reads as `unknown` instead of dropping the row.
            let head = format!(
                "| tstats `tripline_summariesonly` fillnull_value=unknown count min(_time) AS firstTime max(_time) AS lastTime {from} {filter} BY {}",
                by.join(" ")
            );
            vec![head, format!("| rename {prefix}.* AS *")]
        }
    };
    Ok(Search {
        lines,
        tstats: true,
        raw_terms: BTreeSet::new(),
    })
}

fn raw(input: &Input, rule: &ir::Rule, base: &str) -> Result<Search, Vec<Refusal>> {
    let conjuncts: Vec<Condition> = match &rule.condition {
        Condition::And(parts) => parts.clone(),
        other => vec![other.clone()],
    };
    let mut in_terms = Vec::new();
    let mut after = Vec::new();
    for part in conjuncts {
        match query::write(&mut SearchTerms::new(input, rule, ""), &part) {
            Ok(_) => in_terms.push(part),
            Err(_) => {
                // A `cased` test the rule requires is also a search term
                // ignoring case: it selects a superset of what the exact
                // test after the pipe keeps, so Splunk reads fewer events.
                if let Some(term) = uncased(&part)
                    && query::write(&mut SearchTerms::new(input, rule, ""), &term).is_ok()
                {
                    in_terms.push(term);
                }
                after.push(part);
            }
        }
    }
    let mut terms = SearchTerms::new(input, rule, "");
    let mut head = base.to_string();
    if let Some(condition) = joined(in_terms) {
        head = format!("{head} {}", write(&mut terms, &condition)?);
    }
    let mut lines = vec![head];
    if let Some(condition) = joined(after) {
        let mut eval = EvalExpr::new(input, rule);
        lines.push(format!("| where {}", write(&mut eval, &condition)?));
    }
    match &rule.detection {
        ir::Detection::Aggregation(threshold) => {
            let grouping = Grouping::new(input, rule, threshold)?;
            lines.extend(threshold::raw(&grouping));
        }
        ir::Detection::FirstSeen(first) => {
            let grouping = Grouping::first_seen(input, rule, first)?;
            lines.extend(threshold::raw(&grouping));
        }
        ir::Detection::Match | ir::Detection::Sequence(_) => {
            let mut columns = vec!["_time".to_string()];
            columns.extend(alert_columns(input, rule)?.iter().map(|e| eval_name(e)));
            lines.push(format!("| table {}", columns.join(" ")));
        }
    }
    Ok(Search {
        lines,
        tstats: false,
        raw_terms: terms.filtered,
    })
}

/// A `cased` equality or text test without `cased` (which holds wherever
/// the exact test holds).
fn uncased(condition: &Condition) -> Option<Condition> {
    match condition {
        Condition::Predicate(p)
            if p.field.cased
                && matches!(
                    p.operation,
                    ir::Operation::Equals { .. } | ir::Operation::Text { .. }
                ) =>
        {
            let mut p = p.clone();
            p.field.cased = false;
            Some(Condition::Predicate(p))
        }
        _ => None,
    }
}

/// The CIM names of the fields the alert shows (title tokens, risk and
/// threat objects, context), each once: the columns of a plain rule's rows.
fn alert_columns(input: &Input, rule: &ir::Rule) -> Result<Vec<String>, Vec<Refusal>> {
    let mut columns: Vec<String> = Vec::new();
    let mut refusals = Vec::new();
    for field in crate::emit::common::alert_fields(input, rule) {
        match super::field_name(input, rule, field) {
            Ok(name) if !columns.iter().any(|c| c == name) => columns.push(name.to_string()),
            Ok(_) => {}
            Err(refusal) => refusals.push(refusal),
        }
    }
    if refusals.is_empty() {
        Ok(columns)
    } else {
        Err(refusals)
    }
}

fn write<D: query::Dialect>(
    dialect: &mut D,
    condition: &Condition,
) -> Result<String, Vec<Refusal>> {
    query::write(dialect, condition)
}

fn joined(mut parts: Vec<Condition>) -> Option<Condition> {
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Condition::And(parts)),
    }
}

/// Whether a tstats search on `model` can answer `rule`: every field it
/// reads is in the dataset, and its aggregate is exact on tstats rows.
fn fits_data_model(input: &Input, rule: &ir::Rule, model: &DataModel) -> bool {
    let mut fields = crate::emit::common::alert_fields(input, rule);
    condition_fields(&rule.condition, &mut fields);
    if let Some(threshold) = rule.threshold() {
        fields.extend(threshold.by.iter());
        let Some(single) = threshold.single() else {
            return false;
        };
        match single.aggregate {
            Aggregate::Count if !threshold.by.is_empty() => return false,
            Aggregate::Distinct(field) => {
                // tstats drops events without the field: a group whose
                // events all lack it would vanish, not count 0.
                if single.comparison.holds(0, single.value) {
                    return false;
                }
                fields.push(field);
            }
            _ => {}
        }
    }
    fields.iter().all(|field| {
        input
            .mapping
            .field(&rule.source, &field.path)
            .is_some_and(|name| model.holds(name))
    })
}

fn condition_fields<'a>(condition: &'a Condition, out: &mut Vec<&'a ir::Field>) {
    match condition {
        Condition::And(parts) | Condition::Or(parts) => {
            parts.iter().for_each(|p| condition_fields(p, out));
        }
        Condition::Not(inner) => condition_fields(inner, out),
        Condition::Exists(field) => out.push(field),
        Condition::Predicate(predicate) => out.push(&predicate.field),
    }
}
