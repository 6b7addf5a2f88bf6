//! The fast path of `parse`: a JSON scanner for one line that builds the
//! same pruned `Object` as the serde visitor, without serde's per-value
//! dispatch. It returns `None` for anything it does not read exactly as
//! serde_json would (every error, nesting deeper than serde's limit could
//! be near, numbers that are not short integers, escapes in kept strings);
//! the caller then runs the serde parse, which decides. So the scanner may
//! be stricter than serde_json, never looser, and equal where it answers.

use std::borrow::Cow;

use super::{Entry, Object, PathTrie, Value, prefix_word, serde_number};

/// serde_json refuses nesting at 128 levels; stay well below.
const MAX_DEPTH: u32 = 100;

pub(super) fn parse<'a>(line: &'a str, trie: &PathTrie) -> Option<Object<'a>> {
    let mut scanner = Scanner::new(line, trie);
    scanner.ws();
    if scanner.peek()? != b'{' {
        return None;
    }
    let object = scanner.object(0)?;
    scanner.ws();
    (scanner.pos == scanner.bytes.len()).then_some(object)
}

/// Reads a line straight into the value of each slot's path, without
/// building the tree. It answers only where no two keys compete for a
/// path: it declines (and the tree decides) on whatever `parse` declines,
/// on an array where a path goes on below it, and when a trie node is
/// claimed twice. A kept key claims the node it ends at ("strong") and,
/// when dotted, the nodes it passes through ("weak": `"source.ip"` and
/// `"source.port"` both pass `source`, which is no competition). A node
/// claimed strongly twice (a duplicate, or the same path spelled nested and
/// dotted) or strongly and weakly (`"a"` beside `"a.b"`, where the longer
/// key would win) makes the line go to the tree. Otherwise every object
/// has at most one candidate key for any path, so the longest-key and
/// last-duplicate rules have nothing to choose from, and each path's value
/// is the one the tree lookup finds. Objects are stored only as "empty or
/// not", all a slot's value is ever asked for an object.
pub(super) fn slots<'a>(
    line: &'a str,
    trie: &PathTrie,
    mut values: Vec<Option<Value<'a>>>,
) -> Option<Vec<Option<Value<'a>>>> {
    if trie.node_count() > SEEN_BITS {
        return None;
    }
    let mut scanner = Scanner::new(line, trie);
    values.clear();
    values.resize_with(trie.slot_count(), || None);
    let mut seen = Seen::default();
    scanner.ws();
    if scanner.peek()? != b'{' {
        return None;
    }
    scanner.slot_object(0, &mut values, &mut seen)?;
    scanner.ws();
    (scanner.pos == scanner.bytes.len()).then_some(values)
}

/// Tries with more nodes than this are left to the tree.
const SEEN_BITS: usize = 256;

/// The trie nodes claimed so far in a line, strongly and weakly.
#[derive(Default)]
struct Seen {
    strong: [u64; SEEN_BITS / 64],
    weak: [u64; SEEN_BITS / 64],
}

impl Seen {
    fn index(node: u32) -> (usize, u64) {
        (node as usize / 64, 1u64 << (node % 64))
    }

    /// Claims `node` as a key's end; fails if it was claimed before.
    fn strong(&mut self, node: u32) -> Option<()> {
        let (word, bit) = Seen::index(node);
        let taken = *self.strong.get(word)? | *self.weak.get(word)?;
        if taken & bit != 0 {
            return None;
        }
        *self.strong.get_mut(word)? |= bit;
        Some(())
    }

    /// Claims `node` as passed by a dotted key; fails if a key ends there.
    fn weak(&mut self, node: u32) -> Option<()> {
        let (word, bit) = Seen::index(node);
        if *self.strong.get(word)? & bit != 0 {
            return None;
        }
        *self.weak.get_mut(word)? |= bit;
        Some(())
    }
}

struct Scanner<'a, 't> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    trie: &'t PathTrie,
}

