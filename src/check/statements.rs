//! A rule's statements by keyword: each at most once (E0306 at the later
//! one), `test` any number of times, and the required ones present (E0307
//! at the rule's name, one diagnostic per missing statement).

use crate::diag::{Fix, codes};
use crate::syntax::Spanned;
use crate::syntax::ast::{
    Duration, RuleDecl, Statement, StatementValue, StringLit, TestBlock, Word,
};

use super::context::RuleCx;

/// The statements a rule must have.
const REQUIRED: [&str; 7] = [
    "title",
    "id",
    "level",
    "attack",
    "description",
    "from",
    "where",
];

pub(crate) struct Statements<'r> {
    first: Vec<&'r Statement>,
    pub tests: Vec<&'r TestBlock>,
}

impl<'r> Statements<'r> {
    pub fn collect(cx: &mut RuleCx, rule: &'r RuleDecl) -> Self {
        let mut statements = Statements {
            first: Vec::new(),
            tests: Vec::new(),
        };
        for statement in &rule.statements {
            if let StatementValue::Test(test) = &statement.value {
                statements.tests.push(test);
            } else if let Some(first) = statements.statement(&statement.keyword) {
                let diagnostic = cx
                    .error(
                        codes::DUPLICATE_STATEMENT,
                        statement.keyword.span,
                        format!("`{}` is given twice", statement.keyword.node),
                    )
                    .with_label("given again here")
                    .with_secondary(cx.file, first.keyword.span, "first given here")
                    .with_help("a rule takes each statement once (only `test` may repeat)");
                cx.emit(diagnostic);
            } else {
                statements.first.push(statement);
            }
        }
        for keyword in REQUIRED {
            if statements.statement(keyword).is_none() {
                let diagnostic = cx.error(
                    codes::MISSING_STATEMENT,
                    rule.name.span,
                    format!("rule `{}` has no `{keyword}`", rule.name.node),
                );
                let diagnostic = if keyword == "id" {
                    statements.fresh_id(cx, rule, diagnostic)
                } else {
                    diagnostic
                        .with_help(format!("add a `{keyword}` statement; every rule needs one"))
                };
                cx.emit(diagnostic);
            }
        }
        statements
    }

    /// A missing `id`: the statement to paste, with a fresh id, and the fix
    /// that inserts it after `title` (or after the rule's `{`). The id is a
    /// UUID v5 of the file's path and whole text and the rule's name: new
    /// for every rule and file content (ids must be unique across packs, so
    /// the name alone would not do), yet the same for the same input, as
    /// all output is.
    fn fresh_id(
        &self,
        cx: &RuleCx,
        rule: &RuleDecl,
        diagnostic: crate::diag::Diagnostic,
    ) -> crate::diag::Diagnostic {
        let source = cx.scope.map.get(cx.file);
        let seed = format!(
            "tripline rule id\0{}\0{}\0{}",
            source.path.display(),
            rule.name.node,
            source.text
        );
        let id = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, seed.as_bytes());
        let line = format!("id \"{id}\"");
        let diagnostic = diagnostic.with_help(format!("add `{line}`; every rule needs an id"));
        let after = match self.statement("title") {
            Some(title) => Some(title.span.end),
            None => {
                let from_name = crate::syntax::Span::new(rule.name.span.end, rule.span.end);
                cx.text(from_name)
                    .find('{')
                    .map(|at| rule.name.span.end + at + 1)
            }
        };
        match after {
            Some(at) => diagnostic.with_fix(Fix::safe(
                "add the `id` statement",
                crate::syntax::Span::at(at),
                format!("\n  {line}"),
            )),
            None => diagnostic,
        }
    }

    pub fn statement(&self, keyword: &str) -> Option<&'r Statement> {
        self.first
            .iter()
            .copied()
            .find(|s| s.keyword.node == keyword)
    }

    pub fn get(&self, keyword: &str) -> Option<&'r StatementValue> {
        self.statement(keyword).map(|s| &s.value)
    }

    pub fn text(&self, keyword: &str) -> Option<&'r Spanned<StringLit>> {
        match self.get(keyword)? {
            StatementValue::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn texts(&self, keyword: &str) -> Option<&'r Spanned<Vec<Spanned<StringLit>>>> {
        match self.get(keyword)? {
            StatementValue::Texts(texts) => Some(texts),
            _ => None,
        }
    }

    pub fn word(&self, keyword: &str) -> Option<&'r Spanned<Word>> {
        match self.get(keyword)? {
            StatementValue::Word(word) => Some(word),
            StatementValue::Words(words) => words.first(),
            _ => None,
        }
    }

    /// The words after the first of `from a, b, ...`.
    pub fn more_words(&self, keyword: &str) -> &'r [Spanned<Word>] {
        match self.get(keyword) {
            Some(StatementValue::Words(words)) => words.get(1..).unwrap_or(&[]),
            _ => &[],
        }
    }

    pub fn duration(&self, keyword: &str) -> Option<&'r Spanned<Duration>> {
        match self.get(keyword)? {
            StatementValue::Duration(duration) => Some(duration),
            _ => None,
        }
    }
}
