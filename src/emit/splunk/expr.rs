//! The `where` expression as one SPL `where` clause. Every predicate is a
//! `match()` (or `cidrmatch()`) inside `mvfilter()`, wrapped in
//! `isnotnull()`: it tests every value of a multivalue field, and it is
//! false, never null, when the field is missing, so `NOT` and `OR` combine
//! predicates exactly as the evaluator does.

use crate::diag::Diagnostic;
use crate::ir::{self, Condition, FieldType, Literal, Operation, TextOp};

use super::address;
use super::literal::{folded, spl_string};
use super::numeric::{compare_ranges, int_set_regex};
use super::pattern::{self, Unexpressible};
use super::{SPLUNK, field_name};
use crate::emit::{Input, common};

/// Writes the conditions of one rule, collecting refusals.
pub struct ExprWriter<'a> {
    pub input: &'a Input<'a>,
    pub rule: &'a ir::Rule,
    pub refusals: Vec<Diagnostic>,
}

impl<'a> ExprWriter<'a> {
    pub fn new(input: &'a Input<'a>, rule: &'a ir::Rule) -> Self {
        ExprWriter {
            input,
            rule,
            refusals: Vec::new(),
        }
    }

    pub fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::And(items) => self.joined(items, " AND "),
            Condition::Or(items) => self.joined(items, " OR "),
            // `NOT (NOT x)`: every negation applies to one parenthesised
            // or called operand, never to a bare `NOT`.
            Condition::Not(inner) if matches!(**inner, Condition::Not(_)) => {
                format!("NOT ({})", self.condition(inner))
            }
            Condition::Not(inner) => format!("NOT {}", self.condition(inner)),
            Condition::Exists(field) if field.ty == FieldType::Time => {
                "isnotnull(_time)".to_string()
            }
            Condition::Exists(field) => {
                let name = self.field(field);
                format!("isnotnull(mvfilter({name}!=\"\"))")
            }
            Condition::Predicate(predicate) => self.predicate(predicate),
        }
    }

    fn joined(&mut self, items: &[Condition], operator: &str) -> String {
        let parts: Vec<String> = items.iter().map(|c| self.condition(c)).collect();
        format!("({})", parts.join(operator))
    }

    /// `'name'`: the field's CIM name as an `eval` field reference.
    pub fn field(&mut self, field: &ir::Field) -> String {
        match field_name(self.input, self.rule, field) {
            Ok(name) => format!("'{name}'"),
            Err(refusal) => {
                self.refusals.push(refusal);
                "'?'".to_string()
            }
        }
    }

    fn refuse(&mut self, span: crate::syntax::Span, why: Unexpressible) -> String {
        self.refusals.push(common::refusal(
            SPLUNK,
            self.rule,
            span,
            &why.construct,
            &why.help,
        ));
        "false()".to_string()
    }

    fn predicate(&mut self, predicate: &ir::Predicate) -> String {
        let spl = self.predicate_spl(predicate);
        if spl.chars().any(breaks_lines) {
            return self.refuse(
                predicate.span,
                Unexpressible {
                    construct: "a C1 control character or a Unicode line separator".to_string(),
                    help: "a search is one line and its escapes are ASCII (`\\xHH`), which \
                           PCRE reads differently in byte and UTF mode; match the text around it"
                        .to_string(),
                },
            );
        }
        spl
    }

    fn predicate_spl(&mut self, predicate: &ir::Predicate) -> String {
        let name = self.field(&predicate.field);
        let any = |test: String| format!("isnotnull(mvfilter({test}))");
        let matching = |regex: &str| format!("match({name}, {})", spl_string(regex));
        if let Err(why) = no_nul(&predicate.operation) {
            return self.refuse(predicate.span, why);
        }
        if holds_on_empty(&predicate.operation) {
            return self.refuse(
                predicate.span,
                Unexpressible {
                    construct: "a pattern that matches the empty string".to_string(),
                    help: "Splunk does not document whether an extracted field keeps an empty \
                           value, so a search cannot tell `\"\"` from a missing field; make the \
                           pattern need at least one character, or test `exists(f)`"
                        .to_string(),
                },
            );
        }
        match &predicate.operation {
            Operation::Equals { values, .. } if predicate.field.ty == FieldType::Int => {
                let ints: Vec<(i64, i64)> = values
                    .iter()
                    .filter_map(|v| match v {
                        Literal::Int(n) => Some((*n, *n)),
                        Literal::String(_) => None,
                    })
                    .collect();
                match int_set_regex(&ints) {
                    Some(regex) => any(matching(&regex)),
                    None => "false()".to_string(),
                }
            }
            Operation::Equals { values, .. } => {
                let texts: Vec<String> = values
                    .iter()
                    .map(|v| match v {
                        Literal::Int(n) => folded(&n.to_string()),
                        Literal::String(s) => folded(s),
                    })
                    .collect();
                let body = match texts.as_slice() {
                    [one] => one.clone(),
                    _ => format!("(?:{})", texts.join("|")),
                };
                any(matching(&format!("^{body}\\z")))
            }
            Operation::Compare { op, value } => match int_set_regex(&compare_ranges(*op, *value)) {
                Some(regex) => any(matching(&regex)),
                None => "false()".to_string(),
            },
            Operation::Text {
                op: TextOp::Like,
                values,
                all,
                ..
            } => match values
                .iter()
                .map(|g| pattern::glob(g))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(globs) if *all => {
                    let tests: Vec<String> = globs.iter().map(|g| matching(g)).collect();
                    any(tests.join(" AND "))
                }
                Ok(globs) => {
                    let bodies: Vec<&str> = globs
                        .iter()
                        .map(|g| g.trim_start_matches('^').trim_end_matches("\\z"))
                        .collect();
                    any(matching(&format!("^(?:{})\\z", bodies.join("|"))))
                }
                Err(why) => self.refuse(predicate.span, why),
            },
            Operation::Text {
                op, values, all, ..
            } => {
                let (before, after) = match op {
                    TextOp::StartsWith => ("^", ""),
                    TextOp::EndsWith => ("", "\\z"),
                    _ => ("", ""),
                };
                let needles: Vec<String> = values.iter().map(|v| folded(v)).collect();
                if *all {
                    let tests: Vec<String> = needles
                        .iter()
                        .map(|n| matching(&format!("{before}{n}{after}")))
                        .collect();
                    any(tests.join(" AND "))
                } else if let [needle] = needles.as_slice() {
                    any(matching(&format!("{before}{needle}{after}")))
                } else {
                    let joined = needles.join("|");
                    any(matching(&format!("{before}(?:{joined}){after}")))
                }
            }
            Operation::Regex {
                pattern,
                case_insensitive,
            } => match pattern::regex(pattern, *case_insensitive) {
                Ok(regex) => any(matching(&regex)),
                Err(why) => self.refuse(predicate.span, why),
            },
            Operation::Cidr { blocks, .. } => any(cidr(&name, blocks)),
        }
    }
}