/// The bytes that end a plain run inside a string: `"`, `\\` and the
/// control characters (which JSON forbids there).
static STOPS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The low `len` bytes of a word set (`len` <= 8).
fn mask(len: usize) -> u64 {
    match len {
        0 => 0,
        8.. => u64::MAX,
        _ => (1u64 << (8 * len)) - 1,
    }
}

/// The high bit of each byte of `word` that is below `n` (`n` <= 128);
/// the lowest set bit marks exactly the first such byte.
fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS
}

/// The high bit of each byte of `word` that is a stop (`STOPS`), the lowest
/// one exact.
fn stops(word: u64) -> u64 {
    below(word, 0x20)
        | below(word ^ (ONES * u64::from(b'"')), 1)
        | below(word ^ (ONES * u64::from(b'\\')), 1)
}

impl<'a, 't> Scanner<'a, 't> {
    fn new(line: &'a str, trie: &'t PathTrie) -> Self {
        Scanner {
            text: line,
            bytes: line.as_bytes(),
            pos: 0,
            depth: 0,
            trie,
        }
    }

    /// An object (at its `{`) under trie node `node`, its kept values
    /// stored in `values`; returns whether it had no entry.
    fn slot_object(
        &mut self,
        node: u32,
        values: &mut [Option<Value<'a>>],
        seen: &mut Seen,
    ) -> Option<bool> {
        self.enter()?;
        self.pos += 1;
        self.ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Some(true);
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let (key, first, second) = self.key()?;
            self.colon()?;
            let trie = self.trie;
            match trie.key(node, key.as_bytes(), first, second) {
                Some(found) => {
                    // A dotted key passes the nodes of its proper prefixes.
                    for &passed in found.passed.iter() {
                        seen.weak(passed)?;
                    }
                    self.slot_value(found.node, values, seen)?;
                }
                None => self.skip()?,
            }
            if self.member_end()? {
                break;
            }
        }
        self.depth -= 1;
        Some(false)
    }

