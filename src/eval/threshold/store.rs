//! How a group is stored: short byte strings inline (`Bytes`), its
//! distinct values (`Distinct`), its first spelling encoded until the
//! window closes, and the repeated keys of one event found in linear time.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

use rustc_hash::FxHashSet as HashSet;

use crate::eval::event::Value;
use crate::eval::value::to_json;

/// Past this many keys in one `by` column, repeats are found with a hash
/// set rather than by comparing with each key seen (quadratic on long
/// arrays).
const LINEAR_SCAN: usize = 8;

/// The encodings of a group's distinct values: the first inline, a set
/// from the second on (most groups see one event).
#[derive(Debug, Clone, Default)]
pub enum Distinct {
    #[default]
    Empty,
    One(Bytes),
    Many(HashSet<Bytes>),
}

impl Distinct {
    /// Adds a value; whether it was new.
    pub fn insert(&mut self, value: &[u8]) -> bool {
        match self {
            Distinct::Empty => *self = Distinct::One(Bytes::new(value)),
            Distinct::One(first) if first.as_slice() == value => return false,
            Distinct::One(first) => {
                let set = [first.clone(), Bytes::new(value)].into_iter().collect();
                *self = Distinct::Many(set);
            }
            Distinct::Many(set) => {
                if set.contains(value) {
                    return false;
                }
                set.insert(Bytes::new(value));
            }
        }
        true
    }

    /// Approximate heap bytes.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Distinct::Empty => 0,
            Distinct::One(value) => value.heap_bytes(),
            Distinct::Many(set) => {
                set.capacity() * (size_of::<Bytes>() + 1)
                    + set.iter().map(Bytes::heap_bytes).sum::<usize>()
            }
        }
    }

    pub fn len(&self) -> usize {
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
pub enum Bytes {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

const INLINE: usize = 38;

impl Bytes {
    pub fn new(bytes: &[u8]) -> Bytes {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                Bytes::Inline(len, inline)
            }
            _ => Bytes::Heap(Box::from(bytes)),
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Inline(len, inline) => &inline[..usize::from(*len)],
            Bytes::Heap(bytes) => bytes,
        }
    }

    pub fn heap_bytes(&self) -> usize {
        match self {
            Bytes::Inline(..) => 0,
            Bytes::Heap(bytes) => bytes.len(),
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
pub fn push_spelling(value: &Value<'_>, out: &mut Vec<u8>) {
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
pub fn decode_spelling(mut bytes: &[u8]) -> Vec<serde_json::Value> {
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

/// The first value spelling each key of an event, by key index: eight
/// inline, the rest on the heap.
#[derive(Default)]
pub struct Spellers<'e, 'a> {
    inline: [Option<&'e Value<'a>>; 8],
    len: usize,
    more: Vec<&'e Value<'a>>,
}

impl<'e, 'a> Spellers<'e, 'a> {
    pub fn push(&mut self, value: &'e Value<'a>) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = Some(value),
            None => self.more.push(value),
        }
        self.len += 1;
    }

    pub fn get(&self, index: usize) -> Option<&'e Value<'a>> {
        match self.inline.get(index) {
            Some(value) => *value,
            None => self.more.get(index - self.inline.len()).copied(),
        }
    }
}

/// Whether the key at `bytes[start..]` is not among `known` (ranges of
/// `bytes`): compared one by one for a few keys, through `seen` (built
/// on first need) for more, so a long array costs linear time.
pub fn is_new(
    seen: &mut Option<HashSet<Box<[u8]>>>,
    known: &[(usize, usize, usize)],
    bytes: &[u8],
    start: usize,
) -> bool {
    let key = &bytes[start..];
    if known.len() < LINEAR_SCAN {
        return !known.iter().any(|&(_, s, e)| &bytes[s..e] == key);
    }
    let seen =
        seen.get_or_insert_with(|| known.iter().map(|&(_, s, e)| bytes[s..e].into()).collect());
    seen.insert(key.into())
}

/// `is_new` for the distinct values' ranges.
pub fn is_new_value(
    seen: &mut Option<HashSet<Box<[u8]>>>,
    known: &[(usize, usize)],
    bytes: &[u8],
    start: usize,
) -> bool {
    let key = &bytes[start..];
    if known.len() < LINEAR_SCAN {
        return !known.iter().any(|&(s, e)| &bytes[s..e] == key);
    }
    let seen = seen.get_or_insert_with(|| known.iter().map(|&(s, e)| bytes[s..e].into()).collect());
    seen.insert(key.into())
}