/// The `mvfilter()` test of `in cidr`: exact address syntax first, then
/// the blocks of the value's family (IPv4 blocks also as mapped IPv6). A
/// `/0` block holds every address of its family, so the syntax test alone
/// decides it: `cidrmatch()` is not documented for a zero prefix (a shift by
/// the full width is a classic mask bug).
fn cidr(name: &str, blocks: &[ir::IpBlock]) -> String {
    let (v4, v6) = address::split_blocks(blocks);
    let family = |syntax: String, blocks: &[String]| -> String {
        let syntax = format!("match({name}, {})", spl_string(&syntax));
        if blocks.iter().any(|b| b.ends_with("/0")) {
            return syntax;
        }
        let parts: Vec<String> = blocks
            .iter()
            .map(|b| format!("cidrmatch({}, {name})", spl_string(b)))
            .collect();
        format!("({syntax} AND ({}))", parts.join(" OR "))
    };
    let mut families = Vec::new();
    if !v4.is_empty() {
        families.push(family(address::ipv4_regex(), &v4));
    }
    if !v6.is_empty() {
        families.push(family(address::ipv6_regex(), &v6));
    }
    families.join(" OR ")
}

/// Characters that line-oriented readers may take for a line break
/// (U+0085, U+2028, U+2029) or that are controls (C1), which the search
/// cannot escape the same way in PCRE's byte and UTF modes.
fn breaks_lines(c: char) -> bool {
    matches!(c, '\u{80}'..='\u{9F}' | '\u{2028}' | '\u{2029}')
}

/// Whether the predicate holds for the value `""` (language.md 1.2: `""`
/// is a value for predicates). Only globs and regexes can: every other
/// literal is non-empty, and `""` is neither an integer nor an address.
fn holds_on_empty(operation: &Operation) -> bool {
    match operation {
        Operation::Text {
            op: TextOp::Like,
            values,
            all,
            ..
        } => {
            let empty = |g: &String| crate::eval::glob::Glob::new(g).matches("");
            if *all {
                values.iter().all(empty)
            } else {
                values.iter().any(empty)
            }
        }
        Operation::Regex {
            pattern,
            case_insensitive,
        } => regex::RegexBuilder::new(&crate::check::regex::rewrite_ascii(pattern))
            .case_insensitive(*case_insensitive)
            .build()
            .is_ok_and(|re| re.is_match("")),
        _ => false,
    }
}

/// NUL cannot be written in a search (targets.md).
fn no_nul(operation: &Operation) -> Result<(), Unexpressible> {
    let texts: Vec<&str> = match operation {
        Operation::Equals { values, .. } => values
            .iter()
            .filter_map(|v| match v {
                Literal::String(s) => Some(s.as_str()),
                Literal::Int(_) => None,
            })
            .collect(),
        Operation::Text { values, .. } => values.iter().map(String::as_str).collect(),
        Operation::Regex { pattern, .. } => vec![pattern.as_str()],
        _ => Vec::new(),
    };
    if texts.iter().any(|t| t.contains('\0')) {
        return Err(Unexpressible {
            construct: "a NUL character in a value".to_string(),
            help: "a search cannot hold NUL; match the text around it".to_string(),
        });
    }
    Ok(())
}
