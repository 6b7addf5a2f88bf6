//! The names a pack declares and where they are used: lists (`list NAME`,
//! `@NAME`) and rules (`rule NAME`). Go-to-definition, find-references,
//! rename and hover all start from `at`, the name under the cursor.

use crate::source::FileId;
use crate::syntax::ast::{Expr, Item, Operand, StatementValue};
use crate::syntax::{Span, Spanned, ast};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    List,
    Rule,
}

/// One occurrence of a name; `span` covers the name only (not the `@`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub kind: Kind,
    pub name: String,
    pub file: FileId,
    pub span: Span,
    pub declaration: bool,
}

/// Every declaration and use of a list or rule name in `files`, in file
/// order and then written order.
pub fn occurrences(files: &[(FileId, ast::File)]) -> Vec<Occurrence> {
    let mut found = Vec::new();
    for (file, parsed) in files {
        for item in &parsed.items {
            match item {
                Item::List(list) => found.push(declared(Kind::List, *file, &list.name)),
                Item::Rule(rule) => {
                    found.push(declared(Kind::Rule, *file, &rule.name));
                    for statement in &rule.statements {
                        for expr in conditions(&statement.value) {
                            list_refs(expr, *file, &mut found);
                        }
                    }
                }
                Item::Broken {
                    kind,
                    name: Some(name),
                } => {
                    let kind = match kind {
                        ast::ItemKind::List => Kind::List,
                        ast::ItemKind::Rule => Kind::Rule,
                    };
                    found.push(declared(kind, *file, name));
                }
                Item::Broken { name: None, .. } => {}
            }
        }
    }
    found
}

/// The occurrence under byte `offset` of `file`, if any.
pub fn at(occurrences: &[Occurrence], file: FileId, offset: usize) -> Option<&Occurrence> {
    occurrences
        .iter()
        .find(|o| o.file == file && o.span.start <= offset && offset <= o.span.end)
}

/// Every occurrence of the same name and kind as `of`.
pub fn same<'o>(occurrences: &'o [Occurrence], of: &Occurrence) -> Vec<&'o Occurrence> {
    occurrences
        .iter()
        .filter(|o| o.kind == of.kind && o.name == of.name)
        .collect()
}

fn declared(kind: Kind, file: FileId, name: &Spanned<String>) -> Occurrence {
    Occurrence {
        kind,
        name: name.node.clone(),
        file,
        span: name.span,
        declaration: true,
    }
}

/// The conditions a statement holds (`where`, each step of `sequence`).
fn conditions(value: &StatementValue) -> Vec<&Spanned<Expr>> {
    match value {
        StatementValue::Where(expr) => vec![expr],
        StatementValue::Sequence(sequence) => {
            sequence.steps.iter().map(|step| &step.condition).collect()
        }
        _ => Vec::new(),
    }
}

fn list_refs(expr: &Spanned<Expr>, file: FileId, found: &mut Vec<Occurrence>) {
    match &expr.node {
        Expr::Or(a, b) | Expr::And(a, b) => {
            list_refs(a, file, found);
            list_refs(b, file, found);
        }
        Expr::Not(inner) | Expr::Group(inner) => list_refs(inner, file, found),
        Expr::Exists(_) => {}
        Expr::Predicate(predicate) => {
            if let Operand::ListRef(name) = &predicate.operand {
                // The span covers the `@`; the name is what follows it.
                let start = name
                    .span
                    .end
                    .saturating_sub(name.node.len())
                    .max(name.span.start);
                found.push(Occurrence {
                    kind: Kind::List,
                    name: name.node.clone(),
                    file,
                    span: Span::new(start, name.span.end),
                    declaration: false,
                });
            }
        }
    }
}

/// Whether `name` may name a list or rule: letters, digits and `_`, not
/// starting with a digit, and not a reserved word.
pub fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !crate::syntax::KEYWORDS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_found_where_declared_and_where_used() {
        let text = "list bad = [\"a\"]\nrule r {\n  from dns\n  where query.name in @bad or not query.name in @bad\n}\n";
        let (parsed, _) = crate::syntax::parse(FileId(0), text);
        let all = occurrences(&[(FileId(0), parsed)]);
        let lists: Vec<&str> = all
            .iter()
            .filter(|o| o.kind == Kind::List)
            .map(|o| &text[o.span.range()])
            .collect();
        assert_eq!(lists, ["bad", "bad", "bad"]);
        let use_at = text.rfind("@bad").unwrap_or_default() + 2;
        let found = at(&all, FileId(0), use_at).map(|o| (o.kind, o.declaration));
        assert_eq!(found, Some((Kind::List, false)));
        assert!(is_name("new_name2") && !is_name("2x") && !is_name("where") && !is_name("a-b"));
    }
}
