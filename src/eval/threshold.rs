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

use super::event::{FieldPath, Object, PathTrie, Value};
use super::timestamp::{self, Nanos};
use super::value::{Key, key, to_json};
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
    /// Open windows by start (seconds), each with its groups.
    windows: BTreeMap<i128, HashMap<Vec<Key>, Group>>,
    created: u64,
}

#[derive(Debug, Clone)]
struct Group {
    spelling: Vec<serde_json::Value>,
    /// When and in which input position the spelling was seen.
    first: (Nanos, u64),
    count: i64,
    distinct: HashSet<Key>,
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
    pub fn add(&mut self, event: &Object<'_>, time: Nanos, seq: u64) {
        let mut columns = Vec::with_capacity(self.by.len());
        for (field, int) in &self.by {
            let values = distinct_values(field, *int, event);
            if values.is_empty() {
                return;
            }
            columns.push(values);
        }
        let mut values = Vec::new();
        if let Some((field, int)) = &self.distinct {
            field.for_each_atom(event, &mut |v| {
                values.extend(key(v, *int));
                false
            });
        }
        let start = self.window_start(time);
        let groups = self.windows.entry(start).or_default();
        let combos = if columns.iter().all(|c| c.len() == 1) {
            vec![columns.into_iter().flatten().collect()]
        } else {
            combinations(&columns)
        };
        for combination in combos {
            let keys: Vec<Key> = combination.iter().map(|(k, _)| k.clone()).collect();
            let spelling = || combination.iter().map(|(_, v)| to_json(v)).collect();
            let group = groups.entry(keys).or_insert_with(|| {
                self.created += 1;
                Group {
                    spelling: spelling(),
                    first: (time, seq),
                    count: 0,
                    distinct: HashSet::default(),
                    created: self.created,
                }
            });
            if (time, seq) < group.first {
                group.spelling = spelling();
                group.first = (time, seq);
            }
            group.count += 1;
            group.distinct.extend(values.iter().cloned());
        }
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
            let mut closed: Vec<(Vec<Key>, Group)> = groups.into_iter().collect();
            closed.sort_by_key(|(_, g)| g.created);
            for (keys, group) in closed {
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

/// The distinct keys (with their first spelling in the event) of a field.
fn distinct_values<'e, 'a>(
    field: &FieldPath,
    int: bool,
    event: &'e Object<'a>,
) -> Vec<(Key, &'e Value<'a>)> {
    let mut out: Vec<(Key, &'e Value<'a>)> = Vec::new();
    field.for_each_atom(event, &mut |v| {
        if let Some(k) = key(v, int)
            && !out.iter().any(|(seen, _)| *seen == k)
        {
            out.push((k, v));
        }
        false
    });
    out
}

/// Every combination of one element per column (the cartesian product).
fn combinations<T: Clone>(columns: &[Vec<T>]) -> Vec<Vec<T>> {
    columns.iter().fold(vec![Vec::new()], |acc, column| {
        acc.iter()
            .flat_map(|prefix| {
                column.iter().map(move |item| {
                    let mut next = prefix.clone();
                    next.push(item.clone());
                    next
                })
            })
            .collect()
    })
}
