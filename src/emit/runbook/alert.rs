//! How a rule's alert appears, in words an analyst reads before opening
//! one: its title with the field tokens, what it raises (a notable and an
//! incident, or risk only), its threat objects, the fields shown beside it,
//! and how alerts are grouped. Every piece of rule text goes through the
//! Markdown escaper; field paths are code spans.

use serde::Serialize;

use super::markdown;
use super::words::{duration, listed};
use crate::emit::kql::incident_window;
use crate::emit::schedule::Plan;
use crate::ir::{self, CONTEXT_SAMPLE, TitlePart};

/// The alert section of a page, each value Markdown already.
#[derive(Debug, Serialize)]
pub struct AlertView {
    title: String,
    raises: String,
    /// Empty without threat objects.
    threats: String,
    shown: String,
    grouping: String,
}

pub fn view(rule: &ir::Rule) -> AlertView {
    let alert = &rule.alert;
    AlertView {
        title: title(&alert.title),
        raises: raises(alert),
        threats: listed(
            alert
                .threats
                .iter()
                .map(|t| format!("{} ({})", field(&t.field), markdown::code(&t.kind))),
            "and",
        ),
        shown: shown(rule),
        grouping: grouping(rule),
    }
}

fn field(field: &ir::Field) -> String {
    markdown::code(&field.path)
}

/// The title's text as written, each token as `{field}` in code.
fn title(parts: &[TitlePart]) -> String {
    let title: String = parts
        .iter()
        .map(|part| match part {
            TitlePart::Text(text) => markdown::text(text),
            TitlePart::Field(f) => markdown::code(&format!("{{{}}}", f.path)),
        })
        .collect();
    if parts.iter().any(|p| matches!(p, TitlePart::Field(_))) {
        format!("{title} (each `{{field}}` is the alert's value of that field)")
    } else {
        title
    }
}

fn raises(alert: &ir::Alert) -> String {
    let risk = listed(
        alert
            .risk
            .iter()
            .map(|r| format!("{} ({}, score {})", field(&r.field), r.kind.name(), r.score)),
        "and",
    );
    match (alert.notable, risk.is_empty()) {
        (true, false) => format!(
            "A notable in Splunk Enterprise Security and an incident in Sentinel, and risk on {risk}."
        ),
        (true, true) => {
            "A notable in Splunk Enterprise Security and an incident in Sentinel (no risk object)."
                .to_string()
        }
        (false, _) => format!(
            "Risk only: risk on {risk} in Splunk Enterprise Security, no notable; in Sentinel an alert without an incident. A notable comes when the entity's risk adds up (risk-based alerting) or another rule opens one."
        ),
    }
}

/// The fields beside the alert: a plain rule's event fields; a threshold
/// rule's group, count, times and a sample of each other context field.
fn shown(rule: &ir::Rule) -> String {
    let alert = &rule.alert;
    let Some(threshold) = rule.threshold() else {
        let fields = listed(alert.fields().into_iter().map(field), "and");
        return format!("The event's {fields}.");
    };
    let mut parts: Vec<String> = Vec::new();
    if !threshold.by.is_empty() {
        parts.push(format!(
            "the group's {}",
            listed(threshold.by.iter().map(field), "and")
        ));
    }
    parts.push("the number of events".to_string());
    parts.push("the first and last event times".to_string());
    let sampled: Vec<String> = alert.sampled(threshold).map(field).collect();
    if !sampled.is_empty() {
        parts.push(format!(
            "up to {CONTEXT_SAMPLE} distinct values (sorted as text) of {}",
            listed(sampled.into_iter(), "and")
        ));
    }
    let mut text = listed(parts.into_iter(), "and");
    if let Some(first) = text.get(..1) {
        text = format!("{}{}.", first.to_uppercase(), &text[1..]);
    }
    text
}

fn grouping(rule: &ir::Rule) -> String {
    let alert = &rule.alert;
    let per = match rule.threshold() {
        None => "One alert per matching event (a Splunk tstats search merges events whose alert fields are all equal into one row, with their count).".to_string(),
        Some(t) if t.by.is_empty() => "One alert per window.".to_string(),
        Some(t) => format!(
            "One alert per {} per window.",
            listed(t.by.iter().map(field), "and")
        ),
    };
    if !alert.notable {
        return per;
    }
    let window = spelled_out(incident_window(Plan::of(rule).sentinel_period()));
    let entities = listed(alert.risk.iter().map(|r| field(&r.field)), "and");
    if entities.is_empty() {
        format!(
            "{per} In Sentinel, alerts with the same entities within {window} join one incident."
        )
    } else {
        format!(
            "{per} In Sentinel, alerts on the same {entities} within {window} join one incident."
        )
    }
}

/// `18000` → "5 hours", `86400` → "1 day".
fn spelled_out(seconds: u64) -> String {
    let words = duration(seconds).replace('-', " ");
    if words.starts_with("1 ") {
        words
    } else {
        format!("{words}s")
    }
}

#[cfg(test)]
mod tests {
    use super::spelled_out;

    #[test]
    fn windows_are_spelled_out() {
        assert_eq!(spelled_out(18_000), "5 hours");
        assert_eq!(spelled_out(86_400), "1 day");
        assert_eq!(spelled_out(5_400), "90 minutes");
    }
}
