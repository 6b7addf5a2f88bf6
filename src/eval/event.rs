//! Events: one JSON line parsed once into the part a pack reads. The whole
//! line is validated as JSON, but only the keys on a path some rule reads
//! are kept (a `PathTrie`), borrowed from the line where no escape forced a
//! copy. Field lookup treats nested objects and dotted keys alike, the
//! longest matching key winning at each level, and steps through arrays.

use rustc_hash::FxHashMap;
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
    children: Vec<(String, u32)>,
    /// The children again, for `walk`: a segment's first eight bytes and
    /// its next eight as words (`prefix_word`), its length and the child.
    words: Vec<(u64, u64, usize, u32)>,
    /// An open-addressing table over `words` by `bucket`: an index into
    /// `words` plus one, 0 for an empty bucket. Its length is a power of
    /// two, at least twice the number of children.
    table: Vec<u16>,
    slot: Option<u32>,
    /// The descendants two or more segments down, by their dotted path
    /// from here (`source.ip` from the root): a dotted key is one lookup
    /// instead of one per segment.
    dotted: FxHashMap<Box<[u8]>, Dotted>,
}

impl TrieNode {
    fn add_child(&mut self, segment: &str, child: u32) {
        self.children.push((segment.to_string(), child));
        let bytes = segment.as_bytes();
        let second = prefix_word(bytes.get(8..).unwrap_or_default());
        self.words
            .push((prefix_word(bytes), second, bytes.len(), child));
        let size = (self.words.len() * 2).next_power_of_two().max(8);
        if self.words.len() >= usize::from(u16::MAX) {
            self.table.clear();
            return;
        }
        self.table = vec![0; size];
        for (i, &(word, _, len, _)) in self.words.iter().enumerate() {
            let mut at = bucket(word, len, size);
            while self.table[at] != 0 {
                at = (at + 1) & (size - 1);
            }
            self.table[at] = u16::try_from(i + 1).unwrap_or(0);
        }
    }
}

/// Where a dotted path leads: its node, its segment count, and the nodes
/// of its proper prefixes (`source` for `source.ip`), which the scanner
/// marks as passed.
#[derive(Debug, Clone)]
pub(super) struct Dotted {
    pub node: u32,
    pub segments: u32,
    pub passed: Box<[u32]>,
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

fn bucket(word: u64, len: usize, size: usize) -> usize {
    let hash = (word ^ len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
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
            node = match self.child(node, segment) {
                Some(child) => child,
                None => {
                    let child = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
                    self.nodes.push(TrieNode::default());
                    if let Some(parent) = self.nodes.get_mut(node as usize) {
                        parent.add_child(segment, child);
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
                let key = segments[from..to].join(".").into_bytes().into_boxed_slice();
                let dotted = Dotted {
                    node: nodes[to - 1],
                    segments: u32::try_from(to - from).unwrap_or(u32::MAX),
                    passed: nodes[from..to - 1].into(),
                };
                if let Some(parent) = self.nodes.get_mut(start as usize) {
                    parent.dotted.insert(key, dotted);
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
            .map_or((false, None), |n| (!n.children.is_empty(), n.slot))
    }

    fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// How many distinct paths have a slot.
    pub fn slot_count(&self) -> usize {
        self.slots as usize
    }

    fn child(&self, node: u32, segment: &str) -> Option<u32> {
        let children = &self.nodes.get(node as usize)?.children;
        children.iter().find(|(s, _)| s == segment).map(|&(_, c)| c)
    }

    /// The node reached from `node` by the segments of `key`, if all exist,
    /// and the number of segments.
    fn walk(&self, node: u32, key: &str) -> Option<(u32, u32)> {
        self.walk_bytes(node, key.as_bytes())
    }

    /// `walk`, given the key's first two words (`prefix_word` of bytes
    /// 0..8 and 8..16): a key of at most sixteen bytes without a dot (the
    /// common case) is one table probe and no byte comparison.
    pub(super) fn walk_key(
        &self,
        node: u32,
        key: &[u8],
        first: u64,
        second: u64,
    ) -> Option<(u32, u32)> {
        const DOTS: u64 = 0x2E2E_2E2E_2E2E_2E2E;
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let dot = |word: u64| {
            let x = word ^ DOTS;
            x.wrapping_sub(ONES) & !x & HIGHS
        };
        if key.len() <= 16 && dot(first) | dot(second) == 0 {
            return self
                .child_words(node, key, first, second)
                .map(|child| (child, 1));
        }
        self.walk_bytes(node, key)
    }

    /// Where a key with a dot leads from `node`, if it is a path there.
    pub(super) fn dotted(&self, node: u32, key: &[u8]) -> Option<&Dotted> {
        self.nodes.get(node as usize)?.dotted.get(key)
    }

    fn walk_bytes(&self, node: u32, key: &[u8]) -> Option<(u32, u32)> {
        if key.contains(&b'.') {
            return self.dotted(node, key).map(|d| (d.node, d.segments));
        }
        self.child_bytes(node, key).map(|child| (child, 1))
    }

    /// The child of `node` for one segment: a hash of the segment's first
    /// eight bytes and length picks a bucket; the first sixteen bytes are
    /// compared as two words, the bytes past them only on a match.
    fn child_bytes(&self, node: u32, segment: &[u8]) -> Option<u32> {
        let second = prefix_word(segment.get(8..).unwrap_or_default());
        self.child_words(node, segment, prefix_word(segment), second)
    }

    fn child_words(&self, node: u32, segment: &[u8], first: u64, second: u64) -> Option<u32> {
        let trie_node = self.nodes.get(node as usize)?;
        let len = segment.len();
        let size = trie_node.table.len();
        if size == 0 {
            // No child, or too many for the table: one by one.
            return trie_node
                .children
                .iter()
                .find(|(s, _)| s.as_bytes() == segment)
                .map(|&(_, c)| c);
        }
        let mut at = bucket(first, len, size);
        loop {
            let index = usize::from(*trie_node.table.get(at)?).checked_sub(1)?;
            let &(w, v, l, child) = trie_node.words.get(index)?;
            if w == first && v == second && l == len {
                if len <= 16 {
                    return Some(child);
                }
                let same = trie_node
                    .children
                    .get(index)
                    .is_some_and(|(s, _)| s.as_bytes() == segment);
                if same {
                    return Some(child);
                }
            }
            at = (at + 1) & (size - 1);
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
        self.for_each_value(fields, &mut |value| open_arrays(value, visit))
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
