//! What `eval` tells on stderr: a line's problems, `--stats`, and the
//! summary line.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::EvalOptions;
use super::parallel::Windows;
use crate::diag::codes;
use crate::eval::input::{Format, Malformed};
use crate::eval::{Engine, LineReport};

/// How many distinct unrouted values are counted one by one (a stream of
/// ever new values cannot grow the summary without bound).
pub const UNROUTED_KEPT: usize = 1000;
/// How many of them the summary shows.
const UNROUTED_SHOWN: usize = 20;
/// How many line numbers the summary gives for each value.
const UNROUTED_LINES: usize = 5;

/// What a run saw, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub matches: u64,
    pub alerts: u64,
    pub malformed: u64,
    pub bad_timestamp: u64,
    pub unrouted: u64,
    /// Unrouted events per value of their routing field, with the first
    /// `UNROUTED_LINES` line numbers (at most `UNROUTED_KEPT` values;
    /// events of the others in `unrouted_other`).
    pub unrouted_by: BTreeMap<String, (u64, Vec<u64>)>,
    pub unrouted_other: u64,
    pub late: u64,
    pub future: u64,
    /// Events a threshold rule did not count: too many combinations.
    pub too_many: u64,
    /// The input was read to its end.
    pub complete: bool,
}

impl Summary {
    pub fn line(&self) -> String {
        let mut line = format!(
            "tripline eval: {} lines, {} matches, {} alerts; {} malformed, {} without a usable @timestamp, {} unrouted, {} late",
            self.lines,
            self.matches,
            self.alerts,
            self.malformed,
            self.bad_timestamp,
            self.unrouted,
            self.late
        );
        if self.future > 0 {
            line += &format!(", {} in the future", self.future);
        }
        if self.too_many > 0 {
            line += &format!(", {} with too many combinations", self.too_many);
        }
        if !self.complete {
            line += "; the input was not read to its end";
        }
        line
    }
}

/// `--stats`: what the open windows hold.
pub fn stats(engine: &dyn Windows, when: &str, err: &mut dyn Write) -> io::Result<()> {
    let (held, peak) = engine.held();
    writeln!(
        err,
        "stats {when}: {} open windows, {} groups, {} groups and distinct values (at most {} during the run), about {:.1} MB",
        held.windows,
        held.groups,
        held.entries,
        peak,
        held.bytes as f64 / 1e6
    )?;
    if let Some(ordered) = engine.ordered_held() {
        writeln!(
            err,
            "stats {when}: {} partial sequences holding {} events, {} first-seen combinations, {} events waiting for their turn in time order",
            ordered.partial_sequences, ordered.sequence_events, ordered.first_seen, ordered.waiting
        )?;
    }
    if let Some(bytes) = peak_resident_bytes() {
        writeln!(
            err,
            "stats {when}: the process's peak resident memory: {:.1} MB",
            bytes as f64 / 1e6
        )?;
    }
    Ok(())
}

/// The most memory the process held resident so far (Linux's `VmHWM`);
/// `None` where the system does not say.
fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kilobytes: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    kilobytes.checked_mul(1024)
}

pub fn note(
    report: &LineReport,
    number: u64,
    engine: &Engine,
    summary: &mut Summary,
    err: &mut dyn Write,
) -> io::Result<()> {
    if let Some(malformed) = &report.malformed {
        summary.malformed += 1;
        writeln!(err, "line {number}: malformed JSON: {malformed}")?;
    }
    if report.unrouted {
        summary.unrouted += 1;
        let value = report.unrouted_as.as_deref().unwrap_or("<none>");
        let room = summary.unrouted_by.len() < UNROUTED_KEPT;
        match summary.unrouted_by.get_mut(value) {
            Some((count, lines)) => {
                *count += 1;
                if lines.len() < UNROUTED_LINES {
                    lines.push(number);
                }
            }
            None if room => {
                summary
                    .unrouted_by
                    .insert(value.to_string(), (1, vec![number]));
            }
            None => summary.unrouted_other += 1,
        }
    }
    if report.bad_timestamp {
        summary.bad_timestamp += 1;
        writeln!(
            err,
            "line {number}: no usable @timestamp: not counted by threshold rules"
        )?;
    }
    if report.late {
        summary.late += 1;
        writeln!(
            err,
            "line {number}: late: its window was already closed; not counted"
        )?;
    }
    if report.future {
        summary.future += 1;
        writeln!(
            err,
            "line {number}: future: its @timestamp is more than --max-future past the newest time; counted, but windows are not closed by it"
        )?;
    }
    if let Some((rule, too_many)) = &report.too_many {
        summary.too_many += 1;
        let name = engine.rules().get(*rule).map_or("", |r| r.name.as_str());
        writeln!(
            err,
            "line {number}: rule `{name}`: its `by` and `distinct` arrays make {} groups and values, over --max-combinations {}; not counted by this rule",
            too_many.entries, too_many.limit
        )?;
    }
    Ok(())
}

/// A record of a syslog, CEF or EVTX input that does not parse: where
/// (`FILE:LINE:COLUMN`, or the EVTX record's number) and why.
pub fn malformed_record(
    options: &EvalOptions,
    number: u64,
    malformed: &Malformed,
    err: &mut dyn Write,
) -> io::Result<()> {
    let at = match (options.format, malformed.column) {
        (Format::Evtx, _) | (_, None) => format!("{}: record {number}", options.label),
        (_, Some(column)) => format!("{}:{number}:{column}", options.label),
    };
    writeln!(
        err,
        "{at}: error[{}]: malformed {} record: {}; skipped",
        codes::MALFORMED_RECORD.id,
        options.format.name(),
        malformed.message
    )
}

/// The unrouted events, once at the end: how many per value of the
/// routing field, most first, with the flag that would route them.
pub fn unrouted(summary: &Summary, err: &mut dyn Write) -> io::Result<()> {
    if summary.unrouted == 0 {
        return Ok(());
    }
    writeln!(
        err,
        "note: unrouted events: {} (their dataset is neither a source nor a route), by dataset:",
        summary.unrouted
    )?;
    let mut values: Vec<(&String, u64, &[u64])> = summary
        .unrouted_by
        .iter()
        .map(|(value, (count, lines))| (value, *count, lines.as_slice()))
        .collect();
    values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    for (value, count, lines) in values.iter().take(UNROUTED_SHOWN) {
        let mut at: Vec<String> = lines.iter().map(u64::to_string).collect();
        if *count > lines.len() as u64 {
            at.push("...".into());
        }
        let at = format!(
            "line{} {}",
            if at.len() > 1 { "s" } else { "" },
            at.join(", ")
        );
        if value.starts_with('<') {
            writeln!(
                err,
                "  {value}: {count}, {at} (not a name: no route applies)"
            )?;
        } else {
            writeln!(
                err,
                "  {value}: {count}, {at} (route with --route {value}=SOURCE, or `\"{value}\" = \"SOURCE\"` under [eval.routes] in tripline.toml)"
            )?;
        }
    }
    let hidden: u64 = values.iter().skip(UNROUTED_SHOWN).map(|(_, c, _)| *c).sum();
    let hidden_values = values.len().saturating_sub(UNROUTED_SHOWN);
    if hidden_values > 0 || summary.unrouted_other > 0 {
        let more = if summary.unrouted_other > 0 {
            "more than "
        } else {
            ""
        };
        writeln!(
            err,
            "  and {} events of {more}{hidden_values} other values",
            hidden + summary.unrouted_other
        )?;
    }
    Ok(())
}
