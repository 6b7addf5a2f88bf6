//! Threshold rules as KQL: epoch-aligned windows (`bin_at`), group keys and
//! distinct values computed first (case-folded text; an `int` field by its
//! number), exact distinct counts in two `summarize` steps (never
//! `dcount()`, an estimate), the first spelling by `arg_min`, and one row
//! per alert: `TimeGenerated` (the window's start), the `by` columns, and
//! `Count` or `DistinctCount`. No regex: an `int` key's text is checked
//! as `number` does.

use crate::emit::query::Refusal;
use crate::ir::{Aggregate, CONTEXT_SAMPLE, Field, FieldType, Having, Threshold};

use super::dialect::Kql;
use super::literal::{kql_long, timespan};
use super::number::{integer_key, integer_text};

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
    // Hopping: each event's slot of H, then the W / H windows holding it.
    let mut extend = vec![match threshold.step {
        None => format!(
            "tl_window = bin_at(TimeGenerated, {}, datetime(1970-01-01))",
            timespan(threshold.window)
        ),
        Some(step) => format!(
            "tl_slot = bin_at(TimeGenerated, {}, datetime(1970-01-01))",
            timespan(step)
        ),
    }];
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
    let Some(single) = threshold.single() else {
        if let Some(step) = threshold.step {
            hops_fit(threshold, step)?;
        }
        let (aggregates, results, condition) = having_parts(writer, threshold, &mut extend)?;
        lines.push(format!("| extend {}", extend.join(", ")));
        if let Some(step) = threshold.step {
            lines.push(format!(
                "| mv-expand tl_window = range(tl_slot - {}, tl_slot, {}) to typeof(datetime)",
                timespan(threshold.window - step),
                timespan(step)
            ));
        }
        lines.push(format!(
            "| summarize {}, {} by {}",
            with_first(&aggregates.join(", ")),
            context_of(true),
            keys.join(", ")
        ));
        let window = timespan(threshold.window);
        lines.push(format!(
            "| where tl_window + {window} > slot_end - {} and tl_window + {window} <= slot_end",
            timespan(every)
        ));
        let Some(step) = threshold.step else {
            lines.push(format!("| where {condition}"));
            return Ok(finish(lines, columns, &results, samples, paths));
        };
        // Hopping: the windows ending in the slot and those H before them
        // (all read whole), each marked when it satisfies the condition; a
        // window ending in the slot alerts when it satisfies and the
        // group's window H earlier does not (no counted event, or not
        // satisfying): the first window of a run.
        let (window, step, every) = (timespan(threshold.window), timespan(step), timespan(every));
        let last = lines.len() - 1;
        lines[last] = format!(
            "| where tl_window + {window} > slot_end - {every} - {step} and tl_window + {window} <= slot_end"
        );
        let flat = condition.replace("\n    ", " ");
        lines.push(format!("| extend tl_hit = {flat};"));
        lines.push("tl_windows".to_string());
        lines.push(format!(
            "| where tl_hit and tl_window + {window} > slot_end - {every}"
        ));
        let mut on = vec!["tl_window".to_string()];
        on.extend(keys.iter().skip(1).cloned());
        lines.push(format!(
            "| join kind=leftanti (tl_windows | where tl_hit | project tl_window = tl_window + {step}{}) on {}",
            keys.iter()
                .skip(1)
                .map(|k| format!(", {k}"))
                .collect::<String>(),
            on.join(", ")
        ));
        return Ok(finish(lines, columns, &results, samples, paths));
    };
    let result = result_column(threshold);
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
    Ok(finish(
        lines,
        columns,
        &[result.to_string()],
        samples,
        paths,
    ))
}

/// `mv-expand` makes at most 128 rows of one row unless told otherwise
/// (kusto:mv-expand-operator): a hopping window holding more than 128 hops
/// is refused rather than cut.
fn hops_fit(threshold: &Threshold, step: u64) -> Result<(), Refusal> {
    let hops = threshold.window / step.max(1);
    if hops <= MAX_HOPS {
        return Ok(());
    }
    Err(Refusal::new(
        "kql",
        threshold.step_span,
        format!("hopping windows of {hops} steps (`over W step H` with W / H over {MAX_HOPS})"),
        format!(
            "each event is expanded into its W / H windows with `mv-expand`, which makes at most {MAX_HOPS} rows of one; take a longer step"
        ),
    ))
}

