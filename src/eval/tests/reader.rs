//! Differential test of the event reader: the fast paths (the slot reader,
//! the tree scanner, their fallbacks) against a plain reference built on
//! `serde_json::Value`, on random JSON lines with nested objects, dotted
//! keys overlapping nested paths, arrays of objects, escapes, unicode,
//! numbers of every form and duplicate keys.

use proptest::prelude::*;
use serde_json::Value as Json;

use crate::eval::event::{FieldPath, Fields, Parsed, PathTrie, Value, parse_event, parse_serde};

/// The paths the "pack" reads: prefixes of one another, dotted and not.
const PATHS: &[&str] = &[
    "a",
    "a.b",
    "a.b.c",
    "a.x",
    "b.c",
    "c.d.e",
    "n",
    "s",
    "arr",
    "arr.k",
    "@timestamp",
    "x.y",
    "é.ü",
    // Keys of eight, sixteen and more bytes: the word boundaries of the
    // key table, and tails compared past the first sixteen bytes.
    "abcdefgh.ijklmnop",
    "abcdefghijklmnop",
    "abcdefghijklmnopq",
    "user_agent.original",
];

/// Key spellings (JSON string contents, escapes included): path segments,
/// their dotted joins, escaped spellings of them, and keys on no path.
const KEYS: &[&str] = &[
    "abcdefgh",
    "abcdefgh.ijklmnop",
    "abcdefgh.ijklmnopq",
    "abcdefghijklmnop",
    "abcdefghijklmnopq",
    "abcdefghijklmnopr",
    "abcdefghijklmno",
    "user_agent.original",
    "user_agent.originaX",
    "user_agent",
    "original",
    "a",
    "b",
    "c",
    "d",
    "e",
    "x",
    "y",
    "k",
    "n",
    "s",
    "arr",
    "@timestamp",
    "a.b",
    "b.c",
    "a.b.c",
    "c.d",
    "d.e",
    "x.y",
    "arr.k",
    "a.x",
    "\\u0061",
    "a\\u002eb",
    "\\u0062.c",
    "é",
    "ü",
    "é.ü",
    "\\u00e9",
    "z",
    "",
    "a.",
    ".a",
    "ecs.version",
    "A",
];

/// A JSON value to be written as text in a chosen spelling.
#[derive(Debug, Clone)]
enum Gen {
    Null,
    Bool(bool),
    /// A number token as written.
    Number(String),
    /// A string's content, escapes included.
    Str(String),
    Array(Vec<Gen>),
    Object(Vec<(String, Gen)>),
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        (0i64..1000).prop_map(|n| n.to_string()),
        Just("-0".to_string()),
        Just("0".to_string()),
        Just("9223372036854775807".to_string()),
        Just("9223372036854775808".to_string()),
        Just("-9223372036854775808".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("18446744073709551616".to_string()),
        Just("123456789012345678901234567890".to_string()),
        (any::<i32>(), 0u32..1000).prop_map(|(w, f)| format!("{w}.{f}")),
        (-9i32..10, -30i32..30, prop::bool::ANY)
            .prop_map(|(m, e, upper)| format!("{m}{}{e}", if upper { 'E' } else { 'e' })),
        (1i32..10, 0i32..20).prop_map(|(m, e)| format!("{m}.5e+{e}")),
        Just("0.0".to_string()),
        Just("-0.0".to_string()),
        Just("1e400".to_string()),
    ]
}

fn string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 ./:_-]{0,12}",
        Just("\\\"".to_string()),
        Just("\\\\".to_string()),
        Just("\\/".to_string()),
        Just("\\n\\t\\r\\b\\f".to_string()),
        Just("\\u00e9".to_string()),
        Just("\\u0000".to_string()),
        Just("\\ud83d\\ude00".to_string()),
        Just("\\ud83d".to_string()),
        Just("ünïcödé ΣΟΦΟΣ 😀".to_string()),
        Just("10.1.2.3".to_string()),
        Just("2026-01-01T00:00:00Z".to_string()),
        Just("443".to_string()),
        "[\\x20-\\x7e]{0,20}".prop_map(|s| s.replace('\\', "\\\\").replace('"', "\\\"")),
    ];
    prop::collection::vec(piece, 0..4).prop_map(|pieces| pieces.concat())
}

