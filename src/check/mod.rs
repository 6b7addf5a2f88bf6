//! Syntax tree to IR: resolves names (sources, fields, lists, techniques),
//! checks types and values, and reports every problem it finds in one run.
//! Lists are checked first (rules anywhere in the pack may use them), then
//! each rule in file order; rule names and ids are pack-wide.

mod alert;
pub mod attack;
mod context;
mod detection;
mod event;
mod expr;
mod lints;
mod lists;
mod meta;
pub use meta::PLAYBOOK_KEYS;
mod names;
mod operand;
pub mod regex;
mod rule;
mod statements;
pub mod taxonomy;
mod testcases;
mod threshold;
pub mod values;

pub use alert::{AlertDefaults, LevelDefaults};
pub use attack::{Catalogue, TechniqueEntry};
pub use lists::Replaced;
pub use taxonomy::{ExtendError, Source, Taxonomy};

use crate::diag::{Diagnostic, codes};
use crate::ir;
use crate::source::{FileId, SourceMap};
use crate::syntax::Span;
use crate::syntax::ast::{self, Item, ItemKind};

use context::{RuleCx, Scope};
use lists::Lists;
use names::{Claim, Registry};

/// The checked pack and everything found on the way.
#[derive(Debug)]
pub struct Checked {
    pub pack: ir::Pack,
    pub diagnostics: Vec<Diagnostic>,
    /// The pack lists a site list replaced.
    pub replaced_lists: Vec<Replaced>,
    /// Every list of the pack by name, with the file it now comes from.
    pub lists: Vec<(String, FileId)>,
}

/// What the pack's manifest and site give the checker besides the files.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    /// `every` and `delay` of rules that do not say, in seconds.
    pub every: u64,
    pub delay: u64,
    /// Taxonomy extension files named by the manifest, each with where it
    /// was named (the manifest's file and the span of the path).
    pub taxonomy: Vec<TaxonomyExtension>,
    /// Alert risk scores and notables by level (`[alert.defaults.LEVEL]`).
    pub alert: AlertDefaults,
}

/// One `taxonomy = [...]` entry of a manifest.
#[derive(Debug, Clone)]
pub struct TaxonomyExtension {
    pub path: std::path::PathBuf,
    pub named_in: FileId,
    pub span: crate::syntax::Span,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            every: threshold::DEFAULT_EVERY,
            delay: threshold::DEFAULT_DELAY,
            taxonomy: Vec::new(),
            alert: AlertDefaults::default(),
        }
    }
}

/// Checks all parsed files of one pack together (lists and ids are
/// pack-wide) against the bundled taxonomy. `files` are in the order given
/// on the command line. Rules with errors are left out of `pack`.
/// Diagnostics come sorted by file and position.
pub fn check(map: &SourceMap, files: &[(FileId, &ast::File)]) -> Checked {
    check_pack(
        map,
        files,
        &[],
        &CheckSettings::default(),
        Taxonomy::bundled(),
    )
}

/// `check` against `taxonomy` (the bundled one extended by a pack's files).
pub fn check_with(map: &SourceMap, files: &[(FileId, &ast::File)], taxonomy: &Taxonomy) -> Checked {
    check_pack(map, files, &[], &CheckSettings::default(), taxonomy)
}

/// `check` with a pack's settings, the lists of a site (`site`) that
/// replace the pack's of the same name, and the pack's taxonomy.
pub fn check_pack(
    map: &SourceMap,
    files: &[(FileId, &ast::File)],
    site: &[(FileId, &ast::File)],
    settings: &CheckSettings,
    taxonomy: &Taxonomy,
) -> Checked {
    let mut diagnostics = Vec::new();
    let mut lists = Lists::declare(files, &mut diagnostics);
    let replaced_lists = lists.overlay(site, &mut diagnostics);
    let list_files = lists.origins();
    let scope = Scope {
        map,
        taxonomy,
        catalogue: Catalogue::bundled(),
        lists: &lists,
        settings,
    };
    let mut rule_names = Registry::default();
    let mut ids = Registry::default();
    let mut rules = Vec::new();
    for (file, parsed) in files {
        for item in &parsed.items {
            let (name, decl) = match item {
                Item::Rule(decl) => (&decl.name, Some(decl)),
                Item::Broken {
                    kind: ItemKind::Rule,
                    name: Some(name),
                } => (name, None),
                _ => continue,
            };
            let message = || format!("rule `{}` is declared twice", name.node);
            let claim = rule_names.claim(
                name,
                (*file, name.span),
                decl.is_none(),
                codes::DUPLICATE_RULE,
                message,
            );
            let Some(decl) = decl else { continue };
            let mut cx = RuleCx::new(&scope, *file);
            if let Claim::Duplicate(Some(diagnostic)) = claim {
                cx.emit(*diagnostic);
            }
            let checked = rule::rule(&mut cx, decl, &mut ids);
            let made_up: Vec<Span> = parsed
                .made_up
                .iter()
                .copied()
                .filter(|s| decl.span.start <= s.start && s.end <= decl.span.end)
                .collect();
            if made_up.is_empty() {
                rules.extend(checked);
            } else {
                cx.diagnostics.retain(|d| !about_made_up(d, &made_up));
            }
            diagnostics.append(&mut cx.diagnostics);
        }
    }
    sort(&mut diagnostics);
    Checked {
        pack: ir::Pack {
            rules,
            settings: ir::PackSettings::default(),
        },
        diagnostics,
        replaced_lists,
        lists: list_files,
    }
}

/// Whether a diagnostic of a rule with values the parser made up (a
/// malformed duration or integer, read as 0) may be about them: it points
/// at one, or it weighs the schedule, which a made-up duration skews. The
/// parse error already names the value.
fn about_made_up(diagnostic: &Diagnostic, made_up: &[Span]) -> bool {
    const SCHEDULE: [crate::diag::Code; 4] = [
        codes::LOOKBACK_TOO_SHORT,
        codes::DELAY_TOO_LONG,
        codes::STEP_NOT_DIVIDING,
        codes::SCHEDULE_CANNOT_HONOUR,
    ];
    let span = diagnostic.primary.span;
    SCHEDULE.contains(&diagnostic.code)
        || made_up
            .iter()
            .any(|m| span.start < m.end.max(m.start + 1) && m.start < span.end.max(span.start + 1))
}

/// By file and position; a diagnostic reached twice (an element of a list
/// that several rules use) is kept once.
fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by_key(|d| (d.primary.file, d.primary.span.start, d.primary.span.end));
    diagnostics
        .dedup_by(|a, b| a.code == b.code && a.primary == b.primary && a.message == b.message);
}
