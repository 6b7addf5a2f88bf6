//! What `sequence` and `first seen` share: both depend on the order of
//! events in time, so events that passed `where` wait in a reorder buffer
//! until the stream's clock is past their time plus the allowed lateness
//! (at the end of input without one), and are then handed on in time
//! order, ties in input order. An event older than what was already handed
//! on is late. Also here: the group keys of an event (as `threshold`
//! groups: one per combination of array elements, folded text, numbers on
//! `int` fields, exact text for `cased`) and the context values it shows.

use std::collections::{BTreeMap, BTreeSet};

use rustc_hash::FxHashSet as HashSet;

use super::event::{FieldPath, Fields, PathTrie};
use super::threshold::{TooManyCombinations, sample_text};
use super::timestamp::Nanos;
use super::value::{Keying, push_key_as, to_json};
use crate::ir;

/// Past this many keys in one column, repeats are found with a set.
const LINEAR_SCAN: usize = 8;

/// Events waiting for the clock, by (time, input position).
#[derive(Debug, Clone)]
pub struct Reorder<T> {
    pending: BTreeMap<(Nanos, u64), T>,
    /// How far behind the newest time an event may be and still be placed
    /// in order; `None`: events are handed on at the end of input only.
    pub lateness: Option<Nanos>,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder {
            pending: BTreeMap::new(),
            lateness: None,
        }
    }
}

impl<T> Reorder<T> {
    /// Whether an event at `time` comes too late to be placed in order:
    /// events before `newest - lateness` may have been handed on.
    pub fn is_late(&self, time: Nanos, newest: Option<Nanos>) -> bool {
        match (self.lateness, newest) {
            (Some(lateness), Some(newest)) => time.saturating_add(lateness) < newest,
            _ => false,
        }
    }

    pub fn push(&mut self, time: Nanos, seq: u64, item: T) {
        self.pending.insert((time, seq), item);
    }

    /// The events whose time plus the lateness is before `newest` (all
    /// with `all`), in order.
    pub fn release(&mut self, newest: Option<Nanos>, all: bool) -> Vec<((Nanos, u64), T)> {
        let limit = match (all, self.lateness, newest) {
            (true, _, _) => None,
            (false, Some(lateness), Some(newest)) => Some(newest.saturating_sub(lateness)),
            (false, _, _) => return Vec::new(),
        };
        let mut out = Vec::new();
        while let Some(entry) = self.pending.first_entry() {
            if limit.is_some_and(|limit| entry.key().0 >= limit) {
                break;
            }
            let (key, item) = entry.remove_entry();
            out.push((key, item));
        }
        out
    }

    /// When the oldest waiting event is handed on: once the clock is past this.
    pub fn due(&self) -> Option<Nanos> {
        let (time, _) = self.pending.keys().next()?;
        Some(time.saturating_add(self.lateness?))
    }

    /// Events waiting.
    pub fn waiting(&self) -> u64 {
        self.pending.len() as u64
    }
}

/// One combination of group keys: their encodings end to end, and the
/// first spelling of each.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupKey {
    pub key: Vec<u8>,
    pub spelling: Vec<serde_json::Value>,
}

/// The grouping fields of a rule.
#[derive(Debug, Clone)]
pub struct Grouping {
    pub fields: Vec<(FieldPath, Keying)>,
}

impl Grouping {
    pub fn new(fields: &[ir::Field], trie: &mut PathTrie) -> Grouping {
        Grouping {
            fields: fields
                .iter()
                .map(|f| (FieldPath::new(&f.path, trie), Keying::of(f)))
                .collect(),
        }
    }

