//! Test event values in tripline's literal syntax (not JSON): strings with
//! tripline escapes, integers, `true`, `false`, `null`, arrays and objects
//! whose keys are field paths or quoted strings. Each `[` or `{` inside a
//! value is one level of nesting; the braces of `event { }` are not. Nested
//! values are read with an explicit stack, so depth costs no call stack.

use super::error::{PError, PResult};
use super::literal::starts_string;
use super::operand::Bracket;
use super::{Ctx, Span, Spanned, commit};
use crate::syntax::ast::{EventField, EventLit, Value};

/// An array or object whose elements are still being read.
enum Open {
    Array {
        open: Span,
        items: Vec<Spanned<Value>>,
    },
    Object {
        open: Span,
        fields: Vec<EventField>,
        /// The key whose value is being read.
        key: Spanned<String>,
    },
}

impl Open {
    fn opener(&self) -> (Span, char) {
        match self {
            Open::Array { open, .. } => (*open, '['),
            Open::Object { open, .. } => (*open, '{'),
        }
    }
}

impl<'a> Ctx<'a> {
    /// `{ key: value, ... }` of `event`, `repeat` or `expect alert`.
    pub(super) fn event_body(&self, input: &'a str) -> PResult<'a, Spanned<EventLit>> {
        let bracket = Bracket {
            open: '{',
            close: "}",
            element: "a field name",
            depth: None,
        };
        let (rest, (fields, span)) = self.seq(input, &bracket, |i| self.event_field(i))?;
        Ok((rest, Spanned::new(EventLit { fields }, span)))
    }

    /// `key: value` at the top of an event.
    fn event_field(&self, input: &'a str) -> PResult<'a, EventField> {
        let (rest, key) = self.event_key(input)?;
        let (rest, value) = commit(self.value(rest))?;
        Ok((rest, EventField { key, value }))
    }

    /// A field path or a quoted string, and the `:` after it.
    fn event_key(&self, input: &'a str) -> PResult<'a, Spanned<String>> {
        let (rest, key) = if starts_string(self.ws(input)) {
            let (rest, s) = self.string_lit(input)?;
            (rest, s.map(|s| s.value))
        } else {
            self.field_path(input)?
        };
        let (rest, _) = commit(self.punct(":")(rest))?;
        Ok((rest, key))
    }

    /// One value; arrays and objects nest on `stack`, not on the call stack.
    fn value(&self, input: &'a str) -> PResult<'a, Spanned<Value>> {
        let mut stack: Vec<Open> = Vec::new();
        let mut rest = input;
        loop {
            let step = self.value_step(rest, &mut stack);
            let (after, opened) = step.map_err(|e| unclosed(e, &stack))?;
            rest = after;
            let Some(mut value) = opened else {
                continue;
            };
            loop {
                let step = self.after_value(rest, &mut stack, value);
                let (after, next) = step.map_err(|e| unclosed(e, &stack))?;
                rest = after;
                match next {
                    Next::Done(v) => return Ok((rest, v)),
                    Next::Closed(v) => value = v,
                    Next::ReadValue => break,
                }
            }
        }
    }

    /// At a value: opens an array or object (None) or reads a scalar or
    /// an empty `[]` / `{}` (Some).
    fn value_step(
        &self,
        input: &'a str,
        stack: &mut Vec<Open>,
    ) -> PResult<'a, Option<Spanned<Value>>> {
        let start = self.ws(input);
        let depth = stack.len();
        if let Ok((after, open)) = self.punct("[")(start) {
            self.deeper(start, depth, open)?;
            if let Ok((rest, close)) = self.punct("]")(after) {
                return Ok((
                    rest,
                    Some(Spanned::new(Value::Array(Vec::new()), open.to(close))),
                ));
            }
            stack.push(Open::Array {
                open,
                items: Vec::new(),
            });
            return Ok((after, None));
        }
        if let Ok((after, open)) = self.punct("{")(start) {
            self.deeper(start, depth, open)?;
            if let Ok((rest, close)) = self.punct("}")(after) {
                return Ok((
                    rest,
                    Some(Spanned::new(Value::Object(Vec::new()), open.to(close))),
                ));
            }
            let (after, key) = self.object_key(after)?;
            stack.push(Open::Object {
                open,
                fields: Vec::new(),
                key,
            });
            return Ok((after, None));
        }
        let (rest, value) = self.scalar(start)?;
        Ok((rest, Some(value)))
    }

    /// A key inside a nested object, where `}` would also have done.
    fn object_key(&self, input: &'a str) -> PResult<'a, Spanned<String>> {
        match self.event_key(input) {
            Err(nom::Err::Error(e)) if e.rest_len == self.ws(input).len() => Err(
                nom::Err::Failure(PError::expected(self.ws(input), "a field name or `}`")),
            ),
            other => commit(other),
        }
    }

    /// After a complete value inside the innermost open array or object.
    fn after_value(
        &self,
        rest: &'a str,
        stack: &mut Vec<Open>,
        value: Spanned<Value>,
    ) -> PResult<'a, Next> {
        let Some(top) = stack.last_mut() else {
            return Ok((rest, Next::Done(value)));
        };
        let close = match top {
            Open::Array { items, .. } => {
                items.push(value);
                "]"
            }
            Open::Object { fields, key, .. } => {
                let key = std::mem::replace(key, Spanned::new(String::new(), Span::default()));
                fields.push(EventField { key, value });
                "}"
            }
        };
        let (rest, comma) = match self.punct(",")(rest) {
            Ok((after, _)) => (after, true),
            Err(_) => (rest, false),
        };
        if let Ok((after, end)) = self.punct(close)(rest) {
            let closed = match stack.pop() {
                Some(Open::Array { open, items }) => {
                    Spanned::new(Value::Array(items), open.to(end))
                }
                Some(Open::Object { open, fields, .. }) => {
                    Spanned::new(Value::Object(fields), open.to(end))
                }
                None => return Ok((after, Next::ReadValue)),
            };
            return Ok((after, Next::Closed(closed)));
        }
        if !comma {
            let what = if close == "]" {
                "`,` or `]`"
            } else {
                "`,` or `}`"
            };
            return Err(nom::Err::Failure(PError::expected(self.ws(rest), what)));
        }
        if let Some(Open::Object { key, .. }) = stack.last_mut() {
            let (after, next_key) = self.object_key(rest)?;
            *key = next_key;
            return Ok((after, Next::ReadValue));
        }
        Ok((rest, Next::ReadValue))
    }

    /// A string, integer, `true`, `false` or `null`.
    fn scalar(&self, start: &'a str) -> PResult<'a, Spanned<Value>> {
        if starts_string(start) {
            let (rest, s) = self.string_lit(start)?;
            return Ok((rest, s.map(Value::String)));
        }
        for (word, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if let Ok((rest, span)) = self.keyword(word)(start) {
                return Ok((rest, Spanned::new(value, span)));
            }
        }
        match self.integer(start) {
            Ok((rest, n)) => Ok((rest, n.map(Value::Int))),
            Err(nom::Err::Error(e)) if !matches!(e.problem, super::error::Problem::Done(_)) => {
                Err(nom::Err::Error(PError::expected(start, "a value")))
            }
            Err(other) => Err(other),
        }
    }
}

/// What follows a complete value.
enum Next {
    /// The outermost value is complete.
    Done(Spanned<Value>),
    /// A `]` or `}` closed this array or object, itself a complete value.
    Closed(Spanned<Value>),
    /// Another element of the innermost array or object follows.
    ReadValue,
}

/// At the end of the input, the innermost open bracket is what is unclosed.
fn unclosed(error: nom::Err<PError>, stack: &[Open]) -> nom::Err<PError> {
    match stack.last() {
        Some(open) => {
            let (span, open) = open.opener();
            error.map(|e| e.unclosed_at_end(span, open))
        }
        None => error,
    }
}
