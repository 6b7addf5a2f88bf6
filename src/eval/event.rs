//! Events: one JSON line parsed once into the part a pack reads. The whole
//! line is validated as JSON, but only the keys on a path some rule reads
//! are kept (a `PathTrie`), borrowed from the line where no escape forced a
//! copy. Field lookup treats nested objects and dotted keys alike, the
//! longest matching key winning at each level, and steps through arrays.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::net::IpAddr;

mod scan;

use super::cidr::CidrSet;
use serde::de::{Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value, pruned to the paths of a `PathTrie`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Str(Cow<'a, str>),
    /// A JSON number without fraction or exponent, in the signed 64-bit range.
    Int(i64),
    /// Any other number: it satisfies no predicate, but it exists.
    Float(f64),
    Bool(bool),
    Null,
    Array(Vec<Value<'a>>),
    Object(Object<'a>),
}

/// An object's entries on the trie's paths; `empty` says whether the object
/// had no entry at all (for `exists`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object<'a> {
    pub entries: Vec<Entry<'a>>,
    pub empty: bool,
}

/// One kept key: the trie node its (possibly dotted) key leads to, and how
/// many path segments it spells. Lookups compare nodes, never text.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub node: u32,
    pub segments: u32,
    pub value: Value<'a>,
}

/// The field paths a pack reads, as a trie of path segments.
/// Each distinct path ends at its own node, which holds the path's slot
/// (an index into a `Fields` cache).
#[derive(Debug, Clone)]
pub struct PathTrie {
    nodes: Vec<TrieNode>,
    slots: u32,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    /// Every key that leads somewhere from here: each child's segment and
    /// each run of two or more segments below it (`source.ip` from the
    /// root), so a dotted key is one lookup, as a plain one is.
    keys: Vec<Key>,
    /// An open-addressing table over `keys` by `bucket`: an index into
    /// `keys` plus one, 0 for an empty bucket. Its length is a power of
    /// two, at least twice the number of keys.
    table: Vec<u32>,
    /// Whether some path goes on below this node.
    deeper: bool,
    slot: Option<u32>,
}

/// A key from a trie node: its text, its first two words (`prefix_word`
/// of bytes 0..8 and 8..16), the node it leads to, how many segments it
/// spells, and the nodes of its proper prefixes (`source` for
/// `source.ip`), which the scanner marks as passed.
#[derive(Debug, Clone)]
pub(super) struct Key {
    text: Box<[u8]>,
    first: u64,
    second: u64,
    pub node: u32,
    pub segments: u32,
    pub passed: Box<[u32]>,
}

impl TrieNode {
    fn find(&self, key: &[u8], first: u64, second: u64) -> Option<&Key> {
        let size = self.table.len();
        if size == 0 {
            return None;
        }
        let mut at = bucket(first, second, key.len(), size);
        loop {
            let index = usize::try_from(*self.table.get(at)?).ok()?.checked_sub(1)?;
            let found = self.keys.get(index)?;
            // Two words and the length decide a key of sixteen bytes or
            // fewer; only a longer one compares its tail.
            if found.first == first
                && found.second == second
                && found.text.len() == key.len()
                && (key.len() <= 16 || found.text.get(16..) == key.get(16..))
            {
                return Some(found);
            }
            at = (at + 1) & (size - 1);
        }
    }

    fn add(&mut self, key: Key) {
        if self.find(&key.text, key.first, key.second).is_some() {
            return;
        }
        self.keys.push(key);
        if self.table.len() < self.keys.len() * 2 {
            let size = (self.keys.len() * 2).next_power_of_two().max(8);
            self.table = vec![0; size];
            for index in 0..self.keys.len() {
                self.place(index);
            }
        } else {
            self.place(self.keys.len() - 1);
        }
    }

    fn place(&mut self, index: usize) {
        let size = self.table.len();
        let Some(key) = self.keys.get(index) else {
            return;
        };
        let mut at = bucket(key.first, key.second, key.text.len(), size);
        while self.table.get(at).is_some_and(|&b| b != 0) {
            at = (at + 1) & (size - 1);
        }
        if let Some(cell) = self.table.get_mut(at) {
            *cell = u32::try_from(index + 1).unwrap_or(0);
        }
    }
}

/// The first eight bytes of `segment`, zero-padded, as one word.
pub(super) fn prefix_word(segment: &[u8]) -> u64 {
    if let Some(head) = segment.first_chunk::<8>() {
        return u64::from_le_bytes(*head);
    }
    segment
        .iter()
        .rev()
        .fold(0u64, |word, &b| word << 8 | u64::from(b))
}

/// The first two words of `key` (`prefix_word` of bytes 0..8 and 8..16).
fn words(key: &[u8]) -> (u64, u64) {
    (
        prefix_word(key),
        prefix_word(key.get(8..).unwrap_or_default()),
    )
}

fn bucket(first: u64, second: u64, len: usize, size: usize) -> usize {
    let hash = (first ^ second.rotate_left(29) ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (hash >> 32) as usize & (size - 1)
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie {
            nodes: vec![TrieNode::default()],
            slots: 0,
        }
    }
}

impl PathTrie {
    /// Adds a dotted path (`dns.question.name`); returns the node of each
    /// of its segments.
    pub fn insert(&mut self, path: &str) -> Vec<u32> {
        let mut node = 0;
        let mut nodes = Vec::new();
        for segment in path.split('.') {
            node = match self.walk(node, segment) {
                Some((child, 1)) => child,
                _ => {
                    let child = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
                    self.nodes.push(TrieNode::default());
                    if let Some(parent) = self.nodes.get_mut(node as usize) {
                        parent.deeper = true;
                        parent.add(Key::new(segment.as_bytes(), child, 1, Box::default()));
                    }
                    child
                }
            };
            nodes.push(node);
        }
        // Every run of two or more segments, from the node before it.
        let segments: Vec<&str> = path.split('.').collect();
        for from in 0..segments.len() {
            let start = if from == 0 { 0 } else { nodes[from - 1] };
            for to in from + 2..=segments.len() {
                let text = segments[from..to].join(".");
                let segment_count = u32::try_from(to - from).unwrap_or(u32::MAX);
                let key = Key::new(
                    text.as_bytes(),
                    nodes[to - 1],
                    segment_count,
                    nodes[from..to - 1].into(),
                );
                if let Some(parent) = self.nodes.get_mut(start as usize) {
                    parent.add(key);
                }
            }
        }
        nodes
    }

    /// The slot of the path ending at `node`, given on first request.
    fn slot(&mut self, node: u32) -> u32 {
        let next = self.slots;
        match self.nodes.get_mut(node as usize) {
            Some(TrieNode {
                slot: Some(slot), ..
            }) => *slot,
            Some(entry) => {
                entry.slot = Some(next);
                self.slots += 1;
                next
            }
            None => u32::MAX,
        }
    }

    /// Whether some path goes on past `node`, and the slot of the path
    /// ending there, if any.
    fn shape(&self, node: u32) -> (bool, Option<u32>) {
        self.nodes
            .get(node as usize)
            .map_or((false, None), |n| (n.deeper, n.slot))
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many distinct paths have a slot.
    pub fn slot_count(&self) -> usize {
        self.slots as usize
    }

    /// The node reached from `node` by the segments of `key`, if all exist,
    /// and the number of segments.
    fn walk(&self, node: u32, key: &str) -> Option<(u32, u32)> {
        let (first, second) = words(key.as_bytes());
        self.key(node, key.as_bytes(), first, second)
            .map(|k| (k.node, k.segments))
    }

    /// Where `key` (plain or dotted) leads from `node`, given its first two
    /// words (`prefix_word` of bytes 0..8 and 8..16): one table probe, and
    /// no byte comparison for a key of sixteen bytes or fewer.
    pub(super) fn key(&self, node: u32, key: &[u8], first: u64, second: u64) -> Option<&Key> {
        self.nodes.get(node as usize)?.find(key, first, second)
    }
}

impl Key {
    fn new(text: &[u8], node: u32, segments: u32, passed: Box<[u32]>) -> Key {
        let (first, second) = words(text);
        Key {
            text: text.into(),
            first,
            second,
            node,
            segments,
            passed,
        }
    }
}

/// Why a line is not an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses one line, which must be a JSON object, keeping the trie's paths.
///
/// A hand-written scanner reads the common case; whatever it is unsure of
/// (an error, deep nesting, escapes in an unusual place) goes to the serde
/// parse below, which defines the result.
pub fn parse<'a>(line: &'a str, trie: &PathTrie) -> Result<Object<'a>, Malformed> {
    match scan::parse(line, trie) {
        Some(object) => Ok(object),
        None => parse_serde(line, trie),
    }
}

