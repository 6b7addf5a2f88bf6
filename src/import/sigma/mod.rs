//! `tripline import sigma`: Sigma rules (and correlation rules) to `.trip`
//! rules. Each document is read with positions (`yaml`), its `logsource`
//! and field names mapped back through the Sigma target's mapping
//! (`mapping`), its detection turned into a formula (`detection`, `item`,
//! `values`, `regex`, `cond`), a correlation into a threshold
//! (`correlation`), its metadata into statements (`rule`); the draft is
//! printed by `fmt` from a syntax tree (`print`) and checked. Whatever
//! cannot be carried exactly refuses that rule, at its YAML position.

mod cond;
mod correlation;
mod detection;
mod draft;
mod item;
mod mapping;
mod modifiers;
mod print;
mod refusal;
mod regex;
mod regression;
mod rule;
mod strings;
mod values;
pub mod yaml;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use mapping::SigmaNames;
pub use refusal::Refusal;

use crate::check::Taxonomy;
use crate::source::{SourceFile, SourceMap};
use crate::syntax::ast as syntax_ast;
use draft::Draft;
use yaml::{Node, NodeKind, Pos};

/// One rule written as `.trip` text.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The rule's name (the file is `NAME.trip`).
    pub name: String,
    pub text: String,
    pub sigma: PathBuf,
    pub pos: Pos,
    /// What was left out without changing what the rule detects.
    pub notes: Vec<Refusal>,
}

/// One Sigma rule (or whole file) not imported.
#[derive(Debug, Clone)]
pub struct Refused {
    pub sigma: PathBuf,
    pub refusal: Refusal,
}

#[derive(Debug, Default)]
pub struct Outcome {
    pub imported: Vec<Imported>,
    pub refused: Vec<Refused>,
}

/// A document of an input file.
struct Doc {
    file: usize,
    node: Node,
}

/// Imports the Sigma files `(path, text)`, in order.
pub fn import(files: &[(PathBuf, String)], names: &SigmaNames, taxonomy: &Taxonomy) -> Outcome {
    let mut outcome = Outcome::default();
    let mut docs = Vec::new();
    for (index, (path, text)) in files.iter().enumerate() {
        match yaml::documents(text) {
            Ok(nodes) => docs.extend(nodes.into_iter().map(|node| Doc { file: index, node })),
            Err(err) => outcome.refused.push(Refused {
                sigma: path.clone(),
                refusal: Refusal::new(err.pos, "YAML", err.message),
            }),
        }
    }
    let mut run = Run {
        files,
        names,
        taxonomy,
        outcome,
        taken_names: HashSet::new(),
        taken_ids: HashSet::new(),
    };
    let consumed = run.correlations(&docs);
    for (index, doc) in docs.iter().enumerate() {
        if consumed.contains(&index) || doc.node.get("correlation").is_some() {
            continue;
        }
        let result = plain_rule(doc, names, &run.stem(doc.file), &files[doc.file].0);
        run.finish(doc, result);
    }
    run.outcome
}

struct Run<'a> {
    files: &'a [(PathBuf, String)],
    names: &'a SigmaNames,
    taxonomy: &'a Taxonomy,
    outcome: Outcome,
    taken_names: HashSet<String>,
    taken_ids: HashSet<String>,
}

