//! `threshold`: counting events that passed `where` per group and window
//! (language.md "Aggregation", 1.2 to 1.4, "Version 2"): a condition over
//! `count()`, `distinct(f)`, `sum(f)`, `min(f)`, `max(f)`; windows tumble,
//! or hop by `step` (an event counts in every window holding it, and a
//! group alerts only at the first window of a run of satisfying windows,
//! remembering the groups that satisfied the last closed window). Windows are aligned on
//! the epoch; a `by` field holding an array counts the event once in each
//! combination of distinct elements; a `by` value that is missing, null or
//! `""` leaves the event uncounted; groups and `distinct` values are keyed
//! ignoring case (numerically on `int` fields); an alert reports the first
//! spelling of its group, from the earliest counted event of the window
//! (ties broken by input order). Only (group, window) pairs with a counted
//! event exist. An alert also carries what its SIEM row shows: its first
//! and last event time and, per context field of the rule's `alert`, the
//! first 10 of the group's distinct non-empty values sorted as text (kept
//! while counting only for rules with such fields).

pub mod cohort;
mod store;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use std::hash::BuildHasher;

use rustc_hash::{FxBuildHasher, FxHashMap as HashMap, FxHashSet as HashSet};

use self::store::{
    Bytes, Distinct, Spellers, decode_spelling, is_new, is_new_value, push_spelling,
};
use super::event::{FieldPath, Fields, PathTrie, Value};
use super::timestamp::{self, Nanos};
use super::value::{Key, Keying, decode_keys, integer, push_key_as, to_json};
use crate::ir::{self, Aggregate, Comparison, Having};

/// One rule's aggregation and its open windows.
#[derive(Debug, Clone)]
pub struct Aggregator {
    by: Vec<(FieldPath, Keying)>,
    /// The `distinct` fields, each once (the first kept in `Group::distinct`).
    distinct: Vec<(FieldPath, Keying)>,
    /// The fields of `sum`, `min` and `max`, each once.
    numbers: Vec<FieldPath>,
    /// The condition, its aggregates by `Reading`.
    condition: Cond,
    /// Each aggregate the condition reads, with its label in alerts.
    readings: Vec<(Reading, String)>,
    /// Window length and hop in seconds (equal when windows tumble).
    window: i128,
    step: i128,
    /// `step` was written: a window alerts only when the one H before it
    /// did not satisfy the condition (also when H equals the window).
    hops: bool,
    /// Hopping: the start of the last closed window and the groups that
    /// satisfied the condition in it.
    last: Option<(i128, HashSet<Bytes>)>,
    /// Windows starting at or before this are closed (hopping only).
    closed_through: Option<i128>,
    /// How far behind the newest time a window's end may fall before the
    /// window closes; `None`: windows close at the end of input only.
    pub lateness: Option<Nanos>,
    /// The most entries (groups times distinct values) one event may add.
    max_fanout: u64,
    /// The context fields each alert samples.
    context: Vec<FieldPath>,
    /// Open windows by start (seconds), each with its groups, keyed by the
    /// concatenated encodings of their keys (`value::push_key`).
    windows: BTreeMap<i128, HashMap<Bytes, Group>>,
    /// Entries held by the open windows: a group and each distinct value.
    entries: u64,
    created: u64,
    /// Reused for the encodings of one event's keys.
    scratch: Vec<u8>,
    /// Reused for the encoding of a group's spelling (`push_spelling`).
    spelled: Vec<u8>,
    /// Reused for a number's text in a context sample (`sample_value`).
    text: String,
    /// Reused: the distinct keys of each `by` column (column, byte range
    /// in `scratch`), the distinct values' ranges, the combination being
    /// counted and each column's range of keys.
    atoms: Vec<(usize, usize, usize)>,
    values: Vec<(usize, usize)>,
    pick: Vec<usize>,
    bounds: Vec<(usize, usize)>,
}

/// An event whose `by` and `distinct` arrays would add more entries
/// (combinations of `by` keys times distinct values) than allowed; it was
/// not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyCombinations {
    pub entries: u64,
    pub limit: u64,
}

