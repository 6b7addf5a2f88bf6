//! Guards and merged `where`s (`eval::reach`) against each rule's own
//! condition: random trees of `and`, `or` and `not` over predicates on two
//! fields (literal lists that a field's group answers, and tests it does
//! not: integers, `exists`, `len()`), many rules, some the same rule twice,
//! routed by source; the engine must report exactly the rules whose own
//! `where` holds, in rule order.

use proptest::prelude::*;

use super::kit::*;
use crate::eval::event::{Fields, PathTrie};
use crate::eval::predicate::Condition as Compiled;
use crate::eval::reach::{Conditions, guards};
use crate::eval::shared::{Guard, Shared};
use crate::eval::{Engine, Output, Routing};
use crate::ir::{Condition, IpBlock, Literal, Operation, Ordering, TextOp};

const WORDS: &[&str] = &["a", "b", "ab", "ba", "A", "bb"];
const SOURCES: &[&str] = &["dns", "web"];
const BLOCKS: &[&str] = &[
    "10.0.0.0/8",
    "10.1.0.0/16",
    "0.0.0.0/0",
    "2001:db8::/32",
    "::ffff:0:0/96",
];
const ADDRESSES: &[&str] = &[
    "10.1.2.3",
    "10.2.0.1",
    "11.0.0.1",
    "::ffff:10.1.0.9",
    "2001:db8::5",
    "x",
];

fn leaf() -> impl Strategy<Value = Condition> {
    let words = prop::collection::vec(prop::sample::select(WORDS), 1..3);
    let blocks = prop::collection::vec(prop::sample::select(BLOCKS), 1..3);
    (0..8u8, words, prop::bool::ANY, 0..4i64, blocks).prop_map(|(kind, words, host, n, blocks)| {
        let path = if host { "host.name" } else { "user.name" };
        match kind {
            7 => cidr("source.ip", &blocks),
            0 | 1 => is_in(path, &words),
            2 => text(path, TextOp::Contains, &words, false),
            3 => text(path, TextOp::StartsWith, &words, false),
            4 => cmp("source.port", Ordering::Gt, n),
            5 => exists(path),
            _ => length_below(path, n),
        }
    })
}

/// A copy of `tree` for another site: each literal list and CIDR list
/// gets one entry of its own in front (`ab` in `in` lists, a block that
/// holds `10.2.0.1` in CIDR lists), so that copies agree on most events
/// and differ on some.
fn site_copy(tree: &Condition) -> Condition {
    match tree {
        Condition::And(items) => Condition::And(items.iter().map(site_copy).collect()),
        Condition::Or(items) => Condition::Or(items.iter().map(site_copy).collect()),
        Condition::Not(inner) => not(site_copy(inner)),
        Condition::Predicate(p) => {
            let mut p = p.clone();
            match &mut p.operation {
                Operation::Equals { values, .. } => values.insert(0, Literal::String("ab".into())),
                Operation::Cidr { blocks, .. } => {
                    if let Ok(network) = "10.2.0.0".parse() {
                        blocks.insert(
                            0,
                            IpBlock {
                                network,
                                prefix: 16,
                            },
                        );
                    }
                }
                _ => {}
            }
            Condition::Predicate(p)
        }
        other => other.clone(),
    }
}

/// `len(path) < n`.
fn length_below(path: &str, n: i64) -> Condition {
    match cmp(path, Ordering::Lt, n) {
        Condition::Predicate(mut p) => {
            p.length = true;
            Condition::Predicate(p)
        }
        other => other,
    }
}

fn tree() -> impl Strategy<Value = Condition> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 1..4).prop_map(Condition::And),
            prop::collection::vec(inner.clone(), 1..4).prop_map(Condition::Or),
            inner.prop_map(not),
        ]
    })
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(|w| format!("\"{w}\"")),
        prop::collection::vec(prop::sample::select(WORDS), 0..3)
            .prop_map(|w| serde_json::Value::from(w).to_string()),
        Just("null".to_string()),
    ]
}

