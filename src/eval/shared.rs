//! The pack's predicates compiled once for all its rules. Equal predicates
//! (same field, same operation) are one `Leaf`, evaluated at most once per
//! event. The predicates of a field that only compare folded text with
//! literals (`==` / `in`, `contains`, `startswith`, `endswith` of any,
//! `like` globs with stars only at their ends), and its `in cidr` ones,
//! are a `Group`: one hash map over all their equality literals, one
//! Aho-Corasick automaton over all their other literals and one table over
//! all their CIDR blocks (`CidrTable`), run once per value of the field,
//! which answers every predicate of the group at once. Semantics are those
//! of `Test::holds`, on the folded text (see `fold`) and the address as
//! `CidrSet` reads it.

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap as HashMap;

use std::net::IpAddr;

use super::cidr::{CidrSet, CidrTable};
use super::event::{FieldPath, Fields, PathTrie, Value};
use super::fold::fold;
use super::glob::GlobAnchor;
use super::predicate::{Test, TextSet};
use super::value::text;
use crate::ir::{self, FieldType, TextOp};

/// The fewest shareable predicates on one field for a `Group` to answer them.
const MIN_GROUP: usize = 4;

/// The most (piece, set) entries a field's CIDR table may hold.
const MAX_CIDR_ENTRIES: usize = 1 << 20;

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
    /// The field's `in cidr` leaves: their sets while the pack is read,
    /// then one table over all their blocks.
    cidr_sets: Vec<(u32, CidrSet)>,
    cidr: Option<CidrTable>,
}

/// Every predicate of the pack, and the groups that answer them.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    leaves: Vec<Leaf>,
    groups: Vec<Group>,
    /// Build time only: a predicate's key → its leaf; a path → its group.
    known: HashMap<String, u32>,
    group_of: HashMap<String, usize>,
    /// Sibling sets (`add_sibling_set`): each leaf's, and each set's size.
    siblings_of: Vec<Vec<u32>>,
    sibling_sizes: Vec<u32>,
}

/// What one event's leaves, groups and conditions were found to be: each
/// cell holds the event's stamp times two, plus one when it holds (for a
/// group: when one of its leaves holds); any other stamp means not
/// evaluated yet. Nothing is cleared between events. A leaf of a group
/// that answered is false unless its cell says otherwise.
#[derive(Debug, Clone, Default)]
pub struct Memo {
    stamp: u64,
    cells: Vec<u64>,
    groups: Vec<u64>,
    /// The pack's distinct conditions (`reach::Conditions`).
    conditions: Vec<u64>,
    /// Per sibling set: the stamp and how many of its leaves hold.
    siblings: Vec<(u64, u32)>,
    /// Per family of conditions (`reach::Conditions`): the stamp times
    /// four, plus 2 when its members agree (plus 1 when they hold).
    families: Vec<u64>,
}

impl Memo {
    /// Forgets the previous event.
    pub fn next_event(&mut self, shared: &Shared, conditions: usize, families: usize) {
        self.stamp += 1;
        if self.cells.len() != shared.leaves.len() {
            self.cells = vec![0; shared.leaves.len()];
        }
        if self.groups.len() != shared.groups.len() {
            self.groups = vec![0; shared.groups.len()];
        }
        if self.conditions.len() != conditions {
            self.conditions = vec![0; conditions];
        }
        if self.siblings.len() != shared.sibling_sizes.len() {
            self.siblings = vec![(0, 0); shared.sibling_sizes.len()];
        }
        if self.families.len() != families {
            self.families = vec![0; families];
        }
    }

    /// A leaf of a group holds: set it, and count it in its sibling sets
    /// the first time this event.
    fn hit(&mut self, leaf: u32, siblings_of: &[Vec<u32>]) {
        if self.get(leaf) == Some(true) {
            return;
        }
        self.set(leaf, true);
        for &set in siblings_of.get(leaf as usize).into_iter().flatten() {
            if let Some(cell) = self.siblings.get_mut(set as usize) {
                *cell = match *cell {
                    (stamp, count) if stamp == self.stamp => (stamp, count + 1),
                    _ => (self.stamp, 1),
                };
            }
        }
    }

