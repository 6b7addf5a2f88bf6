//! Which rules' `where` an event is tried against, and each `where`
//! evaluated once. A pack of thousands of rules is mostly rules that an
//! event cannot match: each rule is filed under a guard, a leaf that must
//! hold for its `where` to hold (the one of its required leaves that most
//! rules share), or when it has none, a group of a field's literal
//! predicates one of which must hold (`a in @x or a startswith "y"`); an
//! event tries a guard once and skips every rule filed under it when it
//! does not hold. Rules whose `where` are the same (same shared leaves in
//! the same shape) evaluate it once per event, and rules whose `where`
//! differ only in lists of one field (copies of a rule for several sites)
//! share one evaluation whenever those lists agree on the event.

use rustc_hash::FxHashMap as HashMap;
use std::cmp::Reverse;
use std::collections::BTreeSet;

use super::event::Fields;
use super::predicate::Condition;
use super::shared::{Guard, Memo, Shared};

/// The pack's distinct `where`s and each rule's, and the families they
/// form: `where`s alike but for leaves of the same groups (a rule copied
/// for many sites, each copy with its own lists). When, for an event, the
/// leaves at each such place all hold or all fail, every member of the
/// family comes out as the first one evaluated.
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    distinct: Vec<Condition>,
    of_rule: Vec<u32>,
    family_of: Vec<Option<u32>>,
    /// Per family, its places: the group and the sibling set of each.
    families: Vec<Vec<(u32, u32)>>,
}

impl Conditions {
    /// The rules' `where`s, in rule order, merged when their shape is
    /// the same; families registered in `shared` (after `finish`).
    pub fn new(conditions: Vec<Condition>, shared: &mut Shared) -> Conditions {
        let mut distinct = Vec::new();
        let mut of_rule = Vec::with_capacity(conditions.len());
        let mut known: HashMap<String, u32> = HashMap::default();
        for condition in conditions {
            let index = u32::try_from(distinct.len()).unwrap_or(u32::MAX);
            match shape(&condition, &|leaf| leaf.to_string()) {
                Some(key) => match known.get(&key) {
                    Some(&same) => of_rule.push(same),
                    None => {
                        known.insert(key, index);
                        of_rule.push(index);
                        distinct.push(condition);
                    }
                },
                None => {
                    of_rule.push(index);
                    distinct.push(condition);
                }
            }
        }
        let (family_of, families) = families(&distinct, shared);
        Conditions {
            distinct,
            of_rule,
            family_of,
            families,
        }
    }

    /// How many distinct `where`s the pack has.
    pub fn count(&self) -> usize {
        self.distinct.len()
    }

    /// How many families they form.
    pub fn families(&self) -> usize {
        self.families.len()
    }

    fn of(&self, rule: u32) -> Option<(u32, &Condition)> {
        let index = *self.of_rule.get(rule as usize)?;
        Some((index, self.distinct.get(index as usize)?))
    }

    /// Whether rule `rule`'s `where` holds for the event.
    pub fn holds(
        &self,
        rule: u32,
        event: &Fields<'_, '_>,
        shared: &Shared,
        memo: &mut Memo,
    ) -> bool {
        let Some((index, condition)) = self.of(rule) else {
            return false;
        };
        if let Some(known) = memo.condition(index) {
            return known;
        }
        let family = self.family_of.get(index as usize).copied().flatten();
        if let Some(Some(agreed)) = family.and_then(|f| memo.family(f)) {
            memo.set_condition(index, agreed);
            return agreed;
        }
        let holds = condition.holds_with(event, &mut |leaf| shared.holds(leaf, event, memo));
        memo.set_condition(index, holds);
        if let Some(family) = family
            && memo.family(family).is_none()
        {
            let places = self
                .families
                .get(family as usize)
                .map_or(&[][..], Vec::as_slice);
            let agree =
                (places.iter()).all(|&(group, set)| shared.all_or_none(set, group, event, memo));
            memo.set_family(family, agree.then_some(holds));
        }
        holds
    }
}

