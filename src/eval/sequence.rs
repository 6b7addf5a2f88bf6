//! `sequence`: per group, steps matched by distinct events in time order
//! (ties in input order). Events reach the matcher through the reorder
//! buffer (`ordered`), so they arrive in that order.
//!
//! The rule implemented: a group holds the events (passing `where` and at
//! least one step) of the last `within` before its newest event. When an
//! event that matches the last step arrives, the sequence completes if the
//! held events, that event included, can be assigned to the steps in
//! order: each step N distinct events that match it, every event of a step
//! before every event of the next. The events chosen are found from the
//! newest back, each step taking the latest events that match it before
//! those of the step after; this finds an assignment whenever one exists,
//! and the one whose first event is latest. The alert reports that first
//! event, the completing event, and the group; the group is then emptied.
//! An event matching several steps can serve any one of them, never two.

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::event::{FieldPath, Fields, PathTrie};
use super::ordered::{
    EventContext, GroupKey, Grouping, Reorder, context_fields, context_values, merge_context,
};
use super::predicate::Condition;
use super::threshold::{Alert, TooManyCombinations};
use super::timestamp::{self, Nanos};
use super::value::decode_keys;
use crate::ir;

/// One rule's sequence and its partial sequences.
#[derive(Debug, Clone)]
pub struct Sequencer {
    grouping: Grouping,
    /// Each step's condition and how many events it needs.
    steps: Vec<(Condition, usize)>,
    within: Nanos,
    within_seconds: i128,
    context: Vec<FieldPath>,
    pub reorder: Reorder<Arrival>,
    groups: HashMap<Vec<u8>, Partial>,
    /// Events held by partial sequences.
    held: u64,
    /// When the next sweep drops the expired events of idle groups.
    sweep_at: Option<Nanos>,
    max_fanout: u64,
}

/// An event waiting in the reorder buffer.
#[derive(Debug, Clone)]
pub struct Arrival {
    keys: Vec<GroupKey>,
    steps: Arc<[usize]>,
    context: Arc<EventContext>,
}

/// A group's held events, oldest first.
#[derive(Debug, Clone, Default)]
struct Partial {
    events: VecDeque<Held>,
    /// The newest events all match exactly one step, this one: how many.
    run: Option<(usize, usize)>,
}

#[derive(Debug, Clone)]
struct Held {
    time: Nanos,
    /// The steps it matches, ascending.
    steps: Arc<[usize]>,
    spelling: Arc<[serde_json::Value]>,
    context: Arc<EventContext>,
}

/// What the partial sequences hold, for `--stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceHeld {
    pub partial: u64,
    pub events: u64,
    pub waiting: u64,
}

