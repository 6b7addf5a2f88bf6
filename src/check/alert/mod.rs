//! `alert { }`: the title with its field tokens, risk and threat objects,
//! context fields and whether the rule raises a notable. Every line is
//! checked where it is written; what a rule leaves out takes the defaults
//! of docs/language.md ("Alerts"): the rule's title, the `by` fields (or the
//! source's entity) as risk objects scored by level, the source's context
//! fields, and a notable for `high` and `critical` — the scores and
//! notables by level as the pack's manifest may set them.

use crate::diag::codes;
use crate::ir::{self, FieldType, Level, RiskKind, TitlePart};
use crate::syntax::ast::{self, AlertLine, AlertValue};
use crate::syntax::{Span, Spanned};

use super::context::{RuleCx, quoted_list};

mod defaults;

pub use defaults::{AlertDefaults, LevelDefaults};
use defaults::{default_context, default_risk};

const RISK_KINDS: [(&str, RiskKind); 3] = [
    ("system", RiskKind::System),
    ("user", RiskKind::User),
    ("other", RiskKind::Other),
];

/// Enterprise Security's threat object types.
pub const THREAT_KINDS: &[&str] = &[
    "certificate_common_name",
    "certificate_organization",
    "certificate_serial",
    "certificate_unit",
    "command",
    "domain",
    "email_address",
    "email_subject",
    "file_hash",
    "file_name",
    "file_path",
    "http_referrer",
    "ip_address",
    "parent_process",
    "parent_process_name",
    "process",
    "process_hash",
    "process_name",
    "registry_path",
    "registry_value_name",
    "registry_value_text",
    "service",
    "signature",
    "system",
    "tls_hash",
    "url",
    "user",
    "user_agent",
];

/// Sentinel substitutes at most three columns in an alert's name.
const MAX_TITLE_TOKENS: usize = 3;

/// What the rule around the block says that the defaults depend on.
pub(crate) struct Around<'r> {
    pub title: Option<&'r str>,
    pub level: Option<Level>,
    /// The written threshold's `by` fields and `distinct` field.
    pub threshold: Option<&'r ast::Threshold>,
    /// The fields a grouped alert (threshold, sequence, first seen) has one
    /// value of: its `by` fields, or those of `first seen`.
    pub grouped: Option<&'r [ast::Grouping]>,
    /// The grouped alert's kind and what its fields are called, for
    /// messages: ("threshold", "`by`"), ("sequence", "`by`") or
    /// ("first-seen", "`first seen`").
    pub grouped_as: (&'static str, &'static str),
}

pub(crate) fn alert(
    cx: &mut RuleCx,
    block: Option<&Spanned<Vec<AlertLine>>>,
    around: &Around,
) -> Option<ir::Alert> {
    let lines: &[AlertLine] = block.map_or(&[], |b| &b.node);
    let errors_before = cx.diagnostics.len();
    once(cx, lines);
    let written_context = lines.iter().find_map(|l| match &l.value {
        AlertValue::Fields(fields) => Some(fields),
        _ => None,
    });
    let context = match written_context {
        Some(fields) => fields.iter().filter_map(|f| alert_field(cx, f)).collect(),
        None => default_context(cx, around),
    };
    let by: Vec<&str> = around
        .grouped
        .map(|by| by.iter().map(|b| b.field.node.as_str()).collect())
        .unwrap_or_default();
    let title = match lines.iter().find_map(|l| match &l.value {
        AlertValue::Title(text) => Some(text),
        _ => None,
    }) {
        Some(text) => title(cx, text, around, &by),
        None => vec![TitlePart::Text(
            around.title.unwrap_or_default().to_string(),
        )],
    };
    let mut risk = Vec::new();
    let mut threats = Vec::new();
    for line in lines {
        match &line.value {
            AlertValue::Risk { field, kind, score } => {
                if let Some(object) = risk_object(cx, field, kind, score) {
                    grouped(cx, &object.field, around, &by, &context, "a risk object");
                    risk.push(object);
                }
            }
            AlertValue::Threat { field, kind } => {
                if let Some(object) = threat_object(cx, field, kind) {
                    grouped(cx, &object.field, around, &by, &context, "a threat object");
                    threats.push(object);
                }
            }
            _ => {}
        }
    }
    if !lines
        .iter()
        .any(|l| matches!(l.value, AlertValue::Risk { .. }))
    {
        risk = default_risk(cx, around);
    }
    let notable = match lines.iter().find_map(|l| match &l.value {
        AlertValue::Notable(word) => Some((l, word)),
        _ => None,
    }) {
        Some((_, None)) => true,
        Some((_, Some(word))) => word.node == "true",
        None => {
            let defaults = &cx.scope.settings.alert;
            risk.is_empty() || around.level.is_some_and(|l| defaults.notable(l))
        }
    };
    if !notable && risk.is_empty() {
        let span = block.map_or(Span::at(0), |b| b.span);
        let diagnostic = cx
            .error(
                codes::ALERT_RAISES_NOTHING,
                span,
                "this alert raises neither a risk object nor a notable",
            )
            .with_help("add a `risk FIELD TYPE SCORE` line, or remove `notable false`");
        cx.emit(diagnostic);
    }
    if cx.diagnostics[errors_before..].iter().any(|d| d.is_error()) {
        return None;
    }
    Some(ir::Alert {
        title,
        risk,
        threats,
        context,
        notable,
    })
}

