//! What no Splunk search can express, whatever its form: checked on the
//! rule's predicates before a search is written, so that these refusals
//! hold for tstats and raw searches alike.

use crate::emit::query::Refusal;
use crate::ir::{Condition, Literal, Operation, Predicate, TextOp};

use super::SPLUNK;

/// Every refusal of `condition`'s predicates.
pub fn refusals(condition: &Condition) -> Vec<Refusal> {
    let mut out = Vec::new();
    visit(condition, &mut out);
    out
}

fn visit(condition: &Condition, out: &mut Vec<Refusal>) {
    match condition {
        Condition::And(parts) | Condition::Or(parts) => {
            parts.iter().for_each(|p| visit(p, out));
        }
        Condition::Not(inner) => visit(inner, out),
        Condition::Exists(_) => {}
        Condition::Predicate(predicate) => out.extend(refusal(predicate)),
    }
}

fn refusal(predicate: &Predicate) -> Option<Refusal> {
    let texts = texts(&predicate.operation);
    let refuse =
        |construct: &str, help: &str| Some(Refusal::new(SPLUNK, predicate.span, construct, help));
    if texts.iter().any(|t| t.contains('\0')) {
        return refuse(
            "a NUL character in a value",
            "a search cannot hold NUL; match the text around it",
        );
    }
    if texts.iter().any(|t| t.chars().any(breaks_lines)) {
        return refuse(
            "a C1 control character or a Unicode line separator",
            "a search is one line and its escapes are ASCII (`\\xHH`), which PCRE reads \
             differently in byte and UTF mode; match the text around it",
        );
    }
    if holds_on_empty(&predicate.operation) {
        return refuse(
            "a pattern that matches the empty string",
            "Splunk does not document whether an extracted field keeps an empty value, so a \
             search cannot tell `\"\"` from a missing field; make the pattern need at least one \
             character, or test `exists(f)`",
        );
    }
    None
}

fn texts(operation: &Operation) -> Vec<&str> {
    match operation {
        Operation::Equals { values, .. } => values
            .iter()
            .filter_map(|v| match v {
                Literal::String(s) => Some(s.as_str()),
                Literal::Int(_) => None,
            })
            .collect(),
        Operation::Text { values, .. } => values.iter().map(String::as_str).collect(),
        Operation::Regex { pattern, .. } => vec![pattern.as_str()],
        _ => Vec::new(),
    }
}

/// Characters that line-oriented readers may take for a line break
/// (U+0085, U+2028, U+2029) or that are controls (C1), which a search
/// cannot escape the same way in PCRE's byte and UTF modes.
fn breaks_lines(c: char) -> bool {
    matches!(c, '\u{80}'..='\u{9F}' | '\u{2028}' | '\u{2029}')
}

/// Whether the predicate holds for the value `""` (`""` is a value for
/// predicates). Only globs and regexes can: every other literal is
/// non-empty, and `""` is neither an integer nor an address.
fn holds_on_empty(operation: &Operation) -> bool {
    match operation {
        Operation::Text {
            op: TextOp::Like,
            values,
            all,
            ..
        } => {
            let empty = |g: &String| crate::eval::glob::Glob::new(g).matches("");
            if *all {
                values.iter().all(empty)
            } else {
                values.iter().any(empty)
            }
        }
        Operation::Regex {
            pattern,
            case_insensitive,
        } => regex::RegexBuilder::new(&crate::check::regex::rewrite_ascii(pattern))
            .case_insensitive(*case_insensitive)
            .build()
            .is_ok_and(|re| re.is_match("")),
        _ => false,
    }
}