impl Run<'_> {
    fn stem(&self, file: usize) -> String {
        Path::new(&self.files[file].0)
            .file_stem()
            .map(|s| s.to_string_lossy().trim_end_matches(".sigma").to_string())
            .unwrap_or_default()
    }

    /// Imports each correlation with its base rule; returns the base rules
    /// used (they are not imported on their own unless `generate: true`).
    fn correlations(&mut self, docs: &[Doc]) -> HashSet<usize> {
        let mut consumed = HashSet::new();
        for doc in docs.iter().filter(|d| d.node.get("correlation").is_some()) {
            let result = correlation::known_kind(&doc.node).and_then(|()| {
                let refs = correlation::rule_refs(&doc.node)?;
                let sequence = correlation::is_sequence(&doc.node);
                if !sequence && refs.len() != 1 {
                    return Err(Refusal::new(
                        doc.node.pos,
                        "a correlation over several rules",
                        "tripline's threshold counts one rule's events",
                    ));
                }
                let bases = refs
                    .iter()
                    .map(|reference| base_rule(docs, &doc.node, reference))
                    .collect::<refusal::Result<Vec<usize>>>()?;
                for &base in &bases {
                    let generate = docs[base].node.get("generate").and_then(Node::resolved)
                        == Some(yaml::Resolved::Bool(true));
                    if !generate {
                        consumed.insert(base);
                    }
                }
                let stem = self.stem(doc.file);
                if sequence {
                    let bases: Vec<&Node> = bases.iter().map(|&b| &docs[b].node).collect();
                    sequence_rule(&doc.node, &bases, self.names, &stem)
                } else {
                    correlated_rule(&doc.node, &docs[bases[0]].node, self.names, &stem)
                }
            });
            self.finish(doc, result);
        }
        consumed
    }

    /// Prints and checks a draft; records it as imported or refused.
    fn finish(&mut self, doc: &Doc, draft: refusal::Result<Draft>) {
        let sigma = self.files[doc.file].0.clone();
        let result = draft.and_then(|mut draft| {
            if !self.taken_ids.insert(draft.id.clone()) {
                return Err(Refusal::new(
                    doc.node.get("id").map_or(doc.node.pos, |n| n.pos),
                    format!("id `{}`", draft.id),
                    "another imported rule has this id",
                ));
            }
            draft.name = self.unique_name(&draft.name);
            let text = print::print(&draft)
                .map_err(|reason| Refusal::new(doc.node.pos, "the imported rule", reason))?;
            check(&draft.name, &text, self.taxonomy)
                .map_err(|reason| Refusal::new(doc.node.pos, "the imported rule", reason))?;
            Ok(Imported {
                name: draft.name,
                text,
                sigma: sigma.clone(),
                pos: doc.node.pos,
                notes: draft.notes,
            })
        });
        match result {
            Ok(imported) => self.outcome.imported.push(imported),
            Err(refusal) => self.outcome.refused.push(Refused { sigma, refusal }),
        }
    }

    /// A rule name no other imported rule has (ignoring case: file names).
    fn unique_name(&mut self, wanted: &str) -> String {
        let mut name = wanted.to_string();
        let mut n = 2;
        while !self.taken_names.insert(name.to_lowercase()) {
            name = format!("{wanted}_{n}");
            n += 1;
        }
        name
    }
}

/// A tripline rule name from a Sigma `name` or file name.
fn rule_name(doc: &Node, stem: &str) -> String {
    let wanted = doc.get("name").and_then(Node::text).unwrap_or(stem);
    let mut name: String = wanted
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert_str(0, "sigma_");
    }
    // A reserved word (`rule`, `match`, `list`, ...) is no rule name.
    if !reads_as_rule_name(&name) {
        name.push_str("_rule");
    }
    name
}

fn reads_as_rule_name(name: &str) -> bool {
    let (file, errors) =
        crate::syntax::parse(crate::source::FileId(0), &format!("rule {name} {{}}"));
    errors.is_empty()
        && matches!(file.items.as_slice(), [syntax_ast::Item::Rule(rule)] if rule.name.node == name)
}

fn logsource<'n>(doc: &Node, names: &'n SigmaNames) -> refusal::Result<&'n mapping::SourceNames> {
    let node = doc.get("logsource").ok_or_else(|| {
        Refusal::new(
            doc.pos,
            "a rule without `logsource`",
            "say which logs it reads",
        )
    })?;
    let NodeKind::Map(entries) = &node.kind else {
        return Err(Refusal::new(
            node.pos,
            "a `logsource` that is not a map",
            "write category, product, service",
        ));
    };
    let pairs: Vec<(String, String)> = entries
        .iter()
        .filter_map(|(k, v)| Some((k.text.clone(), v.text()?.to_string())))
        .collect();
    names.source(&pairs).ok_or_else(|| {
        let written: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        Refusal::new(
            node.pos,
            format!("log source {{{}}}", written.join(", ")),
            format!(
                "no tripline source has this Sigma log source (known: {}); a pack can add one with a taxonomy extension",
                names.known_logsources().join("; ")
            ),
        )
    })
}

fn plain_rule(doc: &Doc, names: &SigmaNames, stem: &str, sigma: &Path) -> refusal::Result<Draft> {
    let node = &doc.node;
    if node.get("action").is_some() {
        return Err(Refusal::new(
            node.pos,
            "`action` (a Sigma 1 rule collection)",
            "write each rule out in full",
        ));
    }
    let detection_node = node.get("detection").ok_or_else(|| {
        Refusal::new(
            node.pos,
            "a document without `detection`",
            "not a Sigma rule",
        )
    })?;
    let mut draft = Draft {
        name: rule_name(node, stem),
        ..Draft::default()
    };
    rule::metadata(node, &mut draft)?;
    let source = logsource(node, names)?;
    draft.source = source.source.clone();
    draft.condition = Some(detection::detection(source, detection_node)?);
    rule::extras(node, node, source, &mut draft)?;
    let (tests, notes) = regression::tests(sigma, node, source);
    draft.tests = tests;
    draft.notes.extend(notes);
    Ok(draft)
}

