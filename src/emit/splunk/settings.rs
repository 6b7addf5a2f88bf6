//! The `savedsearches.conf` values that come from a rule's metadata: the
//! schedule, the dispatch window, severities and the Enterprise Security
//! annotations.

use std::collections::BTreeMap;

use crate::ir;

/// `cron_schedule` for `every` seconds, starting `minute` minutes into each
/// period: minutes dividing an hour, hours dividing a day, or one day.
/// Anything else has no exact cron form.
pub fn cron(every: u64, minute: u64) -> Option<String> {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 3600;
    const DAY: u64 = 86400;
    if every == DAY {
        return Some(format!("{minute} 0 * * *"));
    }
    if every.is_multiple_of(HOUR) && DAY.is_multiple_of(every) {
        return Some(format!("{minute} */{} * * *", every / HOUR));
    }
    if every.is_multiple_of(MINUTE) && HOUR.is_multiple_of(every) {
        let step = every / MINUTE;
        return Some(if minute == 0 {
            format!("*/{step} * * * *")
        } else {
            format!("{minute}-59/{step} * * * *")
        });
    }
    None
}

/// A duration in its largest exact unit: `10m`, `1h`, `2d`, `90s`.
pub fn duration(seconds: u64) -> String {
    for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60)] {
        if seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

/// `alert.severity`: 1 debug … 6 fatal (savedsearches.conf.spec).
pub fn severity(level: ir::Level) -> u8 {
    match level {
        ir::Level::Informational => 2,
        ir::Level::Low => 3,
        ir::Level::Medium => 4,
        ir::Level::High => 5,
        ir::Level::Critical => 6,
    }
}

pub fn level_name(level: ir::Level) -> &'static str {
    match level {
        ir::Level::Informational => "informational",
        ir::Level::Low => "low",
        ir::Level::Medium => "medium",
        ir::Level::High => "high",
        ir::Level::Critical => "critical",
    }
}

/// `{"mitre_attack": [...], "kill_chain_phases": [...]}` on one line, the
/// phases from the kill-chain table, in table order of first appearance.
pub fn annotations(meta: &ir::Meta, kill_chain: &BTreeMap<String, String>) -> String {
    let techniques: Vec<&str> = meta.techniques.iter().map(|t| t.id.as_str()).collect();
    let mut phases: Vec<&str> = Vec::new();
    for tactic in &meta.tactics {
        if let Some(phase) = kill_chain.get(&tactic.shortname)
            && !phases.contains(&phase.as_str())
        {
            phases.push(phase);
        }
    }
    serde_json::json!({"mitre_attack": techniques, "kill_chain_phases": phases}).to_string()
}

/// `action.notable.param.next_steps`: Enterprise Security's JSON with the
/// playbook's triage, investigate and contain steps as a numbered list
/// (empty without steps).
pub fn next_steps(playbook: &ir::Playbook) -> String {
    let steps: Vec<String> = playbook
        .triage
        .iter()
        .chain(&playbook.investigate)
        .chain(&playbook.contain)
        .enumerate()
        .map(|(i, step)| format!("{}. {}", i + 1, crate::emit::templates::one_line(step)))
        .collect();
    if steps.is_empty() {
        return String::new();
    }
    serde_json::json!({"version": 1, "data": steps.join("\n")}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_only_for_divisors() {
        assert_eq!(cron(300, 0).as_deref(), Some("*/5 * * * *"));
        assert_eq!(cron(300, 2).as_deref(), Some("2-59/5 * * * *"));
        assert_eq!(cron(3600, 17).as_deref(), Some("17 */1 * * *"));
        assert_eq!(cron(7200, 0).as_deref(), Some("0 */2 * * *"));
        assert_eq!(cron(86400, 41).as_deref(), Some("41 0 * * *"));
        for every in [30, 420, 5400, 18000, 172800] {
            assert_eq!(cron(every, 0), None, "{every}");
        }
    }

    #[test]
    fn durations_use_the_largest_exact_unit() {
        assert_eq!(duration(600), "10m");
        assert_eq!(duration(3600), "1h");
        assert_eq!(duration(5400), "90m");
        assert_eq!(duration(172800), "2d");
        assert_eq!(duration(45), "45s");
    }
}
