//! `where`: fields resolved in the rule's source, operators against field
//! types, and the expression lowered to `ir::Condition` (`!=`, `not in` and
//! `not in cidr` become `Not`, `and`/`or` chains are flattened, groups go).
//! The operands of each operator are checked in `operand`.

use crate::diag::codes;
use crate::ir::{self, Condition, FieldType, Operation, Ordering, TextOp};
use crate::syntax::Spanned;
use crate::syntax::ast::{Expr, Operand, Operator, Predicate};

use super::context::{RuleCx, type_name};
use super::operand;

pub(crate) fn condition(cx: &mut RuleCx, expr: &Spanned<Expr>) -> Option<Condition> {
    match &expr.node {
        Expr::Or(..) => chain(cx, expr, true),
        Expr::And(..) => chain(cx, expr, false),
        Expr::Not(inner) => Some(Condition::Not(Box::new(condition(cx, inner)?))),
        Expr::Group(inner) => condition(cx, inner),
        Expr::Exists(path) => cx.read_field(path).map(Condition::Exists),
        Expr::Predicate(predicate) => self::predicate(cx, predicate),
    }
}

/// A run of `or` (or of `and`) as one flat list. Walked with a stack, not
/// recursion, so a long chain cannot exhaust the stack.
fn chain(cx: &mut RuleCx, expr: &Spanned<Expr>, or: bool) -> Option<Condition> {
    let mut pending = vec![expr];
    let mut parts = Vec::new();
    let mut failed = false;
    while let Some(expr) = pending.pop() {
        match &expr.node {
            Expr::Or(left, right) if or => pending.extend([right.as_ref(), left.as_ref()]),
            Expr::And(left, right) if !or => pending.extend([right.as_ref(), left.as_ref()]),
            _ => match condition(cx, expr) {
                // A group of the same kind, `a and (b and c)`, flattens too.
                Some(Condition::Or(inner)) if or => parts.extend(inner),
                Some(Condition::And(inner)) if !or => parts.extend(inner),
                Some(part) => parts.push(part),
                None => failed = true,
            },
        }
    }
    if failed {
        return None;
    }
    Some(if or {
        Condition::Or(parts)
    } else {
        Condition::And(parts)
    })
}

