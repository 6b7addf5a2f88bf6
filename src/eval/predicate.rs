//! Compiled `where` expressions: literals folded, globs, regexes and CIDR
//! sets built once. A predicate holds when it holds for one value of the
//! field (arrays opened); a missing or null field satisfies none, so `not`
//! of a predicate on it is true.

use regex::{Regex, RegexBuilder};
use rustc_hash::FxHashSet as HashSet;

use super::cidr::CidrSet;
use super::event::{FieldPath, Fields, PathTrie, Value};
use super::fold::{eq_folded, fold};
use super::glob::Glob;
use super::shared::Shared;
use super::value::{exists, integer, text};
use crate::ir::{self, FieldType, Literal, Operation, Ordering, TextOp};

/// A compiled `where`.
#[derive(Debug, Clone)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Exists(FieldPath),
    Predicate(FieldPath, Test),
    /// `len(f)`: the test (an `int` one) on the length of each value's text.
    Length(FieldPath, Test),
    /// A predicate of the pack's `Shared` table (its leaf), answered once
    /// per event for every rule that has it (`compile_shared`).
    Shared(u32),
}

/// What a predicate asks of one value.
#[derive(Debug, Clone)]
pub enum Test {
    /// `==` / `in`: numbers on an `int` field, folded text otherwise.
    Equals {
        numeric: bool,
        ints: Vec<i64>,
        texts: TextSet,
    },
    Compare(Ordering, i64),
    Text {
        op: TextOp,
        folded: Vec<String>,
        all: bool,
        /// For `contains` (any) on ASCII text: for each byte, the needles
        /// (bit `i`: `folded[i]`) that start with it in either case; `None`
        /// if a needle is empty or there are more than 64.
        starts: Option<Box<[u64; 256]>>,
    },
    Like {
        globs: Vec<Glob>,
        all: bool,
    },
    Regex(Regex),
    Cidr(CidrSet),
    /// `cased`: `==` / `in` (`op` None), `contains`, `startswith`,
    /// `endswith` on the exact text; `cased like` as anchored regexes.
    Exact {
        op: Option<TextOp>,
        values: Vec<String>,
        all: bool,
    },
    ExactLike {
        globs: Vec<Regex>,
        all: bool,
    },
}

/// Folded strings: a short list is scanned without folding the value.
#[derive(Debug, Clone)]
pub enum TextSet {
    Few(Vec<String>),
    Many(HashSet<String>),
}

impl TextSet {
    fn new(folded: Vec<String>) -> TextSet {
        if folded.len() <= 8 {
            TextSet::Few(folded)
        } else {
            TextSet::Many(folded.into_iter().collect())
        }
    }

    /// The folded strings.
    pub fn items(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            TextSet::Few(items) => Box::new(items.iter().map(String::as_str)),
            TextSet::Many(items) => Box::new(items.iter().map(String::as_str)),
        }
    }

    fn contains(&self, value: &str) -> bool {
        match self {
            TextSet::Few(items) if value.is_ascii() => {
                // ASCII folds to ASCII of the same length: only a folded
                // item of that length, all ASCII, can be equal.
                let value = value.as_bytes();
                items.iter().any(|item| {
                    item.len() == value.len()
                        && item.is_ascii()
                        && value.eq_ignore_ascii_case(item.as_bytes())
                })
            }
            TextSet::Few(items) => items.iter().any(|item| eq_folded(value, item)),
            TextSet::Many(items) => items.contains(fold(value).as_ref()),
        }
    }
}

impl Condition {
    /// Compiles a `where`, adding the paths it reads to `trie`.
    pub fn compile(condition: &ir::Condition, trie: &mut PathTrie) -> Result<Condition, String> {
        Condition::compile_in(condition, trie, None)
    }

    /// Compiles a `where` whose predicates (other than `len()`) go to the
    /// pack's `shared` table: evaluate it with `holds_with`.
    pub fn compile_shared(
        condition: &ir::Condition,
        trie: &mut PathTrie,
        shared: &mut Shared,
    ) -> Result<Condition, String> {
        Condition::compile_in(condition, trie, Some(shared))
    }