/// The most rows `mv-expand` makes of one row by default.
const MAX_HOPS: u64 = 128;

/// The last `project`: the window's start, the `by` columns, the results,
/// the first and last time and each context sample.
fn finish(
    mut lines: Vec<String>,
    columns: Vec<String>,
    results: &[String],
    samples: Vec<(String, String)>,
    paths: Vec<String>,
) -> Tail {
    let mut project = vec!["TimeGenerated = tl_window".to_string()];
    project.extend(columns.iter().cloned());
    project.push(results.join(", "));
    project.push("FirstTime, LastTime".to_string());
    let mut details: Vec<(Option<String>, String)> = results
        .iter()
        .map(String::as_str)
        .chain(["FirstTime", "LastTime"])
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
    Tail {
        lines,
        by: columns,
        details,
    }
}

/// A version 2 `having`: each aggregate as a `summarize` column (its input
/// added to `extend`), the result columns, and the condition over them.
/// `distinct` counts exactly with `count_distinctif()` on the non-empty
/// keys; `sum` adds the integers (0 for text that is none, so a group
/// without one sums to 0); `min`/`max` of no integer are null, and each
/// comparison of them is guarded by `isnotnull()`, so `not()` negates
/// exactly.
fn having_parts(
    writer: &mut Kql,
    threshold: &Threshold,
    extend: &mut Vec<String>,
) -> Result<(Vec<String>, Vec<String>, String), Refusal> {
    let mut aggregates = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    let mut inputs = 0;
    for aggregate in threshold.aggregates() {
        let label = label(aggregate);
        if names.iter().any(|(l, _)| *l == label) {
            continue;
        }
        let (name, expression) = match aggregate {
            Aggregate::Count => ("Count".to_string(), "count()".to_string()),
            Aggregate::Distinct(field) => {
                let column = writer.column(field)?;
                writer.needs_text(field, &column, "a `distinct` field")?;
                inputs += 1;
                let input = format!("tl_value{inputs}");
                extend.push(format!(
                    "{input} = {}",
                    distinct_value(writer, field, &column)
                ));
                let cased = if field.cased { "Cased" } else { "" };
                (
                    format!("Distinct{column}{cased}"),
                    format!("count_distinctif({input}, isnotempty({input}))"),
                )
            }
            Aggregate::Sum(field) | Aggregate::Min(field) | Aggregate::Max(field) => {
                let column = writer.column(field)?;
                let sum = matches!(aggregate, Aggregate::Sum(_));
                inputs += 1;
                let input = format!("tl_number{inputs}");
                extend.push(format!("{input} = {}", number(writer, &column, sum)));
                let (prefix, expression) = match aggregate {
                    // A sum of `long` wraps past 2^63; a `decimal` (34
                    // digits) holds any sum of fewer than 10^15 of them.
                    Aggregate::Sum(_) => ("Sum", format!("sum(todecimal({input}))")),
                    Aggregate::Min(_) => ("Min", format!("min({input})")),
                    _ => ("Max", format!("max({input})")),
                };
                (format!("{prefix}{column}"), expression)
            }
        };
        aggregates.push(format!("{name} = {expression}"));
        names.push((label, name));
    }
    let results = names.iter().map(|(_, n)| n.clone()).collect();
    let condition = condition(&threshold.having, &names, true);
    Ok((aggregates, results, condition))
}

/// An aggregate's identity: as written, `distinct(cased f)` apart.
fn label(aggregate: &Aggregate) -> String {
    match aggregate {
        Aggregate::Distinct(f) if f.cased => format!("distinct(cased {})", f.path),
        other => other.written(),
    }
}

/// The integer of a `sum`/`min`/`max` field: the numeric column as it is
/// (null where the log holds no integer), a string column's `-?[0-9]+`
/// text as a long; for `sum`, 0 instead of null.
fn number(writer: &Kql, column: &str, sum: bool) -> String {
    let none = if sum { "0" } else { "long(null)" };
    if writer.cx.source.is_numeric(column) {
        return if sum {
            format!("coalesce({column}, 0)")
        } else {
            column.to_string()
        };
    }
    format!(
        "iff({} and isnotnull(tolong({column})), tolong({column}), {none})",
        integer_text(column)
    )
}

