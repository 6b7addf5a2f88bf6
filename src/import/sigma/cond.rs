//! The detection of one Sigma rule as a boolean formula over tripline
//! predicates and the Sigma tests tripline has no predicate for alone
//! (`f: null`, `f: ''`, `f|exists`). `settle` rewrites the combinations
//! that do mean a tripline `exists(f)` (the way tripline's own Sigma target
//! writes it) and refuses whatever such test is left.

use super::refusal::{Refusal, Result};
use super::yaml::Pos;
use crate::syntax::ast::Operator;

#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Pred(Pred),
    Exists(String),
    /// A Sigma test with no tripline predicate of its own.
    Sigma(Atom, String, Pos),
}

/// `f: null` (missing or null), `f: ''`, `f|exists: true` (present, any
/// value), `f|exists: false` (absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Atom {
    Null,
    Empty,
    Present,
    Absent,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pred {
    pub field: String,
    pub cased: bool,
    pub op: Operator,
    pub operand: Operand,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    One(Lit),
    List(Vec<Lit>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lit {
    Str(String),
    Int(i64),
}

impl Atom {
    fn construct(self, field: &str) -> String {
        match self {
            Atom::Null => format!("`{field}: null`"),
            Atom::Empty => format!("`{field}: ''`"),
            Atom::Present => format!("`{field}|exists: true`"),
            Atom::Absent => format!("`{field}|exists: false`"),
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Atom::Null => {
                "tripline tells no null value from a missing field, and its `not exists(f)` also holds for \"\"; \
                 only `f: null` together with `f: ''` (either of them) is carried, as `not exists(f)`"
            }
            Atom::Empty => {
                "tripline has no empty string literal and its `not exists(f)` also holds for a missing field; \
                 only `f: ''` together with `f: null` (either of them) is carried, as `not exists(f)`"
            }
            Atom::Present | Atom::Absent => {
                "Sigma's `exists` also holds for \"\" and null, tripline's `exists(f)` does not; \
                 only `f|exists: true` with `not f: ['', null]` is carried, as `exists(f)`"
            }
        }
    }
}

/// The formula with the `exists` patterns rewritten; a Sigma test left
/// over is refused.
pub fn settle(cond: Cond) -> Result<Cond> {
    let settled = rewrite(cond);
    match first_atom(&settled) {
        Some((atom, field, pos)) => Err(Refusal::new(pos, atom.construct(field), atom.reason())),
        None => Ok(settled),
    }
}

fn rewrite(cond: Cond) -> Cond {
    match cond {
        Cond::Not(inner) => match rewrite(*inner) {
            Cond::Not(again) => *again,
            other => Cond::Not(Box::new(other)),
        },
        Cond::Or(items) => {
            let items = flatten(items.into_iter().map(rewrite).collect(), true);
            // f: null or f: '' (in any order) is `not exists(f)`.
            let items = pair_up(items, (Atom::Null, Atom::Empty), false, |field| {
                Cond::Not(Box::new(Cond::Exists(field)))
            });
            single(items, Cond::Or)
        }
        Cond::And(items) => {
            let items = flatten(items.into_iter().map(rewrite).collect(), false);
            // not f: null and not f: '' is `exists(f)`.
            let items = pair_up(items, (Atom::Null, Atom::Empty), true, Cond::Exists);
            // f|exists: true next to exists(f) adds nothing.
            let existing: Vec<String> = items
                .iter()
                .filter_map(|c| match c {
                    Cond::Exists(f) => Some(f.clone()),
                    _ => None,
                })
                .collect();
            let items = items
                .into_iter()
                .filter(|c| !matches!(c, Cond::Sigma(Atom::Present, f, _) if existing.contains(f)))
                .collect();
            single(items, Cond::And)
        }
        other => other,
    }
}

fn flatten(items: Vec<Cond>, or: bool) -> Vec<Cond> {
    let mut out = Vec::new();
    for item in items {
        match item {
            Cond::Or(inner) if or => out.extend(inner),
            Cond::And(inner) if !or => out.extend(inner),
            other => out.push(other),
        }
    }
    out
}

fn single(mut items: Vec<Cond>, join: fn(Vec<Cond>) -> Cond) -> Cond {
    if items.len() == 1 {
        items.remove(0)
    } else {
        join(items)
    }
}

/// Which field a condition tests with a given Sigma atom, optionally
/// under `not`.
fn atom_field(cond: &Cond, atom: Atom, negated: bool) -> Option<&str> {
    let inner = match (cond, negated) {
        (Cond::Not(inner), true) => inner.as_ref(),
        (other, false) => other,
        _ => return None,
    };
    match inner {
        Cond::Sigma(a, field, _) if *a == atom => Some(field),
        _ => None,
    }
}

/// Replaces each pair of atoms `a` and `b` (both negated, or neither) on
/// one field with `make(field)`, where the first of the two stood.
fn pair_up(
    items: Vec<Cond>,
    (a, b): (Atom, Atom),
    negated: bool,
    make: impl Fn(String) -> Cond,
) -> Vec<Cond> {
    let mut slots: Vec<Option<Cond>> = items.into_iter().map(Some).collect();
    for i in 0..slots.len() {
        let Some(cond) = &slots[i] else { continue };
        let (field, other) = match (atom_field(cond, a, negated), atom_field(cond, b, negated)) {
            (Some(field), _) => (field.to_string(), b),
            (None, Some(field)) => (field.to_string(), a),
            (None, None) => continue,
        };
        let partner = slots.iter().position(|slot| {
            slot.as_ref()
                .is_some_and(|c| atom_field(c, other, negated) == Some(field.as_str()))
        });
        if let Some(j) = partner {
            slots[j] = None;
            slots[i] = Some(make(field));
        }
    }
    slots.into_iter().flatten().collect()
}

fn first_atom(cond: &Cond) -> Option<(Atom, &str, Pos)> {
    match cond {
        Cond::And(items) | Cond::Or(items) => items.iter().find_map(first_atom),
        Cond::Not(inner) => first_atom(inner),
        Cond::Sigma(atom, field, pos) => Some((*atom, field, *pos)),
        Cond::Pred(_) | Cond::Exists(_) => None,
    }
}
