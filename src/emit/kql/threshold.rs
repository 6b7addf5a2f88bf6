//! Threshold rules as KQL: epoch-aligned windows (`bin_at`), group keys and
//! distinct values computed first (case-folded text; an `int` field by its
//! number), exact distinct counts in two `summarize` steps (never
//! `dcount()`, an estimate), the first spelling by `arg_min`, and one row
//! per alert: `TimeGenerated` (the window's start), the `by` columns, and
//! `Count` or `DistinctCount`. No regex: an `int` key's text is checked
//! as `number` does.

use crate::emit::query::Refusal;
use crate::ir::{Aggregate, Field, FieldType, Threshold};

use super::dialect::Kql;
use super::literal::{kql_long, timespan};
use super::number::integer_key;

/// The result column of the aggregate.
pub fn result_column(threshold: &Threshold) -> &'static str {
    match threshold.single().map(|s| s.aggregate) {
        Some(Aggregate::Distinct(_)) => "DistinctCount",
        _ => "Count",
    }
}

/// The pipeline lines after the rule's filter, and the `by` columns.
pub fn lines(
    writer: &mut Kql,
    threshold: &Threshold,
    every: u64,
) -> Result<(Vec<String>, Vec<String>), Refusal> {
    let columns = threshold
        .by
        .iter()
        .map(|f| {
            let column = writer.column(f)?;
            writer.needs_text(f, &column, "a `by` field")?;
            Ok(column)
        })
        .collect::<Result<Vec<_>, Refusal>>()?;
    let mut lines = Vec::new();
    if !columns.is_empty() {
        let present: Vec<String> = columns.iter().map(|c| present(writer, c)).collect();
        lines.push(format!("| where {}", present.join("\n    and ")));
    }
    let mut extend = vec![format!(
        "tl_window = bin_at(TimeGenerated, {}, datetime(1970-01-01))",
        timespan(threshold.window)
    )];
    let mut keys = vec!["tl_window".to_string()];
    for (n, (field, column)) in threshold.by.iter().zip(&columns).enumerate() {
        let key = format!("tl_key{}", n + 1);
        extend.push(format!("{key} = {}", group_key(writer, field, column)));
        keys.push(key);
    }
    let first = if columns.is_empty() {
        String::new()
    } else {
        format!("arg_min(TimeGenerated, {})", columns.join(", "))
    };
    let with_first = |aggregate: &str| {
        if first.is_empty() {
            aggregate.to_string()
        } else {
            format!("{aggregate}, {first}")
        }
    };
    let result = result_column(threshold);
    let Some(single) = threshold.single() else {
        return Err(Refusal::new(
            "kql",
            threshold.span,
            "a version 2 threshold",
            "not yet written for kql",
        ));
    };
    match single.aggregate {
        Aggregate::Count | Aggregate::Sum(_) | Aggregate::Min(_) | Aggregate::Max(_) => {
            lines.push(format!("| extend {}", extend.join(", ")));
            lines.push(format!(
                "| summarize {} by {}",
                with_first("Count = count()"),
                keys.join(", ")
            ));
        }
        Aggregate::Distinct(field) => {
            let column = writer.column(field)?;
            writer.needs_text(field, &column, "a `distinct` field")?;
            extend.push(format!(
                "tl_value = {}",
                distinct_value(writer, field, &column)
            ));
            lines.push(format!("| extend {}", extend.join(", ")));
            let step = if first.is_empty() {
                String::new()
            } else {
                format!("{first} ")
            };
            lines.push(format!(
                "| summarize {step}by {}, tl_value",
                keys.join(", ")
            ));
            lines.push(format!(
                "| summarize {} by {}",
                with_first("DistinctCount = countif(isnotempty(tl_value))"),
                keys.join(", ")
            ));
        }
    }
    // Only the windows that end in this run's slot: complete, and reported
    // by no other run (emit::schedule).
    let window = timespan(threshold.window);
    lines.push(format!(
        "| where tl_window + {window} > slot_end - {} and tl_window + {window} <= slot_end",
        timespan(every)
    ));
    lines.push(format!(
        "| where {result} {} {}",
        single.comparison.symbol(),
        kql_long(single.value)
    ));
    let mut project = vec!["TimeGenerated = tl_window".to_string()];
    project.extend(columns.iter().cloned());
    project.push(result.to_string());
    lines.push(format!("| project {}", project.join(", ")));
    Ok((lines, columns))
}

/// The test that a `by` value is there (missing, null and `""` leave the
/// event uncounted).
fn present(writer: &Kql, column: &str) -> String {
    if writer.cx.source.is_nullable(column) {
        format!("isnotnull({column})")
    } else {
        format!("isnotempty({column})")
    }
}

/// A group key: an `int` field by its number, everything else by its
/// case-folded text.
fn group_key(writer: &Kql, field: &Field, column: &str) -> String {
    let source = &writer.cx.source;
    if source.is_nullable(column) {
        return column.to_string();
    }
    if field.ty == FieldType::Int {
        return integer_key(column);
    }
    format!("tolower({column})")
}

/// A distinct value as text (`""` for a missing one, which adds no value).
fn distinct_value(writer: &Kql, field: &Field, column: &str) -> String {
    if writer.cx.source.is_nullable(column) {
        format!("tostring({column})")
    } else {
        group_key(writer, field, column)
    }
}
