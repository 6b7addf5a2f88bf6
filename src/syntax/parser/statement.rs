//! The statements of a rule: the statement name is read as a word (most
//! statement names are ordinary identifiers) and decides the value's shape.

use super::error::{PError, PResult};
use super::lexical::is_keyword;
use super::operand::Bracket;
use super::{Ctx, Span, Spanned, commit};
use crate::diag::{Diagnostic, codes, nearest};
use crate::syntax::ast::{
    Aggregate, AlertLine, AlertValue, Comparison, PlaybookLine, Statement, StatementValue,
    Threshold, Word,
};

/// Every statement a rule may hold, in the spec's order.
const STATEMENTS: &[&str] = &[
    "title",
    "id",
    "status",
    "level",
    "attack",
    "author",
    "date",
    "modified",
    "version",
    "description",
    "references",
    "falsepositives",
    "tags",
    "every",
    "lookback",
    "delay",
    "from",
    "where",
    "threshold",
    "playbook",
    "alert",
    "test",
];

/// The lines of `alert { }`.
pub(super) const ALERT_LINES: &[&str] = &["title", "risk", "threat", "fields", "notable"];

impl<'a> Ctx<'a> {
    /// `{ statement* }` of a rule.
    pub(super) fn rule_body(&self, input: &'a str) -> PResult<'a, (Vec<Statement>, Span)> {
        let (mut rest, open) = commit(self.punct("{")(input))?;
        let mut statements = Vec::new();
        loop {
            if let Ok((after, close)) = self.punct("}")(rest) {
                return Ok((after, (statements, open.to(close))));
            }
            let (after, statement) = self
                .statement(rest)
                .map_err(|e| e.map(|e| e.unclosed_at_end(open, '{')))?;
            statements.push(statement);
            rest = after;
        }
    }

    fn statement(&self, input: &'a str) -> PResult<'a, Statement> {
        let start = self.ws(input);
        let keyword = match self.word(start) {
            // A reserved word that names no statement (`rule`, `and`, ...)
            // more likely means a missing `}` or a broken expression.
            Ok((_, word))
                if is_keyword(&word.node) && !STATEMENTS.contains(&word.node.as_str()) =>
            {
                None
            }
            Ok(found) => Some(found),
            Err(_) => None,
        };
        let Some((rest, keyword)) = keyword else {
            return self.fail(PError::expected(start, "a statement or `}`"));
        };
        let (rest, value) = commit(self.statement_value(rest, &keyword))?;
        let span = keyword.span.to(Span::at(self.offset(rest)));
        Ok((
            rest,
            Statement {
                keyword,
                value,
                span,
            },
        ))
    }

    fn statement_value(
        &self,
        input: &'a str,
        keyword: &Spanned<String>,
    ) -> PResult<'a, StatementValue> {
        use StatementValue as V;
        match keyword.node.as_str() {
            "title" | "id" | "author" | "date" | "modified" | "version" | "description" => {
                let (rest, text) = self.string_lit(input)?;
                Ok((rest, V::Text(text)))
            }
            "status" => self.word_value(input, "a status such as `stable`"),
            "level" => self.word_value(input, "a level such as `high`"),
            "from" => self.word_value(input, "a source such as `dns`"),
            "attack" => self.techniques(input),
            "references" | "falsepositives" | "tags" => self.texts(input),
            "every" | "lookback" | "delay" => {
                let (rest, duration) = self.duration(input)?;
                Ok((rest, V::Duration(duration)))
            }
            "where" => {
                let (rest, expr) = self.where_expr(input)?;
                Ok((rest, V::Where(expr)))
            }
            "threshold" => {
                let (rest, threshold) = self.threshold(input)?;
                Ok((rest, V::Threshold(threshold)))
            }
            "playbook" => self.playbook(input),
            "alert" => self.alert(input),
            "test" => {
                let (rest, test) = self.test_block(input)?;
                Ok((rest, V::Test(test)))
            }
            _ => self.fail(self.unknown_statement(input, keyword)),
        }
    }

    fn unknown_statement(&self, input: &'a str, keyword: &Spanned<String>) -> PError {
        let help = match nearest(&keyword.node, STATEMENTS.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("a rule's statements are: {}", STATEMENTS.join(", ")),
        };
        let diagnostic = Diagnostic::error(
            codes::UNKNOWN_STATEMENT,
            self.file,
            keyword.span,
            format!("unknown statement `{}`", keyword.node),
        )
        .with_label("not a statement")
        .with_help(help);
        PError::done(input, diagnostic)
    }

    /// `status`, `level`, `from`: a bare word, or a quoted one for the checker.
    fn word_value(&self, input: &'a str, what: &'static str) -> PResult<'a, StatementValue> {
        let start = self.ws(input);
        if super::literal::starts_string(start) {
            let (rest, text) = self.string_lit(start)?;
            let word = text.map(|s| Word::Quoted(s.value));
            return Ok((rest, StatementValue::Word(word)));
        }
        match self.word(start) {
            Ok((rest, word)) => Ok((rest, StatementValue::Word(word.map(Word::Bare)))),
            Err(_) => Err(nom::Err::Error(PError::expected(start, what))),
        }
    }

