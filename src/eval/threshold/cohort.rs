//! Threshold rules that aggregate the same way share their windows.
//!
//! Rules of one source whose compiled aggregation is the same (`by`,
//! aggregates, condition, windows, lateness, limits, context fields) form a
//! class; packs made of variants of one rule have many. While such rules
//! match the same events their windows hold the same groups, so a class
//! is kept as cohorts: sets of its rules (in rule order) counting into one
//! `Aggregator`. An event that only some rules of a cohort match splits
//! it: those that matched take a copy of its windows and count the event.
//! Once two cohorts of a class have closed all their windows and remember
//! the same of them, nothing can tell them apart and they merge again.
//! Every rule sees exactly what its own aggregator would: the engine
//! hands each member the cohort's alerts and counts a cohort's entries
//! once per member.

use super::{Aggregator, Alert, Held, TooManyCombinations};
use crate::eval::event::Fields;
use crate::eval::timestamp::Nanos;

/// The cohorts of every class, and which cohort each rule is in.
#[derive(Debug, Clone)]
pub struct Cohorts {
    cohorts: Vec<Cohort>,
    /// Per rule, its cohort (an index into `cohorts`); `None` for rules
    /// without a threshold.
    of_rule: Vec<Option<usize>>,
    /// Whether cohorts merge (off: every rule keeps its own, for tests
    /// that compare sharing with its absence).
    sharing: bool,
    /// How many classes there are: with as many cohorts, none can merge.
    classes: usize,
    /// The event being counted (`tally`), and per rule and per cohort the
    /// last event that rule matched and how many members of the cohort
    /// matched it and are still to be counted.
    event: u64,
    rule_seen: Vec<u64>,
    hits: Vec<(u64, u32)>,
}

#[derive(Debug, Clone)]
struct Cohort {
    /// The class: cohorts of one class may merge.
    class: usize,
    /// Its rules, ascending.
    members: Vec<usize>,
    aggregator: Aggregator,
}

/// How a cohort took one event (`Cohorts::count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// The entries added (once per member), or why the event was not
    /// counted.
    Added(Result<u64, TooManyCombinations>),
    /// The window the event falls in has closed.
    Late,
}

impl Cohorts {
    /// Per rule, its aggregation before any event (`None`: not a threshold
    /// rule) and a key of the sources it reads; rules with equal keys and
    /// aggregations share their windows when `sharing`.
    pub fn new<K: PartialEq>(rules: &[(Option<&Aggregator>, K)], sharing: bool) -> Cohorts {
        let mut cohorts: Vec<Cohort> = Vec::new();
        let mut of_rule = Vec::with_capacity(rules.len());
        // Per class, its first rule (the one compared with).
        let mut classes: Vec<usize> = Vec::new();
        for (index, (aggregator, key)) in rules.iter().enumerate() {
            let Some(aggregator) = aggregator else {
                of_rule.push(None);
                continue;
            };
            let class = classes.iter().position(|&first| {
                let (other, other_key) = &rules[first];
                other_key == key && other.is_some_and(|o| o.same_spec(aggregator))
            });
            let joined = match class {
                Some(class) if sharing => cohorts.iter().position(|c| c.class == class),
                _ => None,
            };
            match joined {
                Some(cohort) => {
                    cohorts[cohort].members.push(index);
                    of_rule.push(Some(cohort));
                }
                None => {
                    let class = class.unwrap_or_else(|| {
                        classes.push(index);
                        classes.len() - 1
                    });
                    cohorts.push(Cohort {
                        class,
                        members: vec![index],
                        aggregator: (*aggregator).clone(),
                    });
                    of_rule.push(Some(cohorts.len() - 1));
                }
            }
        }
        Cohorts {
            classes: classes.len(),
            hits: vec![(0, 0); cohorts.len()],
            rule_seen: vec![0; rules.len()],
            cohorts,
            of_rule,
            sharing,
            event: 0,
        }
    }

    /// The class of rule `index` (rules that may share windows), if it
    /// is a threshold rule.
    pub fn class_of(&self, index: usize) -> Option<usize> {
        let cohort = (*self.of_rule.get(index)?)?;
        Some(self.cohorts.get(cohort)?.class)
    }

    /// Whether rule `index` is a threshold rule (counted here).
    pub fn counts(&self, index: usize) -> bool {
        self.of_rule.get(index).is_some_and(Option::is_some)
    }

    /// Notes the rules (ascending) that matched event `event` (a number
    /// unique to it), before `count` is called for each of them.
    pub fn tally(&mut self, event: u64, matched: &[u32]) {
        self.event = event;
        for &index in matched {
            let index = index as usize;
            let Some(&Some(cohort)) = self.of_rule.get(index) else {
                continue;
            };
            self.rule_seen[index] = event;
            let hits = &mut self.hits[cohort];
            if hits.0 != event {
                *hits = (event, 0);
            }
            hits.1 += 1;
        }
    }