    /// The value of a kept key leading to trie node `node`.
    fn slot_value(
        &mut self,
        node: u32,
        values: &mut [Option<Value<'a>>],
        seen: &mut Seen,
    ) -> Option<()> {
        seen.strong(node)?;
        let (deeper, slot) = self.trie.shape(node);
        let value = match self.peek()? {
            b'{' if deeper => {
                let empty = self.slot_object(node, values, seen)?;
                if slot.is_none() {
                    // Nobody reads the object itself: build nothing.
                    return Some(());
                }
                Value::Object(Object {
                    entries: Vec::new(),
                    empty,
                })
            }
            b'[' if deeper => return None,
            _ => self.value(node)?,
        };
        if let Some(slot) = slot {
            *values.get_mut(slot as usize)? = Some(value);
        }
        Some(())
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn ws(&mut self) {
        if self.peek().is_some_and(|b| b > b' ') {
            return;
        }
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A string starting at the opening quote: its content's byte range
    /// and whether it holds an escape. Fails on a control character or a
    /// malformed escape (serde_json's `ignore_str` rules), or on a surrogate
    /// escape that is not a high-low pair.
    fn string_span(&mut self) -> Option<(usize, usize, bool)> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            // Eight bytes at a time while none is a stop; the last few
            // bytes of the line by byte.
            let b = loop {
                let rest = self.bytes.get(self.pos..)?;
                match rest.first_chunk::<8>() {
                    Some(chunk) => {
                        let found = stops(u64::from_le_bytes(*chunk));
                        if found != 0 {
                            let at = (found.trailing_zeros() / 8) as usize;
                            self.pos += at;
                            break *chunk.get(at)?;
                        }
                        self.pos += 8;
                    }
                    None => {
                        let at = rest.iter().position(|&b| STOPS[usize::from(b)])?;
                        self.pos += at;
                        break *rest.get(at)?;
                    }
                }
            };
            match b {
                b'"' => {
                    let end = self.pos;
                    self.pos += 1;
                    return Some((start, end, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match self.bytes.get(self.pos + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 2,
                        b'u' => {
                            let unit = self.hex_unit(self.pos + 2)?;
                            self.pos += 6;
                            // A surrogate must be a high one followed by a
                            // low one, as serde_json decodes strings (else
                            // the serde parse decides: malformed).
                            if (0xD800..0xDC00).contains(&unit) {
                                if self.bytes.get(self.pos..self.pos + 2)? != b"\\u" {
                                    return None;
                                }
                                let low = self.hex_unit(self.pos + 2)?;
                                if !(0xDC00..0xE000).contains(&low) {
                                    return None;
                                }
                                self.pos += 6;
                            } else if (0xDC00..0xE000).contains(&unit) {
                                return None;
                            }
                        }
                        _ => return None,
                    }
                }
                _ => return None,
            }
        }
    }

    /// The four hex digits at `at` of a `\u` escape, as a code unit.
    fn hex_unit(&self, at: usize) -> Option<u32> {
        let hex = self.bytes.get(at..at + 4)?;
        if !hex.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    }

    /// A key (at its quote) and its first two words (`prefix_word` of
    /// bytes 0..8 and 8..16). A plain key is found eight bytes at a time
    /// and its words are read straight from the line; a key with an
    /// escape, or near the line's end, takes the general path.
    fn key(&mut self) -> Option<(Cow<'a, str>, u64, u64)> {
        let start = self.pos + 1;
        let mut at = start;
        while let Some(chunk) = self.bytes.get(at..).and_then(|b| b.first_chunk::<8>()) {
            let found = stops(u64::from_le_bytes(*chunk));
            if found == 0 {
                at += 8;
                continue;
            }
            at += (found.trailing_zeros() / 8) as usize;
            if self.bytes.get(at) != Some(&b'"') {
                break;
            }
            // Every eight bytes up to the quote were read as a chunk.
            let len = at - start;
            let word = |from: usize| {
                let chunk = self.bytes.get(from..).and_then(|b| b.first_chunk::<8>());
                chunk.map_or(0, |c| u64::from_le_bytes(*c))
            };
            let first = word(start) & mask(len);
            let second = if len > 8 {
                word(start + 8) & mask(len - 8)
            } else {
                0
            };
            self.pos = at + 1;
            return Some((Cow::Borrowed(self.text.get(start..at)?), first, second));
        }
        let open = self.pos;
        let (start, end, escaped) = self.string_span()?;
        let key = if escaped {
            let quoted = self.text.get(open..self.pos)?;
            Cow::Owned(serde_json::from_str::<String>(quoted).ok()?)
        } else {
            Cow::Borrowed(self.text.get(start..end)?)
        };
        let bytes = key.as_bytes();
        let first = prefix_word(bytes);
        let second = prefix_word(bytes.get(8..).unwrap_or_default());
        Some((key, first, second))
    }

    /// A string's text: borrowed, or decoded by serde_json when escaped.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let open = self.pos;
        let (start, end, escaped) = self.string_span()?;
        if escaped {
            let quoted = self.text.get(open..self.pos)?;
            return serde_json::from_str::<String>(quoted).ok().map(Cow::Owned);
        }
        self.text.get(start..end).map(Cow::Borrowed)
    }

    /// The byte range of a number token (JSON's grammar), and whether it is
    /// a plain integer.
    fn number_span(&mut self) -> Option<(usize, bool)> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.some_digits()?;
            integer = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.some_digits()?;
            integer = false;
        }
        Some((start, integer))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let from = self.pos;
        self.digits();
        (self.pos > from).then_some(())
    }

