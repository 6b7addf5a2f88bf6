//! The front half every command shares: find the pack of the paths given
//! (its manifest, all its files, its site), read the files, parse them,
//! check them as one pack. When the paths name part of a pack, the whole
//! pack is checked (lists and names resolve) and the result is narrowed to
//! the files named. Commands decide what to do with the result.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::check::{self, Checked, Taxonomy};
use crate::diag::{Diagnostic, codes, json};
use crate::pack;
use crate::source::{self, FileId, LoadError, SourceMap};
use crate::syntax::{self, ast};

/// A checked pack with everything needed to report on it.
pub struct Loaded {
    pub map: SourceMap,
    /// The parsed files, in the order given (folders sorted by path).
    pub files: Vec<(FileId, ast::File)>,
    pub checked: Checked,
    /// The manifest, when the paths are inside a pack that has one.
    pub manifest: Option<pack::Manifest>,
    /// The site folder's list files, when a site is in use.
    pub site_files: Vec<FileId>,
    /// The site folder, when a site is in use.
    pub site_folder: Option<PathBuf>,
    /// The rule files the run reports on (all, or those named).
    pub focus_files: usize,
    /// Whether the paths named only part of the pack.
    pub partial: bool,
    /// The taxonomy the pack was checked against (the bundled one and the
    /// pack's extensions).
    pub taxonomy: Taxonomy,
}

impl Loaded {
    /// Every diagnostic (reading, parsing, checking), sorted by file and position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.checked.diagnostics
    }

    /// How many files the count line names.
    pub fn file_count(&self) -> usize {
        self.focus_files
    }

    pub fn has_errors(&self) -> bool {
        self.checked.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads, parses and checks the pack at `paths` (default `rules/`). An
/// unreadable path is a usage or I/O error; everything else is a diagnostic.
pub fn load(paths: &[PathBuf]) -> Result<Loaded, LoadError> {
    load_with(paths, None, &[])
}

/// `load` with a site folder (`--site DIR`) that wins over the manifest's,
/// and taxonomy extension files (`--taxonomy`) besides the manifest's.
/// Extension errors are diagnostics like the rules'; the rules are checked
/// against what the files define correctly.
pub fn load_with(
    paths: &[PathBuf],
    site: Option<&Path>,
    taxonomy_files: &[PathBuf],
) -> Result<Loaded, LoadError> {
    let mut map = SourceMap::default();
    let layout = pack::discover(&mut map, &super::paths_or_default(paths), site)?;
    for skipped in &layout.loops {
        eprintln!("warning: {skipped}");
    }
    // The manifest's extension paths, already joined to the manifest's
    // folder; one that is not there is an error at its name in the manifest.
    let mut extensions = Vec::new();
    let mut missing = Vec::new();
    for extension in &layout.check_settings().taxonomy {
        let path = extension.path.clone();
        if path.is_file() {
            extensions.push(path);
        } else {
            missing.push(
                Diagnostic::error(
                    codes::MANIFEST_VALUE,
                    extension.named_in,
                    extension.span,
                    format!("taxonomy file `{}` is not there", path.display()),
                )
                .with_label("no such file")
                .with_help("name a YAML taxonomy extension, relative to the manifest"),
            );
        }
    }
    extensions.extend(taxonomy_files.iter().cloned());
    let (taxonomy, mut taxonomy_errors) =
        Taxonomy::bundled().extended_with_errors(&mut map, &extensions)?;
    taxonomy_errors.extend(missing);
    if let Some(manifest) = &layout.manifest {
        taxonomy_errors.extend(unknown_route_sources(manifest, &taxonomy));
    }
    let mut diagnostics = layout.diagnostics.clone();
    diagnostics.extend(taxonomy_errors);
    let files = parse_all(&mut map, &layout.rule_files, &mut diagnostics)?;
    let site_parsed = parse_all(&mut map, &layout.site_files, &mut diagnostics)?;
    diagnostics.extend(rules_in_site(&site_parsed));
    let borrowed: Vec<(FileId, &ast::File)> = files.iter().map(|(id, file)| (*id, file)).collect();
    let site_lists: Vec<(FileId, &ast::File)> =
        site_parsed.iter().map(|(id, file)| (*id, file)).collect();
    let mut checked = check::check_pack(
        &map,
        &borrowed,
        &site_lists,
        &layout.check_settings(),
        &taxonomy,
    );
    checked.diagnostics.extend(diagnostics);
    if let Some(site) = &layout.site {
        let names = files.iter().flat_map(|(_, file)| rule_names(file));
        checked
            .diagnostics
            .extend(pack::unknown_filter_rules(site, names));
    }
    checked.pack.settings = layout.pack_settings();
    let focus_files = layout
        .rule_files
        .iter()
        .filter(|path| layout.in_focus(path))
        .count()
        + layout.site_files.len();
    if layout.focus.is_some() {
        let outside: HashSet<FileId> = files
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| !layout.in_focus(&map.get(*id).path))
            .collect();
        checked
            .diagnostics
            .retain(|d| !outside.contains(&d.primary.file));
        checked
            .pack
            .rules
            .retain(|rule| !outside.contains(&rule.file));
    }
    json::sort(&map, &mut checked.diagnostics);
    Ok(Loaded {
        map,
        files,
        checked,
        manifest: layout.manifest,
        site_files: site_parsed.iter().map(|(id, _)| *id).collect(),
        site_folder: layout.site_folder,
        focus_files,
        partial: layout.focus.is_some(),
        taxonomy,
    })
}

