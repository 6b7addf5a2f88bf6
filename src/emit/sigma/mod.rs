//! The `sigma` target: one Sigma 2.x rule file per rule (`NAME.yml`),
//! laid out by `targets/sigma/rule.yml.j2`. A threshold rule's file holds two
//! documents: the detection, and the correlation rule that counts it and
//! alone carries the metadata. Field names and each source's `logsource`
//! come from the mapping; the detection from `detection`.

mod alert;
mod detection;
mod regex;
mod values;

use serde::Serialize;

use super::templates::Templates;
use super::{Document, EmitError, Emitted, Input, common};
use crate::diag::Diagnostic;
use crate::ir::{self, Aggregate, Comparison, Condition};
use detection::Detection;

const TARGET: &str = "sigma";
const TEMPLATE: &str = "rule.yml.j2";
/// The name under which a correlation's id is derived from the rule's id.
const CORRELATION_NAME: &str = "tripline:sigma:correlation";
/// The longest title pySigma accepts, in characters.
const MAX_TITLE: usize = 256;

pub fn emit(input: &Input) -> Result<Emitted, EmitError> {
    let mut templates = Templates::load(input.folder)?;
    templates
        .env
        .add_filter("sigma_scalar", |v: minijinja::Value| values::scalar(&v));
    templates
        .env
        .add_filter("sigma_word", |v: String| values::word(&v));
    let mut emitted = Emitted::default();
    for rule in &input.pack.rules {
        match context(input, rule) {
            Ok(context) => {
                let text = templates.render(TEMPLATE, &context)?;
                emitted.documents.push(Document {
                    path: format!("{}.yml", rule.name),
                    text,
                });
            }
            Err(refusals) => emitted.diagnostics.extend(refusals),
        }
    }
    Ok(emitted)
}

