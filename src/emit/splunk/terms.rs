//! Search-language terms: the `WHERE` of a `| tstats` search on a data
//! model (field names prefixed, `DNS.query`) and the base search of a raw
//! search (`query`, exact there because the app's `fields.conf` sets
//! `INDEXED_VALUE = false` for every field filtered on).
//!
//! Terms ignore case, test every value of a multivalue field (`f=v` holds
//! when one value matches, `NOT f=v` when none does or the field is
//! missing), and read `*` as a wildcard that cannot be escaped. So a term is
//! written only where it is exact; anything else is a [`Refusal`] the
//! emitter answers by moving the test after the pipe (`eval`), or the rule
//! to a raw search.

use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::emit::Input;
use crate::emit::query::{Dialect, Nesting, Refusal};
use crate::ir::{self, Field, FieldType, IpBlock, Literal, Ordering, TextOp};
use crate::syntax::Span;

use super::literal::{needs_regex, spl_string};
use super::{SPLUNK, field_name};

pub struct SearchTerms<'a> {
    input: &'a Input<'a>,
    rule: &'a ir::Rule,
    /// `DNS.` in a tstats search, empty in a raw one.
    prefix: String,
    /// The CIM names the terms filter on.
    pub filtered: BTreeSet<String>,
}

impl<'a> SearchTerms<'a> {
    pub fn new(input: &'a Input<'a>, rule: &'a ir::Rule, prefix: &str) -> Self {
        SearchTerms {
            input,
            rule,
            prefix: prefix.to_string(),
            filtered: BTreeSet::new(),
        }
    }

    fn name(&mut self, field: &Field) -> Result<String, Refusal> {
        let name = field_name(self.input, self.rule, field)?;
        self.filtered.insert(name.to_string());
        Ok(format!("{}{name}", self.prefix))
    }

    /// `name="v"` or `name IN ("a", "b")`.
    fn any_of(&mut self, field: &Field, values: Vec<String>) -> Result<String, Refusal> {
        let name = self.name(field)?;
        Ok(match values.as_slice() {
            [one] => format!("{name}={one}"),
            _ => format!("{name} IN ({})", values.join(", ")),
        })
    }
}

fn not_a_term(span: Span, construct: &str) -> Refusal {
    Refusal::new(SPLUNK, span, construct, "tested after the pipe instead")
}

/// A quoted term value, when the text means itself in a term: no `*` (a
/// wildcard there, with no escape), no quote or backslash (their escapes
/// are not documented for terms), nothing `match()` must carry.
fn literal(text: &str, span: Span) -> Result<String, Refusal> {
    if text.contains(['*', '"', '\\']) || needs_regex(text) {
        return Err(not_a_term(span, "a value holding `*`, `\"` or `\\`"));
    }
    Ok(spl_string(text))
}

