//! A Sigma rule document's metadata to a draft's statements: title, id,
//! status, level, ATT&CK technique tags, author, dates, description,
//! references, false positives, other tags, and the custom attributes
//! tripline's own Sigma target writes (`tripline_tags`, `tripline_alert`,
//! `tripline_playbook`, `fields`).

use super::draft::{AlertDraft, Draft};
use super::mapping::SourceNames;
use super::refusal::{Refusal, Result};
use super::yaml::{Node, NodeKind, Pos};
use crate::check::Catalogue;

const STATUSES: [&str; 4] = ["experimental", "test", "stable", "deprecated"];
const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];
const PLAYBOOK: [&str; 5] = ["questions", "escalate", "triage", "investigate", "contain"];

/// The metadata of `doc` (a rule, or a correlation that carries it).
pub fn metadata(doc: &Node, draft: &mut Draft) -> Result<()> {
    draft.title = required_text(doc, "title")?;
    let id = required_text(doc, "id")?;
    if uuid::Uuid::try_parse(&id).is_err() || id.len() != 36 {
        return Err(Refusal::new(
            at(doc, "id"),
            format!("id `{id}`"),
            "tripline ids are UUIDs in the 8-4-4-4-12 form",
        ));
    }
    draft.id = id.to_lowercase();
    if let Some(status) = optional_text(doc, "status")? {
        if !STATUSES.contains(&status.as_str()) {
            return Err(Refusal::new(
                at(doc, "status"),
                format!("status `{status}`"),
                format!("tripline's statuses are {}", STATUSES.join(", ")),
            ));
        }
        draft.status = Some(status);
    }
    let level = required_text(doc, "level")?;
    if !LEVELS.contains(&level.as_str()) {
        return Err(Refusal::new(
            at(doc, "level"),
            format!("level `{level}`"),
            format!("tripline's levels are {}", LEVELS.join(", ")),
        ));
    }
    draft.level = level;
    draft.description = required_text(doc, "description")?;
    draft.author = optional_text(doc, "author")?;
    draft.date = optional_text(doc, "date")?.map(|d| d.replace('/', "-"));
    draft.modified = optional_text(doc, "modified")?.map(|d| d.replace('/', "-"));
    draft.references = texts(doc, "references")?;
    draft.falsepositives = texts(doc, "falsepositives")?;
    draft.tags = texts(doc, "tripline_tags")?;
    tags(doc, draft)?;
    Ok(())
}

fn at(doc: &Node, key: &str) -> Pos {
    doc.get(key).map_or(doc.pos, |n| n.pos)
}

fn required_text(doc: &Node, key: &str) -> Result<String> {
    optional_text(doc, key)?.ok_or_else(|| {
        Refusal::new(
            doc.pos,
            format!("a rule without `{key}`"),
            format!("tripline rules need `{key}`"),
        )
    })
}

fn optional_text(doc: &Node, key: &str) -> Result<Option<String>> {
    match doc.get(key) {
        None => Ok(None),
        Some(node) => match node.text() {
            Some(text) if !text.is_empty() => Ok(Some(text.to_string())),
            Some(_) => Ok(None),
            None if node.resolved() == Some(super::yaml::Resolved::Null) => Ok(None),
            None => Err(Refusal::new(
                node.pos,
                format!("`{key}` that is {}", node.kind_name()),
                "write text",
            )),
        },
    }
}

/// A list of texts, or one text as a list of one.
fn texts(doc: &Node, key: &str) -> Result<Vec<String>> {
    let Some(node) = doc.get(key) else {
        return Ok(Vec::new());
    };
    let items: Vec<&Node> = match &node.kind {
        NodeKind::Seq(items) => items.iter().collect(),
        NodeKind::Scalar(_) if node.text().is_none() => return Ok(Vec::new()),
        NodeKind::Scalar(_) => vec![node],
        NodeKind::Map(_) => {
            return Err(Refusal::new(
                node.pos,
                format!("`{key}` that is a map"),
                "write a list of texts",
            ));
        }
    };
    items
        .into_iter()
        .map(|item| {
            item.text().map(str::to_string).ok_or_else(|| {
                Refusal::new(
                    item.pos,
                    format!("{} in `{key}`", item.kind_name()),
                    "write texts",
                )
            })
        })
        .collect()
}

/// `attack.tNNNN[.NNN]` are techniques (they must be in the ATT&CK
/// catalogue); tactic tags are left out (tripline derives tactics from
/// techniques); every other tag is kept as a tripline tag.
fn tags(doc: &Node, draft: &mut Draft) -> Result<()> {
    let catalogue = Catalogue::bundled();
    let tag_nodes: Vec<&Node> = match doc.get("tags").map(|n| &n.kind) {
        Some(NodeKind::Seq(items)) => items.iter().collect(),
        _ => Vec::new(),
    };
    for node in tag_nodes {
        let Some(tag) = node.text() else { continue };
        let lower = tag.to_ascii_lowercase();
        let Some(rest) = lower.strip_prefix("attack.") else {
            if !draft.tags.iter().any(|t| t == tag) {
                draft.tags.push(tag.to_string());
            }
            continue;
        };
        if is_technique(rest) {
            let id = rest.to_ascii_uppercase();
            if catalogue.technique(&id).is_none() {
                return Err(Refusal::new(
                    node.pos,
                    format!("tag `{tag}`"),
                    "not a technique of the bundled ATT&CK catalogue",
                ));
            }
            if !draft.techniques.contains(&id) {
                draft.techniques.push(id);
            }
        } else if catalogue.tactic(rest).is_none() && !draft.tags.iter().any(|t| t == tag) {
            draft.tags.push(tag.to_string());
        }
    }
    if draft.techniques.is_empty() {
        return Err(Refusal::new(
            doc.get("tags").map_or(doc.pos, |n| n.pos),
            "a rule without an `attack.tNNNN` tag",
            "every tripline rule names its ATT&CK techniques (`attack`)",
        ));
    }
    Ok(())
}

