//! `threshold`: counting events that passed `where` per group and tumbling
//! window (language.md "Aggregation", 1.2 to 1.4). Windows are aligned on
//! the epoch; a `by` field holding an array counts the event once in each
//! combination of distinct elements; a `by` value that is missing, null or
//! `""` leaves the event uncounted; groups and `distinct` values are keyed
//! ignoring case (numerically on `int` fields); an alert reports the first
//! spelling of its group, from the earliest counted event of the window
//! (ties broken by input order). Only (group, window) pairs with a counted
//! event exist.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::event::{FieldPath, Fields, PathTrie, Value};
use super::timestamp::{self, Nanos};
use super::value::{Key, key as key_of, push_key, to_json};
use crate::ir::{self, Aggregate, Comparison, FieldType};

/// One rule's aggregation and its open windows.
#[derive(Debug, Clone)]
pub struct Aggregator {
    by: Vec<(FieldPath, bool)>,
    distinct: Option<(FieldPath, bool)>,
    /// Window length in seconds.
    window: i128,
    comparison: Comparison,
    value: i64,
    /// Open windows by start (seconds), each with its groups, keyed by the
    /// concatenated encodings of their keys (`value::push_key`).
    windows: BTreeMap<i128, HashMap<Box<[u8]>, Group>>,
    created: u64,
    /// Reused for the encodings of one event's keys.
    scratch: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Group {
    keys: Vec<Key>,
    spelling: Vec<serde_json::Value>,
    /// When and in which input position the spelling was seen.
    first: (Nanos, u64),
    count: i64,
    /// The encodings of the distinct values.
    distinct: HashSet<Box<[u8]>>,
    created: u64,
}

/// An alert: a (group, window) whose aggregate satisfies the comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The `by` fields with the first spelling of each.
    pub group: Vec<(String, serde_json::Value)>,
    /// Group keys, in `by` order (for `expect alert { }`).
    pub keys: Vec<Key>,
    /// Window start and (exclusive) end, seconds since the epoch.
    pub start: i128,
    pub end: i128,
    /// `count()` or the number of distinct values.
    pub value: i64,
    pub distinct: bool,
}

impl Aggregator {
    /// The aggregation of `threshold`, its paths added to `trie`.
    pub fn new(threshold: &ir::Threshold, trie: &mut PathTrie) -> Aggregator {
        let mut field = |f: &ir::Field| (FieldPath::new(&f.path, trie), f.ty == FieldType::Int);
        Aggregator {
            by: threshold.by.iter().map(&mut field).collect(),
            distinct: match &threshold.aggregate {
                Aggregate::Count => None,
                Aggregate::Distinct(f) => Some(field(f)),
            },
            window: i128::from(threshold.window.max(1)),
            comparison: threshold.comparison,
            value: threshold.value,
            windows: BTreeMap::new(),
            created: 0,
            scratch: Vec::new(),
        }
    }

    /// The start (seconds) of the window holding `time`.
    pub fn window_start(&self, time: Nanos) -> i128 {
        timestamp::seconds(time).div_euclid(self.window) * self.window
    }

    pub fn window_len(&self) -> i128 {
        self.window
    }

