//! One detection item (`Field|mod|mod: value or [values]`) to a formula
//! over tripline predicates: the field mapped back, the modifiers read
//! (`modifiers`), and the values matched by the operator the match
//! modifier names (string matches in `strings`); `all` joins the values
//! with `and`.

use std::net::IpAddr;

use super::cond::{Atom, Cond, Lit, Operand, Pred};
use super::mapping::SourceNames;
use super::modifiers::{self, Kind, Modifiers};
use super::refusal::{Refusal, Result};
use super::regex;
use super::strings;
use super::yaml::{Key, Node, NodeKind, Pos, Resolved};
use crate::ir::FieldType;
use crate::syntax::ast::Operator;

/// The formula for one item of a selection.
pub fn item(names: &SourceNames, key: &Key, value: &Node) -> Result<Cond> {
    let mut pieces = key.text.split('|');
    let sigma_field = pieces.next().unwrap_or_default();
    if sigma_field.is_empty() {
        return Err(Refusal::new(
            key.pos,
            format!("`{}` (a value without a field)", key.text),
            "a search over the whole event has no tripline predicate: name the field",
        ));
    }
    let Some((field, ty)) = names.field(sigma_field) else {
        let hint = names
            .nearest(sigma_field)
            .map(|n| format!("; did you mean `{n}`?"))
            .unwrap_or_default();
        return Err(Refusal::new(
            key.pos,
            format!("field `{sigma_field}`"),
            format!(
                "not a field of source `{}` in the Sigma mapping{hint} (a pack can add it with a taxonomy extension)",
                names.source
            ),
        ));
    };
    let modifiers = modifiers::parse(key, pieces)?;
    let nodes: Vec<&Node> = match &value.kind {
        NodeKind::Seq(items) if items.is_empty() => {
            return Err(Refusal::new(
                value.pos,
                "an empty list of values",
                "Sigma reads it as `null`; write the values",
            ));
        }
        NodeKind::Seq(items) => items.iter().collect(),
        NodeKind::Scalar(_) => vec![value],
        NodeKind::Map(_) => {
            return Err(Refusal::new(
                value.pos,
                "a map as a value",
                "a detection item takes a value or a list of values",
            ));
        }
    };
    let field = field.to_string();
    match modifiers.kind.unwrap_or(Kind::Equals) {
        Kind::Exists => exists(&field, &modifiers, &nodes, key.pos),
        Kind::Regex => regexes(&field, &modifiers, &nodes),
        Kind::Cidr => cidr(&field, ty, &modifiers, &nodes, key.pos),
        Kind::Compare(op) => compare(&field, ty, op, &modifiers, &nodes),
        kind => strings::strings(&field, ty, kind, &modifiers, &nodes, key.pos),
    }
}

fn exists(field: &str, m: &Modifiers, nodes: &[&Node], pos: Pos) -> Result<Cond> {
    match (nodes, m.all) {
        ([node], false) => match node.resolved() {
            Some(Resolved::Bool(true)) => Ok(Cond::Sigma(Atom::Present, field.to_string(), pos)),
            Some(Resolved::Bool(false)) => Ok(Cond::Sigma(Atom::Absent, field.to_string(), pos)),
            _ => Err(Refusal::new(
                node.pos,
                "`|exists` with a value other than true or false",
                "write `true` or `false`",
            )),
        },
        _ => Err(Refusal::new(
            pos,
            "`|exists` with several values",
            "write one `true` or `false`",
        )),
    }
}

fn join(m: &Modifiers, mut items: Vec<Cond>) -> Cond {
    if items.len() == 1 {
        items.remove(0)
    } else if m.all {
        Cond::And(items)
    } else {
        Cond::Or(items)
    }
}

pub(super) fn pred(field: &str, cased: bool, op: Operator, operand: Operand) -> Cond {
    Cond::Pred(Pred {
        field: field.to_string(),
        cased,
        op,
        operand,
    })
}

fn string_of(node: &Node, what: &str) -> Result<String> {
    match node.resolved() {
        Some(Resolved::Str(text)) => Ok(text.to_string()),
        _ => Err(Refusal::new(
            node.pos,
            format!("`{}` with `{what}`", scalar_text(node)),
            format!("`{what}` takes text"),
        )),
    }
}