/// `title`, `fields` and `notable` once each (E0306 at the later one); a
/// field once among the risk objects and once among the threat objects.
fn once(cx: &mut RuleCx, lines: &[AlertLine]) {
    for (i, line) in lines.iter().enumerate() {
        let key = |l: &AlertLine| match &l.value {
            AlertValue::Risk { field, .. } => format!("risk {}", field.node),
            AlertValue::Threat { field, .. } => format!("threat {}", field.node),
            _ => l.keyword.node.clone(),
        };
        let mine = key(line);
        if let Some(first) = lines[..i].iter().find(|l| key(l) == mine) {
            let diagnostic = cx
                .error(
                    codes::DUPLICATE_STATEMENT,
                    line.keyword.span,
                    format!("`{mine}` is given twice in `alert`"),
                )
                .with_label("given again here")
                .with_secondary(cx.file, first.keyword.span, "first given here")
                .with_help("an `alert` block takes `title`, `fields` and `notable` once, and each field once as a risk and once as a threat object");
            cx.emit(diagnostic);
        }
    }
}

/// A field of the source that is not `@timestamp`.
fn alert_field(cx: &mut RuleCx, path: &Spanned<String>) -> Option<ir::Field> {
    let field = cx.field(path)?;
    if field.ty == FieldType::Time {
        let diagnostic = cx
            .error(
                codes::ALERT_TIMESTAMP,
                path.span,
                "`@timestamp` cannot stand in `alert`",
            )
            .with_help("every alert already carries its time (a threshold alert: its first and last event)");
        cx.emit(diagnostic);
        return None;
    }
    Some(field)
}

/// The title's text and `{field}` tokens (`{{` and `}}` stand for braces).
fn title(
    cx: &mut RuleCx,
    text: &Spanned<ast::StringLit>,
    around: &Around,
    by: &[&str],
) -> Vec<TitlePart> {
    let value = &text.node.value;
    let written = cx.text(text.span);
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut chars = value.char_indices().peekable();
    let mut tokens = 0;
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                chars.next();
                literal.push('{');
            }
            '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                chars.next();
                literal.push('}');
            }
            '{' => {
                let Some(end) = value[i..].find('}') else {
                    malformed(cx, text.span, "a `{` without its `}`");
                    return parts;
                };
                let path = &value[i + 1..i + end];
                for _ in 0..end {
                    chars.next();
                }
                let span = token_span(text.span, written, &value[i..=i + end]);
                if !literal.is_empty() {
                    parts.push(TitlePart::Text(std::mem::take(&mut literal)));
                }
                tokens += 1;
                if tokens == MAX_TITLE_TOKENS + 1 {
                    let diagnostic = cx
                        .error(
                            codes::MALFORMED_TITLE,
                            span,
                            format!("a title holds at most {MAX_TITLE_TOKENS} field tokens"),
                        )
                        .with_help("Sentinel substitutes at most three columns in an alert's name; keep the three an analyst needs first");
                    cx.emit(diagnostic);
                }
                if let Some(field) = alert_field(cx, &Spanned::new(path.to_string(), span)) {
                    if around.grouped.is_some() && !by.contains(&field.path.as_str()) {
                        not_grouped(cx, &field, span, "a title token", (around, by), false);
                    }
                    parts.push(TitlePart::Field(field));
                }
            }
            '}' => {
                malformed(
                    cx,
                    text.span,
                    "a `}` without its `{` (write `}}` for a brace)",
                );
                return parts;
            }
            c => literal.push(c),
        }
    }
    if !literal.is_empty() {
        parts.push(TitlePart::Text(literal));
    }
    parts
}

/// Where `{token}` stands in the written string (the whole string when
/// escapes make it unfindable).
fn token_span(string: Span, written: &str, token: &str) -> Span {
    match written.find(token) {
        Some(at) => Span::new(string.start + at, string.start + at + token.len()),
        None => string,
    }
}

