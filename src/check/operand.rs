//! The right-hand side of a predicate: literals, inline lists and `@list`
//! references checked against the field's type and the operator (integers
//! for `int` fields and nothing else, CIDR blocks for `in cidr`, globs for
//! `like`, the portable regex subset for `matches`), then lowered to IR values.

use crate::diag::{Diagnostic, Fix, codes, nearest_sure};
use crate::ir::{self, FieldType, IpBlock, Operation};
use crate::source::FileId;
use crate::syntax::ast::{Literal, Operand, Operator, StringLit};
use crate::syntax::{Span, Spanned};

use super::context::{RuleCx, type_name};
use super::lists::{CheckedList, Element, ListType, host_bits_warning};
use super::regex::{RegexErrorKind, validate};
use super::values::{check_glob, parse_cidr};

/// Values of `event.outcome` that every log source agrees on.
const OUTCOMES: [&str; 3] = ["success", "failure", "unknown"];

type Values<T> = Option<(Vec<T>, Option<String>)>;

/// `==` / `!=` (one literal) and `in` / `not in` (a list or `@list`).
pub(crate) fn equals(
    cx: &mut RuleCx,
    field: &ir::Field,
    single: bool,
    symbol: &str,
    operand: &Operand,
) -> Values<ir::Literal> {
    if single && !matches!(operand, Operand::Literal(_)) {
        let span = span_of(operand);
        let diagnostic = cx
            .error(
                codes::LITERAL_TYPE_MISMATCH,
                span,
                format!("`{symbol}` takes one value"),
            )
            .with_help("use `in` to compare with several values");
        cx.emit(diagnostic);
        return None;
    }
    many(
        cx,
        operand,
        |cx, literal| equals_value(cx, field, literal),
        |cx, name, list, file| match (list.ty, field.ty) {
            (ListType::Cidr, _) => {
                let help = if field.ty == FieldType::Ip {
                    format!("write `in cidr @{}`", name.node)
                } else {
                    "a cidr list suits only `in cidr` on an ip field".to_string()
                };
                refuse(
                    cx,
                    codes::LIST_TYPE_MISMATCH,
                    name.span,
                    format!(
                        "`@{}` is a cidr list, and `{symbol}` compares text",
                        name.node
                    ),
                    help,
                )
            }
            (ListType::Int, FieldType::Int)
            | (ListType::String, FieldType::String | FieldType::Ip) => Some(
                list.elements
                    .iter()
                    .filter_map(|element| match &element.node {
                        Element::Int(n) => Some(ir::Literal::Int(*n)),
                        Element::Text(text) => {
                            outcome_warning(cx, field, text, file, element.span);
                            Some(ir::Literal::String(text.clone()))
                        }
                        Element::Block(_) => None,
                    })
                    .collect(),
            ),
            (ty, _) => refuse(
                cx,
                codes::LITERAL_TYPE_MISMATCH,
                name.span,
                format!(
                    "`@{}` is {} list, and `{}` is {}",
                    name.node,
                    article(ty),
                    field.path,
                    type_name(field.ty)
                ),
                format!(
                    "compare {} with a list of {}",
                    type_name(field.ty),
                    if field.ty == FieldType::Int {
                        "integers"
                    } else {
                        "strings"
                    }
                ),
            ),
        },
    )
}

fn equals_value(
    cx: &mut RuleCx,
    field: &ir::Field,
    literal: &Spanned<Literal>,
) -> Option<ir::Literal> {
    match (&literal.node, field.ty) {
        (Literal::Int(n), FieldType::Int) => Some(ir::Literal::Int(*n)),
        (Literal::String(_), FieldType::Int) => refuse(
            cx,
            codes::LITERAL_TYPE_MISMATCH,
            literal.span,
            format!(
                "`{}` is an int field and takes integers, not strings",
                field.path
            ),
            "write the number without quotes, e.g. `443`".to_string(),
        ),
        (Literal::Int(n), _) => refuse(
            cx,
            codes::LITERAL_TYPE_MISMATCH,
            literal.span,
            format!(
                "`{}` is {} and takes strings, not integers",
                field.path,
                type_name(field.ty)
            ),
            format!("write it as a string: `\"{n}\"`"),
        ),
        (Literal::String(text), _) => {
            non_empty(cx, text, literal.span)?;
            outcome_warning(cx, field, &text.value, cx.file, literal.span);
            Some(ir::Literal::String(text.value.clone()))
        }
    }
}