    fn compile_in(
        condition: &ir::Condition,
        trie: &mut PathTrie,
        mut shared: Option<&mut Shared>,
    ) -> Result<Condition, String> {
        let mut all = |items: &[ir::Condition]| -> Result<Vec<Condition>, String> {
            items
                .iter()
                .map(|c| Condition::compile_in(c, trie, shared.as_deref_mut()))
                .collect()
        };
        Ok(match condition {
            ir::Condition::And(items) => Condition::And(all(items)?),
            ir::Condition::Or(items) => Condition::Or(all(items)?),
            ir::Condition::Not(inner) => {
                Condition::Not(Box::new(Condition::compile_in(inner, trie, shared)?))
            }
            ir::Condition::Exists(field) => Condition::Exists(FieldPath::new(&field.path, trie)),
            ir::Condition::Predicate(p) if p.length => Condition::Length(
                FieldPath::new(&p.field.path, trie),
                Test::compile(FieldType::Int, &p.operation)?,
            ),
            ir::Condition::Predicate(p) if let Some(shared) = shared => {
                Condition::Shared(shared.intern(p, trie)?)
            }
            ir::Condition::Predicate(p) if p.field.cased => Condition::Predicate(
                FieldPath::new(&p.field.path, trie),
                Test::compile_exact(&p.operation)?,
            ),
            ir::Condition::Predicate(p) => Condition::Predicate(
                FieldPath::new(&p.field.path, trie),
                Test::compile(p.field.ty, &p.operation)?,
            ),
        })
    }

    /// Whether a condition of `compile` holds.
    pub fn holds(&self, fields: &Fields<'_, '_>) -> bool {
        // `compile` makes no `Shared` leaf.
        self.holds_with(fields, &mut |_| false)
    }

    /// Whether a condition holds, `shared` answering its `Shared` leaves.
    pub fn holds_with(&self, fields: &Fields<'_, '_>, shared: &mut dyn FnMut(u32) -> bool) -> bool {
        match self {
            Condition::And(items) => items.iter().all(|c| c.holds_with(fields, shared)),
            Condition::Or(items) => items.iter().any(|c| c.holds_with(fields, shared)),
            Condition::Not(inner) => !inner.holds_with(fields, shared),
            Condition::Shared(leaf) => shared(*leaf),
            Condition::Exists(field) => field.for_each_value(fields, &mut |v| exists(v)),
            Condition::Predicate(field, test) => test.holds_on(field, fields),
            Condition::Length(field, test) => field.for_each_atom(fields, &mut |v| {
                text(v).is_some_and(|t| {
                    let length = i64::try_from(t.chars().count()).unwrap_or(i64::MAX);
                    test.holds(&Value::Int(length))
                })
            }),
        }
    }
}

impl Test {
    /// Whether the test holds for one of the field's values.
    pub fn holds_on(&self, field: &FieldPath, fields: &Fields<'_, '_>) -> bool {
        match self {
            Test::Cidr(set) => field.in_cidr(fields, set),
            test => field.for_each_atom(fields, &mut |v| test.holds(v)),
        }
    }

    /// A `cased` string comparison (the checker allows no other).
    pub(crate) fn compile_exact(operation: &Operation) -> Result<Test, String> {
        Ok(match operation {
            Operation::Equals { values, .. } => Test::Exact {
                op: None,
                values: values
                    .iter()
                    .map(|v| match v {
                        Literal::String(s) => s.clone(),
                        Literal::Int(n) => n.to_string(),
                    })
                    .collect(),
                all: false,
            },
            Operation::Text {
                op: TextOp::Like,
                values,
                all,
                ..
            } => Test::ExactLike {
                globs: values
                    .iter()
                    .map(|v| glob_regex(v))
                    .collect::<Result<_, _>>()?,
                all: *all,
            },
            Operation::Text {
                op, values, all, ..
            } => Test::Exact {
                op: Some(*op),
                values: values.clone(),
                all: *all,
            },
            other => Test::compile(FieldType::String, other)?,
        })
    }

