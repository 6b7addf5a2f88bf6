//! A rule's descriptive statements: title, id, status, level, ATT&CK
//! techniques, author, dates, description, references, false positives,
//! tags and the playbook. Each is checked where it is written.

use crate::diag::{Code, Fix, codes, nearest, nearest_sure};
use crate::ir::{self, Level, Status};
use crate::syntax::Spanned;
use crate::syntax::ast::{StatementValue, StringLit, Word};

use super::attack::{Catalogue, TechniqueEntry};
use super::context::{RuleCx, quoted_list};
use super::names::{Claim, Registry};
use super::statements::Statements;
use super::values::{is_date, is_uuid};

const STATUSES: [(&str, Status); 4] = [
    ("experimental", Status::Experimental),
    ("test", Status::Test),
    ("stable", Status::Stable),
    ("deprecated", Status::Deprecated),
];

const LEVELS: [(&str, Level); 5] = [
    ("informational", Level::Informational),
    ("low", Level::Low),
    ("medium", Level::Medium),
    ("high", Level::High),
    ("critical", Level::Critical),
];

/// The keys a `playbook { }` line may start with.
pub const PLAYBOOK_KEYS: [&str; 5] = ["questions", "escalate", "triage", "investigate", "contain"];

/// Checks the descriptive statements; `ids` holds the pack's ids so far
/// (compared ignoring case).
pub(crate) fn meta(cx: &mut RuleCx, st: &Statements, ids: &mut Registry) -> Option<ir::Meta> {
    let title = required_text(cx, st, "title");
    let description = required_text(cx, st, "description");
    let id = rule_id(cx, st, ids);
    let status = match st.word("status") {
        Some(word) => word_value(
            cx,
            word,
            ("status", "status"),
            &STATUSES,
            codes::UNKNOWN_WORD,
        ),
        None => Some(Status::Experimental),
    };
    let level = st
        .word("level")
        .and_then(|word| word_value(cx, word, ("level", "level"), &LEVELS, codes::UNKNOWN_WORD));
    let techniques = techniques(cx, st);
    let (date, modified) = dates(cx, st);
    let author = st
        .text("author")
        .map(|text| optional_text(cx, text, "author"));
    let version = st.text("version").and_then(|text| version(cx, text));
    let mut texts = |keyword| {
        st.texts(keyword).map_or_else(Vec::new, |texts| {
            texts
                .iter()
                .map(|text| optional_text(cx, text, keyword))
                .collect()
        })
    };
    let references = texts("references");
    let falsepositives = texts("falsepositives");
    let tags = texts("tags");
    let techniques = techniques?;
    let catalogue = cx.scope.catalogue;
    Some(ir::Meta {
        title: title?,
        id: id?,
        status: status?,
        level: level?,
        tactics: catalogue.tactics_of(&techniques),
        techniques: techniques
            .iter()
            .map(|t| ir::Technique {
                id: t.id.clone(),
                name: t.name.clone(),
                tactics: t.tactics.clone(),
            })
            .collect(),
        author,
        date,
        modified,
        version,
        description: description?,
        references,
        falsepositives,
        tags,
    })
}

/// `version`: `X.Y.Z` (E0512).
fn version(cx: &mut RuleCx, text: &Spanned<StringLit>) -> Option<String> {
    if crate::pack::manifest::is_version(&text.value) {
        return Some(text.value.clone());
    }
    let diagnostic = cx
        .error(
            codes::INVALID_VERSION,
            text.span,
            format!("expected a version like `1.2.0`, found `{}`", text.value),
        )
        .with_help("a version is three numbers, major.minor.patch; the build moves the patch number itself");
    cx.emit(diagnostic);
    None
}

/// `title` and `description`: present (reported by `Statements`) and not empty.
fn required_text(cx: &mut RuleCx, st: &Statements, keyword: &str) -> Option<String> {
    let text = st.text(keyword)?;
    if text.value.is_empty() {
        let diagnostic = cx
            .error(
                codes::EMPTY_STRING,
                text.span,
                format!("`{keyword}` is empty"),
            )
            .with_help(format!("write the rule's {keyword}"));
        cx.emit(diagnostic);
        return None;
    }
    Some(text.value.clone())
}

/// Free text where an empty string is only a warning.
fn optional_text(cx: &mut RuleCx, text: &Spanned<StringLit>, keyword: &str) -> String {
    if text.value.is_empty() {
        let diagnostic = cx
            .warning(
                codes::EMPTY_TEXT,
                text.span,
                format!("empty string in `{keyword}`"),
            )
            .with_help("remove it or write the text");
        cx.emit(diagnostic);
    }
    text.value.clone()
}

