//! One condition writer for the query targets (SPL, KQL, and any query
//! language after them).
//!
//! The principle is PRQL's (`sql/dialect.rs`): the writer walks a rule's
//! `where` condition once and asks a [`Dialect`] how each construct is
//! spelt; a dialect is a table of capabilities (quoting, case-insensitive
//! equality, lists, substring and glob terms, CIDR, regex, the guards a
//! missing or non-numeric value needs) and states only what its language
//! needs. A construct the language cannot express exactly is a [`Refusal`],
//! a value: the writer keeps walking, collects every refusal of the rule,
//! and the target turns them into diagnostics in one place
//! ([`Refusal::into_diagnostic`]). A dialect never decides the shape of the
//! boolean tree; the writer never decides the spelling of a test.

use crate::diag::{Code, Diagnostic, codes};
use crate::ir::{self, Condition, Field, IpBlock, Literal, Ordering, TextOp};
use crate::syntax::Span;

/// What a target cannot express exactly, and where: the construct in the
/// user's terms, the span of the predicate (or field) that holds it, and
/// what would be expressible instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub target: &'static str,
    pub construct: String,
    pub help: String,
    pub span: Span,
    /// `E0700` (not expressible) or `E0701` (not mapped).
    pub code: Code,
}

impl Refusal {
    /// `target` cannot express `construct` exactly.
    pub fn new(
        target: &'static str,
        span: Span,
        construct: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Refusal {
            target,
            construct: construct.into(),
            help: help.into(),
            span,
            code: codes::TARGET_REFUSED,
        }
    }

    /// The diagnostic of the refusal, on `rule`'s file.
    pub fn into_diagnostic(self, rule: &ir::Rule) -> Diagnostic {
        if self.code == codes::UNMAPPED_FIELD {
            return Diagnostic::error(self.code, rule.file, self.span, self.construct)
                .with_label("not mapped")
                .with_help(self.help);
        }
        super::common::refusal(self.target, rule, self.span, &self.construct, &self.help)
    }
}

impl From<Diagnostic> for Refusal {
    /// A refusal that was already made a diagnostic (an unmapped field from
    /// `common::mapped_field`): its message becomes the construct.
    fn from(diagnostic: Diagnostic) -> Self {
        Refusal {
            target: "",
            construct: diagnostic.message.clone(),
            help: diagnostic.help.clone().unwrap_or_default(),
            span: diagnostic.primary.span,
            code: diagnostic.code,
        }
    }
}

/// Where a boolean combination stands: at the top of the condition (a
/// dialect may lay out its parts one per line, without parentheses) or
/// inside another one (it must group them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    Top,
    Nested,
}

/// How one query language spells each construct of a condition. Every
/// test method returns an expression that is true or false, never null or
/// unknown, for every event (a missing field included), so that `not`
/// negates exactly; a method that cannot promise that refuses.
pub trait Dialect {
    /// The target's name, for refusals (`splunk`, `kql`).
    fn target(&self) -> &'static str;

    /// `parts` all hold (at least two).
    fn and(&self, parts: Vec<String>, nesting: Nesting) -> String;
    /// One of `parts` holds (at least two).
    fn or(&self, parts: Vec<String>, nesting: Nesting) -> String;
    /// `inner` does not hold.
    fn not(&self, inner: String) -> String;

    /// `exists(f)`: present, not null, not `""`, `[]` or `{}`.
    fn exists(&mut self, field: &Field, span: Span) -> Result<String, Refusal>;
    /// `==` / `in`: strings ignoring case, integers on an `int` field by number.
    fn equals(&mut self, field: &Field, values: &[Literal], span: Span) -> Result<String, Refusal>;
    /// `<` `<=` `>` `>=` on an `int` field.
    fn compare(
        &mut self,
        field: &Field,
        op: Ordering,
        value: i64,
        span: Span,
    ) -> Result<String, Refusal>;
    /// One `contains` / `startswith` / `endswith` / `like` test, ignoring case.
    fn text_one(
        &mut self,
        field: &Field,
        op: TextOp,
        value: &str,
        span: Span,
    ) -> Result<String, Refusal>;
    /// `matches`: the pattern finds a match anywhere (case-insensitive when asked).
    fn regex(
        &mut self,
        field: &Field,
        pattern: &str,
        case_insensitive: bool,
        span: Span,
    ) -> Result<String, Refusal>;
    /// `in cidr`: the value is an address inside one of the blocks.
    fn cidr(&mut self, field: &Field, blocks: &[IpBlock], span: Span) -> Result<String, Refusal>;

    /// `cased ==` / `cased in`: strings compared exactly in case.
    fn equals_cased(
        &mut self,
        _field: &Field,
        _values: &[Literal],
        span: Span,
    ) -> Result<String, Refusal> {
        Err(Refusal::new(
            self.target(),
            span,
            "a case-sensitive comparison (`cased`)",
            format!("not yet written for {}", self.target()),
        ))
    }

