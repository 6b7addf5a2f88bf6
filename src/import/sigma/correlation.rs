//! Sigma correlation rules to thresholds: `event_count` is `count()`,
//! `value_count` is `distinct(field)`, `group-by` is `by`, `timespan` the
//! window and `condition` the comparison. `temporal` and
//! `temporal_ordered` are sequences, which are not imported yet.

use super::cond::Cond;
use super::draft::ThresholdDraft;
use super::mapping::SourceNames;
use super::refusal::{Refusal, Result};
use super::yaml::{Node, NodeKind, Resolved};
use crate::syntax::ast::Comparison;

/// The base rules a correlation counts, by `name` or `id`.
pub fn rule_refs(doc: &Node) -> Result<Vec<String>> {
    let correlation = doc.get("correlation").unwrap_or(doc);
    match correlation.get("rules").map(|n| (&n.kind, n)) {
        Some((NodeKind::Seq(items), _)) => Ok(items
            .iter()
            .filter_map(|i| i.text().map(str::to_string))
            .collect()),
        Some((NodeKind::Scalar(_), node)) => {
            Ok(node.text().map(str::to_string).into_iter().collect())
        }
        _ => Err(Refusal::new(
            correlation.pos,
            "a correlation without `rules`",
            "name the rule it counts",
        )),
    }
}

/// The threshold a correlation document says, with fields of `names`.
pub fn threshold(doc: &Node, names: &SourceNames) -> Result<ThresholdDraft> {
    let correlation = doc.get("correlation").ok_or_else(|| {
        Refusal::new(doc.pos, "a correlation document without `correlation`", "-")
    })?;
    let kind_node = correlation.get("type").ok_or_else(|| {
        Refusal::new(
            correlation.pos,
            "a correlation without `type`",
            "say its type",
        )
    })?;
    let kind = kind_node.text().unwrap_or_default();
    if matches!(kind, "temporal" | "temporal_ordered") {
        return Err(Refusal::new(
            kind_node.pos,
            format!("correlation type `{kind}`"),
            "sequences are not imported yet (they are being added to tripline)",
        ));
    }
    let field = |node: &Node| -> Result<String> {
        let text = node.text().unwrap_or_default();
        names
            .field(text)
            .map(|(f, _)| f.to_string())
            .ok_or_else(|| {
                Refusal::new(
                    node.pos,
                    format!("field `{text}`"),
                    format!(
                        "not a field of source `{}` in the Sigma mapping",
                        names.source
                    ),
                )
            })
    };
    let condition = correlation.get("condition").ok_or_else(|| {
        Refusal::new(
            correlation.pos,
            "a correlation without `condition`",
            "add one",
        )
    })?;
    let distinct = match kind {
        "event_count" => None,
        "value_count" => Some(field(condition.get("field").ok_or_else(|| {
            Refusal::new(
                condition.pos,
                "`value_count` without `field`",
                "name the counted field",
            )
        })?)?),
        "temporal" | "temporal_ordered" => {
            return Err(Refusal::new(
                kind_node.pos,
                format!("correlation type `{kind}`"),
                "sequences are not imported yet",
            ));
        }
        other => {
            return Err(Refusal::new(
                kind_node.pos,
                format!("correlation type `{other}`"),
                "tripline imports `event_count` and `value_count`",
            ));
        }
    };
    let by = match correlation.get("group-by").map(|n| &n.kind) {
        None => Vec::new(),
        Some(NodeKind::Seq(items)) => items.iter().map(field).collect::<Result<Vec<_>>>()?,
        Some(_) => vec![field(correlation.get("group-by").unwrap_or(correlation))?],
    };
    let timespan = correlation.get("timespan").ok_or_else(|| {
        Refusal::new(
            correlation.pos,
            "a correlation without `timespan`",
            "give the window",
        )
    })?;
    let seconds = duration(timespan.text().unwrap_or_default()).ok_or_else(|| {
        Refusal::new(
            timespan.pos,
            format!("timespan `{}`", timespan.text().unwrap_or_default()),
            "write a number and s, m, h or d",
        )
    })?;
    let NodeKind::Map(comparisons) = &condition.kind else {
        return Err(Refusal::new(
            condition.pos,
            "a correlation `condition` that is not a map",
            "write `gte: N`",
        ));
    };
    let comparisons: Vec<_> = comparisons
        .iter()
        .filter(|(k, _)| k.text != "field")
        .collect();
    let [(operator, value)] = comparisons.as_slice() else {
        return Err(Refusal::new(
            condition.pos,
            "a correlation condition with several comparisons",
            "tripline's Sigma import reads one comparison",
        ));
    };
    let comparison = match operator.text.as_str() {
        "gt" => Comparison::Gt,
        "gte" => Comparison::Ge,
        "eq" => Comparison::Eq,
        "lt" => Comparison::Lt,
        "lte" => Comparison::Le,
        other => {
            return Err(Refusal::new(
                operator.pos,
                format!("`{other}` in a correlation condition"),
                "gt, gte, eq, lt or lte",
            ));
        }
    };
    let Some(Resolved::Int(value)) = value.resolved() else {
        return Err(Refusal::new(
            value.pos,
            "a correlation threshold that is not an integer",
            "write an integer",
        ));
    };
    Ok(ThresholdDraft {
        by,
        distinct,
        seconds,
        comparison,
        value,
    })
}

fn duration(text: &str) -> Option<u64> {
    let unit_at = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(unit_at);
    let n: u64 = digits.parse().ok().filter(|n| *n > 0)?;
    let size = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(size)
}

/// The base rule's formula without the `exists()` of the `by` and
/// `distinct` fields that tripline's Sigma target adds to it (the
/// threshold itself leaves out events without them).
pub fn without_counted_exists(cond: Cond, threshold: &ThresholdDraft) -> Cond {
    let counted: Vec<&String> = threshold
        .by
        .iter()
        .chain(threshold.distinct.as_ref())
        .collect();
    match cond {
        Cond::And(items) => {
            let kept: Vec<Cond> = items
                .iter()
                .filter(|c| !matches!(c, Cond::Exists(f) if counted.contains(&f)))
                .cloned()
                .collect();
            match kept.len() {
                0 => Cond::And(items),
                1 => kept.into_iter().next().unwrap_or(Cond::And(items)),
                _ => Cond::And(kept),
            }
        }
        other => other,
    }
}
