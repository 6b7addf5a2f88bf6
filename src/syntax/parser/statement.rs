//! The statements of a rule: the statement name is read as a word (most
//! statement names are ordinary identifiers) and decides the value's shape.

use super::error::{PError, PResult};
use super::lexical::is_keyword;
use super::operand::Bracket;
use super::{Ctx, Span, Spanned, commit};
use crate::diag::{Diagnostic, Fix, codes, nearest_sure};
use crate::syntax::ast::{
    Aggregate, AlertLine, AlertValue, Comparison, Grouping, Having, PlaybookLine, Statement,
    StatementValue, Threshold, Word,
};

/// Every statement a rule may hold, in the spec's order.
pub const STATEMENTS: &[&str] = &[
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
    "sequence",
    "first",
    "playbook",
    "alert",
    "test",
];

/// The lines of `alert { }`.
pub const ALERT_LINES: &[&str] = &["title", "risk", "threat", "fields", "notable"];

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
            "from" => self.sources(input),
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
            "sequence" => self.sequence(input),
            "first" => self.first_seen(input, keyword.span),
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
        let near = nearest_sure(&keyword.node, STATEMENTS.iter().copied());
        let help = match near {
            Some((near, _)) => format!("did you mean `{near}`?"),
            None => {
                let names: Vec<&str> = STATEMENTS
                    .iter()
                    .map(|s| if *s == "first" { "first seen" } else { s })
                    .collect();
                format!("a rule's statements are: {}", names.join(", "))
            }
        };
        let diagnostic = Diagnostic::error(
            codes::UNKNOWN_STATEMENT,
            self.file,
            keyword.span,
            format!("unknown statement `{}`", keyword.node),
        )
        .with_label("not a statement")
        .with_help(help);
        // `first` alone is half of `first seen`: no one-word replacement.
        let diagnostic = match near {
            Some((near, sure)) if near != "first" => {
                diagnostic.with_fix(Fix::one(sure, format!("use `{near}`"), keyword.span, near))
            }
            _ => diagnostic,
        };
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

    /// `from a` or `from a, b, ...`.
    fn sources(&self, input: &'a str) -> PResult<'a, StatementValue> {
        let what = "a source such as `dns`";
        let (mut rest, first) = self.word_value(input, what)?;
        let StatementValue::Word(first) = first else {
            return Ok((rest, first));
        };
        let mut words = vec![first];
        while let Ok((after, _)) = self.punct(",")(rest) {
            let (after, next) = commit(self.word_value(after, what))?;
            if let StatementValue::Word(next) = next {
                words.push(next);
            }
            rest = after;
        }
        if words.len() == 1 {
            return Ok((rest, StatementValue::Word(words.remove(0))));
        }
        Ok((rest, StatementValue::Words(words)))
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
                let near = nearest_sure(&keyword.node, ALERT_LINES.iter().copied());
                let help = match near {
                    Some((near, _)) => format!("did you mean `{near}`?"),
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
                let diagnostic = match near {
                    Some((near, sure)) => diagnostic.with_fix(Fix::one(
                        sure,
                        format!("use `{near}`"),
                        keyword.span,
                        near,
                    )),
                    None => diagnostic,
                };
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

    /// `AGG [by f, ...] over D [step H] CMP N` (version 1) or
    /// `[by f, ...] over D [step H] having COND`.
    fn threshold(&self, input: &'a str) -> PResult<'a, Threshold> {
        let written = match self.aggregate(input) {
            Ok((rest, aggregate)) => Some((rest, aggregate)),
            Err(nom::Err::Error(_)) => None,
            Err(other) => return Err(other),
        };
        let rest = written.as_ref().map_or(input, |(rest, _)| *rest);
        let (rest, by) = self.by_fields(rest)?;
        let (rest, _) = self.keyword("over")(rest).map_err(|_| {
            let what = match (&written, by.is_empty()) {
                (None, true) => "`count()`, `distinct(field)`, `by` or `over`",
                (Some(_), true) => "`by` or `over`",
                (_, false) => "`,` or `over`",
            };
            nom::Err::Failure(PError::expected(self.ws(rest), what))
        })?;
        let (mut rest, over) = commit(self.duration(rest))?;
        let mut step = None;
        if let Ok((after, _)) = self.keyword("step")(rest) {
            let (after, hop) = commit(self.duration(after))?;
            step = Some(hop);
            rest = after;
        }
        let having = match written {
            Some((_, aggregate)) => {
                let (after, comparison) = commit(self.comparison(rest))?;
                let (after, value) = commit(self.integer(after))?;
                rest = after;
                let span = aggregate.span.to(value.span);
                Spanned::new(
                    Having::Compare {
                        aggregate,
                        comparison,
                        value,
                    },
                    span,
                )
            }
            None => {
                let (after, _) = self.keyword("having")(rest).map_err(|_| {
                    let what = if step.is_some() {
                        "`having`"
                    } else {
                        "`step` or `having`"
                    };
                    nom::Err::Failure(PError::expected(self.ws(rest), what))
                })?;
                let (after, having) = commit(self.having(after, 0))?;
                rest = after;
                having
            }
        };
        let threshold = Threshold {
            by,
            over,
            step,
            having,
        };
        Ok((rest, threshold))
    }

    /// A `by` or `distinct` field, `cased f` or `f`.
    pub(super) fn grouping(&self, input: &'a str) -> PResult<'a, Grouping> {
        let (rest, cased) = match self.keyword("cased")(input) {
            Ok((after, span)) => (after, Some(span)),
            Err(_) => (input, None),
        };
        let (rest, field) = self.field_path(rest)?;
        Ok((rest, Grouping { cased, field }))
    }

    /// A `having` condition: `or` over `and` over `not` over `( cond )` and
    /// `AGG op N`, left associative.
    fn having(&self, input: &'a str, depth: usize) -> PResult<'a, Spanned<Having>> {
        let (mut rest, mut left) = self.having_and(input, depth)?;
        while let Ok((after, _)) = self.keyword("or")(rest) {
            let (after, right) = commit(self.having_and(after, depth))?;
            let span = left.span.to(right.span);
            left = Spanned::new(Having::Or(Box::new(left), Box::new(right)), span);
            rest = after;
        }
        Ok((rest, left))
    }

    fn having_and(&self, input: &'a str, depth: usize) -> PResult<'a, Spanned<Having>> {
        let (mut rest, mut left) = self.having_not(input, depth)?;
        while let Ok((after, _)) = self.keyword("and")(rest) {
            let (after, right) = commit(self.having_not(after, depth))?;
            let span = left.span.to(right.span);
            left = Spanned::new(Having::And(Box::new(left), Box::new(right)), span);
            rest = after;
        }
        Ok((rest, left))
    }

    fn having_not(&self, input: &'a str, depth: usize) -> PResult<'a, Spanned<Having>> {
        if let Ok((after, keyword)) = self.keyword("not")(input) {
            let depth = self.deeper(input, depth, keyword)?;
            let (rest, inner) = commit(self.having_not(after, depth))?;
            let span = keyword.to(inner.span);
            return Ok((rest, Spanned::new(Having::Not(Box::new(inner)), span)));
        }
        if let Ok((after, open)) = self.punct("(")(input) {
            let depth = self.deeper(input, depth, open)?;
            let (after, inner) = commit(self.having(after, depth))
                .map_err(|e| e.map(|e| e.unclosed_at_end(open, '(')))?;
            let (rest, close) = self.punct(")")(after).map_err(|_| {
                let error = PError::expected(self.ws(after), "`and`, `or` or `)`");
                nom::Err::Failure(error.unclosed_at_end(open, '('))
            })?;
            let span = open.to(close);
            return Ok((rest, Spanned::new(Having::Group(Box::new(inner)), span)));
        }
        let (rest, aggregate) = self.aggregate(input).map_err(|e| match e {
            nom::Err::Error(_) => nom::Err::Error(PError::expected(
                self.ws(input),
                "an aggregate comparison such as `count() > 10`",
            )),
            other => other,
        })?;
        let (rest, comparison) = commit(self.comparison(rest))?;
        let (rest, value) = commit(self.integer(rest))?;
        let span = aggregate.span.to(value.span);
        let compare = Having::Compare {
            aggregate,
            comparison,
            value,
        };
        Ok((rest, Spanned::new(compare, span)))
    }

    /// `count()`, or `distinct`, `sum`, `min`, `max` of a field.
    fn aggregate(&self, input: &'a str) -> PResult<'a, Spanned<Aggregate>> {
        let start = self.ws(input);
        if let Ok((after, keyword)) = self.keyword("count")(start) {
            let (after, open) = commit(self.punct("(")(after))?;
            let (rest, close) = self.closing(after, ")", open, '(')?;
            return Ok((rest, Spanned::new(Aggregate::Count, keyword.to(close))));
        }
        if let Ok((after, keyword)) = self.keyword("distinct")(start) {
            let (after, open) = commit(self.punct("(")(after))?;
            let (after, field) = commit(self.grouping(after))
                .map_err(|e| e.map(|e| e.unclosed_at_end(open, '(')))?;
            let (rest, close) = self.closing(after, ")", open, '(')?;
            return Ok((
                rest,
                Spanned::new(Aggregate::Distinct(field), keyword.to(close)),
            ));
        }
        type Make = fn(Spanned<String>) -> Aggregate;
        let functions: [(&'static str, Make); 3] = [
            ("sum", Aggregate::Sum),
            ("min", Aggregate::Min),
            ("max", Aggregate::Max),
        ];
        for (name, make) in functions {
            if let Ok((after, keyword)) = self.keyword(name)(start) {
                let (after, open) = commit(self.punct("(")(after))?;
                let (after, field) = commit(self.field_path(after))
                    .map_err(|e| e.map(|e| e.unclosed_at_end(open, '(')))?;
                let (rest, close) = self.closing(after, ")", open, '(')?;
                return Ok((rest, Spanned::new(make(field), keyword.to(close))));
            }
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

/// Whether `word` starts a statement (so it ends the value before it).
pub(super) fn is_statement(word: &str) -> bool {
    STATEMENTS.contains(&word)
}