/// A parsed event, in one of two shapes with the same meaning.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed<'a> {
    /// The value of each slot's path (`None`: missing), read directly by
    /// the scanner when every path has at most one value and no dotted or
    /// repeated key competes for it (see `scan::slots`).
    Slots(Vec<Option<Value<'a>>>),
    /// The pruned tree, for every other line.
    Tree(Object<'a>),
}

impl Parsed<'_> {
    /// The same event owning its text, to outlive its line (handed from
    /// the thread that matched it to those that count it).
    pub fn to_static(&self) -> Parsed<'static> {
        match self {
            Parsed::Slots(values) => Parsed::Slots(
                values
                    .iter()
                    .map(|v| v.as_ref().map(Value::to_static))
                    .collect(),
            ),
            Parsed::Tree(object) => Parsed::Tree(object.to_static()),
        }
    }
}

impl Value<'_> {
    pub fn to_static(&self) -> Value<'static> {
        match self {
            Value::Str(text) => Value::Str(Cow::Owned(text.to_string())),
            Value::Int(n) => Value::Int(*n),
            Value::Float(f) => Value::Float(*f),
            Value::Bool(b) => Value::Bool(*b),
            Value::Null => Value::Null,
            Value::Array(items) => Value::Array(items.iter().map(Value::to_static).collect()),
            Value::Object(object) => Value::Object(object.to_static()),
        }
    }
}

