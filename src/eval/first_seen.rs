//! `first seen FIELDS in D`: an event that passed `where` alerts when its
//! combination of FIELDS values (keyed as grouping keys them) was not seen
//! during the D before it: no earlier event in time order (ties in input
//! order) of the same combination at most D before it. Events arrive
//! through the reorder buffer (`ordered`), so in that order. Each
//! combination keeps its last time; combinations not seen for D are
//! dropped as the clock advances, so memory holds the combinations of the
//! last D.

use rustc_hash::FxHashMap as HashMap;

use super::event::{FieldPath, Fields, PathTrie};
use super::ordered::{
    EventContext, GroupKey, Grouping, Reorder, context_fields, context_values, merge_context,
};
use super::threshold::{Alert, TooManyCombinations};
use super::timestamp::{self, Nanos};
use super::value::decode_keys;
use crate::ir;

#[derive(Debug, Clone)]
pub struct FirstSeer {
    grouping: Grouping,
    horizon: Nanos,
    horizon_seconds: i128,
    context: Vec<FieldPath>,
    pub reorder: Reorder<Arrival>,
    /// Each combination's last time.
    last: HashMap<Vec<u8>, Nanos>,
    sweep_at: Option<Nanos>,
    max_fanout: u64,
}

#[derive(Debug, Clone)]
pub struct Arrival {
    keys: Vec<GroupKey>,
    context: EventContext,
}

impl FirstSeer {
    pub fn new(
        first: &ir::FirstSeen,
        alert: &ir::Alert,
        trie: &mut PathTrie,
        max_fanout: u64,
    ) -> FirstSeer {
        let horizon_seconds = i128::from(first.horizon);
        FirstSeer {
            grouping: Grouping::new(&first.fields, trie),
            horizon: timestamp::from_seconds(horizon_seconds),
            horizon_seconds,
            context: context_fields(alert, &first.fields, trie),
            reorder: Reorder::default(),
            last: HashMap::default(),
            sweep_at: None,
            max_fanout,
        }
    }

    /// Takes an event that passed `where`: buffered when it has a combination.
    pub fn add(
        &mut self,
        event: &Fields<'_, '_>,
        time: Nanos,
        seq: u64,
    ) -> Result<(), TooManyCombinations> {
        let keys = self.grouping.keys(event, self.max_fanout)?;
        if keys.is_empty() {
            return Ok(());
        }
        let context = context_values(&self.context, event);
        self.reorder.push(time, seq, Arrival { keys, context });
        Ok(())
    }

    /// Handles the buffered events the clock allows (all with `all`), in
    /// order; an alert per combination not seen in the D before.
    pub fn release(&mut self, newest: Option<Nanos>, all: bool) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let mut last_time = None;
        for ((time, _), arrival) in self.reorder.release(newest, all) {
            for key in arrival.keys {
                let seen = self.last.insert(key.key.clone(), time);
                if seen.is_some_and(|before| time.saturating_sub(before) <= self.horizon) {
                    continue;
                }
                let second = timestamp::seconds(time);
                alerts.push(Alert {
                    group: self
                        .grouping
                        .paths()
                        .into_iter()
                        .zip(key.spelling)
                        .collect(),
                    keys: decode_keys(&key.key),
                    start: second - self.horizon_seconds,
                    end: second,
                    values: vec![("events".to_string(), Some(1))],
                    first_time: time,
                    last_time: time,
                    context: merge_context(
                        &self.context,
                        std::iter::once(arrival.context.as_slice()),
                    ),
                });
            }
            last_time = Some(time);
        }
        if let Some(now) = last_time
            && self.sweep_at.is_none_or(|at| now >= at)
        {
            let horizon = self.horizon;
            self.last
                .retain(|_, last| now.saturating_sub(*last) <= horizon);
            self.sweep_at = Some(now.saturating_add(horizon));
        }
        alerts
    }

    /// Combinations kept and events waiting: what counts against `--max-groups`.
    pub fn entries(&self) -> u64 {
        self.last.len() as u64 + self.reorder.waiting()
    }

    /// Combinations kept, events waiting.
    pub fn held(&self) -> (u64, u64) {
        (self.last.len() as u64, self.reorder.waiting())
    }
}