    pub(crate) fn compile(ty: FieldType, operation: &Operation) -> Result<Test, String> {
        Ok(match operation {
            Operation::Equals { values, .. } => {
                let numeric = ty == FieldType::Int;
                let mut ints = Vec::new();
                let mut texts = Vec::new();
                for value in values {
                    match value {
                        Literal::Int(n) if numeric => ints.push(*n),
                        Literal::Int(n) => texts.push(n.to_string()),
                        Literal::String(s) => texts.push(fold(s).into_owned()),
                    }
                }
                Test::Equals {
                    numeric,
                    ints,
                    texts: TextSet::new(texts),
                }
            }
            Operation::Compare { op, value } => Test::Compare(*op, *value),
            Operation::Text {
                op: TextOp::Like,
                values,
                all,
                ..
            } => Test::Like {
                globs: values.iter().map(|v| Glob::new(v)).collect(),
                all: *all,
            },
            Operation::Text {
                op, values, all, ..
            } => {
                let folded: Vec<String> = values.iter().map(|v| fold(v).into_owned()).collect();
                let mut starts = Box::new([0u64; 256]);
                for (i, needle) in folded.iter().enumerate().take(64) {
                    if let Some(&first) = needle.as_bytes().first() {
                        starts[usize::from(first.to_ascii_lowercase())] |= 1 << i;
                        starts[usize::from(first.to_ascii_uppercase())] |= 1 << i;
                    }
                }
                let usable = folded.len() <= 64 && folded.iter().all(|n| !n.is_empty());
                let starts = usable.then_some(starts);
                Test::Text {
                    op: *op,
                    folded,
                    all: *all,
                    starts,
                }
            }
            Operation::Regex {
                pattern,
                case_insensitive,
            } => Test::Regex(
                RegexBuilder::new(&crate::check::regex::rewrite_ascii(pattern))
                    .case_insensitive(*case_insensitive)
                    .build()
                    .map_err(|e| format!("regular expression `{pattern}`: {e}"))?,
            ),
            Operation::Cidr { blocks, .. } => Test::Cidr(CidrSet::new(blocks)),
        })
    }

    /// Whether the predicate holds for one (array-opened) value.
    pub fn holds(&self, value: &Value<'_>) -> bool {
        match self {
            Test::Equals {
                numeric,
                ints,
                texts,
            } => {
                if *numeric && let Some(n) = integer(value) {
                    return ints.contains(&n);
                }
                text(value).is_some_and(|t| texts.contains(&t))
            }
            Test::Compare(op, bound) => integer(value).is_some_and(|n| match op {
                Ordering::Lt => n < *bound,
                Ordering::Le => n <= *bound,
                Ordering::Gt => n > *bound,
                Ordering::Ge => n >= *bound,
            }),
            Test::Text {
                op,
                folded,
                all,
                starts,
            } => text(value).is_some_and(|t| {
                if let (TextOp::Contains, false, Some(starts)) = (op, all, starts)
                    && t.is_ascii()
                {
                    return contains_any_ascii(t.as_bytes(), folded, starts);
                }
                if t.is_ascii() {
                    // A folded needle with other characters cannot occur in
                    // ASCII text, which folds to ASCII.
                    let one = |needle: &String| {
                        needle.is_ascii() && ascii_text_op(*op, t.as_bytes(), needle.as_bytes())
                    };
                    return if *all {
                        folded.iter().all(one)
                    } else {
                        folded.iter().any(one)
                    };
                }
                let t = fold(&t);
                let one = |needle: &String| match op {
                    TextOp::Contains => t.contains(needle.as_str()),
                    TextOp::StartsWith => t.starts_with(needle.as_str()),
                    TextOp::EndsWith | TextOp::Like => t.ends_with(needle.as_str()),
                };
                if *all {
                    folded.iter().all(one)
                } else {
                    folded.iter().any(one)
                }
            }),
            Test::Like { globs, all } => text(value).is_some_and(|t| {
                // Folded once for all the globs.
                let t = fold(&t);
                if *all {
                    globs.iter().all(|g| g.matches_folded(&t))
                } else {
                    globs.iter().any(|g| g.matches_folded(&t))
                }
            }),
            Test::Regex(regex) => text(value).is_some_and(|t| regex.is_match(&t)),
            Test::Exact { op, values, all } => text(value).is_some_and(|t| {
                let one = |needle: &String| match op {
                    None => *t == **needle,
                    Some(TextOp::Contains) => t.contains(needle.as_str()),
                    Some(TextOp::StartsWith) => t.starts_with(needle.as_str()),
                    Some(TextOp::EndsWith | TextOp::Like) => t.ends_with(needle.as_str()),
                };
                if *all {
                    values.iter().all(one)
                } else {
                    values.iter().any(one)
                }
            }),
            Test::ExactLike { globs, all } => text(value).is_some_and(|t| {
                if *all {
                    globs.iter().all(|g| g.is_match(&t))
                } else {
                    globs.iter().any(|g| g.is_match(&t))
                }
            }),
            Test::Cidr(set) => match value {
                Value::Str(s) => set.contains_text(s),
                _ => false,
            },
        }
    }
}