impl Object<'_> {
    pub fn to_static(&self) -> Object<'static> {
        Object {
            entries: (self.entries.iter())
                .map(|e| Entry {
                    node: e.node,
                    segments: e.segments,
                    value: e.value.to_static(),
                })
                .collect(),
            empty: self.empty,
        }
    }
}

/// Parses one line for the engine: straight into slots when the line
/// allows it, else as `parse` does.
pub fn parse_event<'a>(line: &'a str, trie: &PathTrie) -> Result<Parsed<'a>, Malformed> {
    parse_event_in(line, trie, Vec::new())
}

/// `parse_event`, the slot values written into `buffer`'s allocation
/// (emptied first).
pub fn parse_event_in<'a>(
    line: &'a str,
    trie: &PathTrie,
    buffer: Vec<Option<Value<'a>>>,
) -> Result<Parsed<'a>, Malformed> {
    match scan::slots(line, trie, buffer) {
        Some(values) => Ok(Parsed::Slots(values)),
        None => parse(line, trie).map(Parsed::Tree),
    }
}

/// The allocation of an emptied vector, as a vector of another type of the
/// same layout (here: the same type under another lifetime), so a buffer
/// outlives the line it served. The standard library collects a
/// `vec::IntoIter` adapter in place, reusing the buffer; with another
/// layout this still works, only without the reuse.
pub fn recycle<T, U>(mut items: Vec<T>) -> Vec<U> {
    items.clear();
    items.into_iter().filter_map(|_| None).collect()
}

/// The reference parse, through serde_json.
pub fn parse_serde<'a>(line: &'a str, trie: &PathTrie) -> Result<Object<'a>, Malformed> {
    let mut de = serde_json::Deserializer::from_str(line);
    let value = NodeSeed { trie, node: 0 }
        .deserialize(&mut de)
        .map_err(|e| Malformed(e.to_string()))?;
    de.end().map_err(|e| Malformed(e.to_string()))?;
    match value {
        Value::Object(object) => Ok(object),
        _ => Err(Malformed("not a JSON object".to_string())),
    }
}

/// Reads a number token as serde_json does inside `parse_serde`.
fn serde_number<'a>(token: &'a str, trie: &PathTrie, node: u32) -> Option<Value<'a>> {
    let mut de = serde_json::Deserializer::from_str(token);
    let value = NodeSeed { trie, node }.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(value)
}

