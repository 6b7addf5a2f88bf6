//! The base search of a rule: its source's macro, or for a rule over
//! several sources (`from web, proxy`) their macros joined by `OR` in one
//! search, which reads each event once however many base searches it
//! satisfies. Such a rule is a raw search, its fields named by its first
//! source, so every field the rule reads must have that name in each
//! source; an alert field another source names differently is refused too
//! (its column would hold another field of that source's events).

use crate::emit::Input;
use crate::emit::query::Refusal;
use crate::ir;

use super::{SPLUNK, is_name, setting};

/// `` (`tripline_web`) `` or `` ((`tripline_web`) OR (`tripline_proxy`)) ``.
pub fn base(input: &Input, rule: &ir::Rule) -> Result<String, Vec<Refusal>> {
    let mut macros = Vec::new();
    let mut refusals = Vec::new();
    for source in std::iter::once(&rule.source).chain(&rule.more_sources) {
        match setting(input, source, "macro").filter(|m| is_name(m)) {
            Some(name) => macros.push(format!("(`{name}`)")),
            None => refusals.push(Refusal::new(
                SPLUNK,
                rule.span,
                format!("source `{source}` without a base-search macro"),
                format!(
                    "give source `{source}` a `macro` in targets/splunk/mappings/{}.yaml",
                    input.mapping_name
                ),
            )),
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    refusals.extend(names_differ(input, rule));
    if !refusals.is_empty() {
        return Err(refusals);
    }
    Ok(match macros.len() {
        1 => macros.remove(0),
        _ => format!("({})", macros.join(" OR ")),
    })
}

/// A field of the rule another of its sources names otherwise: one
/// refusal per field, at the rule.
fn names_differ(input: &Input, rule: &ir::Rule) -> Vec<Refusal> {
    let mapping = &input.mapping;
    let read = crate::emit::common::fields_read(rule);
    let shown = crate::emit::common::alert_fields(input, rule);
    let mut paths: Vec<(&str, bool)> = read.iter().map(|p| (p.as_str(), true)).collect();
    paths.extend(shown.iter().map(|f| (f.path.as_str(), false)));
    let mut refusals = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (path, detects) in paths {
        // Unmapped in the first source: refused where the field is named.
        let Some(first) = mapping.field(&rule.source, path) else {
            continue;
        };
        for other in &rule.more_sources {
            let name = mapping.field(other, path);
            let differs = match name {
                Some(name) => name != first,
                None => detects,
            };
            if differs && !seen.contains(&path) {
                seen.push(path);
                refusals.push(Refusal::new(
                    SPLUNK,
                    rule.span,
                    format!(
                        "a rule over several sources (`from {}, {}`) whose field `{path}` is `{first}` in source `{}` and {} in source `{other}`",
                        rule.source,
                        rule.more_sources.join(", "),
                        rule.source,
                        name.map_or("unmapped".to_string(), |n| format!("`{n}`")),
                    ),
                    format!(
                        "one search reads every source's events under one name per field; map `{path}` to `{first}` for source `{other}` in targets/splunk/mappings/{}.yaml, or write one rule per source",
                        input.mapping_name
                    ),
                ));
            }
        }
    }
    refusals
}