fn predicate(cx: &mut RuleCx, predicate: &Predicate) -> Option<Condition> {
    let op = predicate.op.node;
    let Some(field) = cx.read_field(&predicate.field) else {
        operand::without_field(cx, op, &predicate.operand);
        return None;
    };
    if field.ty == FieldType::Time {
        let diagnostic = cx
            .error(
                codes::TIMESTAMP_PREDICATE,
                predicate.field.span,
                format!("`{}` can only be tested with `exists()`", field.path),
            )
            .with_help("the time of events is handled by `threshold ... over` and the schedule");
        cx.emit(diagnostic);
        operand::without_field(cx, op, &predicate.operand);
        return None;
    }
    // `len(f)`: f holds text; the comparison is checked as on an `int` field.
    let real = field.clone();
    let mut field = field;
    if let Some(len) = predicate.len {
        if field.ty == FieldType::Int {
            let diagnostic = cx
                .error(
                    codes::LENGTH_OF_INT,
                    predicate.field.span,
                    format!(
                        "`len` counts characters of text, but `{}` is an `int` field",
                        field.path
                    ),
                )
                .with_label("not text")
                .with_help(format!(
                    "compare the number itself: `{} > 60`; `len()` takes a string or `ip` field",
                    field.path
                ));
            cx.emit(diagnostic);
            operand::without_field(cx, op, &predicate.operand);
            return None;
        }
        field.ty = FieldType::Int;
        field.path = format!("len({})", field.path);
        field.span = len;
    }
    if let Some(suits) = suited_types(op).filter(|types| !types.contains(&field.ty)) {
        let needs = suits
            .iter()
            .map(|ty| type_name(*ty))
            .collect::<Vec<_>>()
            .join(" or ");
        let diagnostic = cx
            .error(
                codes::OPERATOR_TYPE_MISMATCH,
                predicate.field.span,
                format!(
                    "`{}` does not work on `{}`, {}",
                    op.symbol(),
                    field.path,
                    type_name(field.ty)
                ),
            )
            .with_help(format!("`{}` needs {needs}", op.symbol()));
        cx.emit(diagnostic);
        operand::without_field(cx, op, &predicate.operand);
        return None;
    }
    if let Some(cased) = predicate.cased {
        let string_op = matches!(
            op,
            Operator::Eq
                | Operator::Ne
                | Operator::In
                | Operator::NotIn
                | Operator::Contains { .. }
                | Operator::StartsWith { .. }
                | Operator::EndsWith { .. }
                | Operator::Like { .. }
        );
        if !string_op || field.ty == FieldType::Int {
            let what = if string_op {
                format!("`{}` is an `int` field", field.path)
            } else {
                format!("`{}` does not ignore case", op.symbol())
            };
            let diagnostic = cx
                .error(
                    codes::CASED_WITHOUT_CASE,
                    cased,
                    format!("`cased` has nothing to make exact here: {what}"),
                )
                .with_label("no case to keep")
                .with_help(
                    "`cased` goes before a string comparison (`==`, `!=`, `in`, `not in`, \
                     `contains`, `startswith`, `endswith`, `like`) on a string or `ip` field; \
                     `matches` is already case-sensitive",
                );
            cx.emit(diagnostic);
            operand::without_field(cx, op, &predicate.operand);
            return None;
        }
        field.cased = true;
    }
    let operation = operation(cx, &field, op, &predicate.operand)?;
    super::lints::cidr_as_text(cx, &field, predicate);
    super::lints::length_always_holds(cx, predicate);
    let span = predicate
        .len
        .unwrap_or(predicate.field.span)
        .to(operand::span_of(&predicate.operand));
    let length = predicate.len.is_some();
    let field = if length {
        ir::Field {
            cased: field.cased,
            ..real
        }
    } else {
        field
    };
    let lowered = Condition::Predicate(ir::Predicate {
        field,
        length,
        operation,
        span,
    });
    Some(match op {
        Operator::Ne | Operator::NotIn | Operator::NotInCidr => Condition::Not(Box::new(lowered)),
        _ => lowered,
    })
}

fn operation(
    cx: &mut RuleCx,
    field: &ir::Field,
    op: Operator,
    operand: &Operand,
) -> Option<Operation> {
    let text = |op, all| (op, all);
    let (text_op, all) = match op {
        Operator::Eq | Operator::Ne | Operator::In | Operator::NotIn => {
            let single = matches!(op, Operator::Eq | Operator::Ne);
            let (values, list) = operand::equals(cx, field, single, op.symbol(), operand)?;
            return Some(Operation::Equals { values, list });
        }
        Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
            let value = operand::integer(cx, field, op.symbol(), operand)?;
            let op = match op {
                Operator::Lt => Ordering::Lt,
                Operator::Le => Ordering::Le,
                Operator::Gt => Ordering::Gt,
                _ => Ordering::Ge,
            };
            return Some(Operation::Compare { op, value });
        }
        Operator::InCidr | Operator::NotInCidr => {
            let (blocks, list) = operand::blocks(cx, operand)?;
            return Some(Operation::Cidr { blocks, list });
        }
        Operator::Matches => return operand::regex(cx, operand),
        Operator::Contains { all } => text(TextOp::Contains, all),
        Operator::StartsWith { all } => text(TextOp::StartsWith, all),
        Operator::EndsWith { all } => text(TextOp::EndsWith, all),
        Operator::Like { all } => text(TextOp::Like, all),
    };
    let (values, list) = operand::texts(cx, op.symbol(), text_op == TextOp::Like, operand)?;
    Some(Operation::Text {
        op: text_op,
        values,
        all,
        list,
    })
}

/// The field types an operator works on; `None` for all of them.
fn suited_types(op: Operator) -> Option<&'static [FieldType]> {
    match op {
        Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => Some(&[FieldType::Int]),
        Operator::InCidr | Operator::NotInCidr => Some(&[FieldType::Ip]),
        Operator::Contains { .. }
        | Operator::StartsWith { .. }
        | Operator::EndsWith { .. }
        | Operator::Like { .. }
        | Operator::Matches => Some(&[FieldType::String, FieldType::Ip]),
        Operator::Eq | Operator::Ne | Operator::In | Operator::NotIn => None,
    }
}