    /// The event's combinations of one key per field (none when a field
    /// has no key: missing, null, `""`), or an error past `max_fanout`.
    pub fn keys(
        &self,
        event: &Fields<'_, '_>,
        max_fanout: u64,
    ) -> Result<Vec<GroupKey>, TooManyCombinations> {
        let mut columns: Vec<Vec<(Vec<u8>, serde_json::Value)>> = Vec::new();
        for (field, keying) in &self.fields {
            let mut column: Vec<(Vec<u8>, serde_json::Value)> = Vec::new();
            // Repeats are found by comparison while the column is short,
            // then with a set (a long array stays linear).
            let mut seen: Option<HashSet<Vec<u8>>> = None;
            let over = field.for_each_atom(event, &mut |v| {
                let mut key = Vec::new();
                if !push_key_as(v, *keying, &mut key) {
                    return false;
                }
                let fresh = match &mut seen {
                    Some(set) => set.insert(key.clone()),
                    None => !column.iter().any(|(k, _)| *k == key),
                };
                if !fresh {
                    return false;
                }
                column.push((key, to_json(v)));
                if seen.is_none() && column.len() > LINEAR_SCAN {
                    seen = Some(column.iter().map(|(k, _)| k.clone()).collect());
                }
                column.len() as u64 > max_fanout
            });
            if over {
                return Err(TooManyCombinations {
                    entries: column.len() as u64,
                    limit: max_fanout,
                });
            }
            if column.is_empty() {
                return Ok(Vec::new());
            }
            columns.push(column);
        }
        // Mostly one value a field: one combination, nothing copied.
        if columns.iter().all(|c| c.len() == 1) {
            let mut one = GroupKey {
                key: Vec::new(),
                spelling: Vec::with_capacity(columns.len()),
            };
            for (key, spelling) in columns.into_iter().flatten() {
                one.key.extend_from_slice(&key);
                one.spelling.push(spelling);
            }
            return Ok(vec![one]);
        }
        let mut combinations = vec![GroupKey {
            key: Vec::new(),
            spelling: Vec::new(),
        }];
        for column in columns {
            let entries = (combinations.len() as u64).saturating_mul(column.len() as u64);
            if entries > max_fanout {
                return Err(TooManyCombinations {
                    entries,
                    limit: max_fanout,
                });
            }
            combinations = combinations
                .iter()
                .flat_map(|c| {
                    column.iter().map(move |(key, spelling)| {
                        let mut next = c.clone();
                        next.key.extend_from_slice(key);
                        next.spelling.push(spelling.clone());
                        next
                    })
                })
                .collect();
        }
        Ok(combinations)
    }

    pub fn paths(&self) -> Vec<String> {
        self.fields.iter().map(|(f, _)| f.path.clone()).collect()
    }
}

/// The alert's context fields that are not grouping fields.
pub fn context_fields(alert: &ir::Alert, by: &[ir::Field], trie: &mut PathTrie) -> Vec<FieldPath> {
    alert
        .context
        .iter()
        .filter(|f| !by.iter().any(|b| b.path == f.path))
        .map(|f| FieldPath::new(&f.path, trie))
        .collect()
}

/// An event's context values: (context field index, text), in field
/// order (empty for a rule without context fields).
pub type EventContext = Vec<(usize, String)>;

/// The event's values of each context field as an alert shows them.
pub fn context_values(fields: &[FieldPath], event: &Fields<'_, '_>) -> EventContext {
    let mut values = Vec::new();
    for (index, field) in fields.iter().enumerate() {
        field.for_each_atom(event, &mut |v| {
            if let Some(text) = sample_text(v) {
                values.push((index, text));
            }
            false
        });
    }
    values
}

/// Several events' context values merged: per field, the first
/// `ir::CONTEXT_SAMPLE` distinct values sorted as text.
pub fn merge_context<'c>(
    paths: &[FieldPath],
    events: impl Iterator<Item = &'c [(usize, String)]>,
) -> Vec<(String, Vec<String>)> {
    let mut merged: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); paths.len()];
    for values in events {
        for (index, text) in values {
            if let Some(set) = merged.get_mut(*index) {
                set.insert(text);
            }
        }
    }
    paths
        .iter()
        .zip(merged)
        .map(|(f, values)| {
            let kept = values
                .into_iter()
                .take(ir::CONTEXT_SAMPLE)
                .map(str::to_string)
                .collect();
            (f.path.clone(), kept)
        })
        .collect()
}