    /// One `cased contains` / `startswith` / `endswith` / `like` test:
    /// exact in case.
    fn text_one_cased(
        &mut self,
        _field: &Field,
        _op: TextOp,
        _value: &str,
        span: Span,
    ) -> Result<String, Refusal> {
        Err(Refusal::new(
            self.target(),
            span,
            "a case-sensitive comparison (`cased`)",
            format!("not yet written for {}", self.target()),
        ))
    }

    /// A `cased` text operator over several values: any of them (or all,
    /// with `all`), one `text_one_cased` test each.
    fn text_cased(
        &mut self,
        field: &Field,
        op: TextOp,
        values: &[String],
        all: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        each_value(self, values, all, |d, v| {
            d.text_one_cased(field, op, v, span)
        })
    }

    /// `len(f)` compared (`==`/`in` with `values`, or `<`... with `compare`):
    /// the number of Unicode scalar values of the value.
    fn length(
        &mut self,
        _field: &Field,
        _values: &[Literal],
        _compare: Option<(Ordering, i64)>,
        span: Span,
    ) -> Result<String, Refusal> {
        Err(Refusal::new(
            self.target(),
            span,
            "the length of a value (`len()`)",
            format!("not yet written for {}", self.target()),
        ))
    }

    /// Tests joined: any of them holds (or all, with `all`).
    fn any_or_all(&mut self, mut parts: Vec<String>, all: bool) -> String {
        match parts.len() {
            1 => parts.remove(0),
            _ if all => self.and(parts, Nesting::Nested),
            _ => self.or(parts, Nesting::Nested),
        }
    }

    /// A text operator over several values: any of them (or all, with
    /// `all`). A dialect with a list form (`has_any`, `IN`) overrides it.
    fn text(
        &mut self,
        field: &Field,
        op: TextOp,
        values: &[String],
        all: bool,
        span: Span,
    ) -> Result<String, Refusal> {
        each_value(self, values, all, |d, v| d.text_one(field, op, v, span))
    }
}

/// One test per value, each written by `one` (`text_one`,
/// `text_one_cased`), joined by `any_or_all`.
fn each_value<D: Dialect + ?Sized>(
    dialect: &mut D,
    values: &[String],
    all: bool,
    mut one: impl FnMut(&mut D, &str) -> Result<String, Refusal>,
) -> Result<String, Refusal> {
    let parts = (values.iter())
        .map(|value| one(dialect, value))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(dialect.any_or_all(parts, all))
}

/// Writes `condition` in `dialect`, or every refusal met on the way.
pub fn write<D: Dialect + ?Sized>(
    dialect: &mut D,
    condition: &Condition,
) -> Result<String, Vec<Refusal>> {
    let mut refusals = Vec::new();
    let text = walk(dialect, condition, Nesting::Top, &mut refusals);
    if refusals.is_empty() {
        Ok(text)
    } else {
        Err(refusals)
    }
}

fn walk<D: Dialect + ?Sized>(
    dialect: &mut D,
    condition: &Condition,
    nesting: Nesting,
    refusals: &mut Vec<Refusal>,
) -> String {
    match condition {
        Condition::And(parts) => {
            let parts = parts
                .iter()
                .map(|p| walk(dialect, p, Nesting::Nested, refusals))
                .collect();
            dialect.and(parts, nesting)
        }
        Condition::Or(parts) => {
            let parts = parts
                .iter()
                .map(|p| walk(dialect, p, Nesting::Nested, refusals))
                .collect();
            dialect.or(parts, nesting)
        }
        Condition::Not(inner) => {
            let inner = walk(dialect, inner, Nesting::Nested, refusals);
            dialect.not(inner)
        }
        Condition::Exists(field) => collect(dialect.exists(field, field.span), refusals),
        Condition::Predicate(predicate) => collect(predicate_text(dialect, predicate), refusals),
    }
}

fn predicate_text<D: Dialect + ?Sized>(
    dialect: &mut D,
    predicate: &ir::Predicate,
) -> Result<String, Refusal> {
    let field = &predicate.field;
    let span = predicate.span;
    if predicate.length {
        return match &predicate.operation {
            ir::Operation::Equals { values, .. } => dialect.length(field, values, None, span),
            ir::Operation::Compare { op, value } => {
                dialect.length(field, &[], Some((*op, *value)), span)
            }
            _ => Err(Refusal::new(
                dialect.target(),
                span,
                "the length of a value (`len()`)",
                "compare `len()` with integers",
            )),
        };
    }
    if field.cased {
        return match &predicate.operation {
            ir::Operation::Equals { values, .. } => dialect.equals_cased(field, values, span),
            ir::Operation::Text {
                op, values, all, ..
            } => dialect.text_cased(field, *op, values, *all, span),
            _ => Err(Refusal::new(
                dialect.target(),
                span,
                "a case-sensitive comparison (`cased`)",
                format!("not yet written for {}", dialect.target()),
            )),
        };
    }
    match &predicate.operation {
        ir::Operation::Equals { values, .. } => dialect.equals(field, values, span),
        ir::Operation::Compare { op, value } => dialect.compare(field, *op, *value, span),
        ir::Operation::Text {
            op, values, all, ..
        } => dialect.text(field, *op, values, *all, span),
        ir::Operation::Regex {
            pattern,
            case_insensitive,
        } => dialect.regex(field, pattern, *case_insensitive, span),
        ir::Operation::Cidr { blocks, .. } => dialect.cidr(field, blocks, span),
    }
}

