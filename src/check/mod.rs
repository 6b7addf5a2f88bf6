//! Syntax tree to IR: resolves names (sources, fields, lists, techniques),
//! checks types and values, and reports every problem it finds in one run.
//! Lists are checked first (rules anywhere in the pack may use them), then
//! each rule in file order; rule names and ids are pack-wide.

mod alert;
pub mod attack;
mod context;
mod event;
mod expr;
mod lists;
mod meta;
mod names;
mod operand;
pub mod regex;
mod rule;
mod statements;
pub mod taxonomy;
mod testcases;
mod threshold;
pub mod values;

pub use attack::{Catalogue, TechniqueEntry};
pub use taxonomy::{Source, Taxonomy};

use crate::diag::{Diagnostic, codes};
use crate::ir;
use crate::source::{FileId, SourceMap};
use crate::syntax::ast::{self, Item, ItemKind};

use context::{RuleCx, Scope};
use lists::Lists;
use names::{Claim, Registry};

/// The checked pack and everything found on the way.
#[derive(Debug)]
pub struct Checked {
    pub pack: ir::Pack,
    pub diagnostics: Vec<Diagnostic>,
}

/// Checks all parsed files of one pack together (lists and ids are
/// pack-wide). `files` are in the order given on the command line. Rules
/// with errors are left out of `pack`. Diagnostics come sorted by file and
/// position.
pub fn check(map: &SourceMap, files: &[(FileId, &ast::File)]) -> Checked {
    let mut diagnostics = Vec::new();
    let lists = Lists::declare(files, &mut diagnostics);
    let scope = Scope {
        map,
        taxonomy: Taxonomy::bundled(),
        catalogue: Catalogue::bundled(),
        lists: &lists,
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
            rules.extend(rule::rule(&mut cx, decl, &mut ids));
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
    }
}

/// By file and position; a diagnostic reached twice (an element of a list
/// that several rules use) is kept once.
fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by_key(|d| (d.primary.file, d.primary.span.start, d.primary.span.end));
    diagnostics
        .dedup_by(|a, b| a.code == b.code && a.primary == b.primary && a.message == b.message);
}
