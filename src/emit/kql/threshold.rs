//! Threshold rules as KQL: epoch-aligned windows (`bin_at`), group keys and
//! distinct values computed first (case-folded text; an `int` field by its
//! number), exact distinct counts in two `summarize` steps (never
//! `dcount()`, an estimate), the first spelling by `arg_min`, and one row
//! per alert: `TimeGenerated` (the window's start), the `by` columns, and
//! `Count` or `DistinctCount`. No regex: an `int` key's text is checked
//! as `number` does.

use crate::emit::query::Refusal;
use crate::ir::{Aggregate, CONTEXT_SAMPLE, Field, FieldType, Threshold};

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

/// The stages after a threshold rule's filter and what its rows hold.
pub struct Tail {
    pub lines: Vec<String>,
    /// The `by` columns.
    pub by: Vec<String>,
    /// The columns an analyst sees beside them: the result, `FirstTime`,
    /// `LastTime` and each context column (a sorted sample of its values),
    /// with the taxonomy field of each context column.
    pub details: Vec<(Option<String>, String)>,
}

/// The pipeline lines after the rule's filter; `context` are the fields
/// whose values each alert samples.
pub fn lines(
    writer: &mut Kql,
    threshold: &Threshold,
    context: &[&Field],
    every: u64,
) -> Result<Tail, Refusal> {
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
    // The alert's first and last event, and each context column's distinct
    // non-empty values as text (sorted and cut to the sample at the end).
    let mut samples: Vec<(String, String)> = Vec::new();
    let mut paths: Vec<String> = Vec::new();
    for field in context {
        let column = writer.column(field)?;
        if !samples.iter().any(|(c, _)| *c == column) && !columns.contains(&column) {
            let set = format!("make_set_if(tostring({column}), isnotempty({column}))");
            samples.push((column, set));
            paths.push(field.path.clone());
        }
    }
    let context_of = |first_pass: bool| -> String {
        let mut parts = vec![if first_pass {
            "FirstTime = min(TimeGenerated), LastTime = max(TimeGenerated)".to_string()
        } else {
            "FirstTime = min(FirstTime), LastTime = max(LastTime)".to_string()
        }];
        for (column, set) in &samples {
            if first_pass {
                parts.push(format!("{column} = {set}"));
            } else {
                parts.push(format!("{column} = make_set({column})"));
            }
        }
        parts.join(", ")
    };
    match single.aggregate {
        Aggregate::Count | Aggregate::Sum(_) | Aggregate::Min(_) | Aggregate::Max(_) => {
            lines.push(format!("| extend {}", extend.join(", ")));
            lines.push(format!(
                "| summarize {}, {} by {}",
                with_first("Count = count()"),
                context_of(true),
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
                format!("{first}, ")
            };
            lines.push(format!(
                "| summarize {step}{} by {}, tl_value",
                context_of(true),
                keys.join(", ")
            ));
            lines.push(format!(
                "| summarize {}, {} by {}",
                with_first("DistinctCount = countif(isnotempty(tl_value))"),
                context_of(false),
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
    project.push("FirstTime, LastTime".to_string());
    let mut details: Vec<(Option<String>, String)> = [result, "FirstTime", "LastTime"]
        .iter()
        .map(|c| (None, c.to_string()))
        .collect();
    for ((column, _), path) in samples.iter().zip(paths) {
        project.push(format!(
            "{column} = array_slice(array_sort_asc({column}), 0, {})",
            CONTEXT_SAMPLE - 1
        ));
        details.push((Some(path), column.clone()));
    }
    lines.push(format!("| project {}", project.join(", ")));
    Ok(Tail {
        lines,
        by: columns,
        details,
    })
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
