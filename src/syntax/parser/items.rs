//! The top level: `rule` and `list` items in any order. An item that fails
//! to parse is kept as `Item::Broken` with its name when it was read, and the
//! parse resumes at the next top-level keyword; an item in which a lexical
//! error was reported is also kept as broken, so the checker sees nothing
//! that follows from a value the parser had to make up.

use super::error::{PError, PResult};
use super::{Ctx, Span, commit, into_error};
use crate::syntax::ast::{Ident, Item, ItemKind, ListDecl, RuleDecl};

impl<'a> Ctx<'a> {
    pub(super) fn items(&self, text: &'a str) -> Vec<Item> {
        let mut items = Vec::new();
        let mut input = text;
        loop {
            input = self.ws(input);
            if input.is_empty() {
                return items;
            }
            let kind = if self.keyword("rule")(input).is_ok() {
                ItemKind::Rule
            } else if self.keyword("list")(input).is_ok() {
                ItemKind::List
            } else {
                self.report_error(PError::expected(input, "`rule` or `list`"));
                input = self.resume(input, self.offset(input));
                continue;
            };
            let (rest, item) = self.item(input, kind);
            items.push(item);
            input = rest;
        }
    }

    /// One item from its keyword; never fails.
    fn item(&self, input: &'a str, kind: ItemKind) -> (&'a str, Item) {
        let before = self.diagnostic_count();
        // Both keywords, `rule` and `list`, are four letters long.
        let after_keyword = input.get(4..).unwrap_or("");
        let what = if kind == ItemKind::Rule {
            "a rule name"
        } else {
            "a list name"
        };
        let (rest, name) = match self.name(after_keyword, what) {
            Ok(ok) => ok,
            Err(e) => return self.broken(input, kind, None, into_error(e)),
        };
        let parsed = match kind {
            ItemKind::Rule => self
                .rule(input, rest, name.clone())
                .map(|(r, d)| (r, Item::Rule(d))),
            ItemKind::List => self
                .list(input, rest, name.clone())
                .map(|(r, d)| (r, Item::List(d))),
        };
        match parsed {
            Ok((rest, _)) if !self.only_harmless_since(before) => (
                rest,
                Item::Broken {
                    kind,
                    name: Some(name),
                },
            ),
            Ok(ok) => ok,
            Err(e) => self.broken(input, kind, Some(name), into_error(e)),
        }
    }

    /// Reports the error and skips to where the next item may start.
    fn broken(
        &self,
        start: &'a str,
        kind: ItemKind,
        name: Option<Ident>,
        error: PError,
    ) -> (&'a str, Item) {
        let at = self.text.len().saturating_sub(error.rest_len);
        self.report_error(error);
        (self.resume(start, at), Item::Broken { kind, name })
    }

    /// `rule NAME { ... }`, after the name.
    fn rule(&self, start: &'a str, input: &'a str, name: Ident) -> PResult<'a, RuleDecl> {
        let (rest, (statements, body)) = self.rule_body(input)?;
        let span = Span::new(self.offset(start), body.end);
        Ok((
            rest,
            RuleDecl {
                name,
                statements,
                span,
            },
        ))
    }

    /// `list NAME [: TYPE] = [ ... ]`, after the name.
    fn list(&self, start: &'a str, input: &'a str, name: Ident) -> PResult<'a, ListDecl> {
        let (rest, ty) = match self.punct(":")(input) {
            Ok((after, _)) => {
                let (after, ty) = self.word(after).map_err(|_| {
                    let what = "a list type (`string`, `cidr` or `int`)";
                    nom::Err::Failure(PError::expected(self.ws(after), what))
                })?;
                (after, Some(ty))
            }
            Err(_) => (input, None),
        };
        let (rest, _) = self.punct("=")(rest).map_err(|_| {
            let what = if ty.is_some() { "`=`" } else { "`:` or `=`" };
            nom::Err::Failure(PError::expected(self.ws(rest), what))
        })?;
        let (rest, elements) = commit(self.literal_list(rest, Some(0)))?;
        let span = Span::new(self.offset(start), elements.span.end);
        Ok((
            rest,
            ListDecl {
                name,
                ty,
                elements,
                span,
            },
        ))
    }
}