fn is_technique(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    match bytes {
        [b't', rest @ ..] if rest.len() == 4 => digits(rest),
        [b't', rest @ ..] if rest.len() == 8 && rest[4] == b'.' => {
            digits(&rest[..4]) && digits(&rest[5..])
        }
        _ => false,
    }
}

/// `tripline_alert`, `fields` and `tripline_playbook`, with Sigma field
/// names mapped back; a name the mapping does not know refuses the rule.
pub fn extras(
    doc: &Node,
    detection_doc: &Node,
    names: &SourceNames,
    draft: &mut Draft,
) -> Result<()> {
    let field = |node: &Node| -> Result<String> {
        let text = node.text().unwrap_or_default();
        names
            .field(text)
            .map(|(f, _)| f.to_string())
            .ok_or_else(|| {
                Refusal::new(
                    node.pos,
                    format!("field `{text}`"),
                    format!(
                        "not a field of source `{}` in the Sigma mapping",
                        names.source
                    ),
                )
            })
    };
    if let Some(alert) = doc.get("tripline_alert") {
        if let Some(title) = alert.get("title").and_then(Node::text) {
            draft
                .alert
                .push(AlertDraft::Title(alert_title(title, names).map_err(
                    |r| Refusal::new(alert.pos, "`tripline_alert` title", r),
                )?));
        }
        if let Some(NodeKind::Seq(risks)) = alert.get("risk").map(|n| &n.kind) {
            for risk in risks {
                let (Some(f), Some(kind), Some(score)) = (
                    risk.get("field"),
                    risk.get("type").and_then(Node::text),
                    risk.get("score").and_then(Node::text),
                ) else {
                    return Err(Refusal::new(
                        risk.pos,
                        "a `tripline_alert` risk",
                        "needs `field`, `type` and `score`",
                    ));
                };
                let score = score
                    .parse()
                    .map_err(|_| Refusal::new(risk.pos, "a risk score", "an integer"))?;
                draft.alert.push(AlertDraft::Risk {
                    field: field(f)?,
                    kind: word(kind, risk.pos)?,
                    score,
                });
            }
        }
        if let Some(NodeKind::Seq(threats)) = alert.get("threats").map(|n| &n.kind) {
            for threat in threats {
                let (Some(f), Some(kind)) =
                    (threat.get("field"), threat.get("type").and_then(Node::text))
                else {
                    return Err(Refusal::new(
                        threat.pos,
                        "a `tripline_alert` threat",
                        "needs `field` and `type`",
                    ));
                };
                draft.alert.push(AlertDraft::Threat {
                    field: field(f)?,
                    kind: word(kind, threat.pos)?,
                });
            }
        }
    }
    let fields_node = detection_doc.get("fields").or_else(|| doc.get("fields"));
    if let Some(NodeKind::Seq(items)) = fields_node.map(|n| &n.kind) {
        // `fields` only says what an analyst sees beside a match: a name
        // the mapping lacks is left out with a note, not a refusal.
        let mut fields = Vec::new();
        for item in items {
            match field(item) {
                Ok(name) => fields.push(name),
                Err(mut note) => {
                    note.reason = format!("left out of `fields`: {}", note.reason);
                    draft.notes.push(note);
                }
            }
        }
        if !fields.is_empty() {
            draft.alert.push(AlertDraft::Fields(fields));
        }
    }
    if let Some(notable) = doc.get("tripline_alert").and_then(|a| a.get("notable"))
        && let Some(super::yaml::Resolved::Bool(on)) = notable.resolved()
    {
        draft.alert.push(AlertDraft::Notable(on));
    }
    if let Some(NodeKind::Map(sections)) = doc.get("tripline_playbook").map(|n| &n.kind) {
        for (key, lines) in sections {
            if !PLAYBOOK.contains(&key.text.as_str()) {
                return Err(Refusal::new(
                    key.pos,
                    format!("playbook section `{}`", key.text),
                    format!("the sections are {}", PLAYBOOK.join(", ")),
                ));
            }
            if let NodeKind::Seq(lines) = &lines.kind {
                for line in lines {
                    let text = line.text().unwrap_or_default().to_string();
                    draft.playbook.push((key.text.clone(), text));
                }
            }
        }
    }
    Ok(())
}

/// A risk or threat type: a bare word in tripline (the checker says
/// which words).
fn word(text: &str, pos: Pos) -> Result<String> {
    let mut chars = text.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(text.to_string())
    } else {
        Err(Refusal::new(
            pos,
            format!("type `{text}`"),
            "an alert type is a word",
        ))
    }
}

/// `{sigma_name}` tokens of a title to `{field}`; `{{` `}}` kept.
fn alert_title(title: &str, names: &SourceNames) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = title;
    while let Some(at) = rest.find(['{', '}']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..2]);
            rest = &tail[2..];
        } else if let Some(end) = tail.strip_prefix('{').and_then(|t| t.find('}')) {
            let sigma = &tail[1..=end];
            let (field, _) = names
                .field(sigma)
                .ok_or_else(|| format!("`{{{sigma}}}` is not a field of the mapping"))?;
            out.push('{');
            out.push_str(field);
            out.push('}');
            rest = &tail[end + 2..];
        } else {
            return Err("an unbalanced brace".to_string());
        }
    }
    out.push_str(rest);
    Ok(out)
}