/// Each distinct condition's family, and each family's places.
type Families = (Vec<Option<u32>>, Vec<Vec<(u32, u32)>>);

/// The families of `distinct`: conditions of the same shape once each
/// grouped leaf is read as its group. Each place of such a leaf gets a
/// sibling set in `shared` holding the members' leaves there.
fn families(distinct: &[Condition], shared: &mut Shared) -> Families {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::default();
    let mut keys = Vec::new();
    for (index, condition) in distinct.iter().enumerate() {
        let key = shape(condition, &|leaf| match shared.group_of(leaf) {
            Some(group) => format!("g{group}"),
            None => leaf.to_string(),
        });
        if let Some(key) = key {
            let members = by_key.entry(key.clone()).or_default();
            if members.is_empty() {
                keys.push(key);
            }
            members.push(index);
        }
    }
    let mut family_of = vec![None; distinct.len()];
    let mut families = Vec::new();
    for key in keys {
        let Some(members) = by_key.get(&key).filter(|m| m.len() > 1) else {
            continue;
        };
        let Ok(family) = u32::try_from(families.len()) else {
            break;
        };
        let grouped: Vec<Vec<u32>> = (members.iter())
            .map(|&m| {
                let mut leaves = Vec::new();
                if let Some(condition) = distinct.get(m) {
                    shared_leaves(condition, &mut leaves);
                }
                leaves.retain(|&leaf| shared.group_of(leaf).is_some());
                leaves
            })
            .collect();
        let places = grouped.first().map_or(0, Vec::len);
        let mut sets = Vec::with_capacity(places);
        for place in 0..places {
            let leaves: Vec<u32> = grouped
                .iter()
                .filter_map(|l| l.get(place).copied())
                .collect();
            let group = leaves.first().and_then(|&leaf| shared.group_of(leaf));
            if let Some(group) = group {
                sets.push((group, shared.add_sibling_set(&leaves)));
            }
        }
        for &m in members {
            if let Some(slot) = family_of.get_mut(m) {
                *slot = Some(family);
            }
        }
        families.push(sets);
    }
    (family_of, families)
}

/// The shared leaves of a condition, in the order `shape` writes them.
fn shared_leaves(condition: &Condition, out: &mut Vec<u32>) {
    match condition {
        Condition::And(items) | Condition::Or(items) => {
            items.iter().for_each(|item| shared_leaves(item, out));
        }
        Condition::Not(inner) => shared_leaves(inner, out),
        Condition::Shared(leaf) => out.push(*leaf),
        Condition::Exists(_) | Condition::Predicate(..) | Condition::Length(..) => {}
    }
}

/// A key equal for two conditions exactly when they are the same tree of
/// `and`, `or`, `not`, `exists` and shared leaves, each leaf written by
/// `leaf`; `None` when it holds anything else (a `len()` test), which is
/// then kept on its own.
fn shape(condition: &Condition, leaf: &dyn Fn(u32) -> String) -> Option<String> {
    fn write(condition: &Condition, leaf: &dyn Fn(u32) -> String, out: &mut String) -> Option<()> {
        let list = |items: &[Condition], tag: char, out: &mut String| {
            out.push(tag);
            for item in items {
                write(item, leaf, out)?;
            }
            out.push(')');
            Some(())
        };
        match condition {
            Condition::And(items) => list(items, '&', out)?,
            Condition::Or(items) => list(items, '|', out)?,
            Condition::Not(inner) => {
                out.push('!');
                write(inner, leaf, out)?;
            }
            Condition::Shared(id) => {
                out.push_str(&leaf(*id));
                out.push(',');
            }
            Condition::Exists(field) => out.push_str(&format!("?{},", field.path)),
            Condition::Predicate(..) | Condition::Length(..) => return None,
        }
        Some(())
    }
    let mut out = String::new();
    write(condition, leaf, &mut out)?;
    Some(out)
}

/// The rules an event of one source (or of none) is tried against.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Rules (indices, in rule order) filed under each guard.
    guarded: Vec<(Guard, Vec<u32>)>,
    /// Rules with no guard: tried on every event.
    open: Vec<u32>,
    /// Whether one of the rules is a threshold rule.
    pub threshold: bool,
}

