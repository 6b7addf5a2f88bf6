//! `threshold`: counting events that passed `where` per group and tumbling
//! window (language.md "Aggregation", 1.2 to 1.4). Windows are aligned on
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

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::event::{FieldPath, Fields, PathTrie, Value};
use super::timestamp::{self, Nanos};
use super::value::{Key, decode_keys, push_key, to_json};
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
    /// The context fields each alert samples.
    context: Vec<FieldPath>,
    /// Open windows by start (seconds), each with its groups, keyed by the
    /// concatenated encodings of their keys (`value::push_key`).
    windows: BTreeMap<i128, HashMap<Bytes, Group>>,
    created: u64,
    /// Reused for the encodings of one event's keys.
    scratch: Vec<u8>,
    /// Reused for the encoding of a group's spelling (`push_spelling`).
    spelled: Vec<u8>,
    /// Reused: the distinct keys of each `by` column (column, byte range
    /// in `scratch`), the distinct values' ranges, the combination being
    /// counted and each column's range of keys.
    atoms: Vec<(usize, usize, usize)>,
    values: Vec<(usize, usize)>,
    pick: Vec<usize>,
    bounds: Vec<(usize, usize)>,
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
    /// The encodings of the distinct values.
    distinct: Distinct,
    created: u64,
}

/// Per context field, the smallest distinct values seen (`sample_value`).
#[derive(Debug, Clone)]
struct Samples(Vec<BTreeSet<String>>);

/// The encodings of a group's distinct values: the first inline, a set
/// from the second on (most groups see one event).
#[derive(Debug, Clone, Default)]
enum Distinct {
    #[default]
    Empty,
    One(Bytes),
    Many(HashSet<Bytes>),
}

impl Distinct {
    fn insert(&mut self, value: &[u8]) {
        match self {
            Distinct::Empty => *self = Distinct::One(Bytes::new(value)),
            Distinct::One(first) if first.as_slice() == value => {}
            Distinct::One(first) => {
                let set = [first.clone(), Bytes::new(value)].into_iter().collect();
                *self = Distinct::Many(set);
            }
            Distinct::Many(set) => {
                if !set.contains(value) {
                    set.insert(Bytes::new(value));
                }
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Distinct::Empty => 0,
            Distinct::One(_) => 1,
            Distinct::Many(set) => set.len(),
        }
    }
}

/// Bytes kept inline when short, else on the heap: a group's key, its
/// spelling or a distinct value, mostly without an allocation (most
/// events create a group). Hashes and compares as its bytes.
#[derive(Debug, Clone)]
enum Bytes {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

const INLINE: usize = 38;

impl Bytes {
    fn new(bytes: &[u8]) -> Bytes {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                Bytes::Inline(len, inline)
            }
            _ => Bytes::Heap(Box::from(bytes)),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Inline(len, inline) => &inline[..usize::from(*len)],
            Bytes::Heap(bytes) => bytes,
        }
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Bytes) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Bytes {}

impl Hash for Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl Borrow<[u8]> for Bytes {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

/// Appends the JSON spelling of an event's value (`to_json`'s), to be
/// decoded when the window closes: a tag, then a string's length (4 bytes)
/// and text, an integer's or a float's 8 bytes, or a boolean's byte.
fn push_spelling(value: &Value<'_>, out: &mut Vec<u8>) {
    match value {
        Value::Str(s) => {
            out.push(0);
            out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Int(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_le_bytes());
        }
        Value::Float(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Value::Bool(b) => out.extend_from_slice(&[3, u8::from(*b)]),
        Value::Null | Value::Array(_) | Value::Object(_) => out.push(4),
    }
}

/// The values encoded by `push_spelling`, as JSON (`to_json`).
fn decode_spelling(mut bytes: &[u8]) -> Vec<serde_json::Value> {
    let mut values = Vec::new();
    while let Some((&tag, rest)) = bytes.split_first() {
        let (value, rest) = match tag {
            0 => {
                let Some((len, rest)) = rest.split_first_chunk::<4>() else {
                    break;
                };
                let len = (u32::from_le_bytes(*len) as usize).min(rest.len());
                let (text, rest) = rest.split_at(len);
                (Value::Str(String::from_utf8_lossy(text)), rest)
            }
            1 | 2 => {
                let Some((number, rest)) = rest.split_first_chunk::<8>() else {
                    break;
                };
                let value = match tag {
                    1 => Value::Int(i64::from_le_bytes(*number)),
                    _ => Value::Float(f64::from_bits(u64::from_le_bytes(*number))),
                };
                (value, rest)
            }
            3 => {
                let Some((&b, rest)) = rest.split_first() else {
                    break;
                };
                (Value::Bool(b != 0), rest)
            }
            _ => (Value::Null, rest),
        };
        values.push(to_json(&value));
        bytes = rest;
    }
    values
}

/// Adds a value's text to a sample that keeps the smallest
/// `ir::CONTEXT_SAMPLE` distinct values: strings as they are, numbers and
/// booleans as JSON writes them; null, `""` and objects add nothing.
fn sample_value(sample: &mut BTreeSet<String>, value: &Value<'_>) {
    let text = match value {
        Value::Str(s) if s.is_empty() => return,
        Value::Str(s) => s.to_string(),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => to_json(value).to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => return,
    };
    if sample.len() == ir::CONTEXT_SAMPLE && sample.last().is_some_and(|largest| text >= *largest) {
        return;
    }
    sample.insert(text);
    if sample.len() > ir::CONTEXT_SAMPLE {
        sample.pop_last();
    }
}

/// The first value spelling each key of an event, by key index: eight
/// inline, the rest on the heap.
#[derive(Default)]
struct Spellers<'e, 'a> {
    inline: [Option<&'e Value<'a>>; 8],
    len: usize,
    more: Vec<&'e Value<'a>>,
}

impl<'e, 'a> Spellers<'e, 'a> {
    fn push(&mut self, value: &'e Value<'a>) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = Some(value),
            None => self.more.push(value),
        }
        self.len += 1;
    }

