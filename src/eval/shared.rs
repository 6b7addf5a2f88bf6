//! The pack's predicates compiled once for all its rules. Equal predicates
//! (same field, same operation) are one `Leaf`, evaluated at most once per
//! event. The string predicates of a field that only compare folded text
//! with literals (`==` / `in`, `contains`, `startswith`, `endswith` of any,
//! `like` globs with stars only at their ends) are a `Group`: one hash map
//! over all their equality literals and one Aho-Corasick automaton over all
//! their other literals, run once per value of the field, which answers
//! every predicate of the group at once. Semantics are those of
//! `Test::holds`, on the folded text (see `fold`).

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap as HashMap;

use super::event::{FieldPath, Fields, PathTrie};
use super::fold::fold;
use super::glob::GlobAnchor;
use super::predicate::{Test, TextSet};
use super::value::text;
use crate::ir::{self, FieldType, TextOp};

/// The fewest shareable predicates on one field for a `Group` to answer them.
const MIN_GROUP: usize = 4;

/// A predicate of the pack, shared by the rules that contain it.
#[derive(Debug, Clone)]
struct Leaf {
    field: FieldPath,
    test: Test,
    /// The group that answers it, if any.
    group: Option<usize>,
}

/// The shareable predicates of one field.
#[derive(Debug, Clone)]
struct Group {
    field: FieldPath,
    leaves: Vec<u32>,
    /// Folded text → the leaves it satisfies.
    equal: HashMap<String, Vec<u32>>,
    /// The automaton's patterns (folded), their owners by pattern index.
    needles: Vec<String>,
    owners: Vec<Vec<(u32, GlobAnchor)>>,
    automaton: Option<AhoCorasick>,
}

/// Every predicate of the pack, and the groups that answer them.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    leaves: Vec<Leaf>,
    groups: Vec<Group>,
    /// Build time only: a predicate's key → its leaf; a path → its group.
    known: HashMap<String, u32>,
    group_of: HashMap<String, usize>,
}

/// What one event's leaves were found to be: `cells[i]` holds the event's
/// stamp times two, plus one when leaf `i` holds; any other stamp means
/// not evaluated yet. Nothing is cleared between events.
#[derive(Debug, Clone, Default)]
pub struct Memo {
    stamp: u64,
    cells: Vec<u64>,
}

impl Memo {
    /// Forgets the previous event.
    pub fn next_event(&mut self, leaves: usize) {
        self.stamp += 1;
        if self.cells.len() != leaves {
            self.cells = vec![0; leaves];
        }
    }

    fn get(&self, leaf: u32) -> Option<bool> {
        let cell = *self.cells.get(leaf as usize)?;
        (cell >> 1 == self.stamp).then_some(cell & 1 == 1)
    }

    fn set(&mut self, leaf: u32, holds: bool) {
        if let Some(cell) = self.cells.get_mut(leaf as usize) {
            *cell = (self.stamp << 1) | u64::from(holds);
        }
    }
}