    /// Whether the members of family `family` agree this event, and on
    /// what: `None` not known yet, `Some(None)` they may differ.
    pub(super) fn family(&self, family: u32) -> Option<Option<bool>> {
        let cell = *self.families.get(family as usize)?;
        (cell >> 2 == self.stamp).then_some((cell & 2 == 2).then_some(cell & 1 == 1))
    }

    pub(super) fn set_family(&mut self, family: u32, agreed: Option<bool>) {
        if let Some(cell) = self.families.get_mut(family as usize) {
            *cell = (self.stamp << 2) | agreed.map_or(0, |holds| 2 | u64::from(holds));
        }
    }

    fn get(&self, leaf: u32) -> Option<bool> {
        read(&self.cells, leaf, self.stamp)
    }

    fn set(&mut self, leaf: u32, holds: bool) {
        write(&mut self.cells, leaf, self.stamp, holds);
    }

    pub(super) fn condition(&self, index: u32) -> Option<bool> {
        read(&self.conditions, index, self.stamp)
    }

    pub(super) fn set_condition(&mut self, index: u32, holds: bool) {
        write(&mut self.conditions, index, self.stamp, holds);
    }
}

fn read(cells: &[u64], index: u32, stamp: u64) -> Option<bool> {
    let cell = *cells.get(index as usize)?;
    (cell >> 1 == stamp).then_some(cell & 1 == 1)
}

fn write(cells: &mut [u64], index: u32, stamp: u64, holds: bool) {
    if let Some(cell) = cells.get_mut(index as usize) {
        *cell = (stamp << 1) | u64::from(holds);
    }
}