    /// `attack T1590.002` or `attack [T1590, T1589]`.
    fn techniques(&self, input: &'a str) -> PResult<'a, StatementValue> {
        let start = self.ws(input);
        if start.starts_with('[') {
            let bracket = Bracket {
                open: '[',
                close: "]",
                element: "a technique id",
                depth: None,
            };
            let (rest, (ids, span)) = self.seq(start, &bracket, |i| self.technique(i))?;
            return Ok((rest, StatementValue::Techniques(Spanned::new(ids, span))));
        }
        let (rest, id) = self.technique(start)?;
        let span = id.span;
        Ok((
            rest,
            StatementValue::Techniques(Spanned::new(vec![id], span)),
        ))
    }

    /// `["text", ...]`.
    fn texts(&self, input: &'a str) -> PResult<'a, StatementValue> {
        let start = self.ws(input);
        if !start.starts_with('[') {
            return Err(nom::Err::Error(PError::expected(
                start,
                "a list of strings `[\"...\"]`",
            )));
        }
        let bracket = Bracket {
            open: '[',
            close: "]",
            element: "a string",
            depth: None,
        };
        let (rest, (texts, span)) = self.seq(start, &bracket, |i| self.string_lit(i))?;
        Ok((rest, StatementValue::Texts(Spanned::new(texts, span))))
    }

    /// `playbook { key "text" ... }` (no commas).
    fn playbook(&self, input: &'a str) -> PResult<'a, StatementValue> {
        let (mut rest, open) = self.punct("{")(input)?;
        let mut lines = Vec::new();
        loop {
            if let Ok((after, close)) = self.punct("}")(rest) {
                let span = open.to(close);
                return Ok((after, StatementValue::Playbook(Spanned::new(lines, span))));
            }
            let unclosed = |e: nom::Err<PError>| e.map(|e| e.unclosed_at_end(open, '{'));
            let Ok((after, key)) = self.word(rest) else {
                let what = "a playbook line such as `triage \"...\"`, or `}`";
                return Err(unclosed(nom::Err::Failure(PError::expected(
                    self.ws(rest),
                    what,
                ))));
            };
            let (after, text) = commit(self.string_lit(after)).map_err(unclosed)?;
            lines.push(PlaybookLine { key, text });
            rest = after;
        }
    }

    /// `alert { line* }`: `title "..."`, `risk F TYPE SCORE`, `threat F
    /// TYPE`, `fields [F, ...]`, `notable [true|false]` (no commas).
    fn alert(&self, input: &'a str) -> PResult<'a, StatementValue> {
        let (mut rest, open) = self.punct("{")(input)?;
        let mut lines = Vec::new();
        loop {
            if let Ok((after, close)) = self.punct("}")(rest) {
                let span = open.to(close);
                return Ok((after, StatementValue::Alert(Spanned::new(lines, span))));
            }
            let unclosed = |e: nom::Err<PError>| e.map(|e| e.unclosed_at_end(open, '{'));
            let Ok((after, keyword)) = self.word(rest) else {
                let what = "an alert line such as `title \"...\"`, or `}`";
                return Err(unclosed(nom::Err::Failure(PError::expected(
                    self.ws(rest),
                    what,
                ))));
            };
            let (after, value) = commit(self.alert_value(after, &keyword)).map_err(unclosed)?;
            let span = keyword.span.to(Span::at(self.offset(after)));
            lines.push(AlertLine {
                keyword,
                value,
                span,
            });
            rest = after;
        }
    }

    fn alert_value(&self, input: &'a str, keyword: &Spanned<String>) -> PResult<'a, AlertValue> {
        match keyword.node.as_str() {
            "title" => {
                let (rest, text) = self.string_lit(input)?;
                Ok((rest, AlertValue::Title(text)))
            }
            "risk" => {
                let (rest, field) = self.field_path(input)?;
                let (rest, kind) = commit(
                    self.alert_word(rest, "a risk object type: `system`, `user` or `other`"),
                )?;
                let (rest, score) = commit(self.integer(rest))?;
                Ok((rest, AlertValue::Risk { field, kind, score }))
            }
            "threat" => {
                let (rest, field) = self.field_path(input)?;
                let (rest, kind) =
                    commit(self.alert_word(rest, "a threat object type such as `ip_address`"))?;
                Ok((rest, AlertValue::Threat { field, kind }))
            }
            "fields" => {
                let start = self.ws(input);
                let bracket = Bracket {
                    open: '[',
                    close: "]",
                    element: "a field",
                    depth: None,
                };
                if !start.starts_with('[') {
                    return Err(nom::Err::Error(PError::expected(
                        start,
                        "a list of fields `[a.b, c.d]`",
                    )));
                }
                let (rest, (fields, span)) = self.seq(start, &bracket, |i| self.field_path(i))?;
                Ok((rest, AlertValue::Fields(Spanned::new(fields, span))))
            }
            "notable" => {
                for word in ["true", "false"] {
                    if let Ok((rest, span)) = self.keyword(word)(input) {
                        let ident = Spanned::new(word.to_string(), span);
                        return Ok((rest, AlertValue::Notable(Some(ident))));
                    }
                }
                Ok((input, AlertValue::Notable(None)))
            }
            _ => {
                let help = match nearest(&keyword.node, ALERT_LINES.iter().copied()) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("an `alert` block holds: {}", ALERT_LINES.join(", ")),
                };
                let diagnostic = Diagnostic::error(
                    codes::UNKNOWN_STATEMENT,
                    self.file,
                    keyword.span,
                    format!("unknown alert line `{}`", keyword.node),
                )
                .with_label("not an alert line")
                .with_help(help);
                self.fail(PError::done(input, diagnostic))
            }
        }
    }

    /// The type word of `risk` / `threat`.
    fn alert_word(&self, input: &'a str, what: &'static str) -> PResult<'a, Spanned<String>> {
        let start = self.ws(input);
        self.word(start)
            .map_err(|_| nom::Err::Error(PError::expected(start, what)))
    }

    /// `count() [by f, ...] over D CMP N` or with `distinct(f)`.
    fn threshold(&self, input: &'a str) -> PResult<'a, Threshold> {
        let (rest, aggregate) = self.aggregate(input)?;
        let (mut rest, mut by) = (rest, Vec::new());
        if let Ok((after, _)) = self.keyword("by")(rest) {
            let (after, field) = commit(self.field_path(after))?;
            by.push(field);
            rest = after;
            while let Ok((after, _)) = self.punct(",")(rest) {
                let (after, field) = commit(self.field_path(after))?;
                by.push(field);
                rest = after;
            }
        }
        let (rest, _) = self.keyword("over")(rest).map_err(|_| {
            let what = if by.is_empty() {
                "`by` or `over`"
            } else {
                "`,` or `over`"
            };
            nom::Err::Failure(PError::expected(self.ws(rest), what))
        })?;
        let (rest, over) = commit(self.duration(rest))?;
        let (rest, comparison) = commit(self.comparison(rest))?;
        let (rest, value) = commit(self.integer(rest))?;
        let threshold = Threshold {
            aggregate,
            by,
            over,
            comparison,
            value,
        };
        Ok((rest, threshold))
    }

    fn aggregate(&self, input: &'a str) -> PResult<'a, Spanned<Aggregate>> {
        let start = self.ws(input);
        if let Ok((after, keyword)) = self.keyword("count")(start) {
            let (after, open) = commit(self.punct("(")(after))?;
            let (rest, close) = self.closing(after, ")", open, '(')?;
            return Ok((rest, Spanned::new(Aggregate::Count, keyword.to(close))));
        }
        if let Ok((after, keyword)) = self.keyword("distinct")(start) {
            let (after, open) = commit(self.punct("(")(after))?;
            let (after, field) = commit(self.field_path(after))
                .map_err(|e| e.map(|e| e.unclosed_at_end(open, '(')))?;
            let (rest, close) = self.closing(after, ")", open, '(')?;
            return Ok((
                rest,
                Spanned::new(Aggregate::Distinct(field), keyword.to(close)),
            ));
        }
        Err(nom::Err::Error(PError::expected(
            start,
            "`count()` or `distinct(field)`",
        )))
    }

    fn comparison(&self, input: &'a str) -> PResult<'a, Spanned<Comparison>> {
        for (symbol, comparison) in [
            (">=", Comparison::Ge),
            (">", Comparison::Gt),
            ("==", Comparison::Eq),
            ("<=", Comparison::Le),
            ("<", Comparison::Lt),
        ] {
            if let Ok((rest, span)) = self.punct(symbol)(input) {
                return Ok((rest, Spanned::new(comparison, span)));
            }
        }
        Err(nom::Err::Error(PError::expected(
            self.ws(input),
            "a comparison (`>`, `>=`, `==`, `<`, `<=`)",
        )))
    }
}