fn malformed(cx: &mut RuleCx, span: Span, what: &str) {
    let diagnostic = cx
        .error(
            codes::MALFORMED_TITLE,
            span,
            format!("the title has {what}"),
        )
        .with_help("a token is a field in braces, `{source.ip}`; `{{` and `}}` stand for braces");
    cx.emit(diagnostic);
}

/// A threshold alert's risk and threat objects are `by` or context fields:
/// only those have values on its row.
fn grouped(
    cx: &mut RuleCx,
    field: &ir::Field,
    around: &Around,
    by: &[&str],
    context: &[ir::Field],
    what: &str,
) {
    if around.grouped.is_none()
        || by.contains(&field.path.as_str())
        || context.iter().any(|c| c.path == field.path)
    {
        return;
    }
    not_grouped(cx, field, field.span, what, (around, by), true);
}

fn not_grouped(
    cx: &mut RuleCx,
    field: &ir::Field,
    span: Span,
    what: &str,
    (around, by): (&Around, &[&str]),
    context_too: bool,
) {
    let (kind, grouping) = around.grouped_as;
    let allowed = if context_too {
        format!("a {grouping} field or a field of `fields`")
    } else {
        format!("a {grouping} field")
    };
    let help = if by.is_empty() {
        format!(
            "a {kind} alert has one row per window; group with `by {}` or use a field of `fields`",
            field.path
        )
    } else {
        format!(
            "the {grouping} fields are {}",
            quoted_list(by.iter().copied())
        )
    };
    let diagnostic = cx
        .error(
            codes::ALERT_FIELD_NOT_GROUPED_BY,
            span,
            format!(
                "`{}` is {what} of a {kind} alert but not {allowed}",
                field.path
            ),
        )
        .with_help(help);
    cx.emit(diagnostic);
}

fn risk_object(
    cx: &mut RuleCx,
    field: &Spanned<String>,
    kind: &Spanned<String>,
    score: &Spanned<i64>,
) -> Option<ir::RiskObject> {
    let field = alert_field(cx, field);
    let kind = match RISK_KINDS.iter().find(|(w, _)| *w == kind.node) {
        Some((_, k)) => Some(*k),
        None => {
            unknown_word(
                cx,
                kind,
                "risk object type",
                RISK_KINDS.iter().map(|(w, _)| *w),
            );
            None
        }
    };
    let score = match u8::try_from(score.node) {
        Ok(s) if (1..=100).contains(&s) => Some(s),
        _ => {
            let diagnostic = cx
                .error(
                    codes::RISK_SCORE_RANGE,
                    score.span,
                    format!("risk score {} is outside 1..100", score.node),
                )
                .with_help("Enterprise Security scores risk from 1 to 100 (the defaults: low 20, medium 40, high 70, critical 100)");
            cx.emit(diagnostic);
            None
        }
    };
    Some(ir::RiskObject {
        field: field?,
        kind: kind?,
        score: score?,
    })
}

fn threat_object(
    cx: &mut RuleCx,
    field: &Spanned<String>,
    kind: &Spanned<String>,
) -> Option<ir::ThreatObject> {
    let field = alert_field(cx, field);
    if !THREAT_KINDS.contains(&kind.node.as_str()) {
        unknown_word(cx, kind, "threat object type", THREAT_KINDS.iter().copied());
        return None;
    }
    let field = field?;
    if kind.node == "ip_address" && field.ty != FieldType::Ip {
        let diagnostic = cx
            .error(
                codes::THREAT_TYPE_MISMATCH,
                kind.span,
                format!("`{}` is not an ip field, so it is no `ip_address`", field.path),
            )
            .with_help("pick the threat object type that names what the field holds (`domain`, `url`, `user_agent`, ...)");
        cx.emit(diagnostic);
        return None;
    }
    Some(ir::ThreatObject {
        field,
        kind: kind.node.clone(),
    })
}

fn unknown_word<'w>(
    cx: &mut RuleCx,
    word: &Spanned<String>,
    noun: &str,
    allowed: impl Iterator<Item = &'w str> + Clone,
) {
    let mut diagnostic = cx.error(
        codes::UNKNOWN_WORD,
        word.span,
        format!("unknown {noun} `{}`", word.node),
    );
    diagnostic = match crate::diag::nearest_sure(&word.node, allowed.clone()) {
        Some((near, sure)) => diagnostic
            .with_help(format!("did you mean `{near}`?"))
            .with_fix(crate::diag::Fix::one(
                sure,
                format!("use `{near}`"),
                word.span,
                near,
            )),
        None => diagnostic.with_help(format!("expected one of {}", quoted_list(allowed))),
    };
    cx.emit(diagnostic);
}