impl Dialect for SearchTerms<'_> {
    fn target(&self) -> &'static str {
        SPLUNK
    }

    fn and(&self, parts: Vec<String>, nesting: Nesting) -> String {
        match nesting {
            Nesting::Top => parts.join(" "),
            Nesting::Nested => format!("({})", parts.join(" ")),
        }
    }

    /// Always grouped: in a search `OR` binds tighter than the implicit
    /// `AND`, which reads correctly but surprises a reader.
    fn or(&self, parts: Vec<String>, _: Nesting) -> String {
        format!("({})", parts.join(" OR "))
    }

    fn not(&self, inner: String) -> String {
        super::literal::negated(inner)
    }

    /// Never a term: `f=*` holds on an extracted `""` if Splunk keeps the
    /// empty value as a field, which its docs do not say, and `exists()`
    /// is false on `""`. A `where` expression tests it exactly.
    fn exists(&mut self, _: &Field, span: Span) -> Result<String, Refusal> {
        Err(not_a_term(span, "`exists()`"))
    }

    fn equals(&mut self, field: &Field, values: &[Literal], span: Span) -> Result<String, Refusal> {
        if field.ty == FieldType::Int {
            // `f=443` compares text: `0443` would be missed.
            return Err(not_a_term(span, "`==` on an `int` field"));
        }
        let mut quoted = Vec::with_capacity(values.len());
        for value in values {
            let text = match value {
                Literal::String(s) => s.clone(),
                Literal::Int(n) => n.to_string(),
            };
            // A term whose value reads as an address or block matches by
            // address (`10.0.0.0/8`), not by text as `==` does.
            if looks_like_address(&text) {
                return Err(not_a_term(span, "`==` with an address"));
            }
            quoted.push(literal(&text, span)?);
        }
        self.any_of(field, quoted)
    }

    /// Never a term: `f>N` orders text that is no number, and a data
    /// model's number field may hold values tripline reads as text
    /// (`443.0`, `4e2`, digits beyond 64 bits) or spell one integer in
    /// several ways; a `where` expression decides on the digits.
    fn compare(&mut self, _: &Field, _: Ordering, _: i64, span: Span) -> Result<String, Refusal> {
        Err(not_a_term(span, "a numeric comparison"))
    }

    fn text_one(
        &mut self,
        field: &Field,
        op: TextOp,
        value: &str,
        span: Span,
    ) -> Result<String, Refusal> {
        let pattern = pattern(op, value, span)?;
        self.any_of(field, vec![pattern])
    }

    fn text(
        &mut self,
        field: &Field,
        op: TextOp,
        values: &[String],
        all: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        let patterns = values
            .iter()
            .map(|v| pattern(op, v, span))
            .collect::<Result<Vec<_>, _>>()?;
        if !all || patterns.len() == 1 {
            return self.any_of(field, patterns);
        }
        // `all`: one value must match every pattern; terms on a multivalue
        // field may each match another value.
        Err(not_a_term(span, "`all` on a text operator"))
    }

    fn regex(&mut self, _: &Field, _: &str, _: bool, span: Span) -> Result<String, Refusal> {
        Err(not_a_term(span, "`matches`"))
    }

    /// `f IN ("10.0.0.0/8", ...)`: a term with a CIDR value matches the
    /// addresses inside it; IPv4 blocks are repeated as IPv4-mapped IPv6
    /// blocks (`::ffff:10.1.2.3` is inside `10.0.0.0/8` for the evaluator).
    fn cidr(&mut self, field: &Field, blocks: &[IpBlock], _: Span) -> Result<String, Refusal> {
        let values = cidr_values(blocks).iter().map(|b| spl_string(b)).collect();
        self.any_of(field, values)
    }
}

/// A term pattern: the value with `*` around it as the operator needs.
fn pattern(op: TextOp, value: &str, span: Span) -> Result<String, Refusal> {
    let text = match op {
        TextOp::Contains => format!("*{}*", unquoted(value, span)?),
        TextOp::StartsWith => format!("{}*", unquoted(value, span)?),
        TextOp::EndsWith => format!("*{}", unquoted(value, span)?),
        TextOp::Like => glob(value, span)?,
    };
    Ok(format!("\"{text}\""))
}

fn unquoted(text: &str, span: Span) -> Result<String, Refusal> {
    let quoted = literal(text, span)?;
    Ok(quoted[1..quoted.len() - 1].to_string())
}

/// A `like` glob as a term: `*` stays a wildcard; `?` and escaped
/// wildcards have no term form.
fn glob(value: &str, span: Span) -> Result<String, Refusal> {
    use crate::emit::common::{GlobPiece, glob_pieces};
    let mut out = String::new();
    for piece in glob_pieces(value) {
        match piece {
            GlobPiece::Literal(text) => out.push_str(&unquoted(&text, span)?),
            GlobPiece::AnyRun => out.push('*'),
            GlobPiece::AnyOne => return Err(not_a_term(span, "`?` in a glob")),
        }
    }
    Ok(out)
}

fn looks_like_address(text: &str) -> bool {
    let address = text.split('/').next().unwrap_or(text);
    address.parse::<IpAddr>().is_ok()
}

/// The blocks of `in cidr` as Splunk writes them, each IPv4 block followed
/// by its IPv4-mapped IPv6 form.
pub fn cidr_values(blocks: &[IpBlock]) -> Vec<String> {
    let mut values = Vec::new();
    for block in blocks {
        values.push(block.to_string());
        if let IpAddr::V4(net) = block.network {
            let [a, b, c, d] = net.octets();
            values.push(format!(
                "::ffff:{:x}:{:x}/{}",
                u16::from_be_bytes([a, b]),
                u16::from_be_bytes([c, d]),
                u32::from(block.prefix) + 96
            ));
        }
    }
    values
}
