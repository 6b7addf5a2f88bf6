//! Sigma correlation rules to thresholds and sequences: `event_count` is
//! `count()`, `value_count` is `distinct(field)`, `group-by` is `by`,
//! `timespan` the window and `condition` the comparison;
//! `temporal_ordered` is a sequence of its rules' detections in the order
//! listed, within `timespan`. `temporal` (any order) has no single
//! sequence and is refused.

use super::cond::Cond;
use super::draft::{SequenceFrame, ThresholdDraft};
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

/// The correlation's `type`, and the map that holds it.
fn kind(doc: &Node) -> Result<(&Node, &Node)> {
    let correlation = doc.get("correlation").ok_or_else(|| {
        Refusal::new(doc.pos, "a correlation document without `correlation`", "-")
    })?;
    let kind = correlation.get("type").ok_or_else(|| {
        Refusal::new(
            correlation.pos,
            "a correlation without `type`",
            "say its type",
        )
    })?;
    Ok((correlation, kind))
}

/// Refuses the correlation types tripline does not import.
pub fn known_kind(doc: &Node) -> Result<()> {
    let (_, kind) = kind(doc)?;
    match kind.text().unwrap_or_default() {
        "event_count" | "value_count" | "temporal_ordered" => Ok(()),
        "temporal" => Err(Refusal::new(
            kind.pos,
            "correlation type `temporal`",
            "its rules may match in any order, and a tripline sequence has one order: write `temporal_ordered` when the order is known",
        )),
        other => Err(Refusal::new(
            kind.pos,
            format!("correlation type `{other}`"),
            "tripline imports `event_count`, `value_count` and `temporal_ordered`",
        )),
    }
}

/// Whether the correlation is a sequence (`temporal_ordered`).
pub fn is_sequence(doc: &Node) -> bool {
    kind(doc).is_ok_and(|(_, kind)| kind.text() == Some("temporal_ordered"))
}

/// A field of the correlation, as the taxonomy names it.
fn field(node: &Node, names: &SourceNames) -> Result<String> {
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
}

fn group_by(correlation: &Node, names: &SourceNames) -> Result<Vec<String>> {
    match correlation.get("group-by") {
        None => Ok(Vec::new()),
        Some(Node {
            kind: NodeKind::Seq(items),
            ..
        }) => items.iter().map(|n| field(n, names)).collect(),
        Some(one) => Ok(vec![field(one, names)?]),
    }
}

fn timespan(correlation: &Node) -> Result<u64> {
    let timespan = correlation.get("timespan").ok_or_else(|| {
        Refusal::new(
            correlation.pos,
            "a correlation without `timespan`",
            "give the window",
        )
    })?;
    duration(timespan.text().unwrap_or_default()).ok_or_else(|| {
        Refusal::new(
            timespan.pos,
            format!("timespan `{}`", timespan.text().unwrap_or_default()),
            "write a number and s, m, h or d",
        )
    })
}

/// The grouping and span of a `temporal_ordered` correlation over `rules`
/// rules. Its `condition`, when given, must ask for every rule (`gte: N`
/// with N the number of rules): fewer would be any N of them, in any
/// order, which one sequence cannot say.
pub fn sequence(doc: &Node, rules: usize, names: &SourceNames) -> Result<SequenceFrame> {
    let (correlation, _) = kind(doc)?;
    if let Some(aliases) = correlation.get("aliases") {
        return Err(Refusal::new(
            aliases.pos,
            "`aliases` in a correlation",
            "tripline's sequence groups every step by the same fields of one source; name them in `group-by`",
        ));
    }
    if let Some(condition) = correlation.get("condition") {
        let every_rule = match &condition.kind {
            NodeKind::Map(entries) => matches!(
                entries.as_slice(),
                [(op, value)] if op.text == "gte"
                    && value.resolved() == Some(Resolved::Int(rules as i64))
            ),
            _ => false,
        };
        if !every_rule {
            return Err(Refusal::new(
                condition.pos,
                "a `temporal_ordered` condition other than all of its rules",
                format!(
                    "a sequence needs every step; leave `condition` out or write `gte: {rules}`"
                ),
            ));
        }
    }
    Ok(SequenceFrame {
        by: group_by(correlation, names)?,
        seconds: timespan(correlation)?,
    })
}

/// The threshold a correlation document says, with fields of `names`.
pub fn threshold(doc: &Node, names: &SourceNames) -> Result<ThresholdDraft> {
    let (correlation, kind_node) = kind(doc)?;
    let condition = correlation.get("condition").ok_or_else(|| {
        Refusal::new(
            correlation.pos,
            "a correlation without `condition`",
            "add one",
        )
    })?;
    let distinct = match kind_node.text().unwrap_or_default() {
        "event_count" => None,
        "value_count" => Some(field(
            condition.get("field").ok_or_else(|| {
                Refusal::new(
                    condition.pos,
                    "`value_count` without `field`",
                    "name the counted field",
                )
            })?,
            names,
        )?),
        _ => {
            known_kind(doc)?;
            return Err(Refusal::new(
                kind_node.pos,
                "a `temporal_ordered` correlation read as a threshold",
                "an import bug",
            ));
        }
    };
    let by = group_by(correlation, names)?;
    let seconds = timespan(correlation)?;
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
