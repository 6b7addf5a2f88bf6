//! A rule's logic in plain words for analysts: the `where` condition with
//! every list written out, and the threshold as a sentence. Generated from
//! the IR, so the runbook never drifts from what the rule does.

use super::markdown;
use crate::ir::{
    Aggregate, Comparison, Condition, Field, FirstSeen, Having, Literal, Operation, Ordering,
    Predicate, Sequence, TextOp, Threshold,
};

/// "`dns.question.type` is one of "AXFR" or "IXFR", and `source.ip` is not
/// inside 10.0.0.0/8 or 192.168.0.0/16".
pub fn condition(condition: &Condition) -> String {
    match condition {
        Condition::And(parts) => join(parts, ", and "),
        Condition::Or(parts) => format!("either {}", join(parts, ", or ")),
        Condition::Not(inner) => negated(inner),
        Condition::Exists(field) => format!("`{}` is present", field.path),
        Condition::Predicate(predicate) => self::predicate(predicate, false),
    }
}

fn join(parts: &[Condition], separator: &str) -> String {
    let words: Vec<String> = parts
        .iter()
        .map(|part| match part {
            Condition::And(_) | Condition::Or(_) => format!("({})", condition(part)),
            _ => condition(part),
        })
        .collect();
    words.join(separator)
}

fn negated(inner: &Condition) -> String {
    match inner {
        Condition::Exists(field) => format!("`{}` is absent or empty", field.path),
        Condition::Predicate(predicate) => self::predicate(predicate, true),
        Condition::Not(twice) => condition(twice),
        Condition::And(_) | Condition::Or(_) => format!("not ({})", condition(inner)),
    }
}

/// One predicate; `negated` words its `not` (true also when the field is missing).
fn predicate(predicate: &Predicate, negated: bool) -> String {
    let words = predicate_words(predicate, negated);
    if predicate.field.cased {
        format!("{words} (exact in case)")
    } else {
        words
    }
}

fn predicate_words(predicate: &Predicate, negated: bool) -> String {
    let field = if predicate.length {
        format!("the length of `{}`", predicate.field.path)
    } else {
        format!("`{}`", predicate.field.path)
    };
    let not = if negated { " not" } else { "" };
    match &predicate.operation {
        Operation::Equals { values, .. } if values.len() == 1 => {
            format!("{field} is{not} {}", literal(&values[0]))
        }
        Operation::Equals { values, .. } => {
            format!(
                "{field} is{not} one of {}",
                any_of(values.iter().map(literal))
            )
        }
        Operation::Compare { op, value } => {
            let word = match (op, negated) {
                (Ordering::Lt, false) | (Ordering::Ge, true) => "less than",
                (Ordering::Le, false) | (Ordering::Gt, true) => "at most",
                (Ordering::Gt, false) | (Ordering::Le, true) => "greater than",
                (Ordering::Ge, false) | (Ordering::Lt, true) => "at least",
            };
            let missing = if negated {
                " (or is missing or not a number)"
            } else {
                ""
            };
            format!("{field} is {word} {value}{missing}")
        }
        Operation::Text {
            op, values, all, ..
        } => {
            let (positive, negative) = match op {
                TextOp::Contains => ("contains", "does not contain"),
                TextOp::StartsWith => ("starts with", "does not start with"),
                TextOp::EndsWith => ("ends with", "does not end with"),
                TextOp::Like => ("matches the pattern", "does not match the pattern"),
            };
            let verb = if negated { negative } else { positive };
            let quoted = values.iter().map(|v| quote(v));
            match (values.len(), all) {
                (1, _) => format!("{field} {verb} {}", quote(&values[0])),
                (_, true) => format!("{field} {verb} all of {}", all_of(quoted)),
                (_, false) => format!("{field} {verb} any of {}", any_of(quoted)),
            }
        }
        Operation::Regex {
            pattern,
            case_insensitive,
        } => {
            let case = if *case_insensitive {
                "ignoring case"
            } else {
                "case-sensitively"
            };
            let verb = if negated { "does not match" } else { "matches" };
            format!(
                "{field} {verb} the regular expression {} ({case})",
                markdown::code(pattern)
            )
        }
        Operation::Cidr { blocks, .. } => {
            let verb = if negated {
                "is not an address inside"
            } else {
                "is an address inside"
            };
            format!(
                "{field} {verb} {}",
                any_of(blocks.iter().map(ToString::to_string))
            )
        }
    }
}

fn literal(literal: &Literal) -> String {
    match literal {
        Literal::String(text) => quote(text),
        Literal::Int(n) => n.to_string(),
    }
}

/// A value as an analyst would type it: in double quotes, escapes visible,
/// as Markdown text.
fn quote(text: &str) -> String {
    format!("\"{}\"", markdown::text(&text.escape_debug().to_string()))
}

fn any_of(items: impl Iterator<Item = String>) -> String {
    listed(items, "or")
}

fn all_of(items: impl Iterator<Item = String>) -> String {
    listed(items, "and")
}

pub(super) fn listed(items: impl Iterator<Item = String>, last: &str) -> String {
    let items: Vec<String> = items.collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., final_item] => format!("{} {last} {final_item}", rest.join(", ")),
    }
}

