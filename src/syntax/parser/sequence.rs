//! `sequence [by F, ...] within D { [N] where EXPR then [N] where EXPR ... }`
//! and `first seen F, ... in D`: the two version 2 detections beside
//! `threshold`. The checker decides counts and step numbers; the grammar
//! only asks for at least one step.

use super::error::{PError, PResult};
use super::{Ctx, Span, commit};
use crate::syntax::ast::{FirstSeen, Grouping, Sequence, SequenceStep, StatementValue};

impl<'a> Ctx<'a> {
    /// The value of a `sequence` statement.
    pub(super) fn sequence(&self, input: &'a str) -> PResult<'a, StatementValue> {
        let (rest, by) = self.by_fields(input)?;
        let (rest, _) = self.keyword("within")(rest).map_err(|_| {
            let what = if by.is_empty() {
                "`by` or `within`"
            } else {
                "`,` or `within`"
            };
            nom::Err::Failure(PError::expected(self.ws(rest), what))
        })?;
        let (rest, within) = commit(self.duration(rest))?;
        let (mut rest, open) = self.punct("{")(rest)
            .map_err(|_| nom::Err::Failure(PError::expected(self.ws(rest), "`{` and the steps")))?;
        let unclosed = |e: nom::Err<PError>| e.map(|e| e.unclosed_at_end(open, '{'));
        let mut steps = Vec::new();
        loop {
            let start = self.offset(self.ws(rest));
            let mut after = rest;
            if !steps.is_empty() {
                let (next, _) = self.keyword("then")(rest).map_err(|_| {
                    nom::Err::Failure(PError::expected(
                        self.ws(rest),
                        "`then`, `and`, `or` or `}`",
                    ))
                })?;
                after = next;
            }
            let (next, step) = commit(self.step(after, start)).map_err(unclosed)?;
            steps.push(step);
            rest = next;
            if let Ok((next, close)) = self.punct("}")(rest) {
                let sequence = Sequence {
                    by,
                    within,
                    steps,
                    block: open.to(close),
                };
                return Ok((next, StatementValue::Sequence(sequence)));
            }
            if self.keyword("then")(rest).is_err() {
                let error = PError::expected(self.ws(rest), "`then`, `and`, `or` or `}`");
                return Err(unclosed(nom::Err::Failure(error)));
            }
        }
    }

    /// `[N] where EXPR`; `start` is where the step (or its `then`) began.
    fn step(&self, input: &'a str, start: usize) -> PResult<'a, SequenceStep> {
        let (rest, count) = match self.integer(input) {
            Ok((rest, count)) => (rest, Some(count)),
            Err(nom::Err::Error(_)) => (input, None),
            Err(other) => return Err(other),
        };
        let (rest, _) = self.keyword("where")(rest).map_err(|_| {
            let what = if count.is_some() {
                "`where`"
            } else {
                "a step: `where CONDITION` or `N where CONDITION`"
            };
            nom::Err::Error(PError::expected(self.ws(rest), what))
        })?;
        let (rest, condition) = commit(self.where_expr(rest))?;
        let span = Span::new(start, condition.span.end);
        Ok((
            rest,
            SequenceStep {
                count,
                condition,
                span,
            },
        ))
    }

    /// The value of a `first` statement (`first` at `first`): `seen F, ... in D`.
    pub(super) fn first_seen(&self, input: &'a str, first: Span) -> PResult<'a, StatementValue> {
        let (rest, seen) = self.keyword("seen")(input).map_err(|_| {
            nom::Err::Error(PError::expected(
                self.ws(input),
                "`seen` (`first seen F in D`)",
            ))
        })?;
        let (mut rest, field) = commit(self.grouping(rest))?;
        let mut fields = vec![field];
        while let Ok((after, _)) = self.punct(",")(rest) {
            let (after, field) = commit(self.grouping(after))?;
            fields.push(field);
            rest = after;
        }
        let (rest, _) = self.keyword("in")(rest)
            .map_err(|_| nom::Err::Failure(PError::expected(self.ws(rest), "`,` or `in`")))?;
        let (rest, horizon) = commit(self.duration(rest))?;
        let first = FirstSeen {
            first,
            seen,
            fields,
            horizon,
        };
        Ok((rest, StatementValue::FirstSeen(first)))
    }

    /// `by F, ...` or nothing.
    pub(super) fn by_fields(&self, input: &'a str) -> PResult<'a, Vec<Grouping>> {
        let mut by = Vec::new();
        let Ok((mut rest, _)) = self.keyword("by")(input) else {
            return Ok((input, by));
        };
        let (after, field) = commit(self.grouping(rest))?;
        by.push(field);
        rest = after;
        while let Ok((after, _)) = self.punct(",")(rest) {
            let (after, field) = commit(self.grouping(after))?;
            by.push(field);
            rest = after;
        }
        Ok((rest, by))
    }
}
