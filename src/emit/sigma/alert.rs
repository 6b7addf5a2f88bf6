//! What a rule's alert says, where Sigma has a place for it: the standard
//! `fields` list (what an analyst sees beside a match) and the custom
//! attribute `tripline_alert` (title with `{field}` tokens, risk and threat
//! objects, notable), under the mapping's field names.

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::emit::Input;
use crate::emit::common::{alert_fields, mapped_field};
use crate::ir::{self, TitlePart};

use super::TARGET;

#[derive(Debug, Serialize)]
pub struct AlertContext {
    /// `fields`: the alert's fields under their Sigma names.
    pub fields: Vec<String>,
    pub title: String,
    pub risk: Vec<(String, &'static str, u8)>,
    pub threats: Vec<(String, String)>,
    pub notable: bool,
}

pub fn alert(input: &Input, rule: &ir::Rule) -> Result<AlertContext, Vec<Diagnostic>> {
    let mut refusals = Vec::new();
    let mut name = |field: &ir::Field| match mapped_field(input, TARGET, rule, field) {
        Ok(name) => name.to_string(),
        Err(d) => {
            refusals.push(d);
            String::new()
        }
    };
    let mut fields: Vec<String> = Vec::new();
    for field in alert_fields(input, rule) {
        let n = name(field);
        if !fields.contains(&n) {
            fields.push(n);
        }
    }
    let title = rule
        .alert
        .title
        .iter()
        .map(|part| match part {
            TitlePart::Text(text) => text.replace('{', "{{").replace('}', "}}"),
            TitlePart::Field(field) => format!("{{{}}}", name(field)),
        })
        .collect();
    let risk = rule
        .alert
        .risk
        .iter()
        .map(|r| (name(&r.field), r.kind.name(), r.score))
        .collect();
    let threats = rule
        .alert
        .threats
        .iter()
        .map(|t| (name(&t.field), t.kind.clone()))
        .collect();
    if !refusals.is_empty() {
        return Err(refusals);
    }
    Ok(AlertContext {
        fields,
        title,
        risk,
        threats,
        notable: rule.alert.notable,
    })
}
