//! What a correlation search raises and what its alert shows, as
//! Enterprise Security reads `savedsearches.conf`: the title with `$field$`
//! tokens, the risk and threat objects of `action.risk.param._risk`, and
//! two drill-down searches (the events behind the alert, the entity's other
//! risk events). ES substitutes `$...$` in the title, the risk message and
//! the description and documents no escape for a literal `$`, so a rule
//! with one there is refused rather than shipped with a guess.

use serde_json::json;

use crate::emit::Input;
use crate::emit::query::Refusal;
use crate::ir::{self, TitlePart};

use super::literal::spl_string;
use super::{SPLUNK, field_name};

/// The alert settings of one stanza.
#[derive(Debug, Default)]
pub struct AlertSettings {
    /// `rule_title` and `_risk_message`, with `$field$` tokens.
    pub title: String,
    /// `action.risk.param._risk`: JSON, empty without risk objects.
    pub risk: String,
    pub notable: bool,
    /// `action.notable.param.drilldown_searches`: JSON.
    pub drilldowns: String,
}

/// How far back the entity's risk events reach.
const RISK_HISTORY: &str = "7d";

pub fn settings(input: &Input, rule: &ir::Rule, base: &str) -> Result<AlertSettings, Vec<Refusal>> {
    let mut refusals = literal_dollars(rule);
    let mut name = |field: &ir::Field| match field_name(input, rule, field) {
        Ok(name) => name.to_string(),
        Err(refusal) => {
            refusals.push(refusal);
            String::new()
        }
    };
    let title: String = rule
        .alert
        .title
        .iter()
        .map(|part| match part {
            TitlePart::Text(text) => text.clone(),
            TitlePart::Field(field) => format!("${}$", name(field)),
        })
        .collect();
    let mut objects: Vec<serde_json::Value> = Vec::new();
    for risk in &rule.alert.risk {
        objects.push(json!({
            "risk_object_field": name(&risk.field),
            "risk_object_type": risk.kind.name(),
            "risk_score": risk.score,
        }));
    }
    for threat in &rule.alert.threats {
        objects.push(json!({
            "threat_object_field": name(&threat.field),
            "threat_object_type": threat.kind,
        }));
    }
    // The entities a drill-down searches for: risk objects with one value
    // per alert row (a threshold's `by` fields).
    let entities: Vec<String> = rule
        .alert
        .risk
        .iter()
        .filter(|r| {
            rule.threshold()
                .is_none_or(|t| t.by.iter().any(|b| b.path == r.field.path))
        })
        .map(|r| name(&r.field))
        .collect();
    if !refusals.is_empty() {
        return Err(refusals);
    }
    Ok(AlertSettings {
        title,
        risk: if objects.is_empty() {
            String::new()
        } else {
            serde_json::Value::Array(objects).to_string()
        },
        notable: rule.alert.notable,
        drilldowns: drilldowns(base, &entities).to_string(),
    })
}

/// The events of the alert's entities in the search's time range, and the
/// entities' risk events of the last days.
fn drilldowns(base: &str, entities: &[String]) -> serde_json::Value {
    let tokens: Vec<String> = entities.iter().map(|e| format!("${e}$")).collect();
    let terms: String = entities
        .iter()
        .map(|e| format!(" {e}={}", spl_string(&format!("${e}$"))))
        .collect();
    let of = if tokens.is_empty() {
        String::new()
    } else {
        format!(" of {}", tokens.join(" and "))
    };
    let mut searches = vec![json!({
        "name": format!("View the events{of} behind this alert"),
        "search": format!("{base}{terms}"),
        "earliest_offset": "$info_min_time$",
        "latest_offset": "$info_max_time$",
    })];
    if !tokens.is_empty() {
        let quoted: Vec<String> = tokens.iter().map(|t| spl_string(t)).collect();
        searches.push(json!({
            "name": format!("View the risk events of {} in the last {RISK_HISTORY}", tokens.join(" and ")),
            "search": format!(
                "| from datamodel:Risk.All_Risk | search normalized_risk_object IN ({}) | stats count min(_time) AS firstTime max(_time) AS lastTime sum(risk_score) AS risk_score values(search_name) AS search_name values(risk_message) AS risk_message BY normalized_risk_object",
                quoted.join(", ")
            ),
            "earliest_offset": RISK_HISTORY,
            "latest_offset": "$info_max_time$",
        }));
    }
    serde_json::Value::Array(searches)
}

/// A refusal for each token-substituted setting whose text holds a
/// literal `$`: ES would read it as the start of a `$field$` token, and no
/// escape for it is documented (`$$` is the dashboards' escape, not the
/// alert actions').
fn literal_dollars(rule: &ir::Rule) -> Vec<Refusal> {
    let title_text = rule.alert.title.iter().any(|part| match part {
        TitlePart::Text(text) => text.contains('$'),
        TitlePart::Field(_) => false,
    });
    let mut refusals = Vec::new();
    for (holds, what, setting) in [
        (
            title_text,
            "the alert title",
            "`rule_title` and `_risk_message`",
        ),
        (
            rule.meta.description.contains('$'),
            "the description",
            "`rule_description`",
        ),
    ] {
        if holds {
            refusals.push(Refusal::new(
                SPLUNK,
                rule.span,
                format!("a literal `$` in {what}"),
                format!(
                    "Enterprise Security substitutes `$field$` tokens in {setting} and documents no escape for a literal `$`: write it out (`USD 5`, `the ADMIN share`)"
                ),
            ));
        }
    }
    refusals
}

/// The cron minute a rule's runs start on: spread over the schedule's
/// period from the rule's name (FNV-1a), so that a pack's searches do not
/// all start at once. Each run still reads the slot its dispatch times give
/// from its own scheduled time, so the slots of consecutive runs tile time.
pub fn minute_offset(name: &str, every: u64) -> u64 {
    let minutes = if every >= 3600 { 60 } else { every / 60 };
    if minutes <= 1 {
        return 0;
    }
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % minutes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_stay_within_the_period() {
        for name in ["a", "dns_zone_transfer_from_outside", "x_y"] {
            assert!(minute_offset(name, 300) < 5);
            assert!(minute_offset(name, 7200) < 60);
            assert_eq!(minute_offset(name, 60), 0);
        }
        assert_eq!(
            minute_offset("dns_zone_transfer_from_outside", 300),
            minute_offset("dns_zone_transfer_from_outside", 300)
        );
    }
}