/// The document of the rule a correlation names (by `name` or `id`).
fn base_rule(docs: &[Doc], correlation: &Node, reference: &str) -> refusal::Result<usize> {
    docs.iter()
        .position(|d| {
            d.node.get("correlation").is_none()
                && [d.node.get("name"), d.node.get("id")]
                    .into_iter()
                    .flatten()
                    .any(|n| n.text() == Some(reference))
        })
        .ok_or_else(|| {
            Refusal::new(
                correlation.pos,
                format!("rule `{reference}`"),
                "the correlation's rule is not among the files imported",
            )
        })
}

/// A `temporal_ordered` correlation as a sequence: one step per rule, in
/// the order listed, each step the rule's detection; the rule's `where`
/// is any of them (it applies to every step, so it must let each pass).
fn sequence_rule(
    doc: &Node,
    bases: &[&Node],
    names: &SigmaNames,
    stem: &str,
) -> refusal::Result<Draft> {
    let [first, ..] = bases else {
        return Err(Refusal::new(doc.pos, "a correlation without `rules`", "-"));
    };
    if bases.len() < 2 {
        let rules = doc.get("correlation").and_then(|c| c.get("rules"));
        return Err(Refusal::new(
            rules.map_or(doc.pos, |n| n.pos),
            "a `temporal_ordered` correlation over one rule",
            "a sequence has at least two steps; one rule repeated is an `event_count`",
        ));
    }
    let source = logsource(first, names)?;
    for base in &bases[1..] {
        if logsource(base, names)?.source != source.source {
            return Err(Refusal::new(
                base.get("logsource").map_or(base.pos, |n| n.pos),
                "a `temporal_ordered` correlation over rules of different log sources",
                format!(
                    "a tripline sequence reads one source; this rule's is not `{}`",
                    source.source
                ),
            ));
        }
    }
    let frame = correlation::sequence(doc, bases.len(), source)?;
    let steps = bases
        .iter()
        .map(|base| base_detection(base, source))
        .collect::<refusal::Result<Vec<_>>>()?;
    let mut any_step: Vec<cond::Cond> = Vec::new();
    for step in &steps {
        if !any_step.contains(step) {
            any_step.push(step.clone());
        }
    }
    let mut draft = Draft::default();
    rule::metadata(doc, &mut draft)?;
    draft.name = rule_name(doc, stem);
    draft.source = source.source.clone();
    draft.condition = Some(match any_step.len() {
        1 => any_step.remove(0),
        _ => cond::Cond::Or(any_step),
    });
    draft.sequence = Some(draft::SequenceDraft { frame, steps });
    rule::extras(doc, first, source, &mut draft)?;
    Ok(draft)
}

/// The formula of a rule a correlation names.
fn base_detection(base: &Node, source: &mapping::SourceNames) -> refusal::Result<cond::Cond> {
    let node = base.get("detection").ok_or_else(|| {
        Refusal::new(
            base.pos,
            "a base rule without `detection`",
            "not a Sigma rule",
        )
    })?;
    detection::detection(source, node)
}

fn correlated_rule(
    doc: &Node,
    base: &Node,
    names: &SigmaNames,
    stem: &str,
) -> refusal::Result<Draft> {
    let source = logsource(base, names)?;
    let threshold = correlation::threshold(doc, source)?;
    let formula = base_detection(base, source)?;
    let mut draft = Draft::default();
    rule::metadata(doc, &mut draft)?;
    // tripline's Sigma target gives the correlation a UUID v5 of the
    // rule's id, which the detection document carries.
    let base_id = base
        .get("id")
        .and_then(Node::text)
        .unwrap_or_default()
        .to_lowercase();
    if let Ok(namespace) = uuid::Uuid::parse_str(&base_id) {
        let derived = uuid::Uuid::new_v5(&namespace, b"tripline:sigma:correlation").to_string();
        if derived == draft.id {
            draft.id = base_id.clone();
            draft.name = rule_name(base, stem);
        }
    }
    if draft.name.is_empty() {
        draft.name = rule_name(doc, stem);
    }
    draft.source = source.source.clone();
    draft.condition = Some(correlation::without_counted_exists(formula, &threshold));
    draft.threshold = Some(threshold);
    rule::extras(doc, base, source, &mut draft)?;
    Ok(draft)
}

/// The first error `check` finds in the printed rule, if any.
fn check(name: &str, text: &str, taxonomy: &Taxonomy) -> Result<(), String> {
    let mut map = SourceMap::default();
    let id = map.add(SourceFile::new(format!("{name}.trip"), text));
    let (file, errors) = crate::syntax::parse(id, &map.get(id).text);
    if let Some(error) = errors.first() {
        return Err(format!(
            "the printed rule does not parse: {}",
            error.message
        ));
    }
    let checked = crate::check::check_with(&map, &[(id, &file)], taxonomy);
    match checked.diagnostics.iter().find(|d| d.is_error()) {
        Some(error) => Err(format!(
            "the imported rule does not check: {} ({})",
            error.message,
            error.help.clone().unwrap_or_default()
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
