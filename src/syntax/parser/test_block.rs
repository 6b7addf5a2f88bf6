//! `test "NAME" { ... }`: events (`event`, `repeat`, `events`) and
//! expectations, in any order.

use super::error::{PError, PResult};
use super::{Ctx, Span, Spanned, commit};
use crate::syntax::ast::{Expectation, TestBlock, TestItem};

impl<'a> Ctx<'a> {
    /// After the `test` keyword: the name and the block.
    pub(super) fn test_block(&self, input: &'a str) -> PResult<'a, TestBlock> {
        let (rest, name) = self.string_lit(input).map_err(|e| match e {
            nom::Err::Error(e) if e.rest_len == self.ws(input).len() => {
                nom::Err::Error(PError::expected(self.ws(input), "a test name string"))
            }
            other => other,
        })?;
        let (mut rest, open) = commit(self.punct("{")(rest))?;
        let mut body = Vec::new();
        loop {
            if let Ok((after, _)) = self.punct("}")(rest) {
                return Ok((after, TestBlock { name, body }));
            }
            let (after, item) = self
                .test_item(rest)
                .map_err(|e| e.map(|e| e.unclosed_at_end(open, '{')))?;
            body.push(item);
            rest = after;
        }
    }

    fn test_item(&self, input: &'a str) -> PResult<'a, TestItem> {
        let start = self.ws(input);
        if let Ok((after, keyword)) = self.keyword("event")(start) {
            let (rest, event) = commit(self.event_body(after))?;
            let span = keyword.to(event.span);
            return Ok((rest, TestItem::Event(Spanned::new(event.node, span))));
        }
        if let Ok((after, keyword)) = self.keyword("repeat")(start) {
            return commit(self.repeat(after, keyword));
        }
        if let Ok((after, _)) = self.keyword("events")(start) {
            let (rest, path) = commit(self.string_lit(after))?;
            return Ok((rest, TestItem::Events(path)));
        }
        if let Ok((after, keyword)) = self.keyword("expect")(start) {
            let (rest, expectation) = commit(self.expectation(after))?;
            let span = keyword.to(Span::at(self.offset(rest)));
            return Ok((rest, TestItem::Expect(Spanned::new(expectation, span))));
        }
        self.fail(PError::expected(
            start,
            "`event`, `repeat`, `events`, `expect` or `}`",
        ))
    }

    /// `repeat N every D { ... }`, after `repeat`.
    fn repeat(&self, input: &'a str, keyword: Span) -> PResult<'a, TestItem> {
        let (rest, count) = self.integer(input)?;
        let (rest, _) = self.keyword("every")(rest)?;
        let (rest, every) = self.duration(rest)?;
        let (rest, event) = self.event_body(rest)?;
        let span = keyword.to(event.span);
        Ok((
            rest,
            TestItem::Repeat {
                count,
                every,
                event,
                span,
            },
        ))
    }

    /// After `expect`: `match`, `nomatch`, `alert N` or `alert { ... }`.
    fn expectation(&self, input: &'a str) -> PResult<'a, Expectation> {
        let start = self.ws(input);
        if let Ok((rest, _)) = self.keyword("match")(start) {
            return Ok((rest, Expectation::Match));
        }
        if let Ok((rest, _)) = self.keyword("nomatch")(start) {
            return Ok((rest, Expectation::NoMatch));
        }
        let Ok((after, _)) = self.keyword("alert")(start) else {
            return Err(nom::Err::Error(PError::expected(
                start,
                "`match`, `nomatch` or `alert`",
            )));
        };
        let after = self.ws(after);
        if after.starts_with('{') {
            let (rest, event) = commit(self.event_body(after))?;
            return Ok((rest, Expectation::Alert(event.node.fields)));
        }
        match self.integer(after) {
            Ok((rest, count)) => Ok((rest, Expectation::AlertCount(count))),
            Err(nom::Err::Error(_)) => {
                self.fail(PError::expected(after, "a number of alerts or `{`"))
            }
            Err(other) => Err(other),
        }
    }
}