/// The integer of `<`, `<=`, `>`, `>=` (the field is an `int` field).
pub(crate) fn integer(
    cx: &mut RuleCx,
    field: &ir::Field,
    symbol: &str,
    operand: &Operand,
) -> Option<i64> {
    match operand {
        Operand::Literal(Spanned {
            node: Literal::Int(n),
            ..
        }) => Some(*n),
        other => refuse(
            cx,
            codes::LITERAL_TYPE_MISMATCH,
            span_of(other),
            format!("`{symbol}` compares `{}` with one integer", field.path),
            "write an integer, e.g. `1024`".to_string(),
        ),
    }
}

/// The blocks of `in cidr` / `not in cidr`.
pub(crate) fn blocks(cx: &mut RuleCx, operand: &Operand) -> Values<IpBlock> {
    many(cx, operand, block, |cx, name, list, _| match list.ty {
        ListType::Cidr => Some(
            list.elements
                .iter()
                .filter_map(|e| match e.node {
                    Element::Block(block) => Some(block),
                    _ => None,
                })
                .collect(),
        ),
        ty => refuse(
            cx,
            codes::LIST_TYPE_MISMATCH,
            name.span,
            format!(
                "`in cidr` needs a cidr list, and `@{}` is {} list",
                name.node,
                article(ty)
            ),
            format!("declare it as `list {}: cidr = [...]`", name.node),
        ),
    })
}

fn block(cx: &mut RuleCx, literal: &Spanned<Literal>) -> Option<IpBlock> {
    let Literal::String(text) = &literal.node else {
        return refuse(
            cx,
            codes::LITERAL_TYPE_MISMATCH,
            literal.span,
            "`in cidr` takes CIDR blocks, not integers".to_string(),
            "write a block as a string, e.g. `\"10.0.0.0/8\"`".to_string(),
        );
    };
    non_empty(cx, text, literal.span)?;
    match parse_cidr(&text.value) {
        Ok(cidr) => {
            if cidr.host_bits {
                let diagnostic = host_bits_warning(cx.file, literal, &text.value, cidr.block);
                cx.emit(diagnostic);
            }
            Some(cidr.block)
        }
        Err(why) => refuse(
            cx,
            codes::INVALID_CIDR,
            literal.span,
            format!("invalid CIDR block: {why}"),
            "write an address or a block, e.g. `\"10.0.0.0/8\"` or `\"2001:db8::/32\"`".to_string(),
        ),
    }
}

/// The strings of `contains`, `startswith`, `endswith` and `like` (globs).
pub(crate) fn texts(
    cx: &mut RuleCx,
    symbol: &str,
    like: bool,
    operand: &Operand,
) -> Values<String> {
    let one = |cx: &mut RuleCx, literal: &Spanned<Literal>| match &literal.node {
        Literal::Int(n) => refuse(
            cx,
            codes::LITERAL_TYPE_MISMATCH,
            literal.span,
            format!("`{symbol}` takes strings, not integers"),
            format!("write it as a string: `\"{n}\"`"),
        ),
        Literal::String(text) => {
            non_empty(cx, text, literal.span)?;
            if like {
                glob(cx, &text.value, cx.file, literal.span)?;
                super::lints::like_sql_wildcards(cx, &text.value, literal.span);
            }
            Some(text.value.clone())
        }
    };
    many(cx, operand, one, |cx, name, list, file| match list.ty {
        ListType::String => {
            let mut values = Vec::new();
            for element in &list.elements {
                if let Element::Text(text) = &element.node {
                    if like {
                        glob(cx, text, file, element.span)?;
                    }
                    values.push(text.clone());
                }
            }
            Some(values)
        }
        ListType::Int => refuse(
            cx,
            codes::LITERAL_TYPE_MISMATCH,
            name.span,
            format!(
                "`{symbol}` takes strings, and `@{}` is an int list",
                name.node
            ),
            "use a string list".to_string(),
        ),
        ListType::Cidr => refuse(
            cx,
            codes::LIST_TYPE_MISMATCH,
            name.span,
            format!(
                "`{symbol}` takes strings, and `@{}` is a cidr list",
                name.node
            ),
            format!("use `in cidr @{}` on an ip field", name.node),
        ),
    })
}

