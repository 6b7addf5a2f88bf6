//! A threshold rule's aggregation, appended to its filter. Windows are
//! computed on the epoch (`floor(_time/W)*W`; `bin span=1d` would align on
//! the searching user's midnight). Groups and distinct values are keyed by
//! lowercased text, an `int` field's integers by their canonical digits;
//! multivalue `by` fields are expanded value by value and each event counted
//! once per group (`dc()` of a per-event id, exact, unlike `estdc()`). The
//! first spelling of a group is the `earliest()` one.

use crate::ir::{self, Aggregate, FieldType};

use super::expr::ExprWriter;
use super::literal::spl_string;
use super::numeric::any_integer_regex;

/// The pipeline after the filter, and the fields `alert.suppress.fields` lists.
pub struct Aggregation {
    pub pipeline: String,
    pub by_fields: Vec<String>,
}

pub fn aggregation(writer: &mut ExprWriter, threshold: &ir::Threshold) -> Aggregation {
    let window = threshold.window;
    let mut steps = vec![format!("eval tl_w=floor(_time/{window})*{window}")];
    let mut by_fields = Vec::new();
    let mut keys = vec!["tl_w".to_string()];
    let mut spellings = Vec::new();
    if !threshold.by.is_empty() {
        steps.push("streamstats count AS tl_id".to_string());
    }
    for (i, field) in threshold.by.iter().enumerate() {
        let quoted = writer.field(field);
        let name = quoted.trim_matches('\'').to_string();
        if by_fields.contains(&name) {
            writer.refusals.push(crate::emit::common::refusal(
                super::SPLUNK,
                writer.rule,
                field.span,
                &format!("a second `by` field named `{name}` in Splunk"),
                "an alert row has one column per name; group by the field once",
            ));
        }
        let value = format!("tl_v{i}");
        steps.push(format!("eval {value}=mvfilter({quoted}!=\"\")"));
        steps.push(format!("where isnotnull({value})"));
        steps.push(format!("mvexpand {value}"));
        steps.push(format!("eval tl_k{i}={}", key(&value, field.ty)));
        keys.push(format!("tl_k{i}"));
        spellings.push(format!("earliest({value}) AS {name}"));
        by_fields.push(name);
    }
    let (aggregate, output) = match &threshold.aggregate {
        Aggregate::Count if threshold.by.is_empty() => ("count AS count".to_string(), "count"),
        Aggregate::Count => ("dc(tl_id) AS count".to_string(), "count"),
        Aggregate::Distinct(field) => {
            let quoted = writer.field(field);
            steps.push(format!("eval tl_dv=mvfilter({quoted}!=\"\")"));
            steps.push(format!(
                "eval tl_d=mvmap(tl_dv, {})",
                key("tl_dv", field.ty)
            ));
            ("dc(tl_d) AS distinct_count".to_string(), "distinct_count")
        }
    };
    let mut functions = vec![aggregate];
    functions.extend(spellings);
    steps.push(format!(
        "stats {} BY {}",
        functions.join(", "),
        keys.join(" ")
    ));
    steps.push(format!(
        "where '{output}'{}{}",
        threshold.comparison.symbol(),
        threshold.value
    ));
    steps.push("eval _time=tl_w".to_string());
    let mut columns = vec!["_time".to_string()];
    columns.extend(by_fields.iter().cloned());
    columns.push(output.to_string());
    steps.push(format!("table {}", columns.join(" ")));
    Aggregation {
        pipeline: steps.join(" | "),
        by_fields,
    }
}

/// The group key of one value: an integer's canonical digits on an `int`
/// field (`0443` and `443` are one port), lowercased text otherwise.
fn key(value: &str, ty: FieldType) -> String {
    let text = format!("lower({value})");
    if ty != FieldType::Int {
        return text;
    }
    format!(
        "if(match({value}, {}), if(match({value}, {}), \"-\", \"\") . replace({value}, {}, \"\"), {text})",
        spl_string(&any_integer_regex()),
        spl_string("^-0*[1-9]"),
        spl_string("^-?0*(?=[0-9])"),
    )
}