    /// Counts the tallied event for rule `index` at `time`: `None` when
    /// the rule has no threshold or its cohort already took the event
    /// (through a member before it), else how the cohort took it.
    /// `newest` is the stream's clock; `due` gets when the event's first
    /// window closes (with a lateness).
    pub fn count(
        &mut self,
        index: usize,
        event: &Fields<'_, '_>,
        time: Nanos,
        newest: Option<Nanos>,
        due: &mut Option<Nanos>,
    ) -> Option<Counted> {
        let cohort = (*self.of_rule.get(index)?)?;
        let (seen, hits) = *self.hits.get(cohort)?;
        if seen != self.event || hits == 0 {
            return None;
        }
        self.hits[cohort].1 = 0;
        let aggregator = &self.cohorts[cohort].aggregator;
        let start = aggregator.window_start(time);
        if let Some(lateness) = aggregator.lateness {
            let closes = aggregator.window_end(start) + lateness;
            if newest.is_some_and(|newest| closes < newest) {
                return Some(Counted::Late);
            }
            let first = aggregator.first_end(start) + lateness;
            *due = Some(due.map_or(first, |d| d.min(first)));
        }
        let whole = hits as usize == self.cohorts[cohort].members.len();
        let counting = if whole { cohort } else { self.split(cohort) };
        let shared = &mut self.cohorts[counting];
        let members = shared.members.len() as u64;
        let result = shared.aggregator.add(event, (time, start), self.event);
        if result.is_err() && !whole {
            // Not counted: the copy is the same as the original.
            self.unsplit(cohort, counting);
        }
        Some(Counted::Added(
            result.map(|added| added.saturating_mul(members)),
        ))
    }

    /// Moves the members of `cohort` that matched the tallied event into
    /// a new cohort with a copy of its windows; the new cohort's index.
    fn split(&mut self, cohort: usize) -> usize {
        let event = self.event;
        let rule_seen = &self.rule_seen;
        let old = &mut self.cohorts[cohort];
        let (matched, rest): (Vec<usize>, Vec<usize>) = old
            .members
            .iter()
            .partition(|&&rule| rule_seen[rule] == event);
        old.members = rest;
        let copy = Cohort {
            class: old.class,
            members: matched,
            aggregator: old.aggregator.clone(),
        };
        let index = self.cohorts.len();
        for &rule in &copy.members {
            self.of_rule[rule] = Some(index);
        }
        self.cohorts.push(copy);
        self.hits.push((event, 0));
        index
    }

    /// Undoes `split` (`copy` is the last cohort, split from `cohort`).
    fn unsplit(&mut self, cohort: usize, copy: usize) {
        let Some(copy) = self.cohorts.pop().filter(|_| copy == self.cohorts.len()) else {
            return;
        };
        self.hits.pop();
        let original = &mut self.cohorts[cohort];
        original.members.extend(&copy.members);
        original.members.sort_unstable();
        for &rule in &copy.members {
            self.of_rule[rule] = Some(cohort);
        }
    }

    /// Closes each cohort's windows that `limit` gives a limit for (see
    /// `Aggregator::close`; `None`: leave it open) and merges the cohorts
    /// that became interchangeable; per member, the alerts in rule order,
    /// and the entries freed (counted once per member).
    pub fn close(
        &mut self,
        limit: &dyn Fn(&Aggregator) -> Option<Option<Nanos>>,
    ) -> (Vec<(usize, Alert)>, u64) {
        let mut alerts = Vec::new();
        let mut freed = 0u64;
        for cohort in &mut self.cohorts {
            let Some(before) = limit(&cohort.aggregator) else {
                continue;
            };
            let (closed, entries) = cohort.aggregator.close(before);
            freed = freed.saturating_add(entries.saturating_mul(cohort.members.len() as u64));
            if let Some((&last, others)) = cohort.members.split_last() {
                for &member in others {
                    alerts.extend(closed.iter().map(|alert| (member, alert.clone())));
                }
                alerts.extend(closed.into_iter().map(|alert| (last, alert)));
            }
        }
        if self.sharing {
            self.merge();
        }
        (alerts, freed)
    }

    /// Merges the cohorts of each class that nothing can tell apart any
    /// more, so that splits do not pile up.
    fn merge(&mut self) {
        if self.cohorts.len() <= self.classes {
            return;
        }
        let mut kept: Vec<Cohort> = Vec::with_capacity(self.cohorts.len());
        for cohort in std::mem::take(&mut self.cohorts) {
            let into = kept.iter_mut().find(|k| {
                k.class == cohort.class && k.aggregator.interchangeable(&cohort.aggregator)
            });
            match into {
                Some(into) => {
                    into.members.extend(&cohort.members);
                    into.members.sort_unstable();
                }
                None => kept.push(cohort),
            }
        }
        for (index, cohort) in kept.iter().enumerate() {
            for &rule in &cohort.members {
                self.of_rule[rule] = Some(index);
            }
        }
        self.hits = vec![(0, 0); kept.len()];
        self.cohorts = kept;
    }

    /// When the earliest window closes, over every cohort.
    pub fn due(&self) -> Option<Nanos> {
        self.cohorts.iter().filter_map(|c| c.aggregator.due()).min()
    }

    /// What the open windows hold as if each rule had its own (windows,
    /// groups and entries once per member), in memory actually used
    /// (bytes once per cohort).
    pub fn held(&self) -> Held {
        let mut total = Held::default();
        for cohort in &self.cohorts {
            let held = cohort.aggregator.held();
            let members = cohort.members.len() as u64;
            total.windows += held.windows * members;
            total.groups += held.groups * members;
            total.entries += held.entries * members;
            total.bytes += held.bytes;
        }
        total
    }

    /// How many cohorts there are now (for tests of splits and merges).
    pub fn len(&self) -> usize {
        self.cohorts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cohorts.is_empty()
    }
}
