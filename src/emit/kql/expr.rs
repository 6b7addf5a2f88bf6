//! The `where` expression in KQL, exactly the evaluator's verdict. Every
//! leaf is a real bool, never null (a missing string reads as `""`, a
//! missing number as null and is guarded with `isnotnull`), so `not()`
//! negates exactly. Predicates that hold on `""` are refused: KQL cannot
//! tell a missing field from an empty one.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::net::IpAddr;

use crate::diag::Diagnostic;
use crate::emit::common::{GlobPiece, glob_pieces, mapped_field, refusal};
use crate::ir::{
    Condition, Field, FieldType, IpBlock, Literal, Operation, Ordering, Predicate, TextOp,
};

use super::literal::{kql_long, kql_regex, kql_string};
use super::pattern;
use super::{Context, TARGET};

/// The strict address syntax (Rust's `IpAddr::from_str`): the gate before
/// `ipv4_is_in_any_range` / `ipv6_is_in_any_range`, which accept more.
pub const IP_SYNTAX: &str = include_str!("ip_syntax.txt");
/// The name of the `let` function that applies [`IP_SYNTAX`].
pub const IP_TEST: &str = "tl_is_ip";
/// The integer syntax an `int` field's text must have to be a number.
const INTEGER_SYNTAX: &str = "^-?[0-9]+$";

pub struct Writer<'c, 'a> {
    pub cx: &'c Context<'a>,
    /// Whether the query needs the [`IP_TEST`] function.
    pub uses_ip_test: bool,
    /// Every column the query reads (to add only the derived ones it needs).
    pub used: RefCell<BTreeSet<String>>,
}

impl Writer<'_, '_> {
    /// The condition, its top-level `and`s one per line.
    pub fn top(&mut self, condition: &Condition) -> Result<String, Diagnostic> {
        match condition {
            Condition::And(parts) => {
                let parts = parts
                    .iter()
                    .map(|p| self.condition(p))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(parts.join("\n    and "))
            }
            other => self.condition(other),
        }
    }

    fn condition(&mut self, condition: &Condition) -> Result<String, Diagnostic> {
        match condition {
            Condition::And(parts) => self.joined(parts, " and "),
            Condition::Or(parts) => self.joined(parts, " or "),
            Condition::Not(inner) => Ok(format!("not({})", self.condition(inner)?)),
            Condition::Exists(field) => self.exists(field),
            Condition::Predicate(predicate) => self.predicate(predicate),
        }
    }

    fn joined(&mut self, parts: &[Condition], glue: &str) -> Result<String, Diagnostic> {
        let parts = parts
            .iter()
            .map(|p| self.condition(p))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(format!("({})", parts.join(glue)))
    }

    pub fn column(&self, field: &Field) -> Result<String, Diagnostic> {
        let column = mapped_field(self.cx.input, TARGET, self.cx.rule, field)?;
        self.used.borrow_mut().insert(column.to_string());
        Ok(column.to_string())
    }

    /// Refuses a test that needs the field's text on a numeric column: the
    /// column holds null for text that is no number (`"abc"`, `" 443"`,
    /// `"443.0"`), which the evaluator still sees as a value (it exists, it
    /// is a group key or a distinct value, string predicates read it).
    pub fn needs_text(
        &self,
        field: &Field,
        column: &str,
        construct: &str,
    ) -> Result<(), Diagnostic> {
        if !self.cx.source.is_numeric(column)
            || numeric_guarded(&self.cx.rule.condition, &field.path)
        {
            return Ok(());
        }
        Err(refusal(
            TARGET,
            self.cx.rule,
            field.span,
            &format!("{construct} on the numeric column `{column}`"),
            "the column holds null where the log has text that is no integer, which the evaluator still reads as a value; test the field with ==, in or a comparison, or map it to a string column",
        ))
    }

    fn exists(&self, field: &Field) -> Result<String, Diagnostic> {
        let column = self.column(field)?;
        self.needs_text(field, &column, "`exists()`")?;
        Ok(if self.cx.source.is_nullable(&column) {
            format!("isnotnull({column})")
        } else {
            format!("isnotempty({column})")
        })
    }

    /// The column as text: a numeric column through `tostring()` (null
    /// becomes `""`, as a missing string reads).
    fn text(&self, column: &str) -> String {
        if self.cx.source.is_nullable(column) {
            format!("tostring({column})")
        } else {
            column.to_string()
        }
    }

    fn predicate(&mut self, predicate: &Predicate) -> Result<String, Diagnostic> {
        let column = self.column(&predicate.field)?;
        if predicate.field.ty != FieldType::Int {
            self.needs_text(&predicate.field, &column, "a string test")?;
        }
        match &predicate.operation {
            Operation::Equals { values, .. } if predicate.field.ty == FieldType::Int => {
                let numbers: Vec<String> = values
                    .iter()
                    .map(|v| match v {
                        Literal::Int(n) => kql_long(*n),
                        Literal::String(s) => s.clone(),
                    })
                    .collect();
                let test = match numbers.as_slice() {
                    [one] => format!("== {one}"),
                    many => format!("in ({})", many.join(", ")),
                };
                Ok(self.numeric(&column, &test))
            }
            Operation::Equals { values, .. } => {
                let text = self.text(&column);
                let strings: Vec<String> = values
                    .iter()
                    .map(|v| kql_string(&literal_text(v)))
                    .collect();
                Ok(match strings.as_slice() {
                    [one] => format!("{text} =~ {one}"),
                    many => format!("{text} in~ ({})", many.join(", ")),
                })
            }
            Operation::Compare { op, value } => {
                let symbol = match op {
                    Ordering::Lt => "<",
                    Ordering::Le => "<=",
                    Ordering::Gt => ">",
                    Ordering::Ge => ">=",
                };
                Ok(self.numeric(&column, &format!("{symbol} {}", kql_long(*value))))
            }
            Operation::Text {
                op, values, all, ..
            } => {
                let text = self.text(&column);
                let tests = values
                    .iter()
                    .map(|v| self.text_test(predicate, &text, *op, v))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(match tests.as_slice() {
                    [one] => one.clone(),
                    many => format!("({})", many.join(if *all { " and " } else { " or " })),
                })
            }
            Operation::Regex {
                pattern,
                case_insensitive,
            } => {
                if pattern::matches_empty(pattern, *case_insensitive) {
                    return Err(refusal(
                        TARGET,
                        self.cx.rule,
                        predicate.span,
                        "a regular expression that matches the empty string",
                        "Kusto reads a missing field as \"\", so this pattern would match events without the field; anchor it or require at least one character",
                    ));
                }
                let regex = pattern::translate(pattern, *case_insensitive);
                Ok(format!(
                    "{} matches regex {}",
                    self.text(&column),
                    kql_regex(&regex)
                ))
            }
            Operation::Cidr { blocks, .. } => Ok(self.cidr(&self.text(&column), blocks)),
        }
    }