    /// Counts an event that passed `where`, seen at `time`, `seq`-th in input.
    pub fn add(&mut self, event: &Fields<'_, '_>, time: Nanos, seq: u64) {
        let mut bytes = std::mem::take(&mut self.scratch);
        bytes.clear();
        // The distinct keys of each `by` column, in order: (column, byte
        // range of the encoding in `bytes`, the first value spelling it).
        let mut atoms: Vec<(usize, usize, usize, &Value<'_>)> = Vec::with_capacity(self.by.len());
        for (column, (field, int)) in self.by.iter().enumerate() {
            let first = atoms.len();
            field.for_each_atom(event, &mut |v| {
                let start = bytes.len();
                if push_key(v, *int, &mut bytes) {
                    let end = bytes.len();
                    let seen = atoms[first..]
                        .iter()
                        .any(|&(_, s, e, _)| bytes[s..e] == bytes[start..end]);
                    if seen {
                        bytes.truncate(start);
                    } else {
                        atoms.push((column, start, end, v));
                    }
                }
                false
            });
            if atoms.len() == first {
                self.scratch = bytes;
                return;
            }
        }
        let keys_end = bytes.len();
        let mut values: Vec<(usize, usize)> = Vec::new();
        if let Some((field, int)) = &self.distinct {
            field.for_each_atom(event, &mut |v| {
                let start = bytes.len();
                if push_key(v, *int, &mut bytes) {
                    values.push((start, bytes.len()));
                }
                false
            });
        }
        let start = self.window_start(time);
        let groups = self.windows.entry(start).or_default();
        let mut count = |key: &[u8], members: &[usize]| {
            let update = |group: &mut Group, members: &[usize]| {
                if (time, seq) < group.first {
                    group.spelling = members.iter().map(|&i| to_json(atoms[i].3)).collect();
                    group.first = (time, seq);
                }
                group.count += 1;
                for &(s, e) in &values {
                    let value = &bytes[s..e];
                    if !group.distinct.contains(value) {
                        group.distinct.insert(Box::from(value));
                    }
                }
            };
            match groups.get_mut(key) {
                Some(group) => update(group, members),
                None => {
                    self.created += 1;
                    let mut group = Group {
                        keys: members
                            .iter()
                            .filter_map(|&i| key_of(atoms[i].3, self.by[atoms[i].0].1))
                            .collect(),
                        spelling: members.iter().map(|&i| to_json(atoms[i].3)).collect(),
                        first: (time, seq),
                        count: 0,
                        distinct: HashSet::default(),
                        created: self.created,
                    };
                    update(&mut group, members);
                    groups.insert(Box::from(key), group);
                }
            }
        };
        // Every combination of one key per column, in order, the last
        // column varying fastest (mostly there is just one).
        let mut bounds = Vec::with_capacity(self.by.len());
        let mut from = 0;
        for column in 0..self.by.len() {
            let to = from + atoms[from..].iter().take_while(|a| a.0 == column).count();
            bounds.push((from, to));
            from = to;
        }
        let mut pick: Vec<usize> = bounds.iter().map(|&(from, _)| from).collect();
        if atoms.len() == self.by.len() {
            // One key per column: the encodings lie end to end.
            count(&bytes[..keys_end], &pick);
        } else {
            let mut key = Vec::new();
            'combinations: loop {
                key.clear();
                for &i in &pick {
                    key.extend_from_slice(&bytes[atoms[i].1..atoms[i].2]);
                }
                count(&key, &pick);
                let mut column = pick.len();
                loop {
                    if column == 0 {
                        break 'combinations;
                    }
                    column -= 1;
                    pick[column] += 1;
                    if pick[column] < bounds[column].1 {
                        break;
                    }
                    pick[column] = bounds[column].0;
                }
            }
        }
        self.scratch = bytes;
    }

    /// Closes the windows whose end is before `before` (all when `None`)
    /// and returns their alerts, by window then group creation.
    pub fn close(&mut self, before: Option<Nanos>) -> Vec<Alert> {
        let mut alerts = Vec::new();
        while let Some(entry) = self.windows.first_entry() {
            let start = *entry.key();
            if before.is_some_and(|limit| timestamp::from_seconds(start + self.window) >= limit) {
                break;
            }
            let groups = entry.remove();
            let mut closed: Vec<Group> = groups.into_values().collect();
            closed.sort_by_key(|g| g.created);
            for group in closed {
                let keys = group.keys;
                let value = match self.distinct {
                    Some(_) => i64::try_from(group.distinct.len()).unwrap_or(i64::MAX),
                    None => group.count,
                };
                if self.comparison.holds(value, self.value) {
                    alerts.push(Alert {
                        group: self
                            .by
                            .iter()
                            .map(|(f, _)| f.path.clone())
                            .zip(group.spelling)
                            .collect(),
                        keys,
                        start,
                        end: start + self.window,
                        value,
                        distinct: self.distinct.is_some(),
                    });
                }
            }
        }
        alerts
    }

    /// The start of the oldest open window.
    pub fn oldest_open(&self) -> Option<i128> {
        self.windows.keys().next().copied()
    }
}
