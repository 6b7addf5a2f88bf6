//! Events: one JSON line parsed once into the part a pack reads. The whole
//! line is validated as JSON, but only the keys on a path some rule reads
//! are kept (a `PathTrie`), borrowed from the line where no escape forced a
//! copy. Field lookup treats nested objects and dotted keys alike, the
//! longest matching key winning at each level, and steps through arrays.

use std::borrow::Cow;
use std::fmt;

mod scan;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

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
#[derive(Debug, Clone)]
pub struct PathTrie {
    nodes: Vec<TrieNode>,
}

#[derive(Debug, Clone, Default)]
struct TrieNode {
    children: Vec<(String, u32)>,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie {
            nodes: vec![TrieNode::default()],
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
                        parent.children.push((segment.to_string(), child));
                    }
                    child
                }
            };
            nodes.push(node);
        }
        nodes
    }

    fn child(&self, node: u32, segment: &str) -> Option<u32> {
        let children = &self.nodes.get(node as usize)?.children;
        children.iter().find(|(s, _)| s == segment).map(|&(_, c)| c)
    }

    /// The node reached from `node` by the segments of `key`, if all exist,
    /// and the number of segments.
    fn walk(&self, node: u32, key: &str) -> Option<(u32, u32)> {
        let mut count = 0;
        let mut node = node;
        for segment in key.as_bytes().split(|&b| b == b'.') {
            count += 1;
            let children = &self.nodes.get(node as usize)?.children;
            node = children
                .iter()
                .find(|(s, _)| s.as_bytes() == segment)
                .map(|&(_, c)| c)?;
        }
        Some((node, count))
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
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(object))
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
}

impl FieldPath {
    /// The path, added to the trie that events will be parsed with.
    pub fn new(path: &str, trie: &mut PathTrie) -> Self {
        FieldPath {
            path: path.to_string(),
            nodes: trie.insert(path),
        }
    }

    /// Calls `visit` on each value the field holds in `event` (arrays are
    /// not opened: see `for_each_atom`), stopping when it returns true.
    /// Returns whether some call returned true.
    pub fn for_each_value<'e, 'a>(
        &self,
        event: &'e Object<'a>,
        visit: &mut dyn FnMut(&'e Value<'a>) -> bool,
    ) -> bool {
        lookup(event, &self.nodes, visit)
    }

    /// Like `for_each_value`, with arrays opened (recursively): `visit` sees
    /// only scalars, objects and nulls. An empty array yields nothing.
    pub fn for_each_atom<'e, 'a>(
        &self,
        event: &'e Object<'a>,
        visit: &mut dyn FnMut(&'e Value<'a>) -> bool,
    ) -> bool {
        self.for_each_value(event, &mut |value| open_arrays(value, visit))
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