/// What the open windows of an aggregator hold, for `--stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Held {
    pub windows: u64,
    pub groups: u64,
    /// Groups plus distinct values.
    pub entries: u64,
    /// Approximate bytes of the tables, keys, spellings and values.
    pub bytes: u64,
}

#[derive(Debug, Clone)]
struct Group {
    /// The first spelling of each key, encoded (`push_spelling`).
    spelling: Bytes,
    /// When and in which input position the spelling was seen (apart,
    /// not a tuple, so that `last` fits in what a tuple would pad).
    first_time: Nanos,
    first_seq: u64,
    /// The latest counted event's time, in nanoseconds after the window's
    /// start (saturating; windows are far shorter).
    last: u64,
    /// Per context field, the smallest distinct values (none without
    /// context fields, so that most groups stay small).
    samples: Option<Box<Samples>>,
    count: i64,
    /// The encodings of the distinct values (of the first `distinct` field).
    distinct: Distinct,
    /// Those of further `distinct` fields (version 2; empty otherwise).
    more: Vec<Distinct>,
    /// Sum, least and greatest of each `numbers` field (empty otherwise).
    numbers: Vec<Numbers>,
    created: u64,
}

/// Per context field, the smallest distinct values seen (`sample_value`).
#[derive(Debug, Clone)]
struct Samples(Vec<Sample>);

/// The smallest distinct texts of one context field, sorted (at most
/// `ir::CONTEXT_SAMPLE`), each with its hash: most values counted are
/// already held, and are found by comparing hashes rather than text.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Sample {
    pub texts: Vec<String>,
    hashes: Vec<u64>,
}

/// Adds a value's text to a sample that keeps the smallest
/// `ir::CONTEXT_SAMPLE` distinct values: strings as they are, numbers and
/// booleans as JSON writes them (into `buffer`, reused); null, `""` and
/// objects add nothing. Text is copied only when it enters the sample.
pub(super) fn sample_value(sample: &mut Sample, value: &Value<'_>, buffer: &mut String) {
    let text: &str = match value {
        Value::Str(s) if s.is_empty() => return,
        Value::Str(s) => s,
        Value::Int(n) => {
            buffer.clear();
            let _ = write!(buffer, "{n}");
            buffer
        }
        Value::Float(_) | Value::Bool(_) => {
            buffer.clear();
            let _ = write!(buffer, "{}", to_json(value));
            buffer
        }
        Value::Null | Value::Array(_) | Value::Object(_) => return,
    };
    let texts = &mut sample.texts;
    let full = texts.len() >= ir::CONTEXT_SAMPLE;
    if full && texts.last().is_some_and(|largest| text >= largest.as_str()) {
        return;
    }
    let hash = FxBuildHasher.hash_one(text);
    let mut held = sample.hashes.iter().zip(texts.iter());
    if held.any(|(&h, t)| h == hash && t == text) {
        return;
    }
    let at = texts.partition_point(|t| t.as_str() < text);
    texts.insert(at, text.to_string());
    sample.hashes.insert(at, hash);
    texts.truncate(ir::CONTEXT_SAMPLE);
    sample.hashes.truncate(ir::CONTEXT_SAMPLE);
}

