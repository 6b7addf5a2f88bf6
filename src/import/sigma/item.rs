//! One detection item (`Field|mod|mod: value or [values]`) to a formula
//! over tripline predicates. The modifiers that rewrite values (`windash`,
//! `wide`, `base64`, ...) are applied as pySigma applies them; the match
//! modifier picks the operator; `all` joins the values with `and`.

use std::net::IpAddr;

use super::cond::{Atom, Cond, Lit, Operand, Pred};
use super::mapping::SourceNames;
use super::refusal::{Refusal, Result};
use super::regex;
use super::values::{self, Part, SigmaStr};
use super::yaml::{Key, Node, NodeKind, Pos, Resolved};
use crate::ir::FieldType;
use crate::syntax::ast::Operator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    Windash,
    Utf16 { big_endian: bool, bom: bool },
    Base64,
    Base64Offset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
    Regex,
    Cidr,
    Compare(Operator),
    Exists,
}

#[derive(Debug, Default)]
struct Modifiers {
    transforms: Vec<Transform>,
    kind: Option<Kind>,
    all: bool,
    cased: bool,
    ignore_case: bool,
}

/// A value of the item after its transforms: the values it stands for.
enum Value {
    Strings(Vec<SigmaStr>),
    Int(i64),
    Atom(Atom),
}

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
    let modifiers = modifiers(key, pieces)?;
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
        kind => strings(&field, ty, kind, &modifiers, &nodes, key.pos),
    }
}

fn modifiers<'a>(key: &Key, names: impl Iterator<Item = &'a str>) -> Result<Modifiers> {
    let mut m = Modifiers::default();
    for name in names {
        let refuse = |reason: &str| Err(Refusal::new(key.pos, format!("`|{name}`"), reason));
        let kind = match name {
            "all" => {
                m.all = true;
                continue;
            }
            "cased" => {
                m.cased = true;
                continue;
            }
            "i" | "ignorecase" => {
                m.ignore_case = true;
                continue;
            }
            "windash" => {
                m.transforms.push(Transform::Windash);
                continue;
            }
            "wide" | "utf16le" => {
                m.transforms.push(Transform::Utf16 {
                    big_endian: false,
                    bom: false,
                });
                continue;
            }
            "utf16be" => {
                m.transforms.push(Transform::Utf16 {
                    big_endian: true,
                    bom: false,
                });
                continue;
            }
            "utf16" => {
                m.transforms.push(Transform::Utf16 {
                    big_endian: false,
                    bom: true,
                });
                continue;
            }
            "base64" => {
                m.transforms.push(Transform::Base64);
                continue;
            }
            "base64offset" => {
                m.transforms.push(Transform::Base64Offset);
                continue;
            }
            "contains" => Kind::Contains,
            "startswith" => Kind::StartsWith,
            "endswith" => Kind::EndsWith,
            "re" => Kind::Regex,
            "cidr" => Kind::Cidr,
            "exists" => Kind::Exists,
            "gt" => Kind::Compare(Operator::Gt),
            "gte" => Kind::Compare(Operator::Ge),
            "lt" => Kind::Compare(Operator::Lt),
            "lte" => Kind::Compare(Operator::Le),
            "m" | "multiline" | "s" | "dotall" => {
                return refuse("tripline's regular expressions take no multi-line or dot-all flag");
            }
            "expand" => {
                return refuse(
                    "placeholders are filled in by a pipeline at conversion; write the values out",
                );
            }
            "fieldref" => {
                return refuse("tripline compares a field with values, not with another field");
            }
            "neq" => {
                return refuse(
                    "backends read `|neq` differently on events without the field; write `not` and a selection",
                );
            }
            "minute" | "hour" | "day" | "week" | "month" | "year" => {
                return refuse("tripline has no predicate on parts of a time");
            }
            _ => return refuse("not a Sigma modifier tripline knows"),
        };
        if m.kind.is_some() {
            return refuse("a second match modifier in one chain: tripline applies one operator");
        }
        m.kind = Some(kind);
    }
    let plain_string = matches!(
        m.kind,
        None | Some(Kind::Contains | Kind::StartsWith | Kind::EndsWith)
    );
    if !m.transforms.is_empty() && !plain_string {
        return Err(Refusal::new(
            key.pos,
            format!("`{}`", key.text),
            "value encodings apply to plain strings only",
        ));
    }
    if m.cased && !plain_string {
        return Err(Refusal::new(
            key.pos,
            "`|cased`",
            "only plain string matches can be made exact in case",
        ));
    }
    if m.ignore_case && m.kind != Some(Kind::Regex) {
        return Err(Refusal::new(key.pos, "`|i`", "`|i` is a flag of `|re`"));
    }
    Ok(m)
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

fn pred(field: &str, cased: bool, op: Operator, operand: Operand) -> Cond {
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

fn scalar_text(node: &Node) -> String {
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

fn list_or_one(mut lits: Vec<Lit>) -> Operand {
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
fn decimal(text: &str) -> Option<i64> {
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

/// Plain, `contains`, `startswith` and `endswith` values.
fn strings(
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