    /// A numeric test (`== 43`, `in (22, 3389)`, `>= 400`) that is false,
    /// never null, when the value is missing or not an integer.
    fn numeric(&self, column: &str, test: &str) -> String {
        if self.cx.source.is_numeric(column) {
            format!("(isnotnull({column}) and {column} {test})")
        } else {
            format!(
                "({column} matches regex {} and isnotnull(tolong({column})) and tolong({column}) {test})",
                kql_regex(INTEGER_SYNTAX)
            )
        }
    }

    fn text_test(
        &self,
        predicate: &Predicate,
        text: &str,
        op: TextOp,
        value: &str,
    ) -> Result<String, Diagnostic> {
        let literal = |v: &str| kql_string(v);
        Ok(match op {
            TextOp::Contains => format!("{text} contains {}", literal(value)),
            TextOp::StartsWith => format!("{text} startswith {}", literal(value)),
            TextOp::EndsWith => format!("{text} endswith {}", literal(value)),
            TextOp::Like => {
                if pattern::glob_matches_empty(value) {
                    return Err(refusal(
                        TARGET,
                        self.cx.rule,
                        predicate.span,
                        "a `like` glob made only of `*`",
                        "Kusto reads a missing field as \"\", which this glob matches; write `exists(field)` instead",
                    ));
                }
                like(text, value)
            }
        })
    }

    /// The address syntax gate, then the family's range function; IPv4
    /// blocks also as their IPv4-mapped IPv6 twins.
    fn cidr(&mut self, text: &str, blocks: &[IpBlock]) -> String {
        self.uses_ip_test = true;
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for block in blocks {
            match block.network {
                IpAddr::V4(net) => {
                    v4.push(kql_string(&block.to_string()));
                    let [a, b, c, d] = net.octets();
                    let high = u16::from_be_bytes([a, b]);
                    let low = u16::from_be_bytes([c, d]);
                    let prefix = 96 + u16::from(block.prefix);
                    v6.push(kql_string(&format!("::ffff:{high:x}:{low:x}/{prefix}")));
                }
                IpAddr::V6(_) => v6.push(kql_string(&block.to_string())),
            }
        }
        let mut families = Vec::new();
        if !v4.is_empty() {
            families.push(format!(
                "({text} !contains \":\" and ipv4_is_in_any_range({text}, {}))",
                v4.join(", ")
            ));
        }
        families.push(format!(
            "({text} contains \":\" and ipv6_is_in_any_range({text}, {}))",
            v6.join(", ")
        ));
        format!("({IP_TEST}({text}) and ({}))", families.join(" or "))
    }
}

/// A `like` glob: the plain string operators where the glob is one literal
/// with `*` at its ends, else an anchored case-insensitive regex.
fn like(text: &str, glob: &str) -> String {
    let pieces = glob_pieces(glob);
    use GlobPiece::{AnyRun, Literal as Lit};
    match pieces.as_slice() {
        [Lit(s)] => format!("{text} =~ {}", kql_string(s)),
        [Lit(s), AnyRun] => format!("{text} startswith {}", kql_string(s)),
        [AnyRun, Lit(s)] => format!("{text} endswith {}", kql_string(s)),
        [AnyRun, Lit(s), AnyRun] => format!("{text} contains {}", kql_string(s)),
        _ => format!(
            "{text} matches regex {}",
            kql_regex(&pattern::glob_regex(glob))
        ),
    }
}

fn literal_text(literal: &Literal) -> String {
    match literal {
        Literal::String(s) => s.clone(),
        Literal::Int(n) => n.to_string(),
    }
}

/// Whether `condition` holds only for events whose `path` is an integer: a
/// top-level conjunct compares it with a number (`f >= 0`, `f == 22`).
/// Then text that is no integer fails the rule in the evaluator and, as
/// null, in the query, and the numeric column is exact for that field.
pub fn numeric_guarded(condition: &Condition, path: &str) -> bool {
    let conjuncts = match condition {
        Condition::And(parts) => parts.as_slice(),
        single => std::slice::from_ref(single),
    };
    conjuncts.iter().any(|part| match part {
        Condition::Predicate(p) if p.field.path == path && p.field.ty == FieldType::Int => match &p
            .operation
        {
            Operation::Compare { .. } => true,
            Operation::Equals { values, .. } => values.iter().all(|v| matches!(v, Literal::Int(_))),
            _ => false,
        },
        _ => false,
    })
}
