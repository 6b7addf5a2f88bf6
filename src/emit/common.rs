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
                "name the field in {} or in a taxonomy extension \
                 (`targets: {{{target}: {{fields: ...}}}}`, docs/taxonomy.md), or pick another --mapping",
                input
                    .folder
                    .display_path(&format!("mappings/{}.yaml", input.mapping_name))
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

/// Refusals, at each construct's span, for the version 2 constructs that
/// `target` does not write yet (language.md "Version 2"): `cased`
/// comparisons and grouping, hopping windows, and a condition that is not
/// one comparison of `count()` or `distinct(f)`. Every target calls this
/// first; empty for version 1 rules.
pub fn version2_refusals(target: &str, rule: &ir::Rule) -> Vec<Diagnostic> {
    version2_refusals_except(target, rule, Written::default())
}

/// The version 2 constructs a target writes itself (through its query
/// dialect, `emit::query::Dialect::equals_cased`, `text_cased` and
/// `length`, or in its own aggregation), or refuses itself with its own
/// reason, so that `version2_refusals_except` leaves them to it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Written {
    /// `cased ==`, `!=`, `in`, `not in`.
    pub cased_equals: bool,
    /// `len(f)` compared.
    pub length: bool,
    /// `cased contains`, `startswith`, `endswith`, `like`
    /// (`emit::query::Dialect::text_cased`).
    pub cased_text: bool,
    /// `by cased f` and `distinct(cased f)`.
    pub cased_grouping: bool,
    /// A `having` condition over several aggregates, `sum`, `min`, `max`.
    pub having: bool,
    /// Hopping windows (`over W step H`).
    pub step: bool,
    /// `from a, b`.
    pub sources: bool,
    /// `sequence` and `first seen`.
    pub detection: bool,
}

/// `version2_refusals` without the constructs in `written`.
pub fn version2_refusals_except(
    target: &str,
    rule: &ir::Rule,
    written: Written,
) -> Vec<Diagnostic> {
    let mut refusals = Vec::new();
    let help = format!("not yet written for {target}");
    if !rule.more_sources.is_empty() && !written.sources {
        refusals.push(refusal(
            target,
            rule,
            rule.span,
            &format!(
                "a rule over several sources (`from {}, {}`)",
                rule.source,
                rule.more_sources.join(", ")
            ),
            &help,
        ));
    }
    let mut cased = Vec::new();
    cased_predicates(&rule.condition, written, &mut cased);
    for span in cased {
        refusals.push(refusal(
            target,
            rule,
            span,
            "a case-sensitive comparison (`cased`)",
            &help,
        ));
    }
    let mut lengths = Vec::new();
    length_predicates(&rule.condition, &mut lengths);
    for span in lengths.into_iter().filter(|_| !written.length) {
        refusals.push(refusal(
            target,
            rule,
            span,
            "the length of a value (`len()`)",
            &help,
        ));
    }
    match &rule.detection {
        _ if written.detection => {}
        ir::Detection::Sequence(sequence) => refusals.push(refusal(
            target,
            rule,
            sequence.span,
            "a sequence (`sequence ... then ...`)",
            &help,
        )),
        ir::Detection::FirstSeen(first) => refusals.push(refusal(
            target,
            rule,
            first.span,
            "a first-seen baseline (`first seen ... in ...`)",
            &help,
        )),
        ir::Detection::Match | ir::Detection::Aggregation(_) => {}
    }
    let Some(threshold) = rule.threshold() else {
        return refusals;
    };
    let distinct = threshold.aggregates().into_iter().filter_map(|a| match a {
        ir::Aggregate::Distinct(field) => Some(field),
        _ => None,
    });
    for field in threshold.by.iter().chain(distinct) {
        if field.cased && !written.cased_grouping {
            refusals.push(refusal(
                target,
                rule,
                field.span,
                "grouping or counting by exact text (`cased`)",
                &help,
            ));
        }
    }
    if threshold.step.is_some() && !written.step {
        refusals.push(refusal(
            target,
            rule,
            threshold.step_span,
            "hopping windows (`over W step H`)",
            &help,
        ));
    }
    let single = matches!(
        &threshold.having,
        ir::Having::Compare {
            aggregate: ir::Aggregate::Count | ir::Aggregate::Distinct(_),
            ..
        }
    );
    if !single && !written.having {
        refusals.push(refusal(
            target,
            rule,
            having_span(&threshold.having),
            "a `having` condition over several aggregates or `sum`/`min`/`max`",
            &help,
        ));
    }
    refusals
}

/// The taxonomy paths of every field a rule's query reads (its condition,
/// `by` fields and aggregates), in written order, possibly repeated.
pub fn fields_read(rule: &ir::Rule) -> Vec<String> {
    fn walk(condition: &ir::Condition, out: &mut Vec<String>) {
        match condition {
            ir::Condition::And(parts) | ir::Condition::Or(parts) => {
                parts.iter().for_each(|p| walk(p, out));
            }
            ir::Condition::Not(inner) => walk(inner, out),
            ir::Condition::Exists(field) => out.push(field.path.clone()),
            ir::Condition::Predicate(p) => out.push(p.field.path.clone()),
        }
    }
    let mut out = Vec::new();
    walk(&rule.condition, &mut out);
    if let Some(threshold) = rule.threshold() {
        out.extend(threshold.by.iter().map(|f| f.path.clone()));
        for aggregate in threshold.aggregates() {
            match aggregate {
                ir::Aggregate::Count => {}
                ir::Aggregate::Distinct(f)
                | ir::Aggregate::Sum(f)
                | ir::Aggregate::Min(f)
                | ir::Aggregate::Max(f) => out.push(f.path.clone()),
            }
        }
    }
    out
}