impl Sequencer {
    pub fn new(
        sequence: &ir::Sequence,
        alert: &ir::Alert,
        trie: &mut PathTrie,
        max_fanout: u64,
    ) -> Result<Sequencer, String> {
        let steps = sequence
            .steps
            .iter()
            .map(|s| {
                let count = usize::try_from(s.count.max(1)).unwrap_or(usize::MAX);
                Condition::compile(&s.condition, trie).map(|c| (c, count))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if steps.is_empty() {
            return Err("a sequence without steps".to_string());
        }
        let within_seconds = i128::from(sequence.within);
        Ok(Sequencer {
            grouping: Grouping::new(&sequence.by, trie),
            steps,
            within: timestamp::from_seconds(within_seconds),
            within_seconds,
            context: context_fields(alert, &sequence.by, trie),
            reorder: Reorder::default(),
            groups: HashMap::default(),
            held: 0,
            sweep_at: None,
            max_fanout,
        })
    }

    /// Takes an event that passed `where` at `time`, `seq`-th in input:
    /// buffered when it matches a step and has a group.
    pub fn add(
        &mut self,
        event: &Fields<'_, '_>,
        time: Nanos,
        seq: u64,
    ) -> Result<(), TooManyCombinations> {
        let steps: Arc<[usize]> = (0..self.steps.len())
            .filter(|&i| self.steps[i].0.holds(event))
            .collect();
        if steps.is_empty() {
            return Ok(());
        }
        let keys = self.grouping.keys(event, self.max_fanout)?;
        if keys.is_empty() {
            return Ok(());
        }
        let context = Arc::new(context_values(&self.context, event));
        self.reorder.push(
            time,
            seq,
            Arrival {
                keys,
                steps,
                context,
            },
        );
        Ok(())
    }

    /// Matches the buffered events the clock allows (all with `all`), in
    /// order; the alerts of the sequences they complete.
    pub fn release(&mut self, newest: Option<Nanos>, all: bool) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let mut last_time = None;
        for ((time, _), arrival) in self.reorder.release(newest, all) {
            for key in arrival.keys {
                let held = Held {
                    time,
                    steps: arrival.steps.clone(),
                    spelling: key.spelling.into(),
                    context: arrival.context.clone(),
                };
                alerts.extend(self.step(key.key, held));
            }
            last_time = Some(time);
        }
        if let Some(now) = last_time
            && self.sweep_at.is_none_or(|at| now >= at)
        {
            self.sweep(now);
            self.sweep_at = Some(now.saturating_add(self.within));
        }
        alerts
    }

    /// One event in one group: drop what fell out of `within`, hold it,
    /// and see whether it completes the sequence.
    fn step(&mut self, key: Vec<u8>, event: Held) -> Option<Alert> {
        let last_step = self.steps.len() - 1;
        let completes = event.steps.last() == Some(&last_step);
        let time = event.time;
        let partial = self.groups.entry(key.clone()).or_default();
        while partial
            .events
            .front()
            .is_some_and(|first| time.saturating_sub(first.time) > self.within)
        {
            partial.events.pop_front();
            self.held -= 1;
        }
        // In a run of events that match the same one step and nothing
        // else, only the newest N can be chosen: a step takes the latest
        // events before the cursor, which never stops inside such a run
        // (it stops at an event matching another step). Older ones go.
        let only = match *event.steps {
            [step] => Some(step),
            _ => None,
        };
        let run = match (partial.run, only) {
            (Some((step, n)), Some(only)) if step == only => {
                Some((step, (n + 1).min(partial.events.len() + 1)))
            }
            (_, Some(only)) => Some((only, 1)),
            (_, None) => None,
        };
        partial.events.push_back(event);
        self.held += 1;
        partial.run = run;
        if let Some((step, n)) = run
            && n > self.steps[step].1
        {
            let oldest = partial.events.len() - n;
            partial.events.remove(oldest);
            self.held -= 1;
            partial.run = Some((step, n - 1));
        }
        if !completes {
            return None;
        }
        let chosen = chain(&partial.events, &self.steps)?;
        let partial = self.groups.remove(&key)?;
        self.held -= partial.events.len() as u64;
        let first = chosen.iter().min().and_then(|&i| partial.events.get(i))?;
        let start = timestamp::seconds(first.time);
        Some(Alert {
            group: self
                .grouping
                .paths()
                .into_iter()
                .zip(first.spelling.iter().cloned())
                .collect(),
            keys: decode_keys(&key),
            start,
            end: start + self.within_seconds,
            values: vec![("events".to_string(), Some(chosen.len() as i128))],
            first_time: first.time,
            last_time: time,
            context: merge_context(
                &self.context,
                chosen
                    .iter()
                    .filter_map(|&i| partial.events.get(i))
                    .map(|e| e.context.as_slice()),
            ),
        })
    }

    /// Drops the events every group holds from before `now - within`.
    fn sweep(&mut self, now: Nanos) {
        let within = self.within;
        let mut dropped = 0u64;
        self.groups.retain(|_, partial| {
            while partial
                .events
                .front()
                .is_some_and(|first| now.saturating_sub(first.time) > within)
            {
                partial.events.pop_front();
                dropped += 1;
            }
            !partial.events.is_empty()
        });
        self.held -= dropped;
    }

    /// Events held and waiting: what counts against `--max-groups`.
    pub fn entries(&self) -> u64 {
        self.held + self.reorder.waiting()
    }

    pub fn held(&self) -> SequenceHeld {
        SequenceHeld {
            partial: self.groups.len() as u64,
            events: self.held,
            waiting: self.reorder.waiting(),
        }
    }
}

/// The held events (indices) that complete the steps with the newest
/// event in the last step, chosen from the newest back; `None` when the
/// held events cannot.
fn chain(events: &VecDeque<Held>, steps: &[(Condition, usize)]) -> Option<Vec<usize>> {
    let mut chosen = Vec::new();
    let mut cursor = events.len();
    for step in (0..steps.len()).rev() {
        let needed = steps[step].1;
        let mut found = 0;
        while found < needed {
            cursor = cursor.checked_sub(1)?;
            if events.get(cursor)?.steps.binary_search(&step).is_ok() {
                chosen.push(cursor);
                found += 1;
            }
        }
    }
    Some(chosen)
}
