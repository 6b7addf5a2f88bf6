//! Hover: what the word under the cursor is — a list (its declaration), a
//! field of the rule's sources (type and description), a source after
//! `from`, an ATT&CK technique (name and tactics) or an operator (what it
//! holds for).

use super::analysis::Analysis;
use super::complete::serde_name;
use super::context;
use super::symbols::{self, Kind};
use crate::check::attack::Catalogue;
use crate::syntax::{Span, ast};

/// Markdown for the word at `offset`, and the span it describes.
pub fn hover(analysis: &Analysis, offset: usize) -> Option<(String, Span)> {
    let text = analysis.text();
    if let Some((span, symbol)) = context::symbol_at(text, offset)
        && context::word_at(text, offset).is_none()
    {
        return operator(symbol).map(|doc| (doc, span));
    }
    let (span, word) = context::word_at(text, offset)?;
    let occurrences = symbols::occurrences(&analysis.files);
    if let Some(found) = symbols::at(&occurrences, analysis.file, offset)
        && found.kind == Kind::List
    {
        return list(analysis, &found.name).map(|doc| (doc, span));
    }
    if context::is_technique(word) {
        return technique(word).map(|doc| (doc, span));
    }
    if let Some(doc) = operator(word) {
        return Some((doc, span));
    }
    let line_start = text[..span.start].rfind('\n').map_or(0, |at| at + 1);
    if text[line_start..span.start]
        .trim_start()
        .starts_with("from ")
        && let Some(source) = analysis.taxonomy.source(word)
    {
        let mut doc = format!("source `{}`: {}", source.name, source.description);
        if !source.entity.is_empty() {
            doc.push_str(&format!(
                "\n\nAn alert is about `{}` unless the rule says.",
                source.entity
            ));
        }
        return Some((doc, span));
    }
    field(analysis, word, &context::rule_sources(text, offset)).map(|doc| (doc, span))
}

/// The list's declaration as written (its first lines when long).
fn list(analysis: &Analysis, name: &str) -> Option<String> {
    for (file, parsed) in &analysis.files {
        for item in &parsed.items {
            if let ast::Item::List(decl) = item
                && decl.name.node == name
            {
                let source = analysis.map.get(*file);
                let written = source.slice(decl.span);
                let lines: Vec<&str> = written.lines().collect();
                let shown = if lines.len() > 12 {
                    format!(
                        "{}\n  # ... {} more lines",
                        lines[..10].join("\n"),
                        lines.len() - 10
                    )
                } else {
                    written.to_string()
                };
                let count = decl.elements.node.len();
                let file_name = source
                    .path
                    .file_name()
                    .map_or(String::new(), |n| n.to_string_lossy().into_owned());
                return Some(format!(
                    "```trip\n{shown}\n```\nlist `{name}`: {count} elements, in `{file_name}`"
                ));
            }
        }
    }
    None
}

fn technique(id: &str) -> Option<String> {
    let entry = Catalogue::bundled().technique(id)?;
    let mut doc = format!("**{}** {}", entry.id, entry.name);
    if !entry.tactics.is_empty() {
        doc.push_str(&format!("\n\nTactics: {}", entry.tactics.join(", ")));
    }
    if entry.revoked || entry.deprecated {
        doc.push_str("\n\nRevoked or deprecated in ATT&CK.");
    }
    Some(doc)
}

/// A field of the rule's sources (or of any source when none is known).
fn field(analysis: &Analysis, name: &str, sources: &[String]) -> Option<String> {
    let taxonomy = &analysis.taxonomy;
    let known: Vec<_> = sources.iter().filter_map(|s| taxonomy.source(s)).collect();
    let searched = if known.is_empty() {
        taxonomy.sources().iter().collect()
    } else {
        known
    };
    let (source, field) = searched
        .into_iter()
        .find_map(|source| source.field(name).map(|field| (source, field)))?;
    let mut doc = format!(
        "`{}`: {} (source `{}`)",
        field.name,
        serde_name(&field.ty),
        source.name
    );
    if !field.description.is_empty() {
        doc.push_str(&format!("\n\n{}", field.description));
    }
    Some(doc)
}

/// What each operator and connective holds for.
fn operator(word: &str) -> Option<String> {
    let doc = match word {
        "==" => {
            "`f == v`: equal (strings ignore case unless `cased`; `int` fields compare numbers)"
        }
        "!=" => "`f != v`: exactly `not (f == v)`; holds when the event lacks `f`",
        "<" | "<=" | ">" | ">=" => "numeric comparison, `int` fields only",
        "in" => {
            "`f in [v, ...]`, `f in @list`: equal to any element; `f in cidr ...`: the address is inside a block"
        }
        "cidr" => {
            "`f in cidr [...]` / `@list`: the value is an IPv4 or IPv6 address inside a block"
        }
        "contains" => {
            "`f contains s`: substring (ignoring case unless `cased`); with a list, any element matches"
        }
        "startswith" => {
            "`f startswith s`: prefix (ignoring case unless `cased`); with a list, any element matches"
        }
        "endswith" => {
            "`f endswith s`: suffix (ignoring case unless `cased`); with a list, any element matches"
        }
        "like" => {
            "`f like \"glob\"`: the whole value matches; `*` any run, `?` one character; `\\*` `\\?` `\\\\` literal. SQL's `%` and `_` are literal here"
        }
        "matches" => {
            "`f matches r\"regex\"`: the regex finds a match anywhere (case-sensitive unless it starts with `(?i)`)"
        }
        "all" => {
            "`contains all`, `startswith all`, `endswith all`, `like all`: every element matches, within one value"
        }
        "exists" => "`exists(f)`: the field is present and not null, `\"\"`, `[]` or `{}`",
        "not" => "`not e`: negation; `f not in ...` is the one infix negation",
        "and" => "`a and b`: both hold (binds tighter than `or`)",
        "or" => "`a or b`: either holds (binds loosest)",
        "cased" => "`f cased OP v`: the string comparison is exact in case",
        _ => return None,
    };
    Some(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    /// Hover and completion at every offset of a file with non-ASCII text,
    /// broken and whole, answer without panicking.
    #[test]
    fn hover_and_completion_hold_at_every_offset() {
        let text = "# é𝄞\nlist l = [\"é\"]\nrule r {\n  from dns\n  level hié\n  attack T1590\n  where dns.question.name == \"𝄞\" and x in @l or len(é) >= 3\n  where \"\\é\n}\n";
        let path = Path::new("/nonexistent/r.trip");
        let open = HashMap::from([(PathBuf::from(path), text.to_string())]);
        let analysis = crate::lsp::analysis::analyse(path, &open);
        assert_eq!(analysis.text(), text);
        let mut answered = 0;
        for offset in 0..=text.len() + 2 {
            answered += usize::from(hover(&analysis, offset).is_some());
            let _ = crate::lsp::complete::complete(&analysis, offset);
        }
        assert!(answered > 0);
        let _ = crate::lsp::tokens::encode(text);
    }
}