/// The text of a test, or a placeholder once its refusal is kept.
fn collect(result: Result<String, Refusal>, refusals: &mut Vec<Refusal>) -> String {
    result.unwrap_or_else(|refusal| {
        refusals.push(refusal);
        String::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{FieldType, Operation, Predicate};

    /// A dialect that spells everything as plain words, refusing regexes.
    struct Words;

    impl Dialect for Words {
        fn target(&self) -> &'static str {
            "words"
        }
        fn and(&self, parts: Vec<String>, nesting: Nesting) -> String {
            group(parts.join(" & "), nesting)
        }
        fn or(&self, parts: Vec<String>, nesting: Nesting) -> String {
            group(parts.join(" | "), nesting)
        }
        fn not(&self, inner: String) -> String {
            format!("!{inner}")
        }
        fn exists(&mut self, field: &Field, _: Span) -> Result<String, Refusal> {
            Ok(format!("has({})", field.path))
        }
        fn equals(
            &mut self,
            field: &Field,
            values: &[Literal],
            _: Span,
        ) -> Result<String, Refusal> {
            Ok(format!("{}={}", field.path, values.len()))
        }
        fn compare(
            &mut self,
            field: &Field,
            _: Ordering,
            value: i64,
            _: Span,
        ) -> Result<String, Refusal> {
            Ok(format!("{}<>{value}", field.path))
        }
        fn text_one(
            &mut self,
            field: &Field,
            _: TextOp,
            value: &str,
            _: Span,
        ) -> Result<String, Refusal> {
            Ok(format!("{}~{value}", field.path))
        }
        fn regex(
            &mut self,
            _: &Field,
            pattern: &str,
            _: bool,
            span: Span,
        ) -> Result<String, Refusal> {
            Err(Refusal::new(
                "words",
                span,
                format!("the regex `{pattern}`"),
                "no regexes here",
            ))
        }
        fn cidr(&mut self, field: &Field, blocks: &[IpBlock], _: Span) -> Result<String, Refusal> {
            Ok(format!("{} in {} blocks", field.path, blocks.len()))
        }
    }

    fn group(text: String, nesting: Nesting) -> String {
        match nesting {
            Nesting::Top => text,
            Nesting::Nested => format!("({text})"),
        }
    }

    fn field(path: &str) -> Field {
        Field {
            path: path.to_string(),
            ty: FieldType::String,
            span: Span::default(),
            cased: false,
        }
    }

    fn predicate(path: &str, operation: Operation) -> Condition {
        Condition::Predicate(Predicate {
            field: field(path),
            length: false,
            operation,
            span: Span::default(),
        })
    }

    fn text(path: &str, values: &[&str], all: bool) -> Condition {
        predicate(
            path,
            Operation::Text {
                op: TextOp::Contains,
                values: values.iter().map(|v| v.to_string()).collect(),
                all,
                list: None,
            },
        )
    }

    fn regex(pattern: &str) -> Condition {
        predicate(
            "a",
            Operation::Regex {
                pattern: pattern.to_string(),
                case_insensitive: false,
            },
        )
    }

    #[test]
    fn groups_only_nested_combinations_and_expands_text_lists() {
        let condition = Condition::And(vec![
            Condition::Exists(field("a")),
            Condition::Not(Box::new(Condition::Or(vec![
                text("b", &["x", "y"], false),
                text("c", &["z", "w"], true),
            ]))),
        ]);
        assert_eq!(
            write(&mut Words, &condition),
            Ok("has(a) & !((b~x | b~y) | (c~z & c~w))".to_string())
        );
    }

    #[test]
    fn collects_every_refusal_of_the_condition() {
        let condition = Condition::Or(vec![regex("p"), Condition::Exists(field("a")), regex("q")]);
        let refusals = write(&mut Words, &condition).unwrap_err();
        let constructs: Vec<&str> = refusals.iter().map(|r| r.construct.as_str()).collect();
        assert_eq!(constructs, ["the regex `p`", "the regex `q`"]);
    }
}
