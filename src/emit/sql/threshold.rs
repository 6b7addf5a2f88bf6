//! Threshold rules as SQL: the matching events keyed first (epoch-aligned
//! window start in seconds, each `by` value case-folded or, on an `int`
//! field, by its number), then one `GROUP BY` row per (window, group) with
//! the exact aggregate (`count(*)` or `count(DISTINCT ...)` of the
//! non-empty folded values), the first spelling of each `by` field by
//! `min_by` on the event time, and the comparison in `HAVING`. One row per
//! alert: `window_start`, the `by` columns under their ECS names, and
//! `count` or `distinct_count`.

use crate::emit::query::Refusal;
use crate::ir::{Aggregate, Comparison, Field, FieldType, Threshold};

use super::dialect::{Sql, integer, integer_text};

/// The result column of the aggregate (named as `tripline eval` names it).
pub fn result_column(threshold: &Threshold) -> &'static str {
    match threshold.single().map(|s| s.aggregate) {
        Some(Aggregate::Distinct(_)) => "distinct_count",
        _ => "count",
    }
}

/// The query's two last steps, reading the CTE `matched` (the events the
/// condition keeps).
pub fn steps(writer: &Sql, threshold: &Threshold) -> Result<String, Refusal> {
    // Version 2 thresholds (`having`, `step`) are refused before this.
    let Some(single) = threshold.single() else {
        return Err(Refusal::new(
            "sql",
            threshold.span,
            "a version 2 threshold",
            "not yet written for sql",
        ));
    };
    let flavor = writer.flavor;
    let time = flavor.ident("@timestamp");
    let micros = threshold.window.saturating_mul(1_000_000);
    let mut keyed = vec![
        format!("{time} AS tl_time"),
        format!(
            "CAST(floor({} / {micros}) AS BIGINT) * {} AS tl_window",
            flavor.epoch_micros(&time),
            threshold.window
        ),
    ];
    let mut present = vec![format!("{time} IS NOT NULL")];
    let mut group = vec!["tl_window".to_string()];
    let mut select = vec![format!(
        "{} AS window_start",
        flavor.from_epoch("tl_window")
    )];
    for (n, field) in threshold.by.iter().enumerate() {
        let column = writer.column(field)?;
        let n = n + 1;
        keyed.push(format!("{column} AS tl_by{n}"));
        keyed.push(format!("{} AS tl_key{n}", key(field, &column)));
        present.push(format!("{column} <> ''"));
        group.push(format!("tl_key{n}"));
        select.push(format!(
            "min_by(tl_by{n}, tl_time) AS {}",
            flavor.ident(&field.path)
        ));
    }
    let aggregate = match single.aggregate {
        // `single()` is only ever a count or a distinct count.
        Aggregate::Count | Aggregate::Sum(_) | Aggregate::Min(_) | Aggregate::Max(_) => {
            "count(*)".to_string()
        }
        Aggregate::Distinct(field) => {
            let column = writer.column(field)?;
            keyed.push(format!("{} AS tl_value", key(field, &column)));
            "count(DISTINCT CASE WHEN tl_value <> '' THEN tl_value END)".to_string()
        }
    };
    select.push(format!(
        "{aggregate} AS {}",
        flavor.ident(result_column(threshold))
    ));
    Ok(format!(
        "keyed AS (\n  SELECT\n    {}\n  FROM matched\n  WHERE {}\n)\nSELECT\n  {}\nFROM keyed\nGROUP BY {}\nHAVING {aggregate} {} {}",
        keyed.join(",\n    "),
        present.join("\n    AND "),
        select.join(",\n  "),
        group.join(", "),
        match single.comparison {
            Comparison::Eq => "=",
            other => other.symbol(),
        },
        single.value
    ))
}

/// A group key or distinct value: an `int` field's integer text by its
/// number, everything else by its text folded to lower case.
fn key(field: &Field, column: &str) -> String {
    if field.ty == FieldType::Int {
        return format!(
            "CASE WHEN {} AND {} IS NOT NULL THEN CAST({} AS STRING) ELSE lower({column}) END",
            integer_text(column),
            integer(column),
            integer(column)
        );
    }
    format!("lower({column})")
}