/// What a rule can be skipped by: a leaf, or a group (when none of its
/// leaves holds), that must hold for the rule's `where` to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Guard {
    Group(u32),
    Leaf(u32),
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
        let group = match (&test, literals(&test, predicate.field.ty)) {
            (_, Some(literals)) => {
                let group = self.group(&field);
                self.groups[group].add(id, &literals);
                Some(group)
            }
            (Test::Cidr(set), None) => {
                let group = self.group(&field);
                self.groups[group].leaves.push(id);
                self.groups[group].cidr_sets.push((id, set.clone()));
                Some(group)
            }
            _ => None,
        };
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
            cidr_sets: Vec::new(),
            cidr: None,
        });
        self.group_of
            .insert(field.path.clone(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Builds the automata once every predicate is in. A field with few
    /// shareable predicates keeps them apart: each is then cheaper alone
    /// (`Test::holds`) than the group's pass over all of them.
    pub fn finish(&mut self) -> Result<(), String> {
        // A table too large to build leaves its sets to test each alone.
        for group in &mut self.groups {
            let sets = std::mem::take(&mut group.cidr_sets);
            if sets.is_empty() {
                continue;
            }
            let owned: Vec<(u32, &CidrSet)> = sets.iter().map(|(leaf, set)| (*leaf, set)).collect();
            group.cidr = CidrTable::new(&owned, MAX_CIDR_ENTRIES);
            if group.cidr.is_none() {
                group
                    .leaves
                    .retain(|leaf| !sets.iter().any(|(l, _)| l == leaf));
                for (leaf, _) in &sets {
                    if let Some(leaf) = self.leaves.get_mut(*leaf as usize) {
                        leaf.group = None;
                    }
                }
            }
        }
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
                group.cidr = None;
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
        match entry.group {
            Some(group) => {
                self.group_holds(group, fields, memo);
                memo.get(leaf).unwrap_or(false)
            }
            None => {
                let holds = entry.test.holds_on(&entry.field, fields);
                memo.set(leaf, holds);
                holds
            }
        }
    }

    /// The group that answers a leaf (after `finish`).
    pub fn group_of(&self, leaf: u32) -> Option<u32> {
        u32::try_from(self.leaves.get(leaf as usize)?.group?).ok()
    }

    /// Registers leaves of one group that stand at the same place in
    /// conditions otherwise alike (a rule's copies, each with its own
    /// list): the event counts how many of them hold, so that
    /// `all_or_none` can tell whether they agree. Returns the set's id.
    pub fn add_sibling_set(&mut self, leaves: &[u32]) -> u32 {
        let mut distinct = leaves.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let id = u32::try_from(self.sibling_sizes.len()).unwrap_or(u32::MAX);
        if self.siblings_of.len() < self.leaves.len() {
            self.siblings_of.resize_with(self.leaves.len(), Vec::new);
        }
        for &leaf in &distinct {
            if let Some(sets) = self.siblings_of.get_mut(leaf as usize) {
                sets.push(id);
            }
        }
        self.sibling_sizes
            .push(u32::try_from(distinct.len()).unwrap_or(u32::MAX));
        id
    }

    /// Whether the leaves of sibling set `set` (of group `group`) all
    /// hold or all fail for the event.
    pub fn all_or_none(
        &self,
        set: u32,
        group: u32,
        fields: &Fields<'_, '_>,
        memo: &mut Memo,
    ) -> bool {
        self.group_holds(group as usize, fields, memo);
        let count = match memo.siblings.get(set as usize) {
            Some(&(stamp, count)) if stamp == memo.stamp => count,
            _ => 0,
        };
        count == 0 || Some(&count) == self.sibling_sizes.get(set as usize)
    }

    /// The group that answers a leaf (after `finish`), as a guard.
    pub fn group_guard(&self, leaf: u32) -> Option<Guard> {
        let group = self.leaves.get(leaf as usize)?.group?;
        Some(Guard::Group(u32::try_from(group).ok()?))
    }

    /// Whether a guard holds for the event.
    pub fn guard_holds(&self, guard: Guard, fields: &Fields<'_, '_>, memo: &mut Memo) -> bool {
        match guard {
            Guard::Leaf(leaf) => self.holds(leaf, fields, memo),
            Guard::Group(group) => self.group_holds(group as usize, fields, memo),
        }
    }

    /// Answers a group once per event; whether one of its leaves holds.
    fn group_holds(&self, group: usize, fields: &Fields<'_, '_>, memo: &mut Memo) -> bool {
        if let Some(known) = read(&memo.groups, group as u32, memo.stamp) {
            return known;
        }
        let any = self
            .groups
            .get(group)
            .is_some_and(|g| g.answer(fields, memo, &self.siblings_of));
        write(&mut memo.groups, group as u32, memo.stamp, any);
        any
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

    /// Answers every leaf of the group for the event: true for each
    /// literal found in one of the field's values (the others stay unset,
    /// which reads as false once the group answered); whether one was.
    fn answer(&self, fields: &Fields<'_, '_>, memo: &mut Memo, siblings_of: &[Vec<u32>]) -> bool {
        let mut any = false;
        self.field.for_each_atom(fields, &mut |value| {
            if let (Some(table), Value::Str(text)) = (&self.cidr, value)
                && let Ok(addr) = text.parse::<IpAddr>()
            {
                table.hits(addr, &mut |leaf| {
                    memo.hit(leaf, siblings_of);
                    any = true;
                });
            }
            if self.equal.is_empty() && self.automaton.is_none() {
                return false;
            }
            let Some(text) = text(value) else {
                return false;
            };
            let folded = fold(&text);
            if let Some(owners) = self.equal.get(folded.as_ref()) {
                for &leaf in owners {
                    memo.hit(leaf, siblings_of);
                }
                any |= !owners.is_empty();
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
                            memo.hit(leaf, siblings_of);
                            any = true;
                        }
                    }
                }
            }
            false
        });
        any
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