/// A literal of a shareable predicate: equal to the folded text, or found
/// in it at an anchor.
enum Literal<'t> {
    Equal(&'t str),
    Needle(&'t str, GlobAnchor),
}

impl Shared {
    pub fn len(&self) -> usize {
        self.leaves.len()
    }

    pub fn is_empty(&self) -> bool {
        self.leaves.is_empty()
    }

    /// The leaf of a predicate (not `len()`), added if new.
    pub fn intern(
        &mut self,
        predicate: &ir::Predicate,
        trie: &mut PathTrie,
    ) -> Result<u32, String> {
        let key = format!(
            "{}\u{0}{}\u{0}{:?}\u{0}{:?}",
            predicate.field.path, predicate.field.cased, predicate.field.ty, predicate.operation
        );
        if let Some(&leaf) = self.known.get(&key) {
            return Ok(leaf);
        }
        let test = if predicate.field.cased {
            Test::compile_exact(&predicate.operation)?
        } else {
            Test::compile(predicate.field.ty, &predicate.operation)?
        };
        let field = FieldPath::new(&predicate.field.path, trie);
        let id = u32::try_from(self.leaves.len()).map_err(|_| "too many predicates".to_string())?;
        let group = literals(&test, predicate.field.ty).map(|literals| {
            let group = self.group(&field);
            self.groups[group].add(id, &literals);
            group
        });
        self.leaves.push(Leaf { field, test, group });
        self.known.insert(key, id);
        Ok(id)
    }

    fn group(&mut self, field: &FieldPath) -> usize {
        if let Some(&group) = self.group_of.get(&field.path) {
            return group;
        }
        self.groups.push(Group {
            field: field.clone(),
            leaves: Vec::new(),
            equal: HashMap::default(),
            needles: Vec::new(),
            owners: Vec::new(),
            automaton: None,
        });
        self.group_of
            .insert(field.path.clone(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Builds the automata once every predicate is in. A field with few
    /// shareable predicates keeps them apart: each is then cheaper alone
    /// (`Test::holds`) than the group's pass over all of them.
    pub fn finish(&mut self) -> Result<(), String> {
        for leaf in &mut self.leaves {
            let small = leaf
                .group
                .and_then(|g| self.groups.get(g))
                .is_some_and(|group| group.leaves.len() < MIN_GROUP);
            if small {
                leaf.group = None;
            }
        }
        for group in &mut self.groups {
            if group.leaves.len() < MIN_GROUP {
                group.leaves.clear();
                group.needles.clear();
                group.equal.clear();
                continue;
            }
            if !group.needles.is_empty() {
                let automaton = AhoCorasick::new(&group.needles)
                    .map_err(|e| format!("matcher of field `{}`: {e}", group.field.path))?;
                group.automaton = Some(automaton);
            }
        }
        self.known = HashMap::default();
        self.group_of = HashMap::default();
        Ok(())
    }

    /// Whether leaf `leaf` holds for the event (evaluated at most once).
    pub fn holds(&self, leaf: u32, fields: &Fields<'_, '_>, memo: &mut Memo) -> bool {
        if let Some(known) = memo.get(leaf) {
            return known;
        }
        let Some(entry) = self.leaves.get(leaf as usize) else {
            return false;
        };
        match entry.group.and_then(|g| self.groups.get(g)) {
            Some(group) => {
                group.answer(fields, memo);
                memo.get(leaf).unwrap_or(false)
            }
            None => {
                let holds = entry.test.holds_on(&entry.field, fields);
                memo.set(leaf, holds);
                holds
            }
        }
    }
}

impl Group {
    fn add(&mut self, leaf: u32, literals: &[Literal<'_>]) {
        self.leaves.push(leaf);
        for literal in literals {
            match *literal {
                Literal::Equal(text) => {
                    let owners = self.equal.entry(text.to_string()).or_default();
                    if !owners.contains(&leaf) {
                        owners.push(leaf);
                    }
                }
                Literal::Needle(text, anchor) => {
                    let index = match self.needles.iter().position(|n| n == text) {
                        Some(index) => index,
                        None => {
                            self.needles.push(text.to_string());
                            self.owners.push(Vec::new());
                            self.needles.len() - 1
                        }
                    };
                    if let Some(owners) = self.owners.get_mut(index) {
                        owners.push((leaf, anchor));
                    }
                }
            }
        }
    }

    /// Answers every leaf of the group for the event: false, then true for
    /// each literal found in one of the field's values.
    fn answer(&self, fields: &Fields<'_, '_>, memo: &mut Memo) {
        for &leaf in &self.leaves {
            memo.set(leaf, false);
        }
        self.field.for_each_atom(fields, &mut |value| {
            let Some(text) = text(value) else {
                return false;
            };
            let folded = fold(&text);
            if let Some(owners) = self.equal.get(folded.as_ref()) {
                for &leaf in owners {
                    memo.set(leaf, true);
                }
            }
            if let Some(automaton) = &self.automaton {
                for found in automaton.find_overlapping_iter(folded.as_ref()) {
                    let Some(owners) = self.owners.get(found.pattern().as_usize()) else {
                        continue;
                    };
                    let start = found.start() == 0;
                    let end = found.end() == folded.len();
                    for &(leaf, anchor) in owners {
                        let placed = match anchor {
                            GlobAnchor::Anywhere => true,
                            GlobAnchor::Start => start,
                            GlobAnchor::End => end,
                            GlobAnchor::Whole => start && end,
                        };
                        if placed {
                            memo.set(leaf, true);
                        }
                    }
                }
            }
            false
        });
    }
}

/// The literals of a test that a group can answer, or `None`: folded-text
/// equality (not on an `int` field, which compares numbers), `contains`,
/// `startswith`, `endswith` of any needle, `like` of any glob with stars
/// only at its ends; no empty literal (it would match everywhere).
fn literals(test: &Test, ty: FieldType) -> Option<Vec<Literal<'_>>> {
    let literals: Vec<Literal<'_>> = match test {
        Test::Equals {
            numeric: false,
            texts,
            ..
        } if ty != FieldType::Int => TextSet::items(texts).map(Literal::Equal).collect(),
        Test::Text {
            op,
            folded,
            all: false,
            ..
        } => {
            let anchor = match op {
                TextOp::Contains => GlobAnchor::Anywhere,
                TextOp::StartsWith => GlobAnchor::Start,
                TextOp::EndsWith => GlobAnchor::End,
                TextOp::Like => return None,
            };
            folded
                .iter()
                .map(|needle| Literal::Needle(needle, anchor))
                .collect()
        }
        Test::Like { globs, all: false } => {
            let mut literals = Vec::new();
            for glob in globs {
                let (literal, anchor) = glob.as_literal()?;
                literals.push(match anchor {
                    GlobAnchor::Whole => Literal::Equal(literal),
                    other => Literal::Needle(literal, other),
                });
            }
            literals
        }
        _ => return None,
    };
    let usable = !literals.is_empty()
        && literals.iter().all(|l| match l {
            Literal::Equal(_) => true,
            Literal::Needle(text, _) => !text.is_empty(),
        });
    usable.then_some(literals)
}
