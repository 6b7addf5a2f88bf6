//! When a SIEM runs a rule and which events each run reports, so that
//! every match and every alert of the evaluator is raised by exactly one
//! run. Runs are scheduled every F (`every`) on a grid aligned on the
//! epoch; a run scheduled at G reports the slot [S - F, S) with
//! S = G - settle (the rule's `delay` rounded up to whole F): the events of
//! that slot (a rule without a threshold), or the windows whose end lies in
//! (S - F, S], which are complete by then. Slots tile time, so nothing is
//! reported twice or skipped; the look-back reaches the start of the
//! earliest such window. Both query targets read this one plan.

use crate::ir;

/// The schedule of one rule, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// F: how often a run starts, and the length of its slot.
    pub every: u64,
    /// How long before its scheduled time a run's slot ends.
    pub settle: u64,
    /// W: the threshold window, 0 for a rule without one.
    pub window: u64,
    /// How far before its scheduled time a run reads.
    pub lookback: u64,
}

impl Plan {
    pub fn of(rule: &ir::Rule) -> Plan {
        Plan {
            every: rule.schedule.every,
            settle: rule.schedule.settle(),
            window: rule.threshold().map_or(0, |t| t.window),
            lookback: rule.schedule.lookback,
        }
    }

    /// Sentinel's `queryPeriod`: a run's `now()` is when it started, up to
    /// one `every` after its scheduled time, so it reads one `every` more
    /// than the look-back.
    pub fn sentinel_period(&self) -> u64 {
        self.lookback + self.every
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_minimum_lookback_reads_exactly_the_slot_and_its_windows() {
        let every = 600;
        let (delay, window) = (300, 600);
        let plan = Plan {
            every,
            settle: 600,
            window,
            lookback: ir::Schedule::minimum_lookback(every, delay, window),
        };
        assert_eq!(plan.lookback, 1800);
        assert_eq!(plan.sentinel_period(), 2400);
        assert_eq!(ir::settle(600, 300), 600);
        assert_eq!(ir::settle(300, 300), 300);
        assert_eq!(ir::settle(300, 301), 600);
    }
}