fn glob(cx: &mut RuleCx, glob: &str, file: FileId, span: Span) -> Option<()> {
    match check_glob(glob) {
        Ok(()) => Some(()),
        Err(why) => {
            cx.emit(
                Diagnostic::error(codes::INVALID_GLOB, file, span, format!("invalid glob: {why}"))
                    .with_help("`*` and `?` are wildcards; write `\\*`, `\\?` and `\\\\` for the characters themselves"),
            );
            None
        }
    }
}

/// `matches`: one pattern in the portable subset.
pub(crate) fn regex(cx: &mut RuleCx, operand: &Operand) -> Option<Operation> {
    let Operand::Literal(Spanned {
        node: Literal::String(text),
        span,
    }) = operand
    else {
        return refuse(
            cx,
            codes::LITERAL_TYPE_MISMATCH,
            span_of(operand),
            "`matches` takes one regular expression string".to_string(),
            "write one pattern; use an alternation `a|b` for several".to_string(),
        );
    };
    non_empty(cx, text, *span)?;
    match validate(&text.value) {
        Ok(pattern) => Some(Operation::Regex {
            pattern: pattern.pattern,
            case_insensitive: pattern.case_insensitive,
        }),
        Err(err) => {
            // Offsets in the pattern are offsets in the source only when
            // no escape changed the text: in a raw string.
            let place = match (&err.span, text.raw) {
                (Some(range), true) => {
                    let open = cx.text(*span).find('"').map_or(0, |quote| quote + 1);
                    let start = span.start + open;
                    Span::new(start + range.start, start + range.end)
                }
                _ => *span,
            };
            let (code, message) = match err.kind {
                RegexErrorKind::Invalid => (
                    codes::INVALID_REGEX,
                    format!("invalid regular expression: {}", err.message),
                ),
                RegexErrorKind::Unsupported => (codes::UNSUPPORTED_REGEX, err.message),
            };
            let mut diagnostic = cx.error(code, place, message);
            if let Some(help) = err.help {
                diagnostic = diagnostic.with_help(help);
            }
            cx.emit(diagnostic);
            None
        }
    }
}

/// The operand of a predicate whose field could not be resolved (an unknown
/// field, or a rule without a known source) or does not suit the operator:
/// what does not depend on the
/// field's type is still checked (unknown lists, empty strings and lists,
/// CIDR blocks, globs, regular expressions), so no error waits for a second
/// run; nothing is reported about the type.
pub(crate) fn without_field(cx: &mut RuleCx, op: Operator, operand: &Operand) {
    match op {
        Operator::InCidr | Operator::NotInCidr => {
            blocks(cx, operand);
        }
        Operator::Matches => {
            regex(cx, operand);
        }
        Operator::Contains { .. }
        | Operator::StartsWith { .. }
        | Operator::EndsWith { .. }
        | Operator::Like { .. } => {
            let like = matches!(op, Operator::Like { .. });
            texts(cx, op.symbol(), like, operand);
        }
        Operator::Eq
        | Operator::Ne
        | Operator::In
        | Operator::NotIn
        | Operator::Lt
        | Operator::Le
        | Operator::Gt
        | Operator::Ge => {
            many(
                cx,
                operand,
                |cx, literal| match &literal.node {
                    Literal::String(text) => non_empty(cx, text, literal.span),
                    Literal::Int(_) => Some(()),
                },
                |_, _, _, _| Some(Vec::new()),
            );
        }
    }
}