/// Mostly the plain segments, so that duplicates and overlaps are common.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(&["a", "b", "c", "x", "arr", "n"][..]),
        1 => prop::sample::select(&["a.b", "b.c", "a.b.c", "a.x", "c.d", "arr.k"][..]),
        1 => prop::sample::select(KEYS),
    ]
    .prop_map(str::to_string)
}

fn value() -> impl Strategy<Value = Gen> {
    let leaf = prop_oneof![
        Just(Gen::Null),
        any::<bool>().prop_map(Gen::Bool),
        number().prop_map(Gen::Number),
        string().prop_map(Gen::Str),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..4).prop_map(Gen::Array),
            2 => prop::collection::vec((key(), inner), 0..5).prop_map(Gen::Object),
        ]
    })
}

/// A line's entries (often with a key repeated, at the top or one level
/// down), whitespace choices, and where and how to damage a copy.
fn line() -> impl Strategy<Value = (Vec<(String, Gen)>, Vec<u8>, u8)> {
    (
        prop::collection::vec((key(), value()), 0..8),
        prop::option::of((any::<prop::sample::Index>(), value(), any::<bool>())),
        prop::collection::vec(0u8..6, 64),
        any::<u8>(),
    )
        .prop_map(|(mut entries, repeat, spaces, damage)| {
            if let Some((index, value, nested)) = repeat
                && !entries.is_empty()
            {
                let i = index.index(entries.len());
                let key = entries[i].0.clone();
                match &mut entries[i].1 {
                    Gen::Object(inner) if nested && !inner.is_empty() => {
                        let j = index.index(inner.len());
                        let key = inner[j].0.clone();
                        inner.push((key, value));
                    }
                    _ => entries.push((key, value)),
                }
            }
            (entries, spaces, damage)
        })
}

/// Writes `item` as JSON, with whitespace chosen by `spaces`.
fn write(item: &Gen, spaces: &mut impl Iterator<Item = u8>, out: &mut String) {
    fn ws(spaces: &mut impl Iterator<Item = u8>, out: &mut String) {
        let space = match spaces.next() {
            Some(1) => " ",
            Some(2) => "\t",
            Some(3) => "\r\n ",
            _ => "",
        };
        out.push_str(space);
    }
    match item {
        Gen::Null => out.push_str("null"),
        Gen::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Gen::Number(n) => out.push_str(n),
        Gen::Str(s) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Gen::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(spaces, out);
                write(item, spaces, out);
            }
            out.push(']');
        }
        Gen::Object(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(spaces, out);
                out.push('"');
                out.push_str(k);
                out.push('"');
                ws(spaces, out);
                out.push(':');
                ws(spaces, out);
                write(v, spaces, out);
            }
            ws(spaces, out);
            out.push('}');
        }
    }
}

/// A value as both sides can spell it: objects only as empty or not (all
/// a field's value is ever asked for an object), floats by their bits.
#[derive(Debug, Clone, PartialEq)]
enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    Float(u64),
    Str(String),
    Array(Vec<Plain>),
    Object { empty: bool },
}

fn plain(value: &Value<'_>) -> Plain {
    match value {
        Value::Null => Plain::Null,
        Value::Bool(b) => Plain::Bool(*b),
        Value::Int(n) => Plain::Int(*n),
        Value::Float(f) => Plain::Float(f.to_bits()),
        Value::Str(s) => Plain::Str(s.to_string()),
        Value::Array(items) => Plain::Array(items.iter().map(plain).collect()),
        Value::Object(object) => Plain::Object {
            empty: object.empty,
        },
    }
}

fn plain_json(value: &Json) -> Plain {
    match value {
        Json::Null => Plain::Null,
        Json::Bool(b) => Plain::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Plain::Int(i),
            (None, Some(u), _) => Plain::Float((u as f64).to_bits()),
            (None, None, Some(f)) => Plain::Float(f.to_bits()),
            (None, None, None) => Plain::Null,
        },
        Json::String(s) => Plain::Str(s.clone()),
        Json::Array(items) => Plain::Array(items.iter().map(plain_json).collect()),
        Json::Object(map) => Plain::Object {
            empty: map.is_empty(),
        },
    }
}