impl Reach {
    pub const NONE: &Reach = &Reach {
        guarded: Vec::new(),
        open: Vec::new(),
        threshold: false,
    };

    /// Files `rules` (in rule order) by the guard of each, `guards[rule]`.
    pub fn new(rules: &[usize], guards: &[Option<Guard>], threshold: bool) -> Reach {
        let mut by_guard: BTreeSet<(Guard, u32)> = BTreeSet::new();
        let mut open = Vec::new();
        for &rule in rules {
            let Ok(index) = u32::try_from(rule) else {
                continue;
            };
            match guards.get(rule).copied().flatten() {
                Some(guard) => {
                    by_guard.insert((guard, index));
                }
                None => open.push(index),
            }
        }
        let mut guarded: Vec<(Guard, Vec<u32>)> = Vec::new();
        for (guard, rule) in by_guard {
            match guarded.last_mut() {
                Some((last, rules)) if *last == guard => rules.push(rule),
                _ => guarded.push((guard, vec![rule])),
            }
        }
        Reach {
            guarded,
            open,
            threshold,
        }
    }

    /// The rules whose `where` holds for the event, in rule order.
    pub fn matched(
        &self,
        event: &Fields<'_, '_>,
        conditions: &Conditions,
        shared: &Shared,
        memo: &mut Memo,
        out: &mut Vec<u32>,
    ) {
        for (guard, rules) in &self.guarded {
            if !shared.guard_holds(*guard, event, memo) {
                continue;
            }
            out.extend(
                rules
                    .iter()
                    .filter(|&&rule| conditions.holds(rule, event, shared, memo)),
            );
        }
        out.extend(
            self.open
                .iter()
                .filter(|&&rule| conditions.holds(rule, event, shared, memo)),
        );
        if self.guarded.len() + usize::from(!self.open.is_empty()) > 1 {
            out.sort_unstable();
        }
    }
}

/// Each rule's guard: among the guards its `where` requires, a leaf
/// rather than a group (a leaf holds only when its group does, so it
/// skips the rule at least as often), then the one the most rules of the
/// pack require (fewer guards to try), then the first in `Guard` order.
pub fn guards(conditions: &Conditions, rules: usize, shared: &Shared) -> Vec<Option<Guard>> {
    let required: Vec<BTreeSet<Guard>> = (0..rules)
        .map(|rule| {
            u32::try_from(rule)
                .ok()
                .and_then(|rule| conditions.of(rule))
                .map(|(_, condition)| required(condition, shared))
                .unwrap_or_default()
        })
        .collect();
    let mut count: HashMap<Guard, usize> = HashMap::default();
    for guards in &required {
        for guard in guards {
            *count.entry(*guard).or_default() += 1;
        }
    }
    required
        .iter()
        .map(|guards| {
            guards
                .iter()
                .max_by_key(|guard| {
                    let leaf = matches!(guard, Guard::Leaf(_));
                    (
                        leaf,
                        count.get(guard).copied().unwrap_or(0),
                        Reverse(**guard),
                    )
                })
                .copied()
        })
        .collect()
}

/// The guards that hold whenever `condition` holds: a leaf and its group,
/// those of every item of an `and`, those common to every branch of an
/// `or`.
fn required(condition: &Condition, shared: &Shared) -> BTreeSet<Guard> {
    match condition {
        Condition::Shared(leaf) => {
            let mut guards = BTreeSet::from([Guard::Leaf(*leaf)]);
            guards.extend(shared.group_guard(*leaf));
            guards
        }
        Condition::And(items) => items.iter().flat_map(|c| required(c, shared)).collect(),
        Condition::Or(items) => {
            let mut branches = items.iter().map(|c| required(c, shared));
            let first = branches.next().unwrap_or_default();
            branches.fold(first, |common, branch| {
                common.intersection(&branch).copied().collect()
            })
        }
        Condition::Not(_)
        | Condition::Exists(_)
        | Condition::Predicate(..)
        | Condition::Length(..) => BTreeSet::new(),
    }
}