pub(super) fn scalar_text(node: &Node) -> String {
    node.scalar()
        .map_or_else(|| node.kind_name().to_string(), |s| s.text.clone())
}

fn regexes(field: &str, m: &Modifiers, nodes: &[&Node]) -> Result<Cond> {
    let mut items = Vec::new();
    for node in nodes {
        let text = string_of(node, "|re")?;
        let pattern = regex::pattern(&text, m.ignore_case).map_err(|reason| {
            Refusal::new(node.pos, format!("regular expression `{text}`"), reason)
        })?;
        items.push(pred(
            field,
            false,
            Operator::Matches,
            Operand::One(Lit::Str(pattern)),
        ));
    }
    Ok(join(m, items))
}

fn cidr(field: &str, ty: FieldType, m: &Modifiers, nodes: &[&Node], pos: Pos) -> Result<Cond> {
    if ty != FieldType::Ip {
        return Err(Refusal::new(
            pos,
            "`|cidr`",
            format!("`{field}` is not an address field in tripline's taxonomy"),
        ));
    }
    if m.all {
        return Err(Refusal::new(
            pos,
            "`|cidr|all`",
            "an address lies in one block at a time",
        ));
    }
    let mut blocks = Vec::new();
    for node in nodes {
        blocks.push(string_of(node, "|cidr")?);
    }
    // tripline's `in cidr` counts an IPv4-mapped IPv6 address as inside
    // the IPv4 blocks: the `::ffff:` twins tripline's Sigma target writes
    // for them say nothing more.
    let kept: Vec<Lit> = blocks
        .iter()
        .filter(|b| !is_listed_twin(b, &blocks))
        .map(|b| Lit::Str(b.clone()))
        .collect();
    Ok(pred(field, false, Operator::InCidr, list_or_one(kept)))
}

/// `10.0.0.0/8` → `::ffff:10.0.0.0/104`.
fn mapped_twin(block: &str) -> Option<String> {
    let (address, length) = block.split_once('/')?;
    let IpAddr::V4(v4) = address.parse::<IpAddr>().ok()? else {
        return None;
    };
    let length: u8 = length.parse().ok()?;
    Some(format!("::ffff:{v4}/{}", u16::from(length) + 96))
}

fn is_listed_twin(block: &str, blocks: &[String]) -> bool {
    blocks
        .iter()
        .any(|other| mapped_twin(other).is_some_and(|twin| twin.eq_ignore_ascii_case(block)))
}

pub(super) fn list_or_one(mut lits: Vec<Lit>) -> Operand {
    if lits.len() == 1 {
        Operand::One(lits.remove(0))
    } else {
        Operand::List(lits)
    }
}

fn int_of(node: &Node) -> Option<i64> {
    match node.resolved()? {
        Resolved::Int(n) => Some(n),
        Resolved::Str(text) => decimal(text),
        _ => None,
    }
}

/// Text that tripline reads as an integer on an `int` field (`-?[0-9]+`).
pub(super) fn decimal(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn compare(
    field: &str,
    ty: FieldType,
    op: Operator,
    m: &Modifiers,
    nodes: &[&Node],
) -> Result<Cond> {
    let mut items = Vec::new();
    for node in nodes {
        if ty != FieldType::Int {
            return Err(Refusal::new(
                node.pos,
                format!("`|{}` on `{field}`", op_name(op)),
                "tripline compares numbers on `int` fields only",
            ));
        }
        let n = int_of(node).ok_or_else(|| {
            Refusal::new(
                node.pos,
                format!("`{}` in a comparison", scalar_text(node)),
                "compare with an integer",
            )
        })?;
        items.push(pred(field, false, op, Operand::One(Lit::Int(n))));
    }
    Ok(join(m, items))
}

fn op_name(op: Operator) -> &'static str {
    match op {
        Operator::Gt => "gt",
        Operator::Ge => "gte",
        Operator::Lt => "lt",
        _ => "lte",
    }
}
