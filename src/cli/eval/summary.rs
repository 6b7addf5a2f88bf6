//! What `eval` tells on stderr: a line's problems, `--stats`, and the
//! summary line.

use std::io::{self, Write};

use crate::eval::{Engine, LineReport};

/// What a run saw, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub matches: u64,
    pub alerts: u64,
    pub malformed: u64,
    pub bad_timestamp: u64,
    pub unrouted: u64,
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
pub fn stats(engine: &Engine, when: &str, err: &mut dyn Write) -> io::Result<()> {
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
    Ok(())
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
        writeln!(
            err,
            "line {number}: unrouted: its source is not one of the taxonomy's"
        )?;
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