/// A rule whose alerts depend on the order of events: its matcher.
#[derive(Debug, Clone)]
pub enum Ordered {
    Sequence(super::sequence::Sequencer),
    FirstSeen(super::first_seen::FirstSeer),
}

/// What the order-dependent rules hold, for `--stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderedHeld {
    /// Groups with a partial sequence, and the events they hold.
    pub partial_sequences: u64,
    pub sequence_events: u64,
    /// First-seen combinations remembered.
    pub first_seen: u64,
    /// Events waiting in reorder buffers for the clock.
    pub waiting: u64,
}

impl std::ops::AddAssign for OrderedHeld {
    fn add_assign(&mut self, other: OrderedHeld) {
        self.partial_sequences += other.partial_sequences;
        self.sequence_events += other.sequence_events;
        self.first_seen += other.first_seen;
        self.waiting += other.waiting;
    }
}

impl Ordered {
    /// The matcher of a `sequence` or `first seen` rule (`None` for others).
    pub fn new(
        rule: &ir::Rule,
        trie: &mut PathTrie,
        max_fanout: u64,
        lateness: Option<Nanos>,
    ) -> Result<Option<Ordered>, String> {
        let mut ordered = match &rule.detection {
            ir::Detection::Sequence(sequence) => Ordered::Sequence(
                super::sequence::Sequencer::new(sequence, &rule.alert, trie, max_fanout)?,
            ),
            ir::Detection::FirstSeen(first) => Ordered::FirstSeen(
                super::first_seen::FirstSeer::new(first, &rule.alert, trie, max_fanout),
            ),
            ir::Detection::Match | ir::Detection::Aggregation(_) => return Ok(None),
        };
        match &mut ordered {
            Ordered::Sequence(s) => s.reorder.lateness = lateness,
            Ordered::FirstSeen(f) => f.reorder.lateness = lateness,
        }
        Ok(Some(ordered))
    }

    pub fn is_late(&self, time: Nanos, newest: Option<Nanos>) -> bool {
        match self {
            Ordered::Sequence(s) => s.reorder.is_late(time, newest),
            Ordered::FirstSeen(f) => f.reorder.is_late(time, newest),
        }
    }

    pub fn add(
        &mut self,
        event: &Fields<'_, '_>,
        time: Nanos,
        seq: u64,
    ) -> Result<(), TooManyCombinations> {
        match self {
            Ordered::Sequence(s) => s.add(event, time, seq),
            Ordered::FirstSeen(f) => f.add(event, time, seq),
        }
    }

    pub fn release(&mut self, newest: Option<Nanos>, all: bool) -> Vec<super::threshold::Alert> {
        match self {
            Ordered::Sequence(s) => s.release(newest, all),
            Ordered::FirstSeen(f) => f.release(newest, all),
        }
    }

    /// When the oldest waiting event may be handed on.
    pub fn due(&self) -> Option<Nanos> {
        match self {
            Ordered::Sequence(s) => s.reorder.due(),
            Ordered::FirstSeen(f) => f.reorder.due(),
        }
    }

    pub fn entries(&self) -> u64 {
        match self {
            Ordered::Sequence(s) => s.entries(),
            Ordered::FirstSeen(f) => f.entries(),
        }
    }

    pub fn held(&self) -> OrderedHeld {
        match self {
            Ordered::Sequence(s) => {
                let held = s.held();
                OrderedHeld {
                    partial_sequences: held.partial,
                    sequence_events: held.events,
                    first_seen: 0,
                    waiting: held.waiting,
                }
            }
            Ordered::FirstSeen(f) => {
                let (kept, waiting) = f.held();
                OrderedHeld {
                    first_seen: kept,
                    waiting,
                    ..OrderedHeld::default()
                }
            }
        }
    }
}
