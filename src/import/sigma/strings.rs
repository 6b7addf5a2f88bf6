//! Plain, `contains`, `startswith` and `endswith` items: each written
//! value after its encodings (`windash`, `wide`, `base64`, ...), then one
//! tripline operator for all of them: the modifier's own when every value
//! is plain text in its place, else `like` with globs.

use super::cond::{Atom, Cond, Lit};
use super::item::{decimal, list_or_one, pred, scalar_text};
use super::modifiers::{Kind, Modifiers, Transform};
use super::refusal::{Refusal, Result};
use super::values::{self, Part, SigmaStr};
use super::yaml::{Node, Pos, Resolved};
use crate::ir::FieldType;
use crate::syntax::ast::Operator;

/// A value of the item after its transforms: the values it stands for.
enum Value {
    Strings(Vec<SigmaStr>),
    Int(i64),
    Atom(Atom),
}

/// Plain, `contains`, `startswith` and `endswith` values.
pub fn strings(
    field: &str,
    ty: FieldType,
    kind: Kind,
    m: &Modifiers,
    nodes: &[&Node],
    pos: Pos,
) -> Result<Cond> {
    let mut values = Vec::new();
    for node in nodes {
        values.push((value(ty, kind, m, node)?, node.pos));
    }
    let mut atoms = Vec::new();
    let mut ints = Vec::new();
    let mut groups: Vec<Vec<SigmaStr>> = Vec::new();
    for (value, at) in values {
        match value {
            Value::Atom(atom) => atoms.push(Cond::Sigma(atom, field.to_string(), at)),
            Value::Int(n) => ints.push(Lit::Int(n)),
            Value::Strings(alternatives) => groups.push(alternatives),
        }
    }
    if m.all && !atoms.is_empty() && nodes.len() > 1 {
        return Err(Refusal::new(
            pos,
            "`|all` with `null` or `''`",
            "no value equals both",
        ));
    }
    let mut items = atoms;
    if !ints.is_empty() {
        if m.all && ints.len() > 1 {
            return Err(Refusal::new(
                pos,
                "`|all` over several numbers",
                "no number equals two others",
            ));
        }
        let op = if ints.len() == 1 {
            Operator::Eq
        } else {
            Operator::In
        };
        items.push(pred(field, false, op, list_or_one(ints)));
    }
    if !groups.is_empty() {
        items.push(string_predicates(field, kind, m, groups, pos)?);
    }
    Ok(match items.len() {
        1 => items.remove(0),
        _ => Cond::Or(items),
    })
}

/// One written value after its transforms.
fn value(ty: FieldType, kind: Kind, m: &Modifiers, node: &Node) -> Result<Value> {
    let plain = kind == Kind::Equals && m.transforms.is_empty();
    let refuse = |what: String, why: &str| Err(Refusal::new(node.pos, what, why));
    let text = match node.resolved() {
        Some(Resolved::Null) if plain => return Ok(Value::Atom(Atom::Null)),
        Some(Resolved::Null) => {
            return refuse("`null` with a modifier".into(), "a modifier needs a value");
        }
        Some(Resolved::OtherNumber) => {
            return refuse(
                format!("`{}`", scalar_text(node)),
                "a number with a fraction or beyond 64 bits has no tripline literal",
            );
        }
        Some(Resolved::Int(n)) if ty == FieldType::Int && plain => return Ok(Value::Int(n)),
        Some(Resolved::Int(n)) => n.to_string(),
        Some(Resolved::Bool(b)) => b.to_string(),
        Some(Resolved::Str("")) if plain => return Ok(Value::Atom(Atom::Empty)),
        Some(Resolved::Str(text)) => text.to_string(),
        None => {
            return refuse(
                format!("{} as a value", node.kind_name()),
                "a value is a scalar",
            );
        }
    };
    if ty == FieldType::Int {
        return match decimal(&text) {
            Some(n) if plain => Ok(Value::Int(n)),
            _ => refuse(
                format!("`{text}` on an `int` field"),
                "tripline compares `int` fields with integers only",
            ),
        };
    }
    if m.cased && ty != FieldType::String && ty != FieldType::Ip {
        return refuse("`|cased`".into(), "`cased` applies to string fields");
    }
    let mut alternatives = vec![values::parse(&text)];
    for transform in &m.transforms {
        let mut next = Vec::new();
        for alternative in alternatives {
            let out = match transform {
                Transform::Windash => values::windash(&alternative),
                Transform::Utf16 { big_endian, bom } => {
                    values::utf16(&alternative, *big_endian, *bom).map(|v| vec![v])
                }
                Transform::Base64 => values::base64(&alternative).map(|v| vec![v]),
                Transform::Base64Offset => values::base64offset(&alternative),
            };
            let Some(out) = out else {
                return refuse(
                    format!("`{text}`"),
                    "the value modifiers cannot encode this value (wildcards, non-ASCII text for UTF-16, or too many dashes)",
                );
            };
            next.extend(out);
        }
        alternatives = next;
    }
    if plain && alternatives.iter().all(Vec::is_empty) {
        return Ok(Value::Atom(Atom::Empty));
    }
    let (before, after) = match kind {
        Kind::Contains => (true, true),
        Kind::StartsWith => (false, true),
        Kind::EndsWith => (true, false),
        _ => (false, false),
    };
    let alternatives: Vec<SigmaStr> = alternatives
        .into_iter()
        .map(|a| values::wrap(a, before, after))
        .collect();
    if alternatives.iter().any(Vec::is_empty) {
        return refuse(
            format!("`{text}`"),
            "an empty value among others: tripline has no empty string literal",
        );
    }
    Ok(Value::Strings(alternatives))
}