    fn get(&self, index: usize) -> Option<&'e Value<'a>> {
        match self.inline.get(index) {
            Some(value) => *value,
            None => self.more.get(index - self.inline.len()).copied(),
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
    /// `count()` or the number of distinct values.
    pub value: i64,
    pub distinct: bool,
    /// The group's first and last counted event in the window.
    pub first_time: Nanos,
    pub last_time: Nanos,
    /// Per context field, its sample: the first distinct values as text.
    pub context: Vec<(String, Vec<String>)>,
}

impl Aggregator {
    /// The aggregation of `threshold` with the alert's context fields,
    /// its paths added to `trie`.
    pub fn new(threshold: &ir::Threshold, alert: &ir::Alert, trie: &mut PathTrie) -> Aggregator {
        let context = alert
            .sampled(threshold)
            .map(|f| FieldPath::new(&f.path, trie))
            .collect();
        let mut field = |f: &ir::Field| (FieldPath::new(&f.path, trie), f.ty == FieldType::Int);
        Aggregator {
            context,
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
            spelled: Vec::new(),
            atoms: Vec::new(),
            values: Vec::new(),
            pick: Vec::new(),
            bounds: Vec::new(),
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
        let mut spelled = std::mem::take(&mut self.spelled);
        let mut atoms = std::mem::take(&mut self.atoms);
        let mut values = std::mem::take(&mut self.values);
        let mut pick = std::mem::take(&mut self.pick);
        let mut bounds = std::mem::take(&mut self.bounds);
        bytes.clear();
        atoms.clear();
        values.clear();
        // The distinct keys of each `by` column, in order (`atoms`), and
        // the first value spelling each (`spellers`).
        let mut spellers = Spellers::default();
        let mut counted = true;
        for (column, (field, int)) in self.by.iter().enumerate() {
            let first = atoms.len();
            field.for_each_atom(event, &mut |v| {
                let start = bytes.len();
                if push_key(v, *int, &mut bytes) {
                    let end = bytes.len();
                    let seen = atoms[first..]
                        .iter()
                        .any(|&(_, s, e)| bytes[s..e] == bytes[start..end]);
                    if seen {
                        bytes.truncate(start);
                    } else {
                        atoms.push((column, start, end));
                        spellers.push(v);
                    }
                }
                false
            });
            if atoms.len() == first {
                counted = false;
                break;
            }
        }
        if counted {
            let keys_end = bytes.len();
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
            let offset = u64::try_from(time - timestamp::from_seconds(start)).unwrap_or(u64::MAX);
            let groups = self.windows.entry(start).or_default();
            let created = &mut self.created;
            let context = &self.context;
            let mut count = |key: &[u8], members: &[usize]| {
                let mut spell = || {
                    spelled.clear();
                    for value in members.iter().filter_map(|&i| spellers.get(i)) {
                        push_spelling(value, &mut spelled);
                    }
                    Bytes::new(&spelled)
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
                        groups.entry(Bytes::new(key)).or_insert(Group {
                            spelling: spell(),
                            first_time: time,
                            first_seq: seq,
                            last: 0,
                            samples: (!context.is_empty())
                                .then(|| Box::new(Samples(vec![BTreeSet::new(); context.len()]))),
                            count: 0,
                            distinct: Distinct::default(),
                            created: *created,
                        })
                    }
                };
                group.count += 1;
                group.last = group.last.max(offset);
                for &(s, e) in &values {
                    group.distinct.insert(&bytes[s..e]);
                }
                if let Some(samples) = &mut group.samples {
                    for (field, sample) in context.iter().zip(samples.0.iter_mut()) {
                        field.for_each_atom(event, &mut |v| {
                            sample_value(sample, v);
                            false
                        });
                    }
                }
            };
            // Every combination of one key per column, in order, the last
            // column varying fastest (mostly there is just one).
            bounds.clear();
            let mut from = 0;
            for column in 0..self.by.len() {
                let to = from + atoms[from..].iter().take_while(|a| a.0 == column).count();
                bounds.push((from, to));
                from = to;
            }
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
        }
        self.scratch = bytes;
        self.spelled = spelled;
        self.atoms = atoms;
        self.values = values;
        self.pick = pick;
        self.bounds = bounds;
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
            let mut closed: Vec<(Bytes, Group)> = groups.into_iter().collect();
            // `created` is unique: an unstable sort gives the same order and
            // moves the (large) groups less.
            closed.sort_unstable_by_key(|(_, g)| g.created);
            for (key, group) in closed {
                let keys = decode_keys(key.as_slice());
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
                            .zip(decode_spelling(group.spelling.as_slice()))
                            .collect(),
                        keys,
                        start,
                        end: start + self.window,
                        value,
                        distinct: self.distinct.is_some(),
                        first_time: group.first_time,
                        last_time: timestamp::from_seconds(start) + i128::from(group.last),
                        context: self
                            .context
                            .iter()
                            .map(|f| f.path.clone())
                            .zip(
                                group
                                    .samples
                                    .into_iter()
                                    .flat_map(|s| s.0)
                                    .map(|s| s.into_iter().collect()),
                            )
                            .collect(),
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
