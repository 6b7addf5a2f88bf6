//! The Sentinel facts around a query: severity, tactics (the catalogue's
//! plus those the Azure-Sentinel validation table requires), techniques
//! split into parents and sub-techniques for ARM, the schedule and its
//! limits.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::diag::Diagnostic;
use crate::emit::common::refusal;
use crate::emit::schedule::Plan;
use crate::ir::{Level, Rule};

use super::TARGET;
use super::literal::{iso_duration, sentinel_duration};

const MIN_SCHEDULE: u64 = 5 * 60;
const MAX_SCHEDULE: u64 = 14 * 86_400;
const LONG_PERIOD: u64 = 2 * 86_400;
const MAX_NAME: usize = 256;
const MAX_DESCRIPTION: usize = 5000;

pub fn severity(level: Level) -> &'static str {
    match level {
        Level::Informational => "Informational",
        Level::Low => "Low",
        Level::Medium => "Medium",
        Level::High | Level::Critical => "High",
    }
}

/// The technique → Sentinel tactics table (`sentinel-tactics.csv`).
pub fn tactic_table(text: &str) -> BTreeMap<String, Vec<String>> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("technique,"))
        .filter_map(|l| l.split_once(','))
        .map(|(t, tactics)| {
            (
                t.trim().to_string(),
                tactics.split_whitespace().map(str::to_string).collect(),
            )
        })
        .collect()
}

