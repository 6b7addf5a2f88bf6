//! What bounds a run of the engine: when a threshold window closes (the
//! allowed lateness), which event times may move the stream's clock (the
//! maximum future), and how much one event and all open windows may hold.
//! Tests (`tripline test`) close windows at the end only; `eval` closes
//! them as the stream advances.

use super::timestamp::{self, Nanos};

/// How long after a window's end, by the stream's newest plausible time,
/// events may still arrive for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lateness {
    /// Windows close at the end of input only (tests).
    Unbounded,
    /// Each rule's `delay` (`eval`'s default).
    RuleDelay,
    /// The same number of seconds for every rule (`--max-lateness`).
    Seconds(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub lateness: Lateness,
    /// Seconds: an event time further than this past the newest plausible
    /// time (or past the wall clock, `now`) does not move the stream's
    /// clock. `None`: every time does.
    pub max_future: Option<u64>,
    /// The wall clock, seconds since the epoch (`None` in tests).
    pub now: Option<i64>,
    /// The most entries (groups times distinct values) one event may add
    /// to one rule's windows.
    pub max_fanout: u64,
    /// The most entries (a group, or a distinct value it holds) the open
    /// windows of all rules may hold.
    pub max_groups: u64,
}

impl Limits {
    pub const DEFAULT_MAX_FUTURE: u64 = 86_400;
    pub const DEFAULT_MAX_FANOUT: u64 = 10_000;
    pub const DEFAULT_MAX_GROUPS: u64 = 4_000_000;

    /// Windows close at the end; no bound but the fan-out of one event.
    pub const UNBOUNDED: Limits = Limits {
        lateness: Lateness::Unbounded,
        max_future: None,
        now: None,
        max_fanout: Limits::DEFAULT_MAX_FANOUT,
        max_groups: u64::MAX,
    };

    /// `eval`'s defaults at wall-clock time `now`.
    pub fn streaming(now: Option<i64>) -> Limits {
        Limits {
            lateness: Lateness::RuleDelay,
            max_future: Some(Limits::DEFAULT_MAX_FUTURE),
            now,
            max_fanout: Limits::DEFAULT_MAX_FANOUT,
            max_groups: Limits::DEFAULT_MAX_GROUPS,
        }
    }

    /// A rule's allowed lateness in nanoseconds, given its `delay`.
    pub fn lateness_of(&self, delay: u64) -> Option<Nanos> {
        let seconds = match self.lateness {
            Lateness::Unbounded => return None,
            Lateness::RuleDelay => delay,
            Lateness::Seconds(seconds) => seconds,
        };
        Some(timestamp::from_seconds(i128::from(seconds)))
    }
}

/// The stream's clock: the newest plausible event time. A time is
/// plausible when it is at most `max_future` past the clock or past the
/// wall clock (the first time only against the wall clock, or always
/// plausible without one), so one event dated 9999 cannot close every
/// window, while a gap of days in a replayed stream still moves the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub newest: Option<Nanos>,
    max_future: Option<Nanos>,
    now: Option<Nanos>,
}

/// What an event time did to the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tick {
    /// It moved the clock forward.
    Advanced,
    /// It was not newer.
    Behind,
    /// It was too far in the future to be believed; the clock stays.
    Future,
}

impl Clock {
    pub fn new(limits: &Limits) -> Clock {
        let nanos = |s: u64| timestamp::from_seconds(i128::from(s));
        Clock {
            newest: None,
            max_future: limits.max_future.map(nanos),
            now: limits.now.map(|s| timestamp::from_seconds(i128::from(s))),
        }
    }

    pub fn tick(&mut self, time: Nanos) -> Tick {
        if self.newest.is_some_and(|newest| time <= newest) {
            return Tick::Behind;
        }
        if let Some(max_future) = self.max_future {
            let base = match (self.newest, self.now) {
                (Some(newest), Some(now)) => Some(newest.max(now)),
                (newest, now) => newest.or(now),
            };
            if base.is_some_and(|base| time > base.saturating_add(max_future)) {
                return Tick::Future;
            }
        }
        self.newest = Some(time);
        Tick::Advanced
    }
}
