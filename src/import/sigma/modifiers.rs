//! The modifiers of a detection item's key (`Field|mod|mod`): value
//! encodings applied in order, at most one match modifier, and the flags
//! `all`, `cased` and `i`. A modifier tripline has no meaning for refuses
//! the rule, by name.

use super::refusal::{Refusal, Result};
use super::yaml::Key;
use crate::syntax::ast::Operator;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    Windash,
    Utf16 { big_endian: bool, bom: bool },
    Base64,
    Base64Offset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
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
pub struct Modifiers {
    pub transforms: Vec<Transform>,
    pub kind: Option<Kind>,
    pub all: bool,
    pub cased: bool,
    pub ignore_case: bool,
}

pub fn parse<'a>(key: &Key, names: impl Iterator<Item = &'a str>) -> Result<Modifiers> {
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