/// Sentinel tactic names (`Reconnaissance`, `CommandAndControl`): the
/// catalogue's tactics, then any the table adds, without repeats.
pub fn tactics(
    rule: &Rule,
    table: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, Diagnostic> {
    let mut tactics: Vec<String> = rule
        .meta
        .tactics
        .iter()
        .map(|t| t.name.replace([' ', '-'], ""))
        .collect();
    for technique in &rule.meta.techniques {
        let parent = parent(&technique.id);
        let Some(required) = table.get(parent) else {
            return Err(refusal(
                TARGET,
                rule,
                rule.span,
                &format!("technique {} in Sentinel's tactic validation", technique.id),
                "the Azure-Sentinel validation knows no tactic for this technique (targets/kql/sentinel-tactics.csv); pick a technique it lists",
            ));
        };
        for tactic in required {
            if !tactics.contains(tactic) {
                tactics.push(tactic.clone());
            }
        }
    }
    Ok(tactics)
}

pub fn parent(technique: &str) -> &str {
    technique.split('.').next().unwrap_or(technique)
}

/// The schedule as Sentinel YAML and ARM spell it.
#[derive(Debug, Serialize)]
pub struct Schedule {
    pub frequency: String,
    pub period: String,
    pub frequency_iso: String,
    pub period_iso: String,
}

/// `queryFrequency` is `every`; `queryPeriod` the look-back plus one
/// `every`, since a run's `now()` may be up to one `every` past its slot's
/// grid point (emit::schedule).
/// Sentinel's `queryPeriod`: the plan's, and with hopping windows long
/// enough to read, besides each window ending in the slot, the window H
/// before it (whether the run of satisfying windows starts there).
pub fn period(rule: &Rule) -> u64 {
    let plan = Plan::of(rule);
    let Some(step) = rule.threshold().and_then(|t| t.step) else {
        return plan.sentinel_period();
    };
    let needed =
        crate::ir::Schedule::minimum_lookback(plan.every, rule.schedule.delay, plan.window)
            .saturating_add(step);
    plan.lookback.max(needed).saturating_add(plan.every)
}

pub fn schedule(rule: &Rule) -> Result<Schedule, Diagnostic> {
    let refuse = |what: &str, help: &str| Err(refusal(TARGET, rule, rule.span, what, help));
    let every = rule.schedule.every;
    let period = period(rule);
    if !(MIN_SCHEDULE..=MAX_SCHEDULE).contains(&every) {
        return Err(refusal(
            TARGET,
            rule,
            rule.schedule.every_span.unwrap_or(rule.span),
            "a schedule `every` outside 5 minutes to 14 days",
            "Sentinel runs scheduled rules every 5 minutes to 14 days; set `every` within that range",
        ));
    }
    if period > MAX_SCHEDULE
        && let crate::ir::Detection::FirstSeen(first) = &rule.detection
    {
        return Err(first_seen_too_long(rule, first, period));
    }
    if period > MAX_SCHEDULE {
        return refuse(
            "a query period (look-back + `every`) over 14 days",
            "Sentinel looks back at most 14 days; each run reads the window, `every` twice and the delay rounded up to `every`: shorten them",
        );
    }
    if period >= LONG_PERIOD && every < 3_600 {
        return refuse(
            "a query period of 2 days or more run more often than hourly",
            "Sentinel requires `every` of at least 1h when the query period (look-back + `every`) is 2d or more",
        );
    }
    match (
        sentinel_duration(every),
        sentinel_duration(period),
        iso_duration(every),
        iso_duration(period),
    ) {
        (Some(frequency), Some(period), Some(frequency_iso), Some(period_iso)) => Ok(Schedule {
            frequency,
            period,
            frequency_iso,
            period_iso,
        }),
        _ => refuse(
            "a schedule that is not whole minutes",
            "Sentinel schedules are written in minutes, hours or days; use `every`, `lookback` and `delay` in whole minutes",
        ),
    }
}

/// A first-seen span whose query period passes Sentinel's 14 days, at the
/// `first seen` statement, with the longest span that fits.
fn first_seen_too_long(rule: &Rule, first: &crate::ir::FirstSeen, period: u64) -> Diagnostic {
    // A query period of 2 days or more runs at most hourly: with a shorter
    // `every`, the longest span is the one `every 1h` leaves.
    let longest = if rule.schedule.every < 3_600 {
        let rest = 2 * 3_600 + crate::ir::settle(3_600, rule.schedule.delay);
        MAX_SCHEDULE
            .checked_sub(rest)
            .map(|d| format!("with `every 1h` (Sentinel runs a query period of 2 days or more at most hourly) the span may be at most {}", in_parts(d)))
    } else {
        MAX_SCHEDULE
            .checked_sub(period.saturating_sub(first.horizon))
            .filter(|d| *d > 0)
            .map(|d| format!("with this schedule the span may be at most {}", in_parts(d)))
    };
    let fits = longest.unwrap_or_else(|| "this schedule leaves no room for it".to_string());
    refusal(
        TARGET,
        rule,
        first.span,
        &format!(
            "a first-seen span (`in {}`) longer than Sentinel's 14-day look-back",
            super::literal::timespan(first.horizon)
        ),
        &format!(
            "each run reads the span before its slot plus `every` twice and the delay rounded up to `every` ({} in all), and Sentinel reads at most 14 days; {fits}",
            in_parts(period)
        ),
    )
}

/// A duration as days, hours, minutes and seconds (`30d 15m`), for people.
fn in_parts(seconds: u64) -> String {
    let mut left = seconds;
    let mut parts = Vec::new();
    for (size, unit) in [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")] {
        if left >= size {
            parts.push(format!("{}{unit}", left / size));
            left %= size;
        }
    }
    if parts.is_empty() {
        return "0s".to_string();
    }
    parts.join(" ")
}

/// Length limits of the Azure-Sentinel validation on the rule's text.
pub fn text_limits(rule: &Rule) -> Result<(), Diagnostic> {
    if rule.meta.title.chars().count() > MAX_NAME {
        return Err(refusal(
            TARGET,
            rule,
            rule.span,
            "a title longer than 256 characters",
            "Sentinel rule names hold at most 256 characters; shorten the title",
        ));
    }
    if rule.meta.description.chars().count() > MAX_DESCRIPTION {
        return Err(refusal(
            TARGET,
            rule,
            rule.span,
            "a description longer than 5,000 characters",
            "Sentinel rule descriptions hold at most 5,000 characters; shorten it",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::in_parts;

    #[test]
    fn durations_for_people_name_each_unit_left() {
        assert_eq!(in_parts(30 * 86_400 + 900), "30d 15m");
        assert_eq!(in_parts(13 * 86_400 + 21 * 3_600), "13d 21h");
        assert_eq!(in_parts(61), "1m 1s");
        assert_eq!(in_parts(0), "0s");
    }
}