/// A value's text in an alert's context sample: strings as they are,
/// numbers and booleans as JSON writes them; null, `""`, arrays and
/// objects have none.
pub(super) fn sample_text(value: &Value<'_>) -> Option<String> {
    match value {
        Value::Str(s) if s.is_empty() => None,
        Value::Str(s) => Some(s.to_string()),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(to_json(value).to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// What `sum`, `min` and `max` read of a group's integers.
#[derive(Debug, Clone, Copy, Default)]
struct Numbers {
    /// Exact: 128 bits hold the sum of 2^64 64-bit integers, so the order
    /// of the events never matters.
    sum: i128,
    min: Option<i64>,
    max: Option<i64>,
}

/// How an aggregate is read from a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reading {
    Count,
    Distinct(usize),
    Sum(usize),
    Min(usize),
    Max(usize),
}

/// The condition with each aggregate an index into `readings`.
#[derive(Debug, Clone, PartialEq)]
enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Compare(usize, Comparison, i64),
}

impl Cond {
    /// A comparison with a missing value (`min`/`max` of none) is false.
    fn holds(&self, values: &[Option<i128>]) -> bool {
        match self {
            Cond::And(parts) => parts.iter().all(|p| p.holds(values)),
            Cond::Or(parts) => parts.iter().any(|p| p.holds(values)),
            Cond::Not(inner) => !inner.holds(values),
            Cond::Compare(i, comparison, value) => values
                .get(*i)
                .copied()
                .flatten()
                .is_some_and(|v| comparison.holds(v, i128::from(*value))),
        }
    }
}

impl Group {
    fn read(&self, reading: Reading) -> Option<i128> {
        let len = |d: &Distinct| d.len() as i128;
        match reading {
            Reading::Count => Some(i128::from(self.count)),
            Reading::Distinct(0) => Some(len(&self.distinct)),
            Reading::Distinct(i) => Some(self.more.get(i - 1).map_or(0, len)),
            Reading::Sum(i) => Some(self.numbers.get(i).map_or(0, |n| n.sum)),
            Reading::Min(i) => self.numbers.get(i).and_then(|n| n.min).map(i128::from),
            Reading::Max(i) => self.numbers.get(i).and_then(|n| n.max).map(i128::from),
        }
    }
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
    /// Each aggregate the condition reads, labelled (`count` or
    /// `distinct_count` for a version 1 threshold, else as written:
    /// `count()`, `sum(f)`, ...); `None` for `min`/`max` of no integer.
    pub values: Vec<(String, Option<i128>)>,
    /// The group's first and last counted event in the window.
    pub first_time: Nanos,
    pub last_time: Nanos,
    /// Per context field, its sample: the first distinct values as text.
    pub context: Vec<(String, Vec<String>)>,
}

impl Alert {
    /// The first aggregate's value (a version 1 threshold's only one).
    pub fn value(&self) -> i128 {
        self.values.first().and_then(|(_, v)| *v).unwrap_or(0)
    }
}

impl Aggregator {
    /// The aggregation of `threshold` with the alert's context fields,
    /// its paths added to `trie`; windows close at the end only, and an
    /// event may add `max_fanout` entries.
    pub fn new(
        threshold: &ir::Threshold,
        alert: &ir::Alert,
        trie: &mut PathTrie,
        max_fanout: u64,
    ) -> Aggregator {
        let context = alert
            .sampled(threshold)
            .map(|f| FieldPath::new(&f.path, trie))
            .collect();
        let mut field = |f: &ir::Field| (FieldPath::new(&f.path, trie), Keying::of(f));
        let by = threshold.by.iter().map(&mut field).collect();
        // Columns by path and `cased` (a field counted both ways has two).
        let mut distinct_paths: Vec<(String, bool)> = Vec::new();
        let mut number_paths: Vec<(String, bool)> = Vec::new();
        let mut distinct = Vec::new();
        let mut numbers = Vec::new();
        let mut readings = Vec::new();
        let single = threshold.single().is_some();
        for aggregate in threshold.aggregates() {
            let mut index = |f: &ir::Field, paths: &mut Vec<(String, bool)>, number: bool| {
                let wanted = (f.path.clone(), f.cased);
                paths.iter().position(|p| *p == wanted).unwrap_or_else(|| {
                    paths.push(wanted);
                    if number {
                        numbers.push(field(f).0);
                    } else {
                        distinct.push(field(f));
                    }
                    paths.len() - 1
                })
            };
            let reading = match aggregate {
                Aggregate::Count => Reading::Count,
                Aggregate::Distinct(f) => Reading::Distinct(index(f, &mut distinct_paths, false)),
                Aggregate::Sum(f) => Reading::Sum(index(f, &mut number_paths, true)),
                Aggregate::Min(f) => Reading::Min(index(f, &mut number_paths, true)),
                Aggregate::Max(f) => Reading::Max(index(f, &mut number_paths, true)),
            };
            let label = match (single, reading) {
                (true, Reading::Count) => "count".to_string(),
                (true, _) => "distinct_count".to_string(),
                (false, _) => aggregate.written(),
            };
            readings.push((reading, label));
        }
        let aggregates = threshold.aggregates();
        let condition = cond(&threshold.having, &aggregates);
        let window = i128::from(threshold.window.max(1));
        Aggregator {
            by,
            distinct,
            numbers,
            condition,
            readings,
            window,
            step: threshold.step.map_or(window, |s| i128::from(s.max(1))),
            hops: threshold.step.is_some(),
            last: None,
            closed_through: None,
            lateness: None,
            max_fanout,
            context,
            windows: BTreeMap::new(),
            entries: 0,
            created: 0,
            scratch: Vec::new(),
            spelled: Vec::new(),
            text: String::new(),
            atoms: Vec::new(),
            values: Vec::new(),
            pick: Vec::new(),
            bounds: Vec::new(),
        }
    }

    /// The start (seconds) of the latest window holding `time` (the only
    /// one when windows tumble).
    pub fn window_start(&self, time: Nanos) -> i128 {
        timestamp::seconds(time).div_euclid(self.step) * self.step
    }

    /// The end of the earliest window holding an event whose latest window
    /// starts at `start` (`window_start`): when the first of them closes.
    pub fn first_end(&self, start: i128) -> Nanos {
        timestamp::from_seconds(start + self.step)
    }

    /// The end of the window starting at `start` (`window_start`).
    pub fn window_end(&self, start: i128) -> Nanos {
        timestamp::from_seconds(start + self.window)
    }

    /// Counts an event that passed `where`, seen at `time` in the window
    /// starting at `start`, `seq`-th in input; the number of entries it
    /// added, or why it was not counted.
    pub fn add(
        &mut self,
        event: &Fields<'_, '_>,
        (time, start): (Nanos, i128),
        seq: u64,
    ) -> Result<u64, TooManyCombinations> {
        let mut bytes = std::mem::take(&mut self.scratch);
        let mut atoms = std::mem::take(&mut self.atoms);
        let mut values = std::mem::take(&mut self.values);
        bytes.clear();
        atoms.clear();
        values.clear();
        // The distinct keys of each `by` column, in order (`atoms`), and
        // the first value spelling each (`spellers`).
        let mut spellers = Spellers::default();
        let mut counted = true;
        for (column, (field, keying)) in self.by.iter().enumerate() {
            let first = atoms.len();
            let mut seen: Option<HashSet<Box<[u8]>>> = None;
            field.for_each_atom(event, &mut |v| {
                let start = bytes.len();
                if push_key_as(v, *keying, &mut bytes) {
                    let column_atoms = &atoms[first..];
                    if is_new(&mut seen, column_atoms, &bytes, start) {
                        atoms.push((column, start, bytes.len()));
                        spellers.push(v);
                    } else {
                        bytes.truncate(start);
                    }
                }
                false
            });
            if atoms.len() == first {
                counted = false;
                break;
            }
        }
        let mut result = Ok(0);
        if counted {
            let keys_end = bytes.len();
            let mut ends = [0usize; 1];
            let mut more_ends = Vec::new();
            for (column, (field, keying)) in self.distinct.iter().enumerate() {
                let first = values.len();
                let mut seen: Option<HashSet<Box<[u8]>>> = None;
                field.for_each_atom(event, &mut |v| {
                    let start = bytes.len();
                    if push_key_as(v, *keying, &mut bytes) {
                        let ranges: &[(usize, usize)] = &values[first..];
                        if is_new_value(&mut seen, ranges, &bytes, start) {
                            values.push((start, bytes.len()));
                        } else {
                            bytes.truncate(start);
                        }
                    }
                    false
                });
                match column {
                    0 => ends[0] = values.len(),
                    _ => more_ends.push(values.len()),
                }
            }
            let mut numbers = Vec::new();
            for field in &self.numbers {
                let mut read = Numbers::default();
                field.for_each_atom(event, &mut |v| {
                    if let Some(n) = integer(v) {
                        read.sum += i128::from(n);
                        read.min = Some(read.min.map_or(n, |m| m.min(n)));
                        read.max = Some(read.max.map_or(n, |m| m.max(n)));
                    }
                    false
                });
                numbers.push(read);
            }
            let parts = Parts {
                bytes: &bytes,
                keys_end,
                atoms: &atoms,
                values: &values,
                first_values: ends[0],
                more_ends: &more_ends,
                numbers: &numbers,
                spellers: &spellers,
            };
            if self.step == self.window {
                result = self.count_combinations(event, &parts, (time, start), seq);
            } else {
                let mut added = 0u64;
                let mut window = start;
                while window > start - self.window {
                    if self.closed_through.is_some_and(|closed| window <= closed) {
                        break;
                    }
                    match self.count_combinations(event, &parts, (time, window), seq) {
                        Ok(n) => added += n,
                        Err(too_many) => {
                            result = Err(too_many);
                            break;
                        }
                    }
                    window -= self.step;
                }
                if result.is_ok() {
                    result = Ok(added);
                }
            }
        }
        self.scratch = bytes;
        self.atoms = atoms;
        self.values = values;
        if let Ok(added) = result {
            self.entries += added;
        }
        result
    }

    /// Counts the event in every combination of one key per `by` column,
    /// in order, the last column varying fastest (mostly there is one).
    fn count_combinations(
        &mut self,
        event: &Fields<'_, '_>,
        parts: &Parts<'_, '_, '_>,
        (time, start): (Nanos, i128),
        seq: u64,
    ) -> Result<u64, TooManyCombinations> {
        let Parts {
            bytes,
            keys_end,
            atoms,
            values,
            first_values,
            more_ends,
            numbers,
            spellers,
        } = *parts;
        let mut bounds = std::mem::take(&mut self.bounds);
        let mut pick = std::mem::take(&mut self.pick);
        bounds.clear();
        let mut from = 0;
        let mut combinations = 1u64;
        for column in 0..self.by.len() {
            let to = from + atoms[from..].iter().take_while(|a| a.0 == column).count();
            bounds.push((from, to));
            combinations = combinations.saturating_mul((to - from) as u64);
            from = to;
        }
        let entries = combinations.saturating_mul(values.len().max(1) as u64);
        if entries > self.max_fanout {
            self.bounds = bounds;
            self.pick = pick;
            return Err(TooManyCombinations {
                entries,
                limit: self.max_fanout,
            });
        }
        let offset = u64::try_from(time - timestamp::from_seconds(start)).unwrap_or(u64::MAX);
        let groups = self.windows.entry(start).or_default();
        let created = &mut self.created;
        let spelled = &mut self.spelled;
        let context = &self.context;
        let text = &mut self.text;
        let mut added = 0u64;
        let mut count = |key: &[u8], members: &[usize]| {
            let mut spell = || {
                spelled.clear();
                for value in members.iter().filter_map(|&i| spellers.get(i)) {
                    push_spelling(value, spelled);
                }
                Bytes::new(spelled)
            };
            let group = match groups.get_mut(key) {
                Some(group) => {
                    if (time, seq) < (group.first_time, group.first_seq) {
                        group.spelling = spell();
                        (group.first_time, group.first_seq) = (time, seq);
                    }
                    group
                }
                None => {
                    *created += 1;
                    added += 1;
                    groups.entry(Bytes::new(key)).or_insert(Group {
                        spelling: spell(),
                        first_time: time,
                        first_seq: seq,
                        last: 0,
                        samples: (!context.is_empty())
                            .then(|| Box::new(Samples(vec![Sample::default(); context.len()]))),
                        count: 0,
                        distinct: Distinct::default(),
                        more: Vec::new(),
                        numbers: Vec::new(),
                        created: *created,
                    })
                }
            };
            group.count += 1;
            group.last = group.last.max(offset);
            for &(s, e) in &values[..first_values] {
                added += u64::from(group.distinct.insert(&bytes[s..e]));
            }
            if !more_ends.is_empty() {
                group.more.resize_with(more_ends.len(), Distinct::default);
                let mut from = first_values;
                for (column, &end) in more_ends.iter().enumerate() {
                    for &(s, e) in &values[from..end] {
                        added += u64::from(group.more[column].insert(&bytes[s..e]));
                    }
                    from = end;
                }
            }
            if !numbers.is_empty() {
                group.numbers.resize_with(numbers.len(), Numbers::default);
                for (held, read) in group.numbers.iter_mut().zip(numbers) {
                    held.sum += read.sum;
                    held.min = match (held.min, read.min) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                    held.max = match (held.max, read.max) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
            if let Some(samples) = &mut group.samples {
                for (field, sample) in context.iter().zip(samples.0.iter_mut()) {
                    field.for_each_atom(event, &mut |v| {
                        sample_value(sample, v, text);
                        false
                    });
                }
            }
        };
        pick.clear();
        pick.extend(bounds.iter().map(|&(from, _)| from));
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
        self.bounds = bounds;
        self.pick = pick;
        Ok(added)
    }

    /// Closes the windows whose end is before `before` (all when `None`)
    /// and returns their alerts, by window then group creation, and the
    /// entries they held.
    pub fn close(&mut self, before: Option<Nanos>) -> (Vec<Alert>, u64) {
        let mut alerts = Vec::new();
        let mut freed = 0u64;
        while let Some(entry) = self.windows.first_entry() {
            let start = *entry.key();
            if before.is_some_and(|limit| timestamp::from_seconds(start + self.window) >= limit) {
                break;
            }
            let groups = entry.remove();
            let mut closed: Vec<(Bytes, Group)> = groups.into_iter().collect();
            // `created` is unique: an unstable sort gives the same order and
            // moves the (large) groups less.
            closed.sort_unstable_by_key(|(_, g)| g.created);
            let hopping = self.hops;
            let before = match self.last.take() {
                Some((last, satisfied)) if last == start - self.step => satisfied,
                _ => HashSet::default(),
            };
            let mut satisfied = HashSet::default();
            if hopping {
                self.closed_through = Some(start);
            }
            for (key, group) in closed {
                freed += 1 + group.distinct.len() as u64;
                freed += group.more.iter().map(|d| d.len() as u64).sum::<u64>();
                let values: Vec<Option<i128>> =
                    self.readings.iter().map(|(r, _)| group.read(*r)).collect();
                if !self.condition.holds(&values) {
                    continue;
                }
                if hopping {
                    let repeat = before.contains(key.as_slice());
                    satisfied.insert(key.clone());
                    if repeat {
                        continue;
                    }
                }
                let keys = decode_keys(key.as_slice());
                {
                    alerts.push(Alert {
                        group: self
                            .by
                            .iter()
                            .map(|(f, _)| f.path.clone())
                            .zip(decode_spelling(group.spelling.as_slice()))
                            .collect(),
                        keys,
                        start,
                        end: start + self.window,
                        values: self
                            .readings
                            .iter()
                            .zip(&values)
                            .map(|((_, label), value)| (label.clone(), *value))
                            .collect(),
                        first_time: group.first_time,
                        last_time: timestamp::from_seconds(start) + i128::from(group.last),
                        context: self
                            .context
                            .iter()
                            .map(|f| f.path.clone())
                            .zip(group.samples.into_iter().flat_map(|s| s.0).map(|s| s.texts))
                            .collect(),
                    });
                }
            }
            // No group satisfied it: nothing to remember (the same as
            // `None` to the next window, and two cohorts may then merge).
            if hopping && !satisfied.is_empty() {
                self.last = Some((start, satisfied));
            }
        }
        self.entries = self.entries.saturating_sub(freed);
        (alerts, freed)
    }

    /// Whether `other` counts events the same way: the same compiled
    /// aggregation (fields and their keying, aggregates, condition, labels,
    /// windows, lateness, fan-out limit and context fields), whatever
    /// either holds now.
    pub fn same_spec(&self, other: &Aggregator) -> bool {
        self.by == other.by
            && self.distinct == other.distinct
            && self.numbers == other.numbers
            && self.condition == other.condition
            && self.readings == other.readings
            && (self.window, self.step, self.hops) == (other.window, other.step, other.hops)
            && self.lateness == other.lateness
            && self.max_fanout == other.max_fanout
            && self.context == other.context
    }

    /// Whether `other` (of the same spec) would count and alert exactly as
    /// this one from now on: neither has an open window and both remember
    /// the same of the windows they closed.
    pub fn interchangeable(&self, other: &Aggregator) -> bool {
        self.windows.is_empty()
            && other.windows.is_empty()
            && self.closed_through == other.closed_through
            && self.last == other.last
    }

    /// When the oldest open window closes: once the clock is past this.
    pub fn due(&self) -> Option<Nanos> {
        let start = *self.windows.keys().next()?;
        Some(self.window_end(start) + self.lateness?)
    }

    /// Groups plus distinct values held by the open windows.
    pub fn entries(&self) -> u64 {
        self.entries
    }

    /// What the open windows hold (walks every group: for `--stats`).
    pub fn held(&self) -> Held {
        let mut held = Held {
            windows: self.windows.len() as u64,
            entries: self.entries,
            ..Held::default()
        };
        let entry = size_of::<(Bytes, Group)>() + 1;
        if let Some((_, satisfied)) = &self.last {
            held.bytes += (satisfied.capacity() * (size_of::<Bytes>() + 1)) as u64;
        }
        for groups in self.windows.values() {
            held.groups += groups.len() as u64;
            let mut bytes = groups.capacity() * entry;
            for (key, group) in groups {
                bytes += key.heap_bytes() + group.spelling.heap_bytes();
                bytes += group.distinct.heap_bytes();
                if let Some(samples) = &group.samples {
                    bytes += size_of::<Samples>()
                        + samples
                            .0
                            .iter()
                            .map(|sample| {
                                sample.texts.capacity() * size_of::<String>()
                                    + sample.hashes.capacity() * size_of::<u64>()
                                    + sample.texts.iter().map(String::capacity).sum::<usize>()
                            })
                            .sum::<usize>();
                }
                bytes += group.more.iter().map(Distinct::heap_bytes).sum::<usize>();
                bytes += group.numbers.capacity() * size_of::<Numbers>();
            }
            held.bytes += bytes as u64;
        }
        held
    }
}

/// One event's keys, distinct values and integers, as `add` read them.
#[derive(Clone, Copy)]
struct Parts<'p, 's, 'a> {
    bytes: &'p [u8],
    keys_end: usize,
    atoms: &'p [(usize, usize, usize)],
    /// The distinct values: the first field's up to `first_values`, then
    /// each further field's up to its end in `more_ends`.
    values: &'p [(usize, usize)],
    first_values: usize,
    more_ends: &'p [usize],
    numbers: &'p [Numbers],
    spellers: &'p Spellers<'s, 'a>,
}

/// The condition with each aggregate replaced by its index in `aggregates`.
fn cond(having: &Having, aggregates: &[&Aggregate]) -> Cond {
    match having {
        Having::And(parts) => Cond::And(parts.iter().map(|p| cond(p, aggregates)).collect()),
        Having::Or(parts) => Cond::Or(parts.iter().map(|p| cond(p, aggregates)).collect()),
        Having::Not(inner) => Cond::Not(Box::new(cond(inner, aggregates))),
        Having::Compare {
            aggregate,
            comparison,
            value,
            ..
        } => {
            let index = aggregates
                .iter()
                .position(|a| a.same_as(aggregate))
                .unwrap_or(usize::MAX);
            Cond::Compare(index, *comparison, *value)
        }
    }
}