/// The names of the rules a file declares, parsed whole or not.
fn rule_names(file: &ast::File) -> impl Iterator<Item = &str> + Clone {
    file.items.iter().filter_map(|item| match item {
        ast::Item::Rule(rule) => Some(rule.name.node.as_str()),
        ast::Item::Broken {
            kind: ast::ItemKind::Rule,
            name: Some(name),
        } => Some(name.node.as_str()),
        _ => None,
    })
}

/// Reads and parses `paths`; reading and syntax problems go to `out`.
fn parse_all(
    map: &mut SourceMap,
    paths: &[PathBuf],
    out: &mut Vec<Diagnostic>,
) -> Result<Vec<(FileId, ast::File)>, LoadError> {
    let mut files = Vec::new();
    for path in paths {
        let (id, bad_utf8) = source::load(map, path)?;
        match bad_utf8 {
            Some(diagnostic) => out.push(diagnostic),
            None => {
                out.extend(source::lone_cr_warning(map, id));
                let (file, syntax_errors) = syntax::parse(id, &map.get(id).text);
                out.extend(syntax_errors);
                files.push((id, file));
            }
        }
    }
    Ok(files)
}

/// E0904: a site folder replaces lists; a rule in it would be ignored.
fn rules_in_site(site: &[(FileId, ast::File)]) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    for (file, parsed) in site {
        for item in &parsed.items {
            if let ast::Item::Rule(decl) = item {
                found.push(
                    Diagnostic::error(
                        codes::RULE_IN_SITE,
                        *file,
                        decl.name.span,
                        format!("rule `{}` is in the site folder", decl.name.node),
                    )
                    .with_help("a site folder holds lists that replace the pack's; move the rule into the pack"),
                );
            }
        }
    }
    found
}

/// `load` for the commands that run a pack (`test`, `eval`, `coverage`):
/// its diagnostics go to stderr, and a pack that cannot run gives the exit
/// code instead: 2 for a usage or I/O error, 1 for rule errors.
pub fn load_runnable(
    paths: &[PathBuf],
    site: Option<&Path>,
    taxonomy: &[PathBuf],
) -> Result<Loaded, u8> {
    let loaded = load_with(paths, site, taxonomy).map_err(|err| {
        eprintln!("error: {err}");
        2u8
    })?;
    if !loaded.diagnostics().is_empty() {
        super::report(
            &loaded.map,
            &mut loaded.diagnostics().to_vec(),
            loaded.file_count(),
        );
    }
    if loaded.has_errors() {
        Err(1)
    } else {
        Ok(loaded)
    }
}

/// `[eval.routes]` entries whose source the taxonomy does not have, each
/// an error at the source's name in the manifest.
fn unknown_route_sources(manifest: &pack::Manifest, taxonomy: &Taxonomy) -> Vec<Diagnostic> {
    let sources: Vec<&str> = (taxonomy.sources().iter())
        .map(|s| s.name.as_str())
        .collect();
    let mut diagnostics = Vec::new();
    for (name, source) in &manifest.routes {
        if sources.iter().any(|s| s.eq_ignore_ascii_case(&source.node)) {
            continue;
        }
        let message = format!(
            "`{}` routes to `{}`, which is not a source",
            name.node, source.node
        );
        let help = match crate::diag::nearest(&source.node, sources.iter().copied()) {
            Some(near) => format!(
                "did you mean `{near}`? the sources are {}",
                sources.join(", ")
            ),
            None => format!("the sources are {}", sources.join(", ")),
        };
        diagnostics.push(
            Diagnostic::error(
                codes::UNKNOWN_ROUTE_SOURCE,
                manifest.file,
                source.span,
                message,
            )
            .with_help(help),
        );
    }
    diagnostics
}