/// The one operator the item's values share: the modifier's own when every
/// value is a plain text in its place, else `like` with globs.
fn string_predicates(
    field: &str,
    kind: Kind,
    m: &Modifiers,
    groups: Vec<Vec<SigmaStr>>,
    pos: Pos,
) -> Result<Cond> {
    let inner = |s: &SigmaStr| -> Option<String> {
        let (from, to) = match kind {
            Kind::Contains => (1, s.len().checked_sub(1)?),
            Kind::StartsWith => (0, s.len().checked_sub(1)?),
            Kind::EndsWith => (1, s.len()),
            _ => (0, s.len()),
        };
        let text = values::literal(s.get(from..to)?)?;
        let edges_ok = match kind {
            Kind::Contains => s.first() == Some(&Part::AnyRun) && s.last() == Some(&Part::AnyRun),
            Kind::StartsWith => s.last() == Some(&Part::AnyRun),
            Kind::EndsWith => s.first() == Some(&Part::AnyRun),
            _ => true,
        };
        (edges_ok && !text.is_empty()).then_some(text)
    };
    let exact = groups.iter().flatten().all(|s| inner(s).is_some());
    let op_for = |all: bool| match (exact, kind) {
        (true, Kind::Contains) => Operator::Contains { all },
        (true, Kind::StartsWith) => Operator::StartsWith { all },
        (true, Kind::EndsWith) => Operator::EndsWith { all },
        (true, _) if !all => Operator::In,
        _ => Operator::Like { all },
    };
    let make = |op: Operator, values: Vec<&SigmaStr>| -> Cond {
        let lits: Vec<Lit> = values
            .into_iter()
            .map(|s| match op {
                Operator::Like { .. } => Lit::Str(values::glob(s)),
                _ => Lit::Str(inner(s).unwrap_or_default()),
            })
            .collect();
        let op = match (op, lits.len()) {
            (Operator::In, 1) => Operator::Eq,
            (op, _) => op,
        };
        pred(field, m.cased, op, list_or_one(lits))
    };
    let groups_of_one = groups.iter().all(|g| g.len() == 1);
    if !m.all || groups.len() == 1 && groups_of_one {
        return Ok(make(op_for(false), groups.iter().flatten().collect()));
    }
    if groups_of_one {
        return Ok(make(op_for(true), groups.iter().flatten().collect()));
    }
    // `all` over values that expand to several each: every value, any of
    // its forms.
    let _ = pos;
    let items = groups
        .iter()
        .map(|g| make(op_for(false), g.iter().collect()))
        .collect();
    Ok(Cond::And(items))
}
