//! `sequence` and `first seen`: the fields are grouping fields (as `by`),
//! each step's condition is checked like `where`, a step counts 1 to
//! 10000 events and a sequence has two steps or more. A rule detects in
//! one way: `threshold`, `sequence` and `first seen` exclude each other.

use crate::diag::codes;
use crate::ir;
use crate::syntax::ast::{self, RuleDecl, StatementValue};

use super::context::RuleCx;
use super::expr::condition;
use super::threshold::grouping;

/// The most events one step may count: a partial sequence holds them.
pub(crate) const MAX_STEP_COUNT: i64 = 10_000;

/// The detection statement a rule has, as written (the first when it has
/// several: the later ones are E0424).
#[derive(Clone, Copy)]
pub(crate) enum Written<'r> {
    Threshold(&'r ast::Threshold),
    Sequence(&'r ast::Sequence),
    FirstSeen(&'r ast::FirstSeen),
}

impl<'r> Written<'r> {
    /// The fields its alerts are grouped by.
    pub fn by(self) -> &'r [ast::Grouping] {
        match self {
            Written::Threshold(t) => &t.by,
            Written::Sequence(s) => &s.by,
            Written::FirstSeen(f) => &f.fields,
        }
    }

    /// The statement as the user says it.
    pub fn name(self) -> &'static str {
        match self {
            Written::Threshold(_) => "threshold",
            Written::Sequence(_) => "sequence",
            Written::FirstSeen(_) => "first seen",
        }
    }

    /// What its grouping fields are called: "a `by` field".
    pub fn field_kind(self) -> &'static str {
        match self {
            Written::FirstSeen(_) => "one of the `first seen` fields",
            _ => "a `by` field",
        }
    }

    pub fn threshold(self) -> Option<&'r ast::Threshold> {
        match self {
            Written::Threshold(t) => Some(t),
            _ => None,
        }
    }
}

/// A detection statement's name as the user says it.
fn name(statement: &ast::Statement) -> &str {
    match statement.value {
        StatementValue::FirstSeen(_) => "first seen",
        _ => statement.keyword.node.as_str(),
    }
}

/// The rule's detection statement; E0424 at each further one.
pub(crate) fn written<'r>(cx: &mut RuleCx, decl: &'r RuleDecl) -> Option<Written<'r>> {
    let mut found: Option<(Written<'r>, &ast::Statement)> = None;
    for statement in &decl.statements {
        let this = match &statement.value {
            StatementValue::Threshold(t) => Written::Threshold(t),
            StatementValue::Sequence(s) => Written::Sequence(s),
            StatementValue::FirstSeen(f) => Written::FirstSeen(f),
            _ => continue,
        };
        let Some((_, first)) = found else {
            found = Some((this, statement));
            continue;
        };
        if first.keyword.node == statement.keyword.node {
            continue; // E0306, reported with the statements.
        }
        let diagnostic = cx
            .error(
                codes::DETECTION_CONFLICT,
                statement.keyword.span,
                format!(
                    "a rule with `{}` cannot also have `{}`",
                    name(first),
                    name(statement)
                ),
            )
            .with_label("a second way to alert")
            .with_secondary(cx.file, first.keyword.span, "the rule detects with this")
            .with_help(
                "a rule alerts on one of: each event, `threshold`, `sequence` or `first seen`; \
                 write a rule for each",
            );
        cx.emit(diagnostic);
    }
    found.map(|(written, _)| written)
}

pub(crate) fn sequence(cx: &mut RuleCx, sequence: &ast::Sequence) -> Option<ir::Sequence> {
    let by: Vec<_> = sequence
        .by
        .iter()
        .map(|g| grouping(cx, g, "sequence by"))
        .collect();
    let steps: Vec<_> = sequence.steps.iter().map(|s| step(cx, s)).collect();
    if sequence.steps.len() < 2 {
        let span = sequence.steps.first().map_or(sequence.block, |s| s.span);
        let diagnostic = cx
            .error(
                codes::ONE_STEP_SEQUENCE,
                span,
                "a sequence needs two steps or more",
            )
            .with_label("the only step")
            .with_help(
                "add a step with `then where ...`; for events of one kind, use \
                 `threshold by ... over D having count() >= N`",
            );
        cx.emit(diagnostic);
        return None;
    }
    let span = sequence
        .by
        .first()
        .map_or(sequence.within.span, |g| g.field.span)
        .to(sequence.block);
    Some(ir::Sequence {
        by: by.into_iter().collect::<Option<_>>()?,
        within: sequence.within.seconds,
        steps: steps.into_iter().collect::<Option<_>>()?,
        span,
    })
}

/// `[N] where EXPR`: N from 1 to `MAX_STEP_COUNT` (E0521).
fn step(cx: &mut RuleCx, step: &ast::SequenceStep) -> Option<ir::Step> {
    let lowered = condition(cx, &step.condition);
    let count = match &step.count {
        None => 1,
        Some(count) if (1..=MAX_STEP_COUNT).contains(&count.node) => count.node,
        Some(count) => {
            let diagnostic = cx
                .error(
                    codes::STEP_COUNT_RANGE,
                    count.span,
                    format!(
                        "a step counts 1 to {MAX_STEP_COUNT} events, not {}",
                        count.node
                    ),
                )
                .with_label("out of range")
                .with_help("write how many events the step needs, or leave the number out for one");
            cx.emit(diagnostic);
            return None;
        }
    };
    Some(ir::Step {
        count: u64::try_from(count).ok()?,
        condition: lowered?,
        span: step.span,
    })
}

pub(crate) fn first_seen(cx: &mut RuleCx, first: &ast::FirstSeen) -> Option<ir::FirstSeen> {
    let fields: Vec<_> = first
        .fields
        .iter()
        .map(|g| grouping(cx, g, "first seen"))
        .collect();
    let span = first.first.to(first.horizon.span);
    Some(ir::FirstSeen {
        fields: fields.into_iter().collect::<Option<_>>()?,
        horizon: first.horizon.seconds,
        span,
    })
}
