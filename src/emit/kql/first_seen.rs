//! `first seen FIELDS in D` as KQL. The events passing `where` with every
//! field present, keyed as a threshold keys its groups, are named
//! (`tl_events`) over the slot and the D before it. Each combination's
//! latest event before the slot is a `summarize max()` (the baseline,
//! joined with `lookup`); the slot's events alone are sorted by keys and
//! time, and `prev()` on the sorted rows gives each the event before it of
//! its combination in the slot, else the baseline. An event alerts, one
//! row (the event), when that previous event is missing or more than D
//! older: the evaluator's rule. Sorting only the slot keeps a 14-day span
//! affordable.
//!
//! Sentinel keeps no input order: of events of one combination at the same
//! instant, the one `sort` puts first alerts (the others follow it at no
//! distance), where the evaluator takes the first read.

use crate::emit::query::Refusal;
use crate::ir::FirstSeen;

use super::dialect::Kql;
use super::literal::timespan;
use super::threshold::{group_key, present};

/// The pipeline lines after the rule's filter: the end of the named
/// events (`;`), then the query over them.
pub fn lines(writer: &mut Kql, first: &FirstSeen, every: u64) -> Result<Vec<String>, Refusal> {
    let mut presents = Vec::new();
    let mut keys = Vec::new();
    for (n, field) in first.fields.iter().enumerate() {
        let column = writer.column(field)?;
        writer.needs_text(field, &column, "a `first seen` field")?;
        presents.push(present(writer, &column));
        keys.push((
            format!("tl_key{}", n + 1),
            group_key(writer, field, &column),
        ));
    }
    let names: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    let on = names.join(", ");
    let extend: Vec<String> = keys.iter().map(|(k, e)| format!("{k} = {e}")).collect();
    let mut sort: Vec<String> = names.iter().map(|k| format!("{k} asc")).collect();
    sort.push("TimeGenerated asc".to_string());
    // `prev()` of the slot's first row is null: `isnotnull` first, so that
    // `and` never meets a null.
    let mut same = vec!["isnotnull(prev(TimeGenerated))".to_string()];
    same.extend(names.iter().map(|k| format!("prev({k}) == {k}")));
    let slot = format!("slot_end - {}", timespan(every));
    if keys.is_empty() {
        // The language always names a field; an IR without one has no
        // combination to key.
        return Err(Refusal::new(
            super::TARGET,
            first.span,
            "a `first seen` without fields",
            "name the fields whose combination is new",
        ));
    }
    let mut lines = vec![
        format!("| where {}", presents.join("\n    and ")),
        format!("| extend {};", extend.join(", ")),
    ];
    lines.extend([
        "tl_events".to_string(),
        format!("| where TimeGenerated >= {slot}"),
        "| lookup kind=leftouter (tl_events".to_string(),
        format!("    | where TimeGenerated < {slot}"),
        format!("    | summarize tl_before = max(TimeGenerated) by {on}) on {on}"),
        format!("| sort by {}", sort.join(", ")),
        format!(
            "| extend tl_previous = iff({}, prev(TimeGenerated), tl_before)",
            same.join(" and ")
        ),
        format!(
            "| where isnull(tl_previous) or TimeGenerated - tl_previous > {}",
            timespan(first.horizon)
        ),
        "| project-away tl_*".to_string(),
    ]);
    Ok(lines)
}