/// "Alert when one `source.ip` has at least 20 such events in a 10-minute
/// window (windows aligned on the clock)".
pub fn threshold(threshold: &Threshold) -> String {
    let group = if threshold.by.is_empty() {
        "all events together".to_string()
    } else {
        let fields: Vec<String> = threshold
            .by
            .iter()
            .map(|f| {
                if f.cased {
                    format!("`{}` (exact in case)", f.path)
                } else {
                    format!("`{}`", f.path)
                }
            })
            .collect();
        format!("one {}", listed(fields.into_iter(), "and"))
    };
    let Some(single) = threshold.single() else {
        let windows = match threshold.step {
            Some(step) => format!(
                "a {} window starting every {} (one alert per run of such windows)",
                duration(threshold.window),
                duration(step).replace('-', " ")
            ),
            None => format!(
                "a {} window (windows aligned on the clock)",
                duration(threshold.window)
            ),
        };
        return format!(
            "Alert when {group} has, within {windows}, {}.",
            having(&threshold.having, false)
        );
    };
    let amount = match single.comparison {
        Comparison::Gt => format!("more than {}", single.value),
        Comparison::Ge => format!("at least {}", single.value),
        Comparison::Eq => format!("exactly {}", single.value),
        Comparison::Lt => format!("fewer than {} (but at least one)", single.value),
        Comparison::Le => format!("at most {} (but at least one)", single.value),
    };
    let what = match single.aggregate {
        Aggregate::Distinct(field) => format!(
            "distinct `{}` values{} in such events",
            field.path,
            if field.cased { " (exact in case)" } else { "" }
        ),
        _ => "such events".to_string(),
    };
    format!(
        "Alert when {group} has {amount} {what} within a {} window (windows aligned on the clock).",
        duration(threshold.window)
    )
}

/// "Alert when one `source.ip` has, within 5 minutes of its first such
/// event, 5 such events where ..., then one where ...".
pub fn sequence(sequence: &Sequence) -> String {
    let steps: Vec<String> = sequence
        .steps
        .iter()
        .map(|step| {
            let amount = match step.count {
                1 => "one".to_string(),
                n => format!("{n} such events"),
            };
            format!("{amount} where {}", condition(&step.condition))
        })
        .collect();
    format!(
        "Alert when {} has, in time order and within {} of its first such event, {} \
         (each event counted once; the group then starts over).",
        group(&sequence.by),
        span(sequence.within),
        steps.join(", then ")
    )
}

/// "Alert when a `source.ip` value was not seen in such events during the
/// 30 days before".
pub fn first_seen(first: &FirstSeen) -> String {
    let fields: Vec<String> = first.fields.iter().map(field_name).collect();
    let what = match fields.as_slice() {
        [one] => format!("a {one} value"),
        _ => format!("a combination of {}", listed(fields.iter().cloned(), "and")),
    };
    format!(
        "Alert when {what} was not seen in such events during the {} before.",
        span(first.horizon)
    )
}

/// `300` → "5 minutes", `60` → "1 minute".
fn span(seconds: u64) -> String {
    let words = duration(seconds).replace('-', " ");
    if words.starts_with("1 ") {
        words
    } else {
        words + "s"
    }
}

/// "one `a` and `b`", or "all events together" without fields.
fn group(by: &[Field]) -> String {
    if by.is_empty() {
        return "all events together".to_string();
    }
    format!("one {}", listed(by.iter().map(field_name), "and"))
}

fn field_name(f: &Field) -> String {
    if f.cased {
        format!("`{}` (exact in case)", f.path)
    } else {
        format!("`{}`", f.path)
    }
}

/// A version 2 condition in words: "more than 50 such events and more
/// than 10 distinct `url.path` values"; `nested` parts are parenthesised.
fn having(condition: &Having, nested: bool) -> String {
    let joined = |parts: &[Having], word: &str| {
        let text: Vec<String> = parts.iter().map(|p| having(p, true)).collect();
        let text = text.join(&format!(" {word} "));
        if nested { format!("({text})") } else { text }
    };
    match condition {
        Having::And(parts) => joined(parts, "and"),
        Having::Or(parts) => joined(parts, "or"),
        Having::Not(inner) => format!("not {}", having(inner, true)),
        Having::Compare {
            aggregate,
            comparison,
            value,
            ..
        } => {
            let amount = match comparison {
                Comparison::Gt => format!("more than {value}"),
                Comparison::Ge => format!("at least {value}"),
                Comparison::Eq => format!("exactly {value}"),
                Comparison::Lt => format!("fewer than {value}"),
                Comparison::Le => format!("at most {value}"),
            };
            match aggregate {
                Aggregate::Count => format!("{amount} such events"),
                Aggregate::Distinct(f) => format!(
                    "{amount} distinct `{}` values{}",
                    f.path,
                    if f.cased { " (exact in case)" } else { "" }
                ),
                Aggregate::Sum(f) => format!("a total `{}` of {amount}", f.path),
                Aggregate::Min(f) => format!("a smallest `{}` of {amount}", f.path),
                Aggregate::Max(f) => format!("a largest `{}` of {amount}", f.path),
            }
        }
    }
}

/// `600` → "10-minute".
pub fn duration(seconds: u64) -> String {
    let (n, unit) = [
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ]
    .into_iter()
    .find(|(size, _)| seconds.is_multiple_of(*size))
    .map_or((seconds, "second"), |(size, unit)| (seconds / size, unit));
    format!("{n}-{unit}")
}