#[derive(Clone, Copy)]
struct NodeSeed<'t> {
    trie: &'t PathTrie,
    node: u32,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Value<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value<'de>, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value<'de>, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value<'de>, E> {
        Ok(Value::Float(v))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Owned(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Value<'de>, E> {
        Ok(Value::Str(Cow::Owned(v)))
    }

    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut object = Object {
            entries: Vec::new(),
            empty: true,
        };
        while let Some(key) = map.next_key_seed(KeySeed)? {
            object.empty = false;
            match self.trie.walk(self.node, &key) {
                Some((node, segments)) => {
                    let value = map.next_value_seed(NodeSeed {
                        trie: self.trie,
                        node,
                    })?;
                    object.entries.push(Entry {
                        node,
                        segments,
                        value,
                    });
                }
                None => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(Value::Object(object))
    }
}

/// A value no path reads, skipped but decoded: unlike `IgnoredAny`, its
/// strings (keys included) go through serde_json's string decoding, so a
/// lone surrogate escape is malformed whether or not a rule reads it.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Skip, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// A field path as the trie nodes of its segments, for lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub path: String,
    nodes: Vec<u32>,
    /// The path's slot in a `Fields` cache (shared by equal paths).
    slot: u32,
}

impl FieldPath {
    /// The path, added to the trie that events will be parsed with.
    pub fn new(path: &str, trie: &mut PathTrie) -> Self {
        let nodes = trie.insert(path);
        let slot = trie.slot(nodes.last().copied().unwrap_or(0));
        FieldPath {
            path: path.to_string(),
            nodes,
            slot,
        }
    }

    /// Calls `visit` on each value the field holds in the event (arrays
    /// are not opened: see `for_each_atom`), stopping when it returns true.
    /// Returns whether some call returned true.
    pub fn for_each_value<'e, 'a>(
        &self,
        fields: &Fields<'e, 'a>,
        visit: &mut dyn FnMut(&'e Value<'a>) -> bool,
    ) -> bool {
        match fields.resolve(self) {
            Slot::Missing => false,
            Slot::One(value) => visit(value),
            _ => match fields.source {
                Source::Tree(event) => lookup(event, &self.nodes, visit),
                Source::Slots(_) => false,
            },
        }
    }

    /// Like `for_each_value`, with arrays opened (recursively): `visit` sees
    /// only scalars, objects and nulls. An empty array yields nothing.
    pub fn for_each_atom<'e, 'a>(
        &self,
        fields: &Fields<'e, 'a>,
        visit: &mut dyn FnMut(&'e Value<'a>) -> bool,
    ) -> bool {
        match fields.resolve(self) {
            Slot::Missing => false,
            // The common case, without a visitor wrapping `visit`.
            Slot::One(value) if !matches!(value, Value::Array(_)) => visit(value),
            _ => self.for_each_value(fields, &mut |value| open_arrays(value, visit)),
        }
    }

    /// The field's value when it has at most one (before opening arrays):
    /// `Some(None)` for none, `Some(Some(v))` for one, `None` for several.
    pub fn only<'e, 'a>(&self, fields: &Fields<'e, 'a>) -> Option<Option<&'e Value<'a>>> {
        match fields.resolve(self) {
            Slot::Missing => Some(None),
            Slot::One(value) => Some(Some(value)),
            Slot::Many => None,
            Slot::Unknown => {
                let mut first = None;
                let several = self.for_each_value(fields, &mut |v| {
                    if first.is_some() {
                        return true;
                    }
                    first = Some(v);
                    false
                });
                (!several).then_some(first)
            }
        }
    }

    /// `in cidr` on the field: its only value is parsed once per event for
    /// every set; other shapes go value by value.
    pub fn in_cidr(&self, fields: &Fields<'_, '_>, set: &CidrSet) -> bool {
        match fields.resolve(self) {
            Slot::Missing => false,
            Slot::One(Value::Str(text)) => {
                let Some(cell) = fields.slots.get(self.slot as usize) else {
                    return set.contains_text(text);
                };
                let addr = match cell.ip.get() {
                    Some(addr) => addr,
                    None => {
                        let addr = text.parse::<IpAddr>().ok();
                        cell.ip.set(Some(addr));
                        addr
                    }
                };
                addr.is_some_and(|addr| set.contains(addr))
            }
            _ => self.for_each_atom(fields, &mut |value| match value {
                Value::Str(text) => set.contains_text(text),
                _ => false,
            }),
        }
    }
}