/// The reference lookup, written from the rules of docs/eval.md: at each
/// object the longest key spelling a prefix of the rest of the path wins
/// (the map keeps the last of duplicate keys), with no fallback to a
/// shorter key; arrays are stepped through.
fn reference<'v>(value: &'v Json, segments: &[&str], out: &mut Vec<&'v Json>) {
    if segments.is_empty() {
        out.push(value);
        return;
    }
    match value {
        Json::Object(map) => {
            for n in (1..=segments.len()).rev() {
                if let Some(found) = map.get(&segments[..n].join(".")) {
                    reference(found, &segments[n..], out);
                    return;
                }
            }
        }
        Json::Array(items) => {
            for item in items {
                reference(item, segments, out);
            }
        }
        _ => {}
    }
}

fn check(text: &str, trie: &PathTrie, fields: &[FieldPath]) -> Result<(), TestCaseError> {
    let fast = parse_event(text, trie);
    let slow = parse_serde(text, trie);
    prop_assert_eq!(fast.is_ok(), slow.is_ok(), "{}", text);
    let Ok(json) = serde_json::from_str::<Json>(text) else {
        return Ok(());
    };
    let Ok(parsed) = fast else {
        prop_assert!(!json.is_object(), "{}", text);
        return Ok(());
    };
    prop_assert!(json.is_object(), "{}", text);
    let cache = Fields::new(&parsed, trie.slot_count(), Vec::new());
    for field in fields {
        let mut got = Vec::new();
        field.for_each_value(&cache, &mut |v| {
            got.push(plain(v));
            false
        });
        let segments: Vec<&str> = field.path.split('.').collect();
        let mut found = Vec::new();
        reference(&json, &segments, &mut found);
        let want: Vec<Plain> = found.into_iter().map(plain_json).collect();
        prop_assert_eq!(
            &got,
            &want,
            "path {} of {} ({})",
            field.path,
            text,
            if matches!(parsed, Parsed::Slots(_)) {
                "slots"
            } else {
                "tree"
            }
        );
    }
    Ok(())
}

fn pack() -> (PathTrie, Vec<FieldPath>) {
    let mut trie = PathTrie::default();
    let fields = PATHS.iter().map(|p| FieldPath::new(p, &mut trie)).collect();
    (trie, fields)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Every path reads the same values through the engine's reader as
    /// through the serde_json reference, and a line is malformed for both
    /// or neither (a damaged copy of each line is tried too).
    #[test]
    fn reader_agrees_with_serde_json((entries, spaces, damage) in line()) {
        let (trie, fields) = pack();
        let mut text = String::new();
        write(&Gen::Object(entries), &mut spaces.into_iter().cycle(), &mut text);
        check(&text, &trie, &fields)?;
        let at = usize::from(damage) % (text.len() + 1);
        if text.is_char_boundary(at) {
            let mut damaged = text.clone();
            match damage % 4 {
                0 => damaged.truncate(at),
                1 => damaged.insert(at, ','),
                2 => damaged.insert(at, '"'),
                _ => damaged.insert(at, '\u{1}'),
            }
            check(&damaged, &trie, &fields)?;
        }
    }
}

/// Keys that compete for the paths under `a`, spelled nested and dotted,
/// with small values: the cases where the longest-key and duplicate rules
/// decide, dense.
fn competing() -> impl Strategy<Value = Gen> {
    let leaf = prop_oneof![
        (0i64..4).prop_map(|n| Gen::Number(n.to_string())),
        Just(Gen::Null),
        Just(Gen::Object(Vec::new())),
    ];
    let inner_key = prop::sample::select(&["b", "b.c", "c", "x"][..]).prop_map(str::to_string);
    let inner = leaf.prop_recursive(2, 12, 3, move |inner| {
        prop::collection::vec((inner_key.clone(), inner), 0..4).prop_map(Gen::Object)
    });
    let outer_key =
        prop::sample::select(&["a", "a.b", "a.b.c", "a.x", "b", "n"][..]).prop_map(str::to_string);
    prop::collection::vec((outer_key, inner), 0..5).prop_map(Gen::Object)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn reader_agrees_with_serde_json_on_competing_keys(object in competing()) {
        let (trie, fields) = pack();
        let mut text = String::new();
        write(&object, &mut std::iter::empty(), &mut text);
        check(&text, &trie, &fields)?;
    }
}