/// The spans of the `cased` predicates of a condition that the target does
/// not write, in written order.
fn cased_predicates(
    condition: &ir::Condition,
    written: Written,
    out: &mut Vec<crate::syntax::Span>,
) {
    match condition {
        ir::Condition::And(parts) | ir::Condition::Or(parts) => {
            parts.iter().for_each(|p| cased_predicates(p, written, out));
        }
        ir::Condition::Not(inner) => cased_predicates(inner, written, out),
        ir::Condition::Exists(_) => {}
        ir::Condition::Predicate(p) if p.field.cased => {
            let written = match p.operation {
                ir::Operation::Equals { .. } => written.cased_equals,
                ir::Operation::Text { .. } => written.cased_text,
                _ => false,
            };
            if !written {
                out.push(p.span);
            }
        }
        ir::Condition::Predicate(_) => {}
    }
}

/// The spans of the `len()` predicates of a condition, in written order.
fn length_predicates(condition: &ir::Condition, out: &mut Vec<crate::syntax::Span>) {
    match condition {
        ir::Condition::And(parts) | ir::Condition::Or(parts) => {
            parts.iter().for_each(|p| length_predicates(p, out));
        }
        ir::Condition::Not(inner) => length_predicates(inner, out),
        ir::Condition::Exists(_) => {}
        ir::Condition::Predicate(p) if p.length => out.push(p.span),
        ir::Condition::Predicate(_) => {}
    }
}

/// From the first comparison of a condition to its last.
pub fn having_span(having: &ir::Having) -> crate::syntax::Span {
    match having {
        ir::Having::And(parts) | ir::Having::Or(parts) => match (parts.first(), parts.last()) {
            (Some(first), Some(last)) => having_span(first).to(having_span(last)),
            _ => crate::syntax::Span::default(),
        },
        ir::Having::Not(inner) => having_span(inner),
        ir::Having::Compare { span, .. } => *span,
    }
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

/// Whether the SIEMs get `rule` enabled: the pack's `enabled` globs name it
/// (`*` any run of characters, `?` one) and it is not deprecated. Every
/// other rule installs disabled.
pub fn enabled(pack: &ir::Pack, rule: &ir::Rule) -> bool {
    rule.meta.status != ir::Status::Deprecated
        && pack
            .settings
            .enabled
            .iter()
            .any(|glob| name_matches(glob, &rule.name))
}

/// A name glob against a rule name, whole and case-sensitive.
fn name_matches(glob: &str, name: &str) -> bool {
    let (glob, name): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut g, mut n, mut star, mut mark) = (0, 0, None, 0);
    while n < name.len() {
        if g < glob.len() && (glob[g] == '?' || glob[g] == name[n]) {
            g += 1;
            n += 1;
        } else if g < glob.len() && glob[g] == '*' {
            star = Some(g);
            mark = n;
            g += 1;
        } else if let Some(s) = star {
            g = s + 1;
            mark += 1;
            n = mark;
        } else {
            return false;
        }
    }
    glob[g..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod enabled_tests {
    use super::name_matches;

    #[test]
    fn name_globs_match_whole_names() {
        assert!(name_matches("*", "dns_zone_transfer"));
        assert!(name_matches("dns_*", "dns_zone_transfer"));
        assert!(name_matches("*_transfer", "dns_zone_transfer"));
        assert!(name_matches("dns_zone_transfe?", "dns_zone_transfer"));
        assert!(!name_matches("dns", "dns_zone_transfer"));
        assert!(!name_matches("web_*", "dns_zone_transfer"));
        assert!(!name_matches("", "dns_zone_transfer"));
    }
}

/// The fields an alert shows under the input's mapping: its title tokens,
/// risk and threat objects (each refused when unmapped, like any field the
/// rule uses) and the context fields the mapping maps; a context field it
/// leaves out is left out of the alert.
pub fn alert_fields<'r>(input: &Input, rule: &'r ir::Rule) -> Vec<&'r ir::Field> {
    rule.alert
        .fields()
        .into_iter()
        .filter(|f| shown(input, rule, f))
        .collect()
}

/// The context fields a threshold alert samples under the input's mapping.
pub fn sampled_fields<'r>(
    input: &Input,
    rule: &'r ir::Rule,
    threshold: &'r ir::Threshold,
) -> Vec<&'r ir::Field> {
    rule.alert
        .sampled(threshold)
        .filter(|f| shown(input, rule, f))
        .collect()
}

fn shown(input: &Input, rule: &ir::Rule, field: &ir::Field) -> bool {
    let alert = &rule.alert;
    let context_only = !alert.risk.iter().any(|r| r.field.path == field.path)
        && !alert.threats.iter().any(|t| t.field.path == field.path)
        && !alert
            .title
            .iter()
            .any(|p| matches!(p, ir::TitlePart::Field(f) if f.path == field.path));
    !context_only || input.mapping.field(&rule.source, &field.path).is_some()
}