/// What one path resolves to in one event.
#[derive(Debug, Clone, Copy)]
pub enum Slot<'e, 'a> {
    /// Not resolved yet (or not cached at all).
    Unknown,
    Missing,
    One(&'e Value<'a>),
    /// Several values (through arrays on the way): looked up each time.
    Many,
}

/// A slot's cache: the resolution and, for `in cidr`, the address.
#[derive(Debug, Clone)]
pub struct SlotCell<'e, 'a> {
    slot: Cell<Slot<'e, 'a>>,
    ip: Cell<Option<Option<IpAddr>>>,
}

/// One parsed event and, for each path of the pack (its slot), what the
/// path resolves to, computed on first use and shared by every rule.
pub struct Fields<'e, 'a> {
    source: Source<'e, 'a>,
    slots: Vec<SlotCell<'e, 'a>>,
}

#[derive(Clone, Copy)]
enum Source<'e, 'a> {
    Tree(&'e Object<'a>),
    Slots(&'e [Option<Value<'a>>]),
}

impl<'e, 'a> Fields<'e, 'a> {
    /// The cache for `event` with `count` slots, in `buffer`'s allocation.
    pub fn new(event: &'e Parsed<'a>, count: usize, buffer: Vec<SlotCell<'e, 'a>>) -> Self {
        let source = match event {
            Parsed::Tree(object) => Source::Tree(object),
            Parsed::Slots(values) => Source::Slots(values),
        };
        let mut slots = buffer;
        slots.clear();
        slots.resize_with(count, || SlotCell {
            slot: Cell::new(Slot::Unknown),
            ip: Cell::new(None),
        });
        Fields { source, slots }
    }

    /// The cache for a tree; slots past `count` are looked up each time.
    pub fn of_tree(event: &'e Object<'a>) -> Self {
        Fields {
            source: Source::Tree(event),
            slots: Vec::new(),
        }
    }

    /// The buffer, for the next event's `Fields`.
    pub fn into_buffer(self) -> Vec<SlotCell<'e, 'a>> {
        self.slots
    }

    fn resolve(&self, field: &FieldPath) -> Slot<'e, 'a> {
        let event = match self.source {
            Source::Tree(event) => event,
            Source::Slots(values) => {
                return match values.get(field.slot as usize) {
                    Some(Some(value)) => Slot::One(value),
                    _ => Slot::Missing,
                };
            }
        };
        let Some(cell) = self.slots.get(field.slot as usize) else {
            // No cache (`of_tree`): the caller looks the path up.
            return Slot::Unknown;
        };
        if let Slot::Unknown = cell.slot.get() {
            let mut found = Slot::Missing;
            lookup(event, &field.nodes, &mut |value| {
                if let Slot::One(_) = found {
                    found = Slot::Many;
                    return true;
                }
                found = Slot::One(value);
                false
            });
            cell.slot.set(found);
        }
        cell.slot.get()
    }
}

fn open_arrays<'e, 'a>(value: &'e Value<'a>, visit: &mut dyn FnMut(&'e Value<'a>) -> bool) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| open_arrays(item, visit)),
        other => visit(other),
    }
}

fn lookup<'e, 'a>(
    object: &'e Object<'a>,
    nodes: &[u32],
    visit: &mut dyn FnMut(&'e Value<'a>) -> bool,
) -> bool {
    // The longest key wins; between equal keys (a duplicate), the last.
    let mut best: Option<(usize, &'e Value<'a>)> = None;
    for entry in &object.entries {
        let n = entry.segments as usize;
        if nodes.get(n.wrapping_sub(1)) == Some(&entry.node) && best.is_none_or(|(m, _)| n >= m) {
            best = Some((n, &entry.value));
        }
    }
    match best {
        Some((n, value)) => descend(value, &nodes[n..], visit),
        None => false,
    }
}

fn descend<'e, 'a>(
    value: &'e Value<'a>,
    rest: &[u32],
    visit: &mut dyn FnMut(&'e Value<'a>) -> bool,
) -> bool {
    if rest.is_empty() {
        return visit(value);
    }
    match value {
        Value::Object(object) => lookup(object, rest, visit),
        Value::Array(items) => items.iter().any(|item| descend(item, rest, visit)),
        _ => false,
    }
}