/// What the template lays out for one rule.
#[derive(Serialize)]
struct RuleContext {
    name: String,
    title: String,
    id: String,
    status: ir::Status,
    description: String,
    references: Vec<String>,
    author: Option<String>,
    date: Option<String>,
    modified: Option<String>,
    /// `attack.<tactic>` then `attack.<technique>`, lower case.
    tags: Vec<String>,
    logsource: Vec<(String, String)>,
    detection: Detection,
    falsepositives: Vec<String>,
    level: ir::Level,
    /// The rule's own `tags`: not Sigma namespaced tags, so kept aside.
    tripline_tags: Vec<String>,
    /// `(section, lines)` of the playbook, empty sections left out.
    playbook: Vec<(&'static str, Vec<String>)>,
    alert: alert::AlertContext,
    correlation: Option<Correlation>,
}

#[derive(Serialize)]
struct Correlation {
    id: String,
    /// The detection document's title (distinct from the rule's).
    base_title: String,
    kind: &'static str,
    group_by: Vec<String>,
    timespan: String,
    operator: &'static str,
    value: i64,
    /// The `value_count` field.
    field: Option<String>,
}

/// The version 2 constructs Sigma has no rule or correlation for.
fn unsayable(rule: &ir::Rule) -> Vec<Diagnostic> {
    let mut refusals = Vec::new();
    let mut refuse = |span, construct: &str, why: &str| {
        refusals.push(common::refusal(TARGET, rule, span, construct, why));
    };
    if !rule.more_sources.is_empty() {
        refuse(
            rule.span,
            &format!(
                "a rule over several sources (`from {}, {}`)",
                rule.source,
                rule.more_sources.join(", ")
            ),
            "a Sigma rule has one `logsource`, and two rules joined by a correlation count an event both sources hold twice",
        );
    }
    if let Some(threshold) = rule.threshold()
        && threshold.step.is_some()
    {
        refuse(
            threshold.step_span,
            "hopping windows (`over W step H`)",
            "a correlation's `timespan` is windowed as each backend windows; Sigma cannot say \"windows starting every H\" nor \"one alert per run of windows\"",
        );
    }
    match &rule.detection {
        ir::Detection::Sequence(sequence) => refuse(
            sequence.span,
            "a sequence (`sequence ... then ...`)",
            "a `temporal_ordered` correlation leaves to each backend which events serve which rule and whether a group starts over after a match, and has no step counts",
        ),
        ir::Detection::FirstSeen(first) => refuse(
            first.span,
            "a first-seen baseline (`first seen ... in ...`)",
            "Sigma has no correlation for a combination not seen in a span before",
        ),
        ir::Detection::Match | ir::Detection::Aggregation(_) => {}
    }
    refusals
}

fn context(input: &Input, rule: &ir::Rule) -> Result<RuleContext, Vec<Diagnostic>> {
    // `cased` tests are `|cased`; `len()` is refused by the detection,
    // with its reason.
    let written = common::Written {
        cased_equals: true,
        cased_text: true,
        length: true,
        // Refused by `correlation`, with their reasons.
        cased_grouping: true,
        having: true,
        // Refused below, with their reasons.
        step: true,
        sources: true,
        detection: true,
    };
    let mut version2 = common::version2_refusals_except(TARGET, rule, written);
    version2.extend(unsayable(rule));
    if !version2.is_empty() {
        return Err(version2);
    }
    let detection = detection::detection(input, rule, &counted_condition(rule));
    let logsource = logsource(input, rule);
    let correlation = match rule.threshold() {
        Some(threshold) => correlation(input, rule, threshold).map(Some),
        None => Ok(None),
    };
    let title = if rule.meta.title.chars().count() > MAX_TITLE {
        Err(common::refusal(
            TARGET,
            rule,
            rule.span,
            &format!("a title longer than {MAX_TITLE} characters"),
            "pySigma rejects a longer title; shorten it and keep the details in `description`",
        ))
    } else {
        Ok(())
    };
    let alert = alert::alert(input, rule);
    let (detection, logsource, correlation, alert) =
        match (detection, logsource, correlation, title, alert) {
            (Ok(d), Ok(l), Ok(c), Ok(()), Ok(a)) => (d, l, c, a),
            (d, l, c, t, a) => {
                let mut refusals = Vec::new();
                refusals.extend(t.err());
                refusals.extend(a.err().unwrap_or_default());
                refusals.extend(d.err().unwrap_or_default());
                refusals.extend(l.err());
                refusals.extend(c.err().unwrap_or_default());
                return Err(refusals);
            }
        };
    let meta = &rule.meta;
    let mut tags: Vec<String> = meta
        .tactics
        .iter()
        .map(|t| format!("attack.{}", t.shortname.to_lowercase()))
        .chain(
            meta.techniques
                .iter()
                .map(|t| format!("attack.{}", t.id.to_lowercase())),
        )
        .collect();
    dedup(&mut tags);
    let mut references = meta.references.clone();
    dedup(&mut references);
    let playbook = [
        ("questions", &rule.playbook.questions),
        ("escalate", &rule.playbook.escalate),
        ("triage", &rule.playbook.triage),
        ("investigate", &rule.playbook.investigate),
        ("contain", &rule.playbook.contain),
    ]
    .into_iter()
    .filter(|(_, lines)| !lines.is_empty())
    .map(|(key, lines)| (key, lines.clone()))
    .collect();
    Ok(RuleContext {
        name: rule.name.clone(),
        title: meta.title.clone(),
        id: meta.id.to_lowercase(),
        status: meta.status,
        description: meta.description.clone(),
        references,
        author: meta.author.clone(),
        date: meta.date.clone(),
        modified: meta.modified.clone(),
        tags,
        logsource,
        detection,
        falsepositives: meta.falsepositives.clone(),
        level: meta.level,
        tripline_tags: meta.tags.clone(),
        playbook,
        alert,
        correlation,
    })
}

fn dedup(items: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    items.retain(|i| seen.insert(i.clone()));
}

/// The source's `logsource` keys from the mapping, in written order.
fn logsource(input: &Input, rule: &ir::Rule) -> Result<Vec<(String, String)>, Diagnostic> {
    let refuse = || {
        common::refusal(
            TARGET,
            rule,
            rule.span,
            &format!(
                "source `{}` without a `logsource` in the mapping",
                rule.source
            ),
            &format!(
                "give source `{}` a `logsource:` map of strings in targets/sigma/mappings/{}.yaml",
                rule.source, input.mapping_name
            ),
        )
    };
    let settings = input.mapping.sources.get(&rule.source).ok_or_else(refuse)?;
    let map = settings
        .settings
        .get("logsource")
        .and_then(serde_yaml::Value::as_mapping)
        .ok_or_else(refuse)?;
    map.iter()
        .map(|(k, v)| match (k.as_str(), v.as_str()) {
            (Some(k), Some(v)) => Ok((k.to_string(), v.to_string())),
            _ => Err(refuse()),
        })
        .collect()
}

/// The rule's `where`, and for a threshold rule `exists()` of each `by`
/// field and of the `distinct` field. The evaluator counts no event without
/// a `by` value and no empty `distinct` value, where a backend groups and
/// counts whatever it sees, `""` included. Dropping events without a
/// `distinct` value changes no alert only when a count of 0 cannot alert
/// (`correlation` refuses the other rules).
fn counted_condition(rule: &ir::Rule) -> Condition {
    let Some(threshold) = rule.threshold() else {
        return rule.condition.clone();
    };
    let mut parts = match &rule.condition {
        Condition::And(parts) => parts.clone(),
        other => vec![other.clone()],
    };
    let distinct = threshold.aggregates().into_iter().filter_map(|a| match a {
        Aggregate::Distinct(field) => Some(field),
        _ => None,
    });
    let mut seen = std::collections::HashSet::new();
    for field in threshold.by.iter().chain(distinct) {
        if seen.insert(&field.path) {
            parts.push(Condition::Exists(field.clone()));
        }
    }
    Condition::And(parts)
}

/// A refusal when the threshold alerts on a distinct count of 0: Sigma's
/// `value_count` counts `""` as a value, and without the events that lack
/// the field (`counted_condition`) the group of such a count does not exist.
fn zero_distinct_refusal(rule: &ir::Rule, threshold: ir::Single<'_>) -> Option<Diagnostic> {
    let Aggregate::Distinct(field) = threshold.aggregate else {
        return None;
    };
    if !threshold.comparison.holds(0, threshold.value) {
        return None;
    }
    Some(common::refusal(
        TARGET,
        rule,
        field.span,
        &format!(
            "`distinct({}) {} {}` (it holds for a group whose events lack the field)",
            field.path,
            threshold.comparison.symbol(),
            threshold.value
        ),
        "Sigma's `value_count` counts every value it sees, `\"\"` included, so it cannot count \
         a group whose events lack the field as 0; compare so that 0 does not alert \
         (`> n`, `>= n` or `== n` with n >= 1)",
    ))
}

fn correlation(
    input: &Input,
    rule: &ir::Rule,
    threshold: &ir::Threshold,
) -> Result<Correlation, Vec<Diagnostic>> {
    let Some(single) = threshold.single() else {
        return Err(vec![common::refusal(
            TARGET,
            rule,
            common::having_span(&threshold.having),
            "a `having` condition over several aggregates or `sum`/`min`/`max`",
            "a Sigma correlation holds one condition on one aggregate, Sigma has no `min` or \
             `max` correlation, and `value_sum` sums what each backend reads as a number \
             (doubles in SPL and most SQL); split the rule, one comparison of `count()` or \
             `distinct(f)` each",
        )]);
    };
    let mut refusals = Vec::new();
    let distinct = match single.aggregate {
        Aggregate::Distinct(field) => Some(field),
        _ => None,
    };
    for field in threshold.by.iter().chain(distinct).filter(|f| f.cased) {
        refusals.push(common::refusal(
            TARGET,
            rule,
            field.span,
            "grouping or counting by exact text (`cased`)",
            "a correlation's `group-by` and `value_count` compare values as each backend \
             does, and Sigma has no way to ask for exact case; drop `cased` here",
        ));
    }
    let mut name = |field: &ir::Field| match common::mapped_field(input, TARGET, rule, field) {
        Ok(name) => name.to_string(),
        Err(refusal) => {
            refusals.push(refusal);
            String::new()
        }
    };
    let group_by = threshold.by.iter().map(&mut name).collect();
    let (kind, field) = match single.aggregate {
        Aggregate::Distinct(field) => ("value_count", Some(name(field))),
        _ => ("event_count", None),
    };
    refusals.extend(zero_distinct_refusal(rule, single));
    if !values::exact_int(single.value) {
        refusals.push(common::refusal(
            TARGET,
            rule,
            rule.span,
            &format!("the threshold {} (beyond 2^53)", single.value),
            "pySigma reads numbers through a float and would change this one",
        ));
    }
    let operator = match single.comparison {
        Comparison::Gt => "gt",
        Comparison::Ge => "gte",
        Comparison::Eq => "eq",
        Comparison::Lt => "lt",
        Comparison::Le => "lte",
    };
    // A name-based UUID (v5) in the rule id's namespace: stable across
    // builds and distinct from the base rule's id.
    let id = uuid::Uuid::parse_str(&rule.meta.id)
        .map(|namespace| uuid::Uuid::new_v5(&namespace, CORRELATION_NAME.as_bytes()).to_string())
        .unwrap_or_default();
    if !refusals.is_empty() {
        return Err(refusals);
    }
    Ok(Correlation {
        id,
        base_title: base_title(&rule.meta.title),
        kind,
        group_by,
        timespan: timespan(threshold.window),
        operator,
        value: single.value,
        field,
    })
}

/// The detection document's title: the rule's plus ` (events)`, its title
/// shortened when needed to keep within pySigma's limit and still differ.
fn base_title(title: &str) -> String {
    const SUFFIX: &str = " (events)";
    let mut keep = title
        .chars()
        .count()
        .min(MAX_TITLE - SUFFIX.chars().count());
    loop {
        let base: String = title.chars().take(keep).chain(SUFFIX.chars()).collect();
        if base != title || keep == 0 {
            return base;
        }
        keep -= 1;
    }
}

/// A window in its largest exact unit: `1h`, not `60m`.
fn timespan(seconds: u64) -> String {
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_titles_fit_and_differ() {
        assert_eq!(base_title("Recon"), "Recon (events)");
        let long = "x".repeat(256);
        let base = base_title(&long);
        assert_eq!(base.chars().count(), MAX_TITLE);
        assert!(base.ends_with(" (events)"));
        let tricky = format!("{} (events)", "y".repeat(247));
        let base = base_title(&tricky);
        assert_ne!(base, tricky);
        assert!(base.chars().count() <= MAX_TITLE);
    }
}
