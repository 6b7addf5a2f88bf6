//! What several targets need alike: globs cut into pieces, the field
//! mapping lookup that refuses an unmapped field, and rule-level facts.

use crate::diag::{Diagnostic, codes};
use crate::ir;

use super::Input;

/// One piece of a `like` glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GlobPiece {
    /// Characters that stand for themselves (escapes resolved).
    Literal(String),
    /// `*`: any run of characters, also empty, newlines included.
    AnyRun,
    /// `?`: exactly one character.
    AnyOne,
}

/// Cuts a checked glob (`\*` `\?` `\\` are its only escapes) into pieces.
pub fn glob_pieces(glob: &str) -> Vec<GlobPiece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        let piece = match c {
            '*' => GlobPiece::AnyRun,
            '?' => GlobPiece::AnyOne,
            '\\' => {
                literal.extend(chars.next());
                continue;
            }
            c => {
                literal.push(c);
                continue;
            }
        };
        if !literal.is_empty() {
            pieces.push(GlobPiece::Literal(std::mem::take(&mut literal)));
        }
        pieces.push(piece);
    }
    if !literal.is_empty() {
        pieces.push(GlobPiece::Literal(literal));
    }
    pieces
}

/// The SIEM's name for `field` in `rule`'s source, or a refusal naming the
/// field and the mapping that leaves it out.
pub fn mapped_field<'a>(
    input: &'a Input,
    target: &str,
    rule: &ir::Rule,
    field: &ir::Field,
) -> Result<&'a str, Diagnostic> {
    input
        .mapping
        .field(&rule.source, &field.path)
        .ok_or_else(|| {
            Diagnostic::error(
                codes::UNMAPPED_FIELD,
                rule.file,
                field.span,
                format!(
                    "{target}: mapping `{}` has no name for field `{}` of source `{}`",
                    input.mapping_name, field.path, rule.source
                ),
            )
            .with_label("not mapped")
            .with_help(format!(
                "name the field in targets/{target}/mappings/{}.yaml or in a taxonomy extension \
                 (`targets: {{{target}: {{fields: ...}}}}`, docs/taxonomy.md), or pick another --mapping",
                input.mapping_name
            ))
        })
}

/// A refusal: `target` cannot express `construct` exactly.
pub fn refusal(
    target: &str,
    rule: &ir::Rule,
    span: crate::syntax::Span,
    construct: &str,
    help: &str,
) -> Diagnostic {
    Diagnostic::error(
        codes::TARGET_REFUSED,
        rule.file,
        span,
        format!(
            "{target} cannot express {construct} exactly; rule `{}` is refused for {target}",
            rule.name
        ),
    )
    .with_label(format!("not expressible in {target}"))
    .with_help(help.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use GlobPiece::*;

    #[test]
    fn glob_escapes_become_literals() {
        assert_eq!(
            glob_pieces(r"a*b?\*\?\\c"),
            vec![
                Literal("a".into()),
                AnyRun,
                Literal("b".into()),
                AnyOne,
                Literal(r"*?\c".into())
            ]
        );
        assert_eq!(glob_pieces("*"), vec![AnyRun]);
    }
}