fn rule_id(cx: &mut RuleCx, st: &Statements, ids: &mut Registry) -> Option<String> {
    let id = st.text("id")?;
    if !is_uuid(&id.value) {
        let diagnostic = cx
            .error(
                codes::INVALID_UUID,
                id.span,
                format!("`{}` is not a UUID", id.value),
            )
            .with_help(
                "write 8-4-4-4-12 hexadecimal digits, e.g. `8c2f6f0e-4a4e-4c55-9a0c-5d1f0e2b7a11`",
            );
        cx.emit(diagnostic);
        return None;
    }
    let message = || format!("rule id `{}` is used twice", id.value);
    match ids.claim(
        &id.value.to_ascii_lowercase(),
        (cx.file, id.span),
        false,
        codes::DUPLICATE_ID,
        message,
    ) {
        Claim::New => Some(id.value.clone()),
        Claim::Duplicate(diagnostic) => {
            if let Some(diagnostic) = diagnostic {
                cx.emit(diagnostic.with_help("every rule needs its own id; generate a new UUID"));
            }
            None
        }
    }
}

/// A bare word among `allowed`: E0312 when quoted, `unknown` with the nearest word otherwise.
/// `noun` names the value in messages (`level`, `source`).
pub(crate) fn word_value<T: Copy>(
    cx: &mut RuleCx,
    word: &Spanned<Word>,
    (statement, noun): (&str, &str),
    allowed: &[(&str, T)],
    unknown: Code,
) -> Option<T> {
    let words = || quoted_list(allowed.iter().map(|(w, _)| *w));
    let found = |text: &str| allowed.iter().find(|(w, _)| *w == text).map(|(_, v)| *v);
    match &word.node {
        Word::Bare(text) => {
            let value = found(text);
            if value.is_none() {
                let mut diagnostic = cx.error(
                    unknown,
                    word.span,
                    format!("unknown {noun} `{text}`; expected one of {}", words()),
                );
                if let Some((near, sure)) = nearest_sure(text, allowed.iter().map(|(w, _)| *w)) {
                    diagnostic = diagnostic
                        .with_help(format!("did you mean `{near}`?"))
                        .with_fix(Fix::one(sure, format!("use `{near}`"), word.span, near));
                }
                cx.emit(diagnostic);
            }
            value
        }
        Word::Quoted(text) => {
            let mut diagnostic = cx.error(
                codes::QUOTED_WORD,
                word.span,
                format!(
                    "`{statement}` takes a bare word, not a string: one of {}",
                    words()
                ),
            );
            let near = found(text)
                .map(|_| text.as_str())
                .or_else(|| nearest(text, allowed.iter().map(|(w, _)| *w)));
            if let Some(near) = near {
                // Unquoting the very word is safe; a guess at another is not.
                let fix = if found(text).is_some() {
                    Fix::safe("remove the quotes", word.span, near)
                } else {
                    Fix::review(format!("use `{near}`"), word.span, near)
                };
                diagnostic = diagnostic
                    .with_help(format!("write `{statement} {near}` without quotes"))
                    .with_fix(fix);
            }
            cx.emit(diagnostic);
            None
        }
    }
}

/// The techniques of `attack`, in written order without repeats.
fn techniques<'c>(cx: &mut RuleCx<'c>, st: &Statements) -> Option<Vec<&'c TechniqueEntry>> {
    let Some(StatementValue::Techniques(ids)) = st.get("attack") else {
        return None;
    };
    if ids.is_empty() {
        let diagnostic = cx
            .error(
                codes::EMPTY_ATTACK,
                ids.span,
                "`attack []` names no technique",
            )
            .with_help("name at least one ATT&CK technique, e.g. `attack T1590`");
        cx.emit(diagnostic);
        return None;
    }
    let catalogue = cx.scope.catalogue;
    let mut found: Vec<&TechniqueEntry> = Vec::new();
    let mut failed = false;
    for id in ids.iter() {
        match catalogue.technique(id) {
            Some(technique) => {
                if technique.revoked || technique.deprecated {
                    let state = if technique.revoked {
                        "revoked"
                    } else {
                        "deprecated"
                    };
                    let diagnostic = cx
                        .warning(
                            codes::DEPRECATED_TECHNIQUE,
                            id.span,
                            format!(
                                "technique `{}` ({}) is {state} in ATT&CK",
                                technique.id, technique.name
                            ),
                        )
                        .with_help(
                            "choose a current technique; the catalogue records no replacement",
                        );
                    cx.emit(diagnostic);
                }
                if !found.iter().any(|t| t.id == technique.id) {
                    found.push(technique);
                }
            }
            None => {
                failed = true;
                let mut diagnostic = cx.error(
                    codes::UNKNOWN_TECHNIQUE,
                    id.span,
                    format!("unknown ATT&CK technique `{}`", id.node),
                );
                diagnostic = suggest_technique(catalogue, id, diagnostic);
                cx.emit(diagnostic);
            }
        }
    }
    (!failed).then_some(found)
}