/// A checked glob as an anchored, case-sensitive regex: `*` any run of
/// characters (newlines too), `?` one character, `\*` `\?` `\\` literal.
fn glob_regex(glob: &str) -> Result<Regex, String> {
    let mut pattern = String::from("\\A");
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => pattern.push_str("(?s:.*)"),
            '?' => pattern.push_str("(?s:.)"),
            '\\' => pattern.push_str(&regex::escape(&chars.next().unwrap_or('\\').to_string())),
            c => pattern.push_str(&regex::escape(&c.to_string())),
        }
    }
    pattern.push_str("\\z");
    Regex::new(&pattern).map_err(|e| format!("glob `{glob}`: {e}"))
}

/// Whether one of the folded `needles` occurs in ASCII `text` ignoring
/// case, in one pass over `text`: at each byte only the needles starting
/// with it (`starts`) are tried. Needles that are not ASCII cannot occur.
fn contains_any_ascii(text: &[u8], needles: &[String], starts: &[u64; 256]) -> bool {
    text.iter().enumerate().any(|(i, &b)| {
        let mut candidates = starts[usize::from(b)];
        while candidates != 0 {
            let k = candidates.trailing_zeros() as usize;
            candidates &= candidates - 1;
            let Some(needle) = needles.get(k).map(String::as_bytes) else {
                continue;
            };
            let rest = &text[i..];
            if needle.len() <= rest.len()
                && needle.is_ascii()
                && rest[..needle.len()].eq_ignore_ascii_case(needle)
            {
                return true;
            }
        }
        false
    })
}

/// `op` on ASCII `text` ignoring case, `needle` being folded (lower-case) ASCII.
fn ascii_text_op(op: TextOp, text: &[u8], needle: &[u8]) -> bool {
    if needle.len() > text.len() {
        return false;
    }
    match op {
        TextOp::Contains => {
            let Some((&first, rest)) = needle.split_first() else {
                return true;
            };
            let upper = first.to_ascii_uppercase();
            let last = text.len() - needle.len();
            text[..=last].iter().enumerate().any(|(i, &b)| {
                (b == first || b == upper)
                    && text[i + 1..i + needle.len()].eq_ignore_ascii_case(rest)
            })
        }
        TextOp::StartsWith => text[..needle.len()].eq_ignore_ascii_case(needle),
        TextOp::EndsWith | TextOp::Like => {
            text[text.len() - needle.len()..].eq_ignore_ascii_case(needle)
        }
    }
}
