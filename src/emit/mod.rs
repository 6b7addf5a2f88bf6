//! IR to the documents each SIEM loads. One module per target; what the
//! SIEM loads around a query (YAML, .conf stanzas, Markdown) comes from the
//! minijinja templates of the target's folder (`folder`), the query itself
//! from the target's expression writer. A rule a target cannot express
//! exactly is refused with a diagnostic naming the construct; it never gets
//! a silently different query.

pub mod common;
pub mod folder;
pub mod kql;
pub mod query;
pub mod runbook;
pub mod schedule;
pub mod sigma;
pub mod splunk;
pub mod sql;
pub mod templates;

use std::path::Path;

use crate::check::Taxonomy;
use crate::diag::Diagnostic;
use crate::ir;
use folder::{FolderError, Mapping, TargetFolder};

/// The targets `build --target` knows, in the order `all` builds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TargetName {
    Sigma,
    Splunk,
    Kql,
    Sql,
    Runbook,
}

impl TargetName {
    pub const ALL: [TargetName; 5] = [
        TargetName::Sigma,
        TargetName::Splunk,
        TargetName::Kql,
        TargetName::Sql,
        TargetName::Runbook,
    ];

    /// The target's folder name under `targets/` and under `--out DIR`.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetName::Sigma => "sigma",
            TargetName::Splunk => "splunk",
            TargetName::Kql => "kql",
            TargetName::Sql => "sql",
            TargetName::Runbook => "runbook",
        }
    }

    pub fn parse(word: &str) -> Option<TargetName> {
        TargetName::ALL.into_iter().find(|t| t.as_str() == word)
    }
}

/// `sigma,splunk` or `all` → the targets, in the canonical order.
pub fn parse_targets(words: &str) -> Result<Vec<TargetName>, String> {
    let mut targets = Vec::new();
    for word in words.split(',').map(str::trim) {
        if word == "all" {
            targets.extend(TargetName::ALL);
            continue;
        }
        let target = TargetName::parse(word).ok_or_else(|| {
            let known: Vec<&str> = TargetName::ALL.iter().map(|t| t.as_str()).collect();
            let hint = crate::diag::nearest(word, known.iter().copied().chain(["all"]))
                .map(|near| format!("did you mean `{near}`? "))
                .unwrap_or_default();
            format!(
                "unknown target `{word}`; {hint}expected `all` or one of {}",
                known.join(", ")
            )
        })?;
        targets.push(target);
    }
    targets.sort();
    targets.dedup();
    Ok(targets)
}

/// One output file, by path relative to the target's output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub path: String,
    pub text: String,
}

/// What a target made of a pack: the documents of the rules it could
/// express, one refusal (an error diagnostic) per construct it cannot, and
/// its warnings (a runbook without a playbook).
#[derive(Debug, Default)]
pub struct Emitted {
    pub documents: Vec<Document>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What every target is given.
pub struct Input<'a> {
    pub pack: &'a ir::Pack,
    pub folder: &'a TargetFolder,
    pub mapping: &'a Mapping,
    /// The mapping's name (`default`), for messages.
    pub mapping_name: &'a str,
    /// The taxonomy the pack was checked against (sources' descriptions).
    pub taxonomy: &'a Taxonomy,
}

/// A broken target folder: a missing or invalid template or mapping.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error("{path}:{line}: {message}")]
    Template {
        path: String,
        line: usize,
        message: String,
    },
    #[error("target `{target}` has no mapping `{mapping}` (it has: {available})")]
    UnknownMapping {
        target: String,
        mapping: String,
        available: String,
    },
}

impl EmitError {
    /// A template error with the template's file and line.
    pub fn template(folder: &TargetFolder, err: &minijinja::Error) -> EmitError {
        let name = err.name().unwrap_or("?");
        let mut message = err.to_string();
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            message.push_str(&format!(": {inner}"));
            source = inner.source();
        }
        EmitError::Template {
            path: folder.display_path(name),
            line: err.line().unwrap_or(1),
            message,
        }
    }
}

/// Builds each of `targets` for the whole pack, in order, with the mappings
/// of `taxonomy`'s extensions.
pub fn emit_all(
    targets: &[TargetName],
    pack: &ir::Pack,
    targets_dir: Option<&Path>,
    mapping_name: &str,
    taxonomy: &Taxonomy,
) -> Result<Vec<(TargetName, Emitted)>, EmitError> {
    targets
        .iter()
        .map(|&target| {
            let emitted = emit_with(target, pack, targets_dir, mapping_name, taxonomy)?;
            Ok((target, emitted))
        })
        .collect()
}

/// Builds one target for the whole pack, over the bundled taxonomy.
pub fn emit(
    target: TargetName,
    pack: &ir::Pack,
    targets_dir: Option<&Path>,
    mapping_name: &str,
) -> Result<Emitted, EmitError> {
    emit_with(target, pack, targets_dir, mapping_name, Taxonomy::bundled())
}

/// Builds one target for the whole pack, with the mappings of `taxonomy`'s
/// extensions.
pub fn emit_with(
    target: TargetName,
    pack: &ir::Pack,
    targets_dir: Option<&Path>,
    mapping_name: &str,
    taxonomy: &Taxonomy,
) -> Result<Emitted, EmitError> {
    let folder = TargetFolder::load(target.as_str(), targets_dir)?;
    let mapping = if target == TargetName::Runbook {
        Mapping::default()
    } else {
        if !folder.mapping_names().contains(&mapping_name) {
            return Err(EmitError::UnknownMapping {
                target: target.as_str().to_string(),
                mapping: mapping_name.to_string(),
                available: folder.mapping_names().join(", "),
            });
        }
        folder
            .mapping(mapping_name)?
            .overlaid(taxonomy, target.as_str(), mapping_name)
    };
    let input = Input {
        pack,
        folder: &folder,
        mapping: &mapping,
        mapping_name,
        taxonomy,
    };
    match target {
        TargetName::Sigma => sigma::emit(&input),
        TargetName::Splunk => splunk::emit(&input),
        TargetName::Kql => kql::emit(&input),
        TargetName::Sql => sql::emit(&input),
        TargetName::Runbook => runbook::emit(&input),
    }
}
