//! `first seen FIELDS in D` as KQL: the events passing `where` of the slot
//! and of the D before it, sorted by their group keys (as a threshold keys
//! them) and time; `prev()` on the sorted rows gives each event the one
//! before it of the same combination, and the slot's events whose previous
//! one is missing or more than D older alert, one row each (the event).
//! Sentinel keeps no input order: of events of one combination at the same
//! instant, the one `sort` puts first alerts (the others follow it at no
//! distance), where the evaluator takes the first read.

use crate::emit::query::Refusal;
use crate::ir::FirstSeen;

use super::dialect::Kql;
use super::literal::timespan;
use super::threshold::{group_key, present};

/// The pipeline lines after the rule's filter.
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
    let extend: Vec<String> = keys.iter().map(|(k, e)| format!("{k} = {e}")).collect();
    let mut sort: Vec<String> = keys.iter().map(|(k, _)| format!("{k} asc")).collect();
    sort.push("TimeGenerated asc".to_string());
    // `prev()` of the first row is null: `isnotnull` first, so that `and`
    // never meets a null.
    let mut seen = vec!["isnotnull(prev(TimeGenerated))".to_string()];
    seen.extend(keys.iter().map(|(k, _)| format!("prev({k}) == {k}")));
    seen.push(format!(
        "TimeGenerated - prev(TimeGenerated) <= {}",
        timespan(first.horizon)
    ));
    let mut lines = Vec::new();
    if !keys.is_empty() {
        lines.push(format!("| where {}", presents.join("\n    and ")));
        lines.push(format!("| extend {}", extend.join(", ")));
    }
    lines.extend([
        format!("| sort by {}", sort.join(", ")),
        format!("| extend tl_seen = {}", seen.join("\n    and ")),
        format!(
            "| where TimeGenerated >= slot_end - {} and not(tl_seen)",
            timespan(every)
        ),
        "| project-away tl_*".to_string(),
    ]);
    Ok(lines)
}