fn event() -> impl Strategy<Value = String> {
    let ips = prop::collection::vec(prop::sample::select(ADDRESSES), 0..3);
    (prop::sample::select(SOURCES), value(), value(), 0..5i64, ips).prop_map(|(source, user, host, port, ips)| {
        let ip = match ips.as_slice() {
            [one] => format!("\"{one}\""),
            _ => serde_json::Value::from(ips).to_string(),
        };
        format!(
            r#"{{"event":{{"dataset":"{source}"}},"user":{{"name":{user}}},"host":{{"name":{host}}},"source":{{"port":{port},"ip":{ip}}}}}"#
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn guards_and_merged_conditions_agree_with_each_rule(
        trees in prop::collection::vec((tree(), prop::sample::select(SOURCES), 1..4usize), 1..12),
        events in prop::collection::vec(event(), 1..8),
    ) {
        // Each tree once to three times, as copies of a rule for other
        // sites: the same, or with one literal of each list its own.
        let mut rules = Vec::new();
        for (tree, source, copies) in &trees {
            for copy in 0..*copies {
                let tree = if copy == 2 { site_copy(tree) } else { tree.clone() };
                rules.push(rule(&format!("r{}", rules.len()), source, tree, None));
            }
        }
        let sources = SOURCES.iter().map(|s| s.to_string()).collect();
        let mut engine = Engine::new(&rules, Routing::by_field("event.dataset", sources), None)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut trie = PathTrie::default();
        let own: Vec<Compiled> = rules
            .iter()
            .map(|r| Compiled::compile(&r.condition, &mut trie))
            .collect::<Result<_, _>>()
            .map_err(TestCaseError::fail)?;
        for line in &events {
            let mut matched = Vec::new();
            engine.process(line, &mut |out| {
                if let Output::Match { rule, .. } = out {
                    matched.push(rule);
                }
            });
            let event = crate::eval::event::parse(line, &trie)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let fields = Fields::of_tree(&event);
            let expected: Vec<usize> = (0..own.len())
                .filter(|&i| line.contains(&format!("\"{}\"", rules[i].source)) && own[i].holds(&fields))
                .collect();
            prop_assert_eq!(matched, expected, "on {}", line);
        }
    }
}

/// Compiles `conditions` as the engine does: shared leaves, then groups.
fn compiled(conditions: &[Condition]) -> (Conditions, Shared) {
    let mut trie = PathTrie::default();
    let mut shared = Shared::default();
    let compiled = conditions
        .iter()
        .filter_map(|c| Compiled::compile_shared(c, &mut trie, &mut shared).ok())
        .collect();
    assert!(shared.finish().is_ok());
    let conditions = Conditions::new(compiled, &mut shared);
    (conditions, shared)
}

#[test]
fn the_same_where_twice_is_one_condition() {
    let a = Condition::And(vec![eq("user.name", "a"), not(eq("host.name", "b"))]);
    let b = Condition::And(vec![eq("user.name", "a"), eq("host.name", "b")]);
    let (conditions, _) = compiled(&[a.clone(), b, a]);
    assert_eq!(conditions.count(), 2);
}

#[test]
fn a_rule_is_guarded_by_a_required_leaf_else_by_a_required_group() {
    // Rules 0 and 1 require `user.name == "a"`; rule 1 also `host.name`,
    // which only it requires; rule 2 requires nothing (`or` of two fields,
    // `not`); rule 3 requires no leaf but one of `user.name`'s group (4+
    // literal predicates on a field make a group).
    let a = eq("user.name", "a");
    let rules = [
        a.clone(),
        Condition::And(vec![eq("host.name", "h"), a.clone()]),
        Condition::Or(vec![eq("host.name", "x"), not(eq("user.name", "b"))]),
        Condition::Or(vec![
            eq("user.name", "c"),
            Condition::And(vec![eq("user.name", "d"), eq("host.name", "y")]),
        ]),
    ];
    let (conditions, shared) = compiled(&rules);
    let guards = guards(&conditions, rules.len(), &shared);
    assert!(matches!(guards[0], Some(Guard::Leaf(_))), "{guards:?}");
    assert_eq!(guards[1], guards[0], "the leaf two rules share");
    assert_eq!(guards[2], None);
    assert!(matches!(guards[3], Some(Guard::Group(_))), "{guards:?}");
}