/// The slot reader answers for plain lines (else the test above would only
/// exercise the tree).
#[test]
fn plain_lines_are_read_into_slots() {
    let (trie, _) = pack();
    for line in [
        r#"{"a":{"b":{"c":"X"}},"n":-12,"s":"plain","z":[1,{"q":"\n"}]}"#,
        r#"{"@timestamp":"2026-01-01T00:00:00Z","arr":"v","x":{"y":"v"}}"#,
        r#"{"é":{"ü":1},"c":{"d":{"e":[1,2]}},"b":{"c":null}}"#,
        r#"{"a.b.c":1,"a.x":2,"c.d":{"e":3},"x.y":"v"}"#,
        r#"{"a":{"b.c":1,"x":2}}"#,
    ] {
        assert!(
            matches!(parse_event(line, &trie), Ok(Parsed::Slots(_))),
            "{line}"
        );
    }
    for line in [
        r#"{"a.b":{"c":1},"a":{"b":{"c":2}}}"#,
        r#"{"a":{"b.c":1},"a.b":{"x":2}}"#,
        r#"{"a":1,"a.b":2}"#,
        r#"{"a":{"b":1},"a":{"b":2}}"#,
        r#"{"a":[{"b":1}]}"#,
    ] {
        assert!(
            matches!(parse_event(line, &trie), Ok(Parsed::Tree(_))),
            "{line}"
        );
    }
}

/// The generated lines exercise both readers: a good share is read into
/// slots, the rest by the tree.
#[test]
fn generated_lines_reach_both_readers() {
    use proptest::strategy::ValueTree;
    let (trie, _) = pack();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut slots, mut tree) = (0, 0);
    for _ in 0..400 {
        let Ok(case) = line().new_tree(&mut runner) else {
            continue;
        };
        let (entries, spaces, _) = case.current();
        let mut text = String::new();
        write(
            &Gen::Object(entries),
            &mut spaces.into_iter().cycle(),
            &mut text,
        );
        match parse_event(&text, &trie) {
            Ok(Parsed::Slots(_)) => slots += 1,
            Ok(Parsed::Tree(_)) => tree += 1,
            Err(_) => {}
        }
    }
    eprintln!("slots {slots}, tree {tree}");
    assert!(slots >= 80 && tree >= 80, "slots {slots}, tree {tree}");
}

/// Whether a line is valid JSON does not depend on the fields a pack reads
/// (language.md 1.4, "every line is validated as JSON"): a lone surrogate
/// escape or a number out of f64's range makes the line malformed in a
/// field no rule reads as it does in one that is read (serde_json, the
/// reference, rejects both).
#[test]
fn undecodable_values_are_malformed_read_or_not() {
    let (trie, _) = pack();
    for line in [
        r#"{"s":"\ud83d"}"#,
        r#"{"s":"a","z":"\ud83d"}"#,
        r#"{"s":"a","z":"\udc00"}"#,
        r#"{"s":"a","z":"\udc00\ud800"}"#,
        r#"{"s":"a","z":["\ud83dx"]}"#,
        r#"{"s":"a","z":{"\ud83d":1}}"#,
        r#"{"s":"a","z\ud83d":1}"#,
        r#"{"s":"a","a":{"b":1,"q":"\ud800"}}"#,
        r#"{"s":1e400}"#,
        r#"{"s":"a","z":1e400}"#,
        r#"{"s":"a","z":[-1.5E+999]}"#,
    ] {
        assert!(serde_json::from_str::<Json>(line).is_err(), "{line}");
        assert!(parse_event(line, &trie).is_err(), "{line}");
        assert!(parse_serde(line, &trie).is_err(), "{line}");
    }
    for line in [
        r#"{"s":"a","z":"\ud83d\ude00"}"#,
        r#"{"s":"\ud83d\ude00","z":{"\ud83d\ude00":"\u0041"}}"#,
        r#"{"s":"a","z":1e-400,"y":123456789012345678901234567890}"#,
    ] {
        assert!(parse_event(line, &trie).is_ok(), "{line}");
        assert!(parse_serde(line, &trie).is_ok(), "{line}");
    }
}