/// The `having` condition over the result columns: at the top one part
/// per line, inside `not` or another combination in parentheses.
fn condition(having: &Having, names: &[(String, String)], top: bool) -> String {
    let join = |parts: &[Having], glue: &str| {
        let parts: Vec<String> = parts.iter().map(|p| condition(p, names, false)).collect();
        if top {
            parts.join(&format!("\n    {glue} "))
        } else {
            format!("({})", parts.join(&format!(" {glue} ")))
        }
    };
    match having {
        Having::And(parts) => join(parts, "and"),
        Having::Or(parts) => join(parts, "or"),
        Having::Not(inner) => format!(
            "not({})",
            condition(inner, names, true).replace("\n    ", " ")
        ),
        Having::Compare {
            aggregate,
            comparison,
            value,
            ..
        } => {
            let label = label(aggregate);
            let name = names
                .iter()
                .find(|(l, _)| *l == label)
                .map_or("Count", |(_, n)| n.as_str());
            let test = format!("{name} {} {}", comparison.symbol(), kql_long(*value));
            match aggregate {
                Aggregate::Min(_) | Aggregate::Max(_) if !top => {
                    format!("(isnotnull({name}) and {test})")
                }
                Aggregate::Min(_) | Aggregate::Max(_) => format!("isnotnull({name}) and {test}"),
                _ => test,
            }
        }
    }
}

/// The test that a `by` value is there (missing, null and `""` leave the
/// event uncounted).
pub(super) fn present(writer: &Kql, column: &str) -> String {
    if writer.cx.source.is_nullable(column) {
        format!("isnotnull({column})")
    } else {
        format!("isnotempty({column})")
    }
}

/// A group key: an `int` field by its number, everything else by its
/// case-folded text.
pub(super) fn group_key(writer: &Kql, field: &Field, column: &str) -> String {
    let source = &writer.cx.source;
    if source.is_nullable(column) {
        return column.to_string();
    }
    if field.ty == FieldType::Int {
        return integer_key(column);
    }
    if field.cased {
        return column.to_string();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Comparison;
    use crate::syntax::Span;

    fn compare(aggregate: Aggregate, comparison: Comparison, value: i64) -> Having {
        Having::Compare {
            aggregate,
            comparison,
            value,
            span: Span::default(),
        }
    }

    #[test]
    fn having_guards_min_and_max_of_none_so_not_negates_exactly() {
        let min = Aggregate::Min(Field {
            path: "http.response.status_code".to_string(),
            ty: FieldType::Int,
            span: Span::default(),
            cased: false,
        });
        let names = vec![
            (label(&min), "MinHttpStatusCode".to_string()),
            ("count()".to_string(), "Count".to_string()),
        ];
        let having = Having::Or(vec![
            Having::And(vec![
                compare(min.clone(), Comparison::Ge, 500),
                compare(Aggregate::Count, Comparison::Eq, 2),
            ]),
            Having::Not(Box::new(compare(min, Comparison::Lt, 10))),
        ]);
        assert_eq!(
            condition(&having, &names, true),
            "((isnotnull(MinHttpStatusCode) and MinHttpStatusCode >= 500) and Count == 2)\n    \
             or not(isnotnull(MinHttpStatusCode) and MinHttpStatusCode < 10)"
        );
    }

    #[test]
    fn hopping_windows_fit_mv_expand_or_are_refused() {
        let threshold = |window, step| Threshold {
            by: Vec::new(),
            window,
            step: Some(step),
            step_span: Span::default(),
            having: compare(Aggregate::Count, Comparison::Gt, 1),
            span: Span::default(),
        };
        assert!(hops_fit(&threshold(7_680, 60), 60).is_ok());
        let refused = hops_fit(&threshold(7_740, 60), 60).unwrap_err();
        assert!(
            refused.construct.contains("129 steps"),
            "{}",
            refused.construct
        );
    }

    #[test]
    fn exact_distinct_counts_tell_cased_text_apart() {
        let field = |cased| Field {
            path: "user.name".to_string(),
            ty: FieldType::String,
            span: Span::default(),
            cased,
        };
        assert_eq!(
            label(&Aggregate::Distinct(field(false))),
            "distinct(user.name)"
        );
        assert_eq!(
            label(&Aggregate::Distinct(field(true))),
            "distinct(cased user.name)"
        );
    }
}