/// Help for an unknown technique: for `T1595.004`, the sub-techniques of
/// `T1595` with their names (each a fix for review); else the nearest id.
fn suggest_technique(
    catalogue: &Catalogue,
    id: &Spanned<String>,
    diagnostic: crate::diag::Diagnostic,
) -> crate::diag::Diagnostic {
    let parent = id.node.split_once('.').map(|(parent, _)| parent);
    let siblings: Vec<&TechniqueEntry> = match parent {
        Some(parent) => catalogue
            .techniques()
            .iter()
            .filter(|t| t.id.split_once('.').is_some_and(|(p, _)| p == parent))
            .filter(|t| !t.revoked && !t.deprecated)
            .collect(),
        None => Vec::new(),
    };
    if let (Some(parent), false) = (parent, siblings.is_empty()) {
        let named: Vec<String> = siblings
            .iter()
            .map(|t| format!("`{}` ({})", t.id, t.name))
            .collect();
        let mut diagnostic = diagnostic.with_help(format!(
            "the sub-techniques of `{parent}` are {}",
            named.join(", ")
        ));
        for t in siblings {
            diagnostic = diagnostic.with_fix(Fix::review(
                format!("use `{}` ({})", t.id, t.name),
                id.span,
                t.id.as_str(),
            ));
        }
        return diagnostic;
    }
    match nearest(id, catalogue.techniques().iter().map(|t| t.id.as_str())) {
        Some(near) => diagnostic
            .with_help(format!("did you mean `{near}`?"))
            .with_fix(Fix::review(format!("use `{near}`"), id.span, near)),
        None => diagnostic,
    }
}

/// `date` and `modified`: real days, and `modified` not before `date`.
fn dates(cx: &mut RuleCx, st: &Statements) -> (Option<String>, Option<String>) {
    let mut day = |keyword| {
        let text = st.text(keyword)?;
        if is_date(&text.value) {
            return Some(text);
        }
        let diagnostic = cx
            .error(
                codes::INVALID_DATE,
                text.span,
                format!("`{}` is not a calendar date", text.value),
            )
            .with_help("write a real day as `YYYY-MM-DD`, e.g. `2026-11-22`");
        cx.emit(diagnostic);
        None
    };
    let date = day("date");
    let modified = day("modified");
    if let (Some(date), Some(modified)) = (date, modified) {
        // Valid `YYYY-MM-DD` texts order as the days do.
        if modified.value < date.value {
            let diagnostic = cx
                .error(
                    codes::MODIFIED_BEFORE_DATE,
                    modified.span,
                    format!(
                        "`modified` {} is before `date` {}",
                        modified.value, date.value
                    ),
                )
                .with_secondary(cx.file, date.span, "the rule's date")
                .with_help("`modified` is the day of the last change, on or after `date`");
            cx.emit(diagnostic);
        }
    }
    (
        date.map(|d| d.value.clone()),
        modified.map(|m| m.value.clone()),
    )
}

/// `playbook { key "text" ... }`: known keys, each may repeat.
pub(crate) fn playbook(cx: &mut RuleCx, st: &Statements) -> ir::Playbook {
    let mut playbook = ir::Playbook::default();
    let Some(StatementValue::Playbook(lines)) = st.get("playbook") else {
        return playbook;
    };
    for line in lines.iter() {
        let text = optional_text(cx, &line.text, "playbook");
        let section = match line.key.node.as_str() {
            "questions" => &mut playbook.questions,
            "escalate" => &mut playbook.escalate,
            "triage" => &mut playbook.triage,
            "investigate" => &mut playbook.investigate,
            "contain" => &mut playbook.contain,
            other => {
                let mut diagnostic = cx.error(
                    codes::UNKNOWN_PLAYBOOK_KEY,
                    line.key.span,
                    format!(
                        "unknown playbook key `{other}`; expected one of {}",
                        quoted_list(PLAYBOOK_KEYS)
                    ),
                );
                if let Some((near, sure)) = nearest_sure(other, PLAYBOOK_KEYS.iter().copied()) {
                    diagnostic = diagnostic
                        .with_help(format!("did you mean `{near}`?"))
                        .with_fix(Fix::one(sure, format!("use `{near}`"), line.key.span, near));
                }
                cx.emit(diagnostic);
                continue;
            }
        };
        section.push(text);
    }
    playbook
}
