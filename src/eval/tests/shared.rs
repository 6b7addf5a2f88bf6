//! The pack's shared matchers (`eval::shared`) against each rule's own
//! predicates: many rules with string predicates on one field, random
//! values (case variants, characters that fold, arrays, numbers), the same
//! rules must match through the engine as through `Condition::holds`.

use proptest::prelude::*;

use super::kit::*;
use crate::eval::event::{Fields, PathTrie};
use crate::eval::predicate::Condition as Compiled;
use crate::eval::{Engine, Output, Routing};
use crate::ir::{Condition, TextOp};

/// Pieces of literals and values: ASCII in both cases, characters that
/// fold to ASCII (`ſ`, the Kelvin sign) or to each other (`ς`, `σ`, `Σ`).
const PIECES: &[&str] = &[
    "a", "A", "b", "ab", "s", "ſ", "k", "\u{212A}", "σ", "ς", "Σ", ".",
];

fn word() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..4).prop_map(|p| p.concat())
}

fn predicate() -> impl Strategy<Value = Condition> {
    let words = prop::collection::vec(word(), 1..4);
    (0..6u8, words, prop::bool::ANY).prop_map(|(kind, words, all)| {
        let values: Vec<&str> = words.iter().map(String::as_str).collect();
        match kind {
            0 => is_in("user.name", &values),
            1 => text("user.name", TextOp::Contains, &values, all),
            2 => text("user.name", TextOp::StartsWith, &values, all),
            3 => text("user.name", TextOp::EndsWith, &values, all),
            // Globs: stars at either end, or inside (not shareable).
            4 => {
                let globs: Vec<String> = words.iter().map(|w| format!("*{w}")).collect();
                let globs: Vec<&str> = globs.iter().map(String::as_str).collect();
                text("user.name", TextOp::Like, &globs, all)
            }
            _ => {
                let globs: Vec<String> = words.iter().map(|w| format!("{w}*a*")).collect();
                let globs: Vec<&str> = globs.iter().map(String::as_str).collect();
                text("user.name", TextOp::Like, &globs, all)
            }
        }
    })
}

fn condition() -> impl Strategy<Value = Condition> {
    prop::collection::vec(predicate(), 1..3).prop_map(|mut items| {
        if items.len() == 1 {
            items.remove(0)
        } else {
            Condition::Or(items)
        }
    })
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        word().prop_map(|w| serde_json::Value::from(w).to_string()),
        prop::collection::vec(word(), 0..3).prop_map(|w| serde_json::Value::from(w).to_string()),
        (0..100i64).prop_map(|n| n.to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn shared_matchers_agree_with_each_rule(
        conditions in prop::collection::vec(condition(), 2..10),
        values in prop::collection::vec(value(), 1..6),
    ) {
        let rules: Vec<_> = conditions
            .iter()
            .enumerate()
            .map(|(i, c)| rule(&format!("r{i}"), "dns", c.clone(), None))
            .collect();
        let mut engine = Engine::new(&rules, Routing::Fixed("dns".into()), None)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut trie = PathTrie::default();
        let own: Vec<Compiled> = conditions
            .iter()
            .map(|c| Compiled::compile(c, &mut trie))
            .collect::<Result<_, _>>()
            .map_err(TestCaseError::fail)?;
        for value in &values {
            let line = format!(r#"{{"user":{{"name":{value}}}}}"#);
            let mut shared = Vec::new();
            engine.process(&line, &mut |out| {
                if let Output::Match { rule, .. } = out {
                    shared.push(rule);
                }
            });
            let event = crate::eval::event::parse(&line, &trie)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let fields = Fields::of_tree(&event);
            let expected: Vec<usize> = (0..own.len()).filter(|&i| own[i].holds(&fields)).collect();
            prop_assert_eq!(shared, expected, "on {}", line);
        }
    }
}
