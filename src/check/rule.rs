//! One rule from statements to `ir::Rule`: the source first (fields depend
//! on it), then metadata, `where`, `threshold`, schedule, playbook and tests.
//! Every part is checked even when an earlier one failed; the rule is
//! lowered only when none reported an error.

use crate::diag::codes;
use crate::ir;
use crate::syntax::ast::{RuleDecl, StatementValue};

use super::alert::{Around, alert};
use super::context::RuleCx;
use super::detection::{self, Written};
use super::expr::condition;
use super::meta::{meta, playbook, word_value};
use super::names::Registry;
use super::statements::Statements;
use super::testcases::tests;
use super::threshold::{schedule, threshold};

pub(crate) fn rule(cx: &mut RuleCx, decl: &RuleDecl, ids: &mut Registry) -> Option<ir::Rule> {
    let st = Statements::collect(cx, decl);
    let taxonomy = cx.scope.taxonomy;
    let sources: Vec<_> = taxonomy
        .sources()
        .iter()
        .map(|s| (s.name.as_str(), s))
        .collect();
    cx.source = st.word("from").and_then(|word| {
        word_value(
            cx,
            word,
            ("from", "source"),
            &sources,
            codes::UNKNOWN_SOURCE,
        )
    });
    for word in st.more_words("from") {
        let more = word_value(
            cx,
            word,
            ("from", "source"),
            &sources,
            codes::UNKNOWN_SOURCE,
        );
        let first = cx.source.map(|s| s.name.as_str());
        if let Some(more) = more
            && first != Some(more.name.as_str())
            && !cx.more_sources.iter().any(|s| s.name == more.name)
        {
            cx.more_sources.push(more);
        }
    }
    let meta = meta(cx, &st, ids);
    let condition = match st.get("where") {
        Some(StatementValue::Where(expr)) => condition(cx, expr),
        _ => None,
    };
    let written = detection::written(cx, decl);
    let lowered = written.map(|written| match written {
        Written::Threshold(t) => threshold(cx, t).map(ir::Detection::Aggregation),
        Written::Sequence(s) => detection::sequence(cx, s).map(ir::Detection::Sequence),
        Written::FirstSeen(f) => detection::first_seen(cx, f).map(ir::Detection::FirstSeen),
    });
    // A run looks back over the window, the sequence's `within` or the
    // first-seen horizon, plus its schedule.
    let span = written.map(|written| match written {
        Written::Threshold(t) => (t.over.seconds, "the window"),
        Written::Sequence(s) => (s.within.seconds, "`within`"),
        Written::FirstSeen(f) => (f.horizon.seconds, "the first-seen span (`in`)"),
    });
    let schedule = schedule(cx, &st, span);
    let playbook = playbook(cx, &st);
    let block = match st.get("alert") {
        Some(StatementValue::Alert(block)) => Some(block),
        _ => None,
    };
    let around = Around {
        title: meta.as_ref().map(|m| m.title.as_str()),
        level: meta.as_ref().map(|m| m.level),
        threshold: written.and_then(Written::threshold),
        grouped: written.map(Written::by),
        grouped_as: match written {
            Some(Written::Sequence(_)) => ("sequence", "`by`"),
            Some(Written::FirstSeen(_)) => ("first-seen", "`first seen`"),
            _ => ("threshold", "`by`"),
        },
    };
    let alert = alert(cx, block, &around);
    let tests = tests(cx, &st.tests, written);
    if st.tests.is_empty() {
        let diagnostic = cx
            .warning(
                codes::RULE_WITHOUT_TESTS,
                decl.name.span,
                format!("rule `{}` has no tests", decl.name.node),
            )
            .with_help("add a `test` that fires and one that does not");
        cx.emit(diagnostic);
    }
    if cx.has_errors() {
        return None;
    }
    let source = cx.source?;
    Some(ir::Rule {
        name: decl.name.node.clone(),
        file: cx.file,
        path: cx.scope.map.get(cx.file).path.clone(),
        span: decl.name.span,
        meta: meta?,
        source: source.name.clone(),
        more_sources: cx.more_sources.iter().map(|s| s.name.clone()).collect(),
        condition: condition?,
        detection: match lowered {
            Some(lowered) => lowered?,
            None => ir::Detection::Match,
        },
        schedule,
        playbook,
        alert: alert?,
        tests,
    })
}