    fn number(&mut self, node: u32) -> Option<Value<'a>> {
        let (start, integer) = self.number_span()?;
        let token = self.text.get(start..self.pos)?;
        let (negative, digits) = match token.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, token),
        };
        if integer && digits.len() <= 18 {
            let magnitude = digits
                .bytes()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            return Some(match (negative, magnitude) {
                // serde_json reads `-0` as a float.
                (true, 0) => Value::Float(-0.0),
                (true, n) => Value::Int(-n),
                (false, n) => Value::Int(n),
            });
        }
        serde_number(token, self.trie, node)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        if self.bytes.get(self.pos..end)? != word {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// A value kept at trie node `node`.
    fn value(&mut self, node: u32) -> Option<Value<'a>> {
        Some(match self.peek()? {
            b'{' => Value::Object(self.object(node)?),
            b'[' => {
                self.enter()?;
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek()? == b']' {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value(node)?);
                        self.ws();
                        match self.peek()? {
                            b',' => {
                                self.pos += 1;
                                self.ws();
                            }
                            b']' => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
                Value::Array(items)
            }
            b'"' => Value::Str(self.string()?),
            b't' => {
                self.literal(b"true")?;
                Value::Bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                Value::Bool(false)
            }
            b'n' => {
                self.literal(b"null")?;
                Value::Null
            }
            b'-' | b'0'..=b'9' => self.number(node)?,
            _ => return None,
        })
    }

    /// An object (at its `{`) whose keys are walked from trie node `node`.
    fn object(&mut self, node: u32) -> Option<Object<'a>> {
        self.enter()?;
        self.pos += 1;
        let capacity = match self.trie.shape(node) {
            (false, _) => 0,
            _ if node == 0 => 8,
            _ => 4,
        };
        let mut object = Object {
            entries: Vec::with_capacity(capacity),
            empty: true,
        };
        self.ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Some(object);
        }
        loop {
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            object.empty = false;
            self.colon()?;
            match self.trie.walk(node, &key) {
                Some((child, segments)) => {
                    let value = self.value(child)?;
                    object.entries.push(Entry {
                        node: child,
                        segments,
                        value,
                    });
                }
                None => self.skip()?,
            }
            if self.member_end()? {
                break;
            }
        }
        self.depth -= 1;
        Some(object)
    }

    /// The `:` after a key, and the whitespace around it; anything else
    /// declines the line. `":"` and `": "` (how lines are written) are
    /// read without the general whitespace loop.
    #[inline]
    fn colon(&mut self) -> Option<()> {
        match self.bytes.get(self.pos..self.pos + 2) {
            Some(&[b':', next]) if next > b' ' => {
                self.pos += 1;
                return Some(());
            }
            Some(&[b':', b' ']) => {
                self.pos += 2;
                self.ws();
                return Some(());
            }
            _ => {}
        }
        self.ws();
        if self.peek()? != b':' {
            return None;
        }
        self.pos += 1;
        self.ws();
        Some(())
    }

    /// After an object member: `,` (another follows, `false`) or `}` (the
    /// object ends, `true`); anything else declines the line. `,` and
    /// `, ` before the next key are read without the whitespace loop.
    #[inline]
    fn member_end(&mut self) -> Option<bool> {
        match self.bytes.get(self.pos..self.pos + 2) {
            Some(&[b',', b'"']) => {
                self.pos += 1;
                return Some(false);
            }
            Some(&[b',', b' ']) => {
                self.pos += 2;
                self.ws();
                return Some(false);
            }
            _ => {}
        }
        self.ws();
        match self.peek()? {
            b',' => {
                self.pos += 1;
                self.ws();
                Some(false)
            }
            b'}' => {
                self.pos += 1;
                Some(true)
            }
            _ => None,
        }
    }

    /// Validates and skips a value no path reads.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'{' | b'[' => {
                let close = if self.peek()? == b'{' { b'}' } else { b']' };
                let is_object = close == b'}';
                self.enter()?;
                self.pos += 1;
                self.ws();
                if self.peek()? == close {
                    self.pos += 1;
                } else {
                    loop {
                        if is_object {
                            if self.peek()? != b'"' {
                                return None;
                            }
                            self.string_span()?;
                            self.colon()?;
                        }
                        self.skip()?;
                        self.ws();
                        match self.peek()? {
                            b',' => {
                                self.pos += 1;
                                self.ws();
                            }
                            b if b == close => {
                                self.pos += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                self.depth -= 1;
            }
            b'"' => {
                self.string_span()?;
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'-' | b'0'..=b'9' => {
                let (start, integer) = self.number_span()?;
                // serde_json decodes every number, skipped or not: one out
                // of f64's range makes the line malformed (the serde parse
                // decides).
                if !integer || self.pos - start > 18 {
                    let token = self.text.get(start..self.pos)?;
                    serde_json::from_str::<f64>(token).ok()?;
                }
            }
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FieldPath, parse_serde};
    use super::*;

    fn trie() -> PathTrie {
        let mut trie = PathTrie::default();
        for path in ["a", "a.b", "a.b.c", "n", "s", "x.y", "arr", "o", "e"] {
            FieldPath::new(path, &mut trie);
        }
        trie
    }

    /// The scanner either declines or agrees with the serde parse.
    #[test]
    fn scanner_agrees_with_serde_or_declines() {
        let trie = trie();
        let lines = [
            r#"{}"#,
            r#" { } "#,
            r#"{"a":1}"#,
            r#"{"a":{"b":{"c":"X"}},"n":-0,"s":"t"}"#,
            r#"{"a.b":{"c":1},"a":{"b":{"c":2}}}"#,
            r#"{"n":-0}"#,
            r#"{"n":0}"#,
            r#"{"n":-9223372036854775808}"#,
            r#"{"n":9223372036854775807}"#,
            r#"{"n":9223372036854775808}"#,
            r#"{"n":18446744073709551616}"#,
            r#"{"n":123456789012345678}"#,
            r#"{"n":-123456789012345678}"#,
            r#"{"n":1.5}"#,
            r#"{"n":1e2}"#,
            r#"{"n":1E+2}"#,
            r#"{"n":1e400}"#,
            r#"{"z":1e400}"#,
            r#"{"n":01}"#,
            r#"{"z":01}"#,
            r#"{"n":-}"#,
            r#"{"n":1.}"#,
            r#"{"n":.5}"#,
            r#"{"s":"a\"b\\c\/\n\u00e9\ud83d\ude00"}"#,
            r#"{"s":"\ud83d"}"#,
            r#"{"z":"\ud83d"}"#,
            r#"{"s":"\x"}"#,
            r#"{"z":"\x"}"#,
            "{\"s\":\"tab\there\"}",
            "{\"z\":\"tab\there\"}",
            r#"{"s\u002e":1}"#,
            r#"{"\u0073":"k"}"#,
            r#"{"arr":[1,"2",[3],{"a":1},null,true,false]}"#,
            r#"{"arr":[]}"#,
            r#"{"arr":[1,]}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"z":{"q":[1,{"r":null}],"w":"v"},"e":""}"#,
            r#"{"z":[1 2]}"#,
            r#"{"z":tru}"#,
            r#"{"z":nul}"#,
            r#"{"a":1}x"#,
            r#"{"a":1} {}"#,
            r#"[1]"#,
            r#""s""#,
            r#"{"o":{},"e":[],"x.y":"dotted","x":{"y":"nested"}}"#,
            r#"{"s":"0123456789abcdefghijklmnopqrstuvwxyz ünïcödé"}"#,
            "{\"s\":\"ends with control\u{1f}\"}",
            " \t\r\n{\"a\" : 1 , \"s\" :\"x\" }\r\n",
            r#"{"a":1"#,
            r#"{"a":"#,
            r#"{"a"#,
            r#"{"#,
            "",
        ];
        for line in lines {
            let slow = parse_serde(line, &trie);
            if let Some(fast) = parse(line, &trie) {
                assert_eq!(Ok(fast), slow, "{line}");
            }
            assert_eq!(super::super::parse(line, &trie), slow, "{line}");
        }
        let deep = format!("{}{}", "{\"a\":".repeat(200), "1}".repeat(200));
        assert_eq!(super::super::parse(&deep, &trie), parse_serde(&deep, &trie));
        let deep = format!("{{\"z\":{}{}}}", "[".repeat(130), "]".repeat(130));
        assert_eq!(super::super::parse(&deep, &trie), parse_serde(&deep, &trie));
    }

    #[test]
    fn scanner_reads_plain_lines() {
        let trie = trie();
        let line = r#"{"a":{"b":{"c":"X"}},"n":-12,"s":"plain","z":[1,{"q":"\n"}]}"#;
        assert!(parse(line, &trie).is_some());
    }
}