/// A literal, an inline list (never empty) or an `@list`; every element is
/// checked before the result is decided.
fn many<T>(
    cx: &mut RuleCx,
    operand: &Operand,
    mut one: impl FnMut(&mut RuleCx, &Spanned<Literal>) -> Option<T>,
    from_list: impl FnOnce(&mut RuleCx, &Spanned<String>, &CheckedList, FileId) -> Option<Vec<T>>,
) -> Values<T> {
    match operand {
        Operand::Literal(literal) => Some((vec![one(cx, literal)?], None)),
        Operand::List(items) => {
            if items.is_empty() {
                let diagnostic = cx
                    .error(
                        codes::EMPTY_INLINE_LIST,
                        items.span,
                        "empty list: `[]` holds no value to compare with",
                    )
                    .with_help("add values, or remove the predicate");
                cx.emit(diagnostic);
                return None;
            }
            let values: Vec<Option<T>> = items.iter().map(|literal| one(cx, literal)).collect();
            Some((values.into_iter().collect::<Option<_>>()?, None))
        }
        Operand::ListRef(name) => {
            let lists = cx.scope.lists;
            let Some(list) = lists.get(name) else {
                let mut diagnostic = cx.error(
                    codes::UNKNOWN_LIST,
                    name.span,
                    format!("unknown list `@{}`", name.node),
                );
                if let Some((near, sure)) = nearest_sure(name, lists.names()) {
                    diagnostic = diagnostic
                        .with_help(format!("did you mean `@{near}`?"))
                        .with_fix(Fix::one(
                            sure,
                            format!("use `@{near}`"),
                            name.span,
                            format!("@{near}"),
                        ));
                }
                cx.emit(diagnostic);
                return None;
            };
            // A list that failed to parse or check has its own errors.
            let checked = list.checked.as_ref()?;
            Some((
                from_list(cx, name, checked, list.file)?,
                Some(name.node.clone()),
            ))
        }
    }
}

fn refuse<T>(
    cx: &mut RuleCx,
    code: crate::diag::Code,
    span: Span,
    message: String,
    help: String,
) -> Option<T> {
    let diagnostic = cx.error(code, span, message).with_help(help);
    cx.emit(diagnostic);
    None
}

/// E0503: an empty string in an expression.
fn non_empty(cx: &mut RuleCx, text: &StringLit, span: Span) -> Option<()> {
    if text.value.is_empty() {
        return refuse(
            cx,
            codes::EMPTY_STRING,
            span,
            "empty string in an expression".to_string(),
            "to test for a missing or empty field, write `not exists(field)`".to_string(),
        );
    }
    Some(())
}

/// W0003: an `event.outcome` value outside the usual three.
fn outcome_warning(cx: &mut RuleCx, field: &ir::Field, value: &str, file: FileId, span: Span) {
    if field.path == "event.outcome" && !OUTCOMES.iter().any(|o| o.eq_ignore_ascii_case(value)) {
        cx.emit(
            Diagnostic::warning(
                codes::UNUSUAL_OUTCOME,
                file,
                span,
                format!(
                    "`event.outcome` is usually `success`, `failure` or `unknown`, not `{value}`"
                ),
            )
            .with_help("the reason of an outcome is in `event.reason`"),
        );
    }
}

fn article(ty: ListType) -> &'static str {
    match ty {
        ListType::String => "a string",
        ListType::Int => "an int",
        ListType::Cidr => "a cidr",
    }
}

pub(crate) fn span_of(operand: &Operand) -> Span {
    match operand {
        Operand::Literal(literal) => literal.span,
        Operand::List(list) => list.span,
        Operand::ListRef(name) => name.span,
    }
}
