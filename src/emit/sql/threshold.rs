//! Threshold rules as SQL: the matching events keyed first (epoch-aligned
//! window start in seconds, each `by` value case-folded or, on an `int`
//! field, by its number), then one `GROUP BY` row per (window, group) with
//! the exact aggregate (`count(*)` or `count(DISTINCT ...)` of the
//! non-empty folded values), the first spelling of each `by` field by
//! `min_by` on the event time, and the comparison in `HAVING`. One row per
//! alert: `window_start`, the `by` columns under their ECS names, and
//! `count` or `distinct_count`.

use crate::emit::query::Refusal;
use crate::ir::{Aggregate, Comparison, Field, FieldType, Having, Threshold};

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
    let Some(single) = threshold.single() else {
        return having_steps(writer, threshold);
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
/// number, `cased` text as it is, everything else folded to lower case.
pub(super) fn key(field: &Field, column: &str) -> String {
    if field.cased {
        return column.to_string();
    }
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

/// The labels of the aggregates a version 2 threshold reports (its result
/// columns, named as `tripline eval` names them: `count()`, `sum(f)`, ...).
pub fn readings(threshold: &Threshold) -> Vec<String> {
    if threshold.single().is_some() {
        return Vec::new();
    }
    let mut labels: Vec<String> = Vec::new();
    for aggregate in threshold.aggregates() {
        let label = label(aggregate);
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels
}

/// A version 2 threshold (`having` over any aggregates, hopping windows):
/// the events keyed as for version 1 (with each `sum`/`min`/`max` field's
/// integer, null for text that is none), each put in the W / H windows
/// that hold it when windows hop, one row per (window, group) with every
/// aggregate and whether the condition holds (`tl_hit`); tumbling windows
/// keep the rows that hold, hopping ones the rows that hold where the
/// group's window H earlier (`lag()`) did not or has no event.
fn having_steps(writer: &Sql, threshold: &Threshold) -> Result<String, Refusal> {
    let flavor = writer.flavor;
    let time = flavor.ident("@timestamp");
    let hop = threshold.step.unwrap_or(threshold.window).max(1);
    let micros = hop.saturating_mul(1_000_000);
    let slot = format!(
        "CAST(floor({} / {micros}) AS BIGINT) * {hop}",
        flavor.epoch_micros(&time)
    );
    let mut keyed = vec![format!("{time} AS tl_time")];
    let mut present = vec![format!("{time} IS NOT NULL")];
    let mut group = vec!["tl_window".to_string()];
    let mut keys = Vec::new();
    let mut select = vec![format!(
        "{} AS window_start",
        flavor.from_epoch("tl_window")
    )];
    let mut shown = vec!["window_start".to_string()];
    for (n, field) in threshold.by.iter().enumerate() {
        let column = writer.column(field)?;
        let n = n + 1;
        keyed.push(format!("{column} AS tl_by{n}"));
        keyed.push(format!("{} AS tl_key{n}", key(field, &column)));
        present.push(format!("{column} <> ''"));
        group.push(format!("tl_key{n}"));
        keys.push(format!("tl_key{n}"));
        let name = flavor.ident(&field.path);
        select.push(format!("min_by(tl_by{n}, tl_time) AS {name}"));
        shown.push(name);
    }
    // Each aggregate's expression over the keyed rows, by its label.
    let mut expressions: Vec<(String, String)> = Vec::new();
    let mut inputs: Vec<(String, String)> = Vec::new();
    for aggregate in threshold.aggregates() {
        let label = label(aggregate);
        if expressions.iter().any(|(l, _)| *l == label) {
            continue;
        }
        let expression = match aggregate {
            Aggregate::Count => "count(*)".to_string(),
            Aggregate::Distinct(field) => {
                let value = input(
                    &mut inputs,
                    &mut keyed,
                    "tl_value",
                    || Ok(key(field, &writer.column(field)?)),
                    &format!("d {} {}", field.path, field.cased),
                )?;
                format!("count(DISTINCT CASE WHEN {value} <> '' THEN {value} END)")
            }
            Aggregate::Sum(field) | Aggregate::Min(field) | Aggregate::Max(field) => {
                let number = input(
                    &mut inputs,
                    &mut keyed,
                    "tl_number",
                    || {
                        let column = writer.column(field)?;
                        Ok(format!(
                            "CASE WHEN {} THEN {} END",
                            integer_text(&column),
                            integer(&column)
                        ))
                    },
                    &format!("n {}", field.path),
                )?;
                match aggregate {
                    Aggregate::Sum(_) => {
                        format!("coalesce(sum(CAST({number} AS DECIMAL(38, 0))), 0)")
                    }
                    Aggregate::Min(_) => format!("min({number})"),
                    _ => format!("max({number})"),
                }
            }
        };
        let name = flavor.ident(&label);
        select.push(format!("{expression} AS {name}"));
        shown.push(name);
        expressions.push((label, expression));
    }
    match threshold.step {
        None => {
            let condition = having(&threshold.having, &expressions, Some("  "));
            keyed.insert(1, format!("{slot} AS tl_window"));
            Ok(format!(
                "keyed AS (\n  SELECT\n    {}\n  FROM matched\n  WHERE {}\n)\nSELECT\n  {}\nFROM keyed\nGROUP BY {}\nHAVING {condition}",
                keyed.join(",\n    "),
                present.join("\n    AND "),
                select.join(",\n  "),
                group.join(", "),
            ))
        }
        Some(step) => {
            let condition = having(&threshold.having, &expressions, Some("      "));
            keyed.insert(1, format!("{slot} AS tl_slot"));
            let first = threshold.window.saturating_sub(step);
            let windows = flavor.series(&format!("tl_slot - {first}"), "tl_slot", step);
            select.extend(keys.iter().cloned());
            select.push("tl_window".to_string());
            select.push(format!("{condition} AS tl_hit"));
            let over = if keys.is_empty() {
                "OVER (ORDER BY tl_window)".to_string()
            } else {
                format!("OVER (PARTITION BY {} ORDER BY tl_window)", keys.join(", "))
            };
            Ok(format!(
                "keyed AS (\n  SELECT\n    {}\n  FROM matched\n  WHERE {}\n),\n\
                 hopped AS (\n  SELECT *, {windows} AS tl_window\n  FROM keyed\n),\n\
                 grouped AS (\n  SELECT\n    {}\n  FROM hopped\n  GROUP BY {}\n),\n\
                 runs AS (\n  SELECT\n    *,\n    lag(tl_window) {over} AS tl_before,\n    lag(tl_hit) {over} AS tl_before_hit\n  FROM grouped\n)\n\
                 SELECT {}\nFROM runs\nWHERE tl_hit\n  AND NOT coalesce(tl_before = tl_window - {step} AND tl_before_hit, false)",
                keyed.join(",\n    "),
                present.join("\n    AND "),
                select.join(",\n    "),
                group.join(", "),
                shown.join(", "),
            ))
        }
    }
}

/// An aggregate's result column: as written (`count()`, `sum(f)`), with
/// `distinct(cased f)` told apart from `distinct(f)`.
fn label(aggregate: &Aggregate) -> String {
    match aggregate {
        Aggregate::Distinct(f) if f.cased => format!("distinct(cased {})", f.path),
        other => other.written(),
    }
}

/// The keyed column holding an aggregate's input, added once per `id`.
fn input(
    inputs: &mut Vec<(String, String)>,
    keyed: &mut Vec<String>,
    prefix: &str,
    expression: impl FnOnce() -> Result<String, Refusal>,
    id: &str,
) -> Result<String, Refusal> {
    if let Some((_, name)) = inputs.iter().find(|(i, _)| i == id) {
        return Ok(name.clone());
    }
    let name = format!("{prefix}{}", inputs.len() + 1);
    keyed.push(format!("{} AS {name}", expression()?));
    inputs.push((id.to_string(), name.clone()));
    Ok(name)
}

/// A `having` condition over the aggregates' expressions: true or false
/// for every group (`min`/`max` of no integer compares false, so `NOT`
/// negates exactly).
/// At the top (`top`: the indentation of its continuation lines) one
/// part per line, inside another combination in parentheses.
fn having(condition: &Having, expressions: &[(String, String)], top: Option<&str>) -> String {
    let join = |parts: &[Having], glue: &str| {
        let parts: Vec<String> = parts.iter().map(|p| having(p, expressions, None)).collect();
        match top {
            Some(indent) => parts.join(&format!("\n{indent}{glue} ")),
            None => format!("({})", parts.join(&format!(" {glue} "))),
        }
    };
    match condition {
        Having::And(parts) => join(parts, "AND"),
        Having::Or(parts) => join(parts, "OR"),
        Having::Not(inner) => format!("NOT {}", having_part(inner, expressions)),
        Having::Compare {
            aggregate,
            comparison,
            value,
            ..
        } => {
            let label = label(aggregate);
            let expression = expressions
                .iter()
                .find(|(l, _)| *l == label)
                .map_or("NULL", |(_, e)| e.as_str());
            let symbol = match comparison {
                Comparison::Eq => "=",
                other => other.symbol(),
            };
            let test = format!("{expression} {symbol} {value}");
            match aggregate {
                Aggregate::Min(_) | Aggregate::Max(_) => format!("coalesce({test}, false)"),
                _ => test,
            }
        }
    }
}

/// A `having` operand of `NOT`, grouped unless it is a comparison.
fn having_part(condition: &Having, expressions: &[(String, String)]) -> String {
    match condition {
        Having::Compare { .. } => format!("({})", having(condition, expressions, None)),
        _ => having(condition, expressions, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::FieldType;
    use crate::syntax::Span;

    fn field(path: &str) -> Field {
        Field {
            path: path.to_string(),
            ty: FieldType::Int,
            span: Span::default(),
            cased: false,
        }
    }

    fn compare(aggregate: Aggregate, comparison: Comparison, value: i64) -> Having {
        Having::Compare {
            aggregate,
            comparison,
            value,
            span: Span::default(),
        }
    }

    #[test]
    fn having_guards_min_and_max_of_none_and_groups_inner_parts() {
        let min = Aggregate::Min(field("p"));
        let condition = Having::Or(vec![
            Having::And(vec![
                compare(min.clone(), Comparison::Ge, 500),
                compare(Aggregate::Count, Comparison::Eq, 2),
            ]),
            Having::Not(Box::new(compare(Aggregate::Count, Comparison::Lt, 10))),
        ]);
        let expressions = vec![
            (label(&min), "min(n)".to_string()),
            ("count()".to_string(), "count(*)".to_string()),
        ];
        assert_eq!(
            having(&condition, &expressions, Some("  ")),
            "(coalesce(min(n) >= 500, false) AND count(*) = 2)\n  OR NOT (count(*) < 10)"
        );
    }

    #[test]
    fn version_1_thresholds_have_no_readings() {
        let mut threshold = Threshold {
            by: Vec::new(),
            window: 60,
            step: None,
            step_span: Span::default(),
            having: compare(Aggregate::Count, Comparison::Gt, 1),
            span: Span::default(),
        };
        assert!(readings(&threshold).is_empty());
        threshold.step = Some(10);
        assert_eq!(readings(&threshold), ["count()"]);
    }
}
